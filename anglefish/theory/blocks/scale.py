"""Scale(alpha): multiply the signal by a constant (which may use the depth L) -- every rule of it."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import sympy as sp

from ...errors import AnglefishError
from .base import Backward, Block, as_expr, block_value, register_block


@register_block
@dataclass(frozen=True, repr=False)
class Scale(Block):
    """Multiply the signal by a constant ``alpha`` (may use the depth L, e.g. 1/sqrt(L)).

    Kernel: q -> alpha^2 q for every second moment; keeps the flags (a scaling).  NTK: p_in =
    alpha^2 p_out, no weights.
    """

    alpha: sp.Expr = sp.Integer(1)
    summary = "h -> alpha h (alpha may depend on the depth L)"

    def __post_init__(self):
        a = as_expr(self.alpha, "Scale factor")
        if a.is_number and a.is_zero:
            raise AnglefishError("Scale factor must be non-zero")
        object.__setattr__(self, "alpha", a)

    def __repr__(self):
        return f"Scale({self.alpha})"

    # ---- theory
    def kernel(self, s):
        a2 = self.alpha**2
        return replace(s, qa=a2 * s.qa, qb=a2 * s.qb, qab=a2 * s.qab, m=a2 * s.m)

    def ntk_backward(self, state, p_out, dk_scale=1):
        return Backward(p_in=self.alpha**2 * p_out, contribution=sp.Integer(0))

    def weight_count(self):
        return 0

    def pair_supported(self):
        return True

    def pair_step(self, q, d, log_m, l, depth):
        a2 = block_value(self.alpha, l, depth) ** 2
        return q * a2, d * a2, log_m + math.log(a2)

    # ---- numeric
    def needs_units(self):
        return True

    def gram_step(self, sig, ctx, need_units=True):
        a = ctx.value(self.alpha)
        units = sig.units if a > 0 or sig.units is None else -sig.units
        return sig.evolve(units=units, log_scale=sig.log_scale + math.log(abs(a)),
                          log_m=sig.log_m + 2 * math.log(abs(a)))

    def init(self, n_in, ctx):
        return n_in

    def forward(self, h, log_m, ctx):
        a = ctx.value(self.alpha)
        return h * h.dtype.type(a), log_m + 2 * math.log(abs(a)), a

    def backward(self, cache, g, ctx):
        return g * g.dtype.type(cache)

    def homogeneous(self):
        return True

    def finite_width(self, state):
        """K, dK -> a^2 K, a^2 dK; V -> a^4 V (a deferred Gaussian: its factor times a^2)"""
        from ..finite_width import scaled

        return scaled(state, self.alpha**2)
