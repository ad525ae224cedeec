"""Residual(*branch): an identity skip around a branch, h -> h + branch(h) -- every rule of it."""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ...errors import AnglefishError
from .base import Backward, Block, KernelState, register_block
from .serial import Serial


@lru_cache(maxsize=1024)
def _log_sum(log_a: float, log_b: float) -> float:
    """float(np.logaddexp(log_a, log_b)), remembered: the population moments of a pass repeat every
    step of gradient descent (the same numbers, without a numpy call on scalars per block)."""
    return float(np.logaddexp(log_a, log_b))


@register_block
@dataclass(frozen=True, repr=False)
class Residual(Block):
    """Identity skip around a branch: h -> h + branch(h).

    Kernel: second moments add, because a branch that ends in a Dense (with fresh zero-mean weights)
    is uncorrelated with the skip; other branches are refused.  NTK: p_in = p_out + branch's p_in
    (the skip-branch cross terms vanish for the same reason).
    """

    branch: Serial = dataclasses.field(default_factory=Serial)
    summary = "h -> h + branch(h); the branch ends in a Dense (optionally scaled)"

    def __init__(self, *branch):
        object.__setattr__(self, "branch", Serial(*branch))

    def children(self):
        return (self.branch,)

    def __repr__(self):
        return f"Residual({self.branch!r})"

    # ---- theory
    def kernel(self, s):
        out = self.branch.kernel(replace(s, fresh=False))
        if not out.fresh:
            raise AnglefishError(
                f"{self!r}: the branch must end in a Dense (optionally followed by scalings) so that skip and "
                "branch are uncorrelated; this branch does not")
        return KernelState(qa=s.qa + out.qa, qb=s.qb + out.qb, qab=s.qab + out.qab, m=s.m + out.m,
                           gaussian=s.gaussian and out.gaussian, centred=s.centred and out.centred, fresh=False)

    def ntk_backward(self, state, p_out, dk_scale=1):
        self.kernel(state)  # the forward interpreter checks that the branch ends fresh
        branch = self.branch.ntk_backward(replace(state, fresh=False), p_out, dk_scale)
        terms = tuple((f"branch/{label}", value) for label, value in branch.terms)
        return Backward(p_in=p_out + branch.p_in, contribution=branch.contribution, terms=terms)

    def weight_count(self):
        return self.branch.weight_count()

    def pair_supported(self):
        return self.branch.pair_supported()

    def pair_step(self, q, d, log_m, l, depth):
        qb, db, log_mb = self.branch.pair_step(q, d, log_m, l, depth)
        return q + qb, d + db, float(np.logaddexp(log_m, log_mb))

    # ---- numeric
    def needs_units(self):
        return self.branch.needs_units()

    def gram_step(self, sig, ctx, need_units=True):
        """Where the consumer reads the sum only through a Dense, keep the sum as a Gram matrix:
        with H^T H = G_h and a fresh branch output Z = E F^T (F F^T = Sigma), H^T Z = R^T A F^T and
        Z^T Z = F (A^T A + W) F^T, A a B x B standard normal matrix, W ~ Wishart_B(I, N - B): exact."""
        from .dense import Dense
        from .scale import Scale

        branch = self.branch.blocks
        k = len(branch)  # trailing scalings fold into the last Dense's variance (signs do not matter for a Gram)
        while k > 0 and isinstance(branch[k - 1], Scale):
            k -= 1
        last = branch[k - 1] if k else None
        if not need_units and isinstance(last, Dense) and sig.dim >= 1:
            a = Serial(*branch[:k - 1]).gram_step(sig, ctx, need_units=False)
            v = ctx.value(last.variance) * math.prod(ctx.value(b.alpha) ** 2 for b in branch[k:])
            n = ctx.width
            if n != sig.dim:
                raise AnglefishError("a residual block must keep the width")
            b = a.gram_matrix().shape[-1]
            if n < b:
                raise AnglefishError(f"width {n} is smaller than the batch {b}")
            f2 = ctx.factor(a.gram_matrix() * (v / a.dim))  # branch output rows ~ N(0, f2 f2^T)
            fh = ctx.factor(sig.gram_matrix())  # H = Q fh^T
            amat, wish = ctx.residual_draws(b, n - b)
            cross = np.matmul(np.matmul(fh, amat), f2.transpose(0, 2, 1))
            zz = np.matmul(np.matmul(f2, np.matmul(amat.transpose(0, 2, 1), amat) + wish), f2.transpose(0, 2, 1))
            top = np.maximum(sig.log_scale, a.log_scale)
            e_h, e_a = np.exp(sig.log_scale - top), np.exp(a.log_scale - top)
            gram = (sig.gram_matrix() * (e_h**2)[:, None, None] + (cross + cross.transpose(0, 2, 1))
                    * (e_h * e_a)[:, None, None] + zz * (e_a**2)[:, None, None])
            log_m = float(np.logaddexp(sig.log_m, a.log_m + math.log(v)))
            return sig.evolve(units=None, gram=gram, log_scale=top, log_m=log_m, dim=n)
        out = self.branch.gram_step(sig, ctx, need_units=True)
        if sig.units is None:
            raise AnglefishError("internal: residual sum needs the skip's per-unit values")
        if out.units.shape != sig.units.shape:
            raise AnglefishError("a residual block must keep the width")
        top = np.maximum(sig.log_scale, out.log_scale)
        e_h = np.exp(sig.log_scale - top)[:, None, None].astype(sig.units.dtype)
        e_b = np.exp(out.log_scale - top)[:, None, None].astype(sig.units.dtype)
        return sig.evolve(units=sig.units * e_h + out.units * e_b, gram=None, log_scale=top,
                          log_m=float(np.logaddexp(sig.log_m, out.log_m)))

    def init(self, n_in, ctx):
        n_out = self.branch.init(n_in, ctx)
        if n_out != n_in:
            raise AnglefishError(f"a residual block must keep the width ({n_in} -> {n_out})")
        return n_in

    def forward(self, h, log_m, ctx):
        out, log_m_branch, cache = self.branch.forward(h, log_m, ctx)
        if out.shape != h.shape:
            raise AnglefishError("a residual block must keep the width")
        return h + out, _log_sum(log_m, log_m_branch), cache

    def backward(self, cache, g, ctx):
        return g + self.branch.backward(cache, g, ctx)

    def homogeneous(self):
        return self.branch.homogeneous()

    def finite_width(self, state):
        """branch ends deferred (c, G): K' = K + c G, dK' = dK + c dG,
        V' = V + c (V J_B^T + J_B V) + c^2 V_G + W(K + c G) - W(K)"""
        import sympy as sp

        from ..finite_width import COMPONENTS, MomentState, materialize, wishart

        skip = materialize(state)
        P = sp.Matrix([sp.Dummy(f"p_{n}", positive=True) for n in COMPONENTS])  # fresh: residuals may nest
        out = self.branch.finite_width(MomentState(P, skip.dK, skip.V, skip.m))
        if out.defer is None:
            raise AnglefishError(f"{self!r}: the finite-width rule needs a branch that ends in a Dense "
                                 "(optionally followed by scalings)")
        back = dict(zip(P, skip.K))
        Jb = out.K.jacobian(P).subs(back)
        c = out.defer.subs(back)
        G, dG, VG = out.K.subs(back), out.dK.subs(back), out.V.subs(back)
        Vh = skip.V
        V = Vh + c * (Vh * Jb.T + Jb * Vh) + c**2 * VG + wishart(skip.K + c * G) - wishart(skip.K)
        return MomentState(skip.K + c * G, skip.dK + c * dG, V, skip.m + out.m.subs(back))
