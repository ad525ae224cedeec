"""Dense(v): a fully connected layer without bias, W_ij ~ N(0, v / fan_in) -- every rule of it."""
from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from ...errors import AnglefishError
from .base import Backward, Block, KernelState, as_expr, block_value, register_block


@register_block
@dataclass(frozen=True, repr=False)
class Dense(Block):
    """Fully connected layer without bias, W_ij ~ N(0, variance / fan_in).

    Kernel: q -> variance * q for every second moment; the output is Gaussian, centred and fresh
    (drawn after everything upstream).  NTK: p_in = variance p_out (fan_in = fan_out = N); the
    weight contributes p_out q_in to K_st / N.
    """

    variance: sp.Expr = sp.Integer(1)
    summary = "h -> W h, W_ij ~ N(0, variance/fan_in), no bias"

    def __post_init__(self):
        v = as_expr(self.variance, "Dense variance")
        if v.is_number and not v.is_positive:
            raise AnglefishError(f"Dense variance must be positive, got {v}")
        object.__setattr__(self, "variance", v)

    def __repr__(self):
        return f"Dense({self.variance})"

    # ---- theory
    def kernel(self, s):
        v = self.variance
        return KernelState(qa=v * s.qa, qb=v * s.qb, qab=v * s.qab, m=v * s.m, gaussian=True, centred=True,
                           fresh=True)

    def ntk_backward(self, state, p_out, dk_scale=1):
        term = p_out * state.qab
        return Backward(p_in=self.variance * p_out, contribution=term, terms=((repr(self), term),))

    def weight_count(self):
        return 1

    def pair_supported(self):
        return True

    def pair_step(self, q, d, log_m, l, depth):
        v = block_value(self.variance, l, depth)
        return q * v, d * v, log_m + math.log(v)

    # ---- numeric
    def needs_units(self):
        return False

    def gram_step(self, sig, ctx, need_units=True):
        """Pre-activations of a fresh W given the layer below: per unit i.i.d. N(0, (v/N_in) Gram)."""
        v = ctx.value(self.variance)
        cov = sig.gram_matrix() * (v / sig.dim)
        units = ctx.correlated_normals(ctx.width, ctx.factor(cov))
        return sig.evolve(units=units, gram=None, log_m=sig.log_m + math.log(v), dim=ctx.width)

    def init(self, n_in, ctx):
        v = ctx.value(self.variance)
        w = ctx.normal((ctx.width, n_in))
        w *= ctx.dtype(math.sqrt(v / n_in))
        ctx.add_weight(w)
        return ctx.width

    def forward(self, h, log_m, ctx):
        """Z = W h through the pass (``ctx.apply_dense``: explicit weights, or a projected draw)."""
        v = ctx.value(self.variance)
        z, cache = ctx.apply_dense(v, h)
        return z, log_m + math.log(v), cache

    def backward(self, cache, g, ctx):
        """W^T g through the pass (``ctx.apply_dense_transposed``, which also calls ``ctx.on_dense``)."""
        return ctx.apply_dense_transposed(cache, g)

    def homogeneous(self):
        return True

    def finite_width(self, state):
        """defer: rows i.i.d. N(0, v K-hat) given the layer below (Wishart-sampled by a linear consumer)"""
        from dataclasses import replace

        from ..finite_width import materialize

        state = materialize(state)
        return replace(state, defer=self.variance, m=self.variance * state.m)
