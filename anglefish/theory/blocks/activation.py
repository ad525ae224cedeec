"""Act(phi): an elementwise activation -- every rule of it (the activation's own kernels and numeric
functions live on the :class:`~anglefish.theory.activations.Activation`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ...errors import AnglefishError
from ..activations import RELU, Activation, PiecewiseLinear, get_activation
from .base import Backward, Block, KernelState, register_block


def _gaussian_input(block, state) -> None:
    if not state.gaussian:
        raise AnglefishError(
            f"{block!r} acts on a signal that is not jointly Gaussian at infinite width; the kernel map "
            "needs a Dense (or a population BatchNorm after a Dense) before it")


@register_block
@dataclass(frozen=True, repr=False)
class Act(Block):
    """Elementwise activation phi, given by name or as an :class:`Activation`.

    Kernel: (q_a, q_b, q_ab) -> (E phi(u)^2, E phi(v)^2, E phi(u) phi(v)) for the Gaussian pair
    (u, v); needs a jointly Gaussian input (put a Dense before it).  NTK: p_in = E[phi'(u) phi'(v)]
    p_out (the derived derivative kernel), no weights.
    """

    activation: Activation = RELU
    summary = "h -> phi(h) elementwise (phi: a registered activation)"

    def __post_init__(self):
        if isinstance(self.activation, str):
            object.__setattr__(self, "activation", get_activation(self.activation))
        if not isinstance(self.activation, Activation):
            raise AnglefishError(f"Act needs an Activation or its name, got {self.activation!r}")

    def __repr__(self):
        if self.activation is RELU:
            return "ReLU()"
        return f"Act({self.activation.name!r})"

    # ---- theory
    def kernel(self, s):
        _gaussian_input(self, s)
        k = self.activation.kernel
        odd = self.activation.is_odd
        return KernelState(qa=k(s.qa, s.qa, s.qa), qb=k(s.qb, s.qb, s.qb), qab=k(s.qa, s.qb, s.qab),
                           m=k(s.m, s.m, s.m), gaussian=False, centred=odd and s.centred, fresh=odd and s.fresh)

    def ntk_backward(self, state, p_out, dk_scale=1):
        _gaussian_input(self, state)
        dk = self.activation.derivative_kernel(state.qa, state.qb, state.qab)
        return Backward(p_in=dk_scale * dk * p_out, contribution=sp.Integer(0))

    def weight_count(self):
        return 0

    def pair_supported(self):
        return isinstance(self.activation, PiecewiseLinear)

    def pair_step(self, q, d, log_m, l, depth):
        import math

        from ..pairmaps import activation_gap

        if not self.pair_supported():
            raise AnglefishError(f"{self!r}: the stable pair map needs a positively homogeneous activation")
        j0, gap = activation_gap(self.activation)
        theta = 2 * np.arcsin(np.sqrt(np.clip(d / (2 * q), 0, 1)))
        return q * j0, q * gap(theta), log_m + math.log(j0)

    # ---- numeric
    def needs_units(self):
        return True

    def gram_step(self, sig, ctx, need_units=True):
        phi = self.activation.numpy_phi()
        log_m = self.activation.log_second_moment(sig.log_m)
        if self.activation.homogeneous:
            return sig.evolve(units=phi(sig.units), gram=None, log_m=log_m)
        true = sig.units * np.exp(sig.log_scale)[:, None, None].astype(sig.units.dtype)
        return sig.evolve(units=phi(true), gram=None, log_scale=np.zeros_like(sig.log_scale), log_m=log_m)

    def init(self, n_in, ctx):
        return n_in

    def forward(self, h, log_m, ctx):
        return self.activation.numpy_phi()(h), self.activation.log_second_moment(log_m), h

    def backward(self, cache, g, ctx):
        """g * phi'(h)[:, None] (the activation's ``numpy_vjp``) at the input h kept by ``forward``."""
        return self.activation.numpy_vjp()(cache, g)

    def homogeneous(self):
        return self.activation.homogeneous

    def finite_width(self, state):
        """S = c K: K' = F(S), dK' = J c dK + (1/2) H : c^2 V, V' = J c^2 V J^T + C(S)"""
        from ..finite_width import MomentState

        if state.defer is None:
            raise AnglefishError(
                f"{self!r} reads a signal that is not conditionally Gaussian at finite width (no Dense, or "
                "scaling/population BN after a Dense, before it); the O(1/N) closure does not apply")
        moments = self.activation.finite_width_moments()
        c = state.defer
        S = c * state.K
        F, J, H = moments.derivatives(S)
        dS, VS = c * state.dK, c**2 * state.V
        curvature = sp.Matrix([sum(H[i][j, k] * VS[j, k] for j in range(3) for k in range(3)) for i in range(3)])
        return MomentState(F, J * dS + curvature / 2, J * VS * J.T + moments.C(S), moments.population(state.m))


def ReLU() -> Act:
    """The rectifier phi(u) = max(0, u) as a block."""
    return Act(RELU)
