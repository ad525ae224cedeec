"""Finite random networks realising an architecture's block list: the exact Gram sampler
and the dense simulator.

Both interpret the *same* block list as the theory (no second definition).  A signal is
held per seed as per-unit values ``units`` of shape (S, N, B) -- S seeds, N units, B
inputs -- together with a per-seed log-scale (true values = units * exp(log_scale)), so
a ResNet can grow like 2^L for thousands of blocks without overflow.

Dense sampler ('dense'): every weight matrix W (S, N_out, N_in) is drawn and applied.
Cost O(S B N^2) per layer.

Exact Gram sampler ('gram'): given the previous layer h, the pre-activations W h of a
fresh Gaussian W are, unit by unit, i.i.d. N(0, (v / N_in) Gram(h)) with Gram(h) the
B x B matrix of inner products.  Sampling them directly costs O(S B^2 N).  Where the
consumer of a residual sum reads its input only through a Dense, the sum is kept as a
Gram matrix alone: with H^T H = G_h and a fresh branch output Z = E F^T (F F^T = Sigma),
H^T Z = R^T A F^T and Z^T Z = F (A^T A + W) F^T, where A is a B x B standard normal matrix
and W ~ Wishart_B(I, N - B) (Bartlett decomposition) -- exact, in O(B^3).  This is exact
in distribution for every forward statistic, but it does not reuse weights: gradients,
Fisher information and training need the dense simulator.

Randomness: one ``numpy.random.Generator`` per seed, spawned from one SeedSequence, and
every draw of seed s comes from generator s, so a seed's result does not depend on how
many other seeds run with it.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import AnglefishError
from ..theory.architectures import Architecture, get_architecture
from ..theory.blocks import BN_KINDS, block_value
from ..validation import SAMPLERS, check_choice, check_dtype, check_int, recorded_depths
from .network import (
    draw_weights,
    log_rms,
    new_pass,
    one_blas_thread,
    spawn_generators,
)



@dataclass
class Signal:
    """Per-seed values of a batch at one point of the network (the Gram sampler's state).

    units: (S, N, B) scaled per-unit values, or None when only the Gram matrix is kept.
    gram: (S, B, B) float64 sum over units of units_i units_i^T (scaled), cached.
    log_scale: (S,) true values = scaled values * exp(log_scale).
    log_m: log of the population second moment per unit (true units; for population BN).
    dim: number of units N.
    """

    units: np.ndarray | None
    gram: np.ndarray | None
    log_scale: np.ndarray
    log_m: float
    dim: int

    def evolve(self, **changes) -> "Signal":
        """A new signal with some fields changed (what a block's ``gram_step`` returns)."""
        return replace(self, **changes)

    def gram_matrix(self) -> np.ndarray:
        if self.gram is None:
            u = self.units
            self.gram = np.matmul(u.transpose(0, 2, 1), u, dtype=np.float64) if u.dtype == np.float64 \
                else np.matmul(u.transpose(0, 2, 1).astype(np.float64), u.astype(np.float64))
        return self.gram

    def rescaled(self) -> "Signal":
        """Bring the values of each seed that drifted far (per-unit RMS beyond e^+-30) back to O(1).
        Seed by seed: a seed's numbers never depend on the other seeds run with it (the others are
        multiplied by exactly 1)."""
        g = self.gram_matrix()
        ms = np.einsum("sbb->s", g) / (self.dim * g.shape[-1])
        with np.errstate(divide="ignore"):
            log_rms_ = 0.5 * np.log(ms)
        far = np.isfinite(log_rms_) & (np.abs(log_rms_) >= 30)
        if not far.any():
            return self
        log_rms_ = np.where(far, log_rms_, 0.0)
        factor = np.exp(-log_rms_)
        units = None if self.units is None else self.units * factor[:, None, None].astype(self.units.dtype)
        return Signal(units, g * (factor**2)[:, None, None], self.log_scale + log_rms_, self.log_m, self.dim)


@dataclass
class Context:
    """What a Gram-sampler step needs besides the signal (the ``ctx`` of ``Block.gram_step``): width,
    generators, BN override, dtype, block index and depth, and the sampling primitives."""

    width: int
    rngs: list
    bn: str | None = None  # override every BatchNorm's kind
    dtype: type = np.float64
    block_index: int = 0
    depth: int = 0
    _pool: list = field(default_factory=list, repr=False)

    def normal(self, shape) -> np.ndarray:
        """Standard normals of shape (S,) + shape, seed s from generator s (the same draws as
        :func:`~anglefish.numeric.network.standard_normals`), written into a recycled array where one
        is free (:meth:`buffer`)."""
        out = self.buffer((len(self.rngs),) + tuple(shape))
        for k, g in enumerate(self.rngs):
            g.standard_normal(out=out[k], dtype=self.dtype)
        return out

    def buffer(self, shape) -> np.ndarray:
        """An uninitialised array of ``shape`` and the context's dtype: one that this context handed
        out before and that nothing references any more (no signal, no view: only this pool holds
        it), else a new one (at most 6 are kept).  Reusing memory that is already mapped and cached
        is most of the gap between the sampler and numpy's bare normal generation."""
        shape = tuple(shape)
        for arr in self._pool:
            # references: the pool's list, the loop variable and getrefcount's argument
            if arr.shape == shape and arr.dtype == self.dtype and sys.getrefcount(arr) == 3:
                return arr
        arr = np.empty(shape, dtype=self.dtype)
        self._pool.append(arr)
        if len(self._pool) > 6:
            del self._pool[0]
        return arr

    def correlated_normals(self, rows: int, factor: np.ndarray) -> np.ndarray:
        """Rows i.i.d. N(0, F F^T) per seed: E F^T for E of shape (S, rows, B) standard normals (seed s
        from generator s) and F = ``factor`` (S, B, B).  A lower-triangular F (a Cholesky factor) is
        applied in place, column by column from the last (no second array; equal to the product E F^T up
        to rounding), any other by a matrix product."""
        b = factor.shape[-1]
        e = self.normal((rows, b))
        f = factor.astype(self.dtype, copy=False)
        if np.any(np.triu(f, 1)):
            return np.matmul(e, f.transpose(0, 2, 1))
        tmp = self.buffer(e.shape[:2]) if b > 1 else None
        for j in range(b - 1, -1, -1):
            col = e[..., j]
            col *= f[:, j, j][:, None]
            for k in range(j):
                col += np.multiply(f[:, j, k][:, None], e[..., k], out=tmp)
        del tmp  # back to the pool
        return e

    def value(self, expr) -> float:
        """A block parameter at the current block index and depth."""
        return block_value(expr, self.block_index, self.depth)

    @staticmethod
    def factor(cov: np.ndarray) -> np.ndarray:
        """F with F F^T = cov for a stack of PSD matrices (Cholesky, eigh where singular)."""
        return _factor(cov)

    def residual_draws(self, b: int, dof: int):
        """Per seed: A, a b x b standard normal matrix, and W ~ Wishart_b(I, dof) by the Bartlett
        decomposition (W = T T^T, T lower triangular, T_ii^2 ~ chi^2_{dof-i}, T_ij ~ N(0, 1)).
        With fewer degrees of freedom than b (a width below twice the batch) W is singular and
        Bartlett does not apply: W = G^T G with G a dof x b standard normal matrix (0 when dof = 0)."""
        s = len(self.rngs)
        if dof < b:
            a = np.empty((s, b, b))
            g = np.empty((s, dof, b))
            for k, gen in enumerate(self.rngs):
                gen.standard_normal(out=a[k])
                gen.standard_normal(out=g[k])
            return a, np.matmul(g.transpose(0, 2, 1), g)
        n_off = b * (b - 1) // 2
        normals = np.empty((s, b * b + n_off))
        chis = np.empty((s, b))
        dofs = dof - np.arange(b)
        dofs = [float(d) for d in dofs]  # scalar calls: the same draws as one array call, at a fifth of its overhead
        for k, g in enumerate(self.rngs):
            g.standard_normal(out=normals[k])
            for i, d in enumerate(dofs):
                chis[k, i] = g.chisquare(d)
        a = normals[:, : b * b].reshape(s, b, b)
        t = np.zeros((s, b, b))
        t[:, np.arange(b), np.arange(b)] = np.sqrt(chis)
        rows, cols = np.tril_indices(b, -1)
        t[:, rows, cols] = normals[:, b * b:]
        return a, np.matmul(t, t.transpose(0, 2, 1))


def _factor(cov: np.ndarray) -> np.ndarray:
    """Cholesky of every matrix of the stack; a singular one (only it: a seed's numbers do not depend
    on the other seeds) by its eigen-decomposition."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        out = np.empty_like(cov)
        for i in np.ndindex(cov.shape[:-2]):
            try:
                out[i] = np.linalg.cholesky(cov[i])
            except np.linalg.LinAlgError:
                w, v = np.linalg.eigh(cov[i])
                out[i] = v * np.sqrt(np.clip(w, 0, None))[None, :]
        return out


# ----------------------------------------------------------------- running a network
@dataclass
class Trajectory:
    """Pair statistics through depth, per seed.

    depths: recorded depths l (0 = input).
    pair_gram: (len(depths), S, 2, 2) scaled inner products of inputs 0 and 1.
    log_scale: (len(depths), S); true inner products = pair_gram * exp(2 log_scale).
    dims: units at each recorded depth (to turn sums into per-unit moments).
    """

    architecture: str
    sampler: str
    bn: str | None
    width: int
    batch: int
    depths: np.ndarray
    pair_gram: np.ndarray
    log_scale: np.ndarray
    dims: np.ndarray
    seed: int

    @property
    def seeds(self) -> int:
        return self.pair_gram.shape[1]


def simulate(arch: Architecture | str, inputs: np.ndarray, depth: int, width: int, rngs: list,
             sampler: str = "gram", bn: str | None = None, every: int = 1, dtype=np.float64,
             progress=None, seed: int = 0, at=None) -> Trajectory:
    """Run ``depth`` blocks of ``arch`` on per-seed ``inputs`` (S, D, B); record the pair (0, 1).

    ``inputs[s]`` holds the B input vectors of seed s as columns.  Records every
    ``every``-th depth (always the last), or exactly the depths in ``at``.
    """
    arch = get_architecture(arch)
    depth, recorded = recorded_depths(depth, every, at)
    width = check_int(width, "width")
    check_choice(sampler, "sampler", SAMPLERS)
    check_choice(bn, "bn", BN_KINDS, allow_none=True)
    dtype = check_dtype(dtype)
    inputs = np.asarray(inputs, dtype=dtype)
    if inputs.ndim != 3 or inputs.shape[0] != len(rngs) or inputs.shape[2] < 2:
        raise AnglefishError("inputs must have shape (seeds, dim, batch) with batch >= 2")
    with one_blas_thread():
        # the samplers' many small batched products run 10-50x slower on a
        # multi-threaded BLAS (thread start-up per call); one thread is fastest here
        run = _gram_run if sampler == "gram" else _dense_run
        grams, scales, dims = run(arch, inputs, depth, width, rngs, bn, dtype, progress, recorded)
    return Trajectory(arch.name, sampler, bn, width, inputs.shape[2], recorded, grams, scales, dims, seed)


class _Recorder:
    """The pair's Gram entries, log-scales and widths at the recorded depths."""

    def __init__(self, recorded, seeds):
        self.recorded = recorded
        self.grams = np.empty((len(recorded), seeds, 2, 2))
        self.scales = np.empty((len(recorded), seeds))
        self.dims = np.empty(len(recorded), dtype=np.int64)
        self.row = 0

    def maybe(self, l, gram, log_scale, dim):
        if self.row < len(self.recorded) and l == self.recorded[self.row]:
            self.grams[self.row] = gram()[:, :2, :2]
            self.scales[self.row] = log_scale
            self.dims[self.row] = dim
            self.row += 1

    def result(self):
        return self.grams, self.scales, self.dims


def _gram_run(arch, inputs, depth, width, rngs, bn, dtype, progress, recorded):
    ctx = Context(width=width, rngs=rngs, bn=bn, dtype=dtype, depth=depth)
    s = len(rngs)
    sig = Signal(inputs, None, np.zeros(s), 0.0, inputs.shape[1])
    rec = _Recorder(recorded, s)
    need = arch.block.needs_units()
    for l in range(depth + 1):
        rec.maybe(l, sig.gram_matrix, sig.log_scale, sig.dim)
        if l == depth:
            break
        ctx.block_index = l
        sig = arch.block.gram_step(sig, ctx, need).rescaled()
        if progress is not None:
            progress(l + 1, depth)
    return rec.result()


def _dense_run(arch, inputs, depth, width, rngs, bn, dtype, progress, recorded):
    """The dense network (:mod:`.network`), one block's weights drawn at a time (memory of one block);
    positively homogeneous blocks let each network's values be rescaled (log-scale carried)."""
    s = len(rngs)
    h = inputs
    log_scale = np.zeros(s)
    log_m = 0.0
    rescale = arch.block.homogeneous() and not arch.uses_batch_bn(bn)
    rec = _Recorder(recorded, s)
    gram = lambda: np.matmul(h.transpose(0, 2, 1).astype(np.float64), h.astype(np.float64))  # noqa: E731
    for l in range(depth + 1):
        rec.maybe(l, gram, log_scale, h.shape[1])
        if l == depth:
            break
        weights = draw_weights(arch, max(depth, 1), width, h.shape[1], rngs, dtype, blocks=[l])
        ctx = new_pass(weights, bn)
        ctx.block_index = l
        with np.errstate(over="ignore", invalid="ignore"):
            h, log_m, _ = arch.block.forward(h, log_m, ctx)
        del weights, ctx  # one block's weights at a time (the next block draws its own)
        if rescale:  # seed by seed (the others are multiplied by exactly 1)
            drift = log_rms(h)
            far = np.abs(drift) >= 30
            if far.any():
                drift = np.where(far, drift, 0.0)
                h = h * np.exp(-drift)[:, None, None].astype(h.dtype)
                log_scale = log_scale + drift
        if progress is not None:
            progress(l + 1, depth)
    return rec.result()


__all__ = ["SAMPLERS", "Context", "Signal", "Trajectory", "simulate", "spawn_generators"]
