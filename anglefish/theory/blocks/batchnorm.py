"""BatchNorm(kind): per-unit normalisation without learnable scale and shift -- every rule of it."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from ...errors import AnglefishError
from ...validation import BN_KINDS as KINDS  # one vocabulary with the CLI's --bn (no SymPy there)
from .base import Backward, Block, register_block


@register_block
@dataclass(frozen=True, repr=False)
class BatchNorm(Block):
    """Batch normalisation without learnable scale and shift, per unit.

    kind="population": the paper's proof -- subtract the population mean (0 after a Dense) and divide
    by the population standard deviation sqrt(m) at this point; a fixed scaling, so its kernel map is
    q -> q / m and its NTK backward p -> p / m (not differentiated through statistics).
    kind="batch": the mini-batch mean and variance of each unit (with ``eps``), as a real network
    computes them.  Its infinite-width map depends on the whole batch and is not a closed map of
    (q_a, q_b, q_ab): the theory rules refuse it; the numeric rules simulate it (and differentiate
    through the statistics).
    """

    kind: str = "population"
    eps: float = 1e-5
    summary = "per-unit normalisation: kind='population' (paper's proof) or 'batch' (mini-batch)"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise AnglefishError(f"BatchNorm kind must be 'population' or 'batch', got {self.kind!r}")

    def __repr__(self):
        return f"BatchNorm({self.kind!r})"

    # ---- theory
    def kernel(self, s):
        if self.kind == "batch":
            raise AnglefishError(
                "BatchNorm(kind='batch') has no closed kernel map of (q_a, q_b, q_ab): it depends on the whole "
                "mini-batch; use kind='population' for theory or simulate it")
        if not s.centred:
            raise AnglefishError(
                f"{self!r} after a signal with non-zero population mean is not supported by the kernel "
                "interpreter; place it after a Dense")
        m = s.m
        return replace(s, qa=s.qa / m, qb=s.qb / m, qab=s.qab / m, m=sp.Integer(1))

    def ntk_backward(self, state, p_out, dk_scale=1):
        if self.kind == "batch":
            raise AnglefishError("BatchNorm(kind='batch') has no closed backward map at infinite width (it is "
                                 "differentiated through the mini-batch statistics); use kind='population' for "
                                 "theory or the numeric simulator")
        return Backward(p_in=p_out / state.m, contribution=sp.Integer(0))

    def weight_count(self):
        return 0

    def pair_supported(self):
        return self.kind == "population"

    def pair_step(self, q, d, log_m, l, depth):
        m = math.exp(log_m)
        return q / m, d / m, 0.0

    # ---- numeric
    def needs_units(self):
        return True

    def gram_step(self, sig, ctx, need_units=True):
        kind = ctx.bn or self.kind
        u = sig.units
        if kind == "population":  # a division by sqrt(m): carried in the log-scale, the values stay as they are
            return sig.evolve(log_scale=sig.log_scale - 0.5 * sig.log_m, log_m=0.0)
        if u.shape[-1] < 2:
            raise AnglefishError("batch-statistics BatchNorm needs a batch of at least 2 inputs")
        centred = u - u.mean(axis=-1, keepdims=True)
        var = np.mean(centred * centred, axis=-1, keepdims=True)
        eps = self.eps * np.exp(-2.0 * sig.log_scale)[:, None, None]
        out = centred / np.sqrt(var + eps.astype(u.dtype))
        return sig.evolve(units=out, gram=None, log_scale=np.zeros_like(sig.log_scale), log_m=0.0)

    def init(self, n_in, ctx):
        return n_in

    def forward(self, h, log_m, ctx):
        """Population: a fixed division by sqrt(m).  Batch, by ``ctx.bn_mode``: 'train' uses the
        batch's statistics (differentiated), 'record' also appends them to ``ctx.recorded``, 'fixed'
        uses the k-th recorded statistics ``ctx.fixed[k]`` (evaluation of a trained classifier)."""
        kind = ctx.bn or self.kind
        if kind == "population":
            if not math.isfinite(log_m):
                raise AnglefishError(f"{self!r}: the population second moment here is unknown (an activation "
                                     "upstream has no Gaussian kernel); use kind='batch'")
            factor = h.dtype.type(math.exp(-0.5 * log_m))
            return h * factor, 0.0, ("scale", factor)
        k = ctx.next_bn()
        if ctx.bn_mode == "fixed":
            if ctx.fixed is None or k >= len(ctx.fixed):
                raise AnglefishError("batch-statistics BN in evaluation needs the training-set statistics "
                                     "(call refresh_bn_statistics first)")
            mean, inv_std = ctx.fixed[k]
            return (h - mean) * inv_std, 0.0, ("scale", inv_std[:, None])
        if h.shape[-1] < 2:
            raise AnglefishError("batch-statistics BatchNorm needs at least 2 inputs in a batch")
        mean = h.mean(axis=-1, keepdims=True)
        centred = h - mean
        inv_std = 1.0 / np.sqrt(np.mean(centred * centred, axis=-1, keepdims=True) + h.dtype.type(self.eps))
        if ctx.bn_mode == "record":
            ctx.recorded.append((mean, inv_std))
        y = centred * inv_std
        return y, 0.0, ("batch", y, inv_std)

    def backward(self, cache, g, ctx):
        if cache[0] == "scale":
            return g * cache[1]
        _, y, inv_std = cache
        y = y[:, None]
        # y = (z - mean) / sigma, sigma^2 = var + eps:  dz = (dy - mean(dy) - y mean(dy y)) / sigma
        return (g - g.mean(axis=-1, keepdims=True) - y * np.mean(g * y, axis=-1, keepdims=True)) * inv_std[:, None]

    def homogeneous(self):
        return self.kind == "population"  # a fixed scaling; batch statistics are scale-invariant

    def finite_width(self, state):
        """population BN: a fixed scaling by 1/m (m the population second moment), as Scale"""
        from ..finite_width import scaled

        if self.kind != "population":
            raise AnglefishError("BatchNorm(kind='batch') has no finite-width moment closure (its statistics "
                                 "couple the whole mini-batch); use kind='population'")
        return replace(scaled(state, 1 / state.m), m=sp.Integer(1))
