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

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache, singledispatch

import numpy as np
import sympy as sp
from threadpoolctl import threadpool_limits

from ..errors import AnglefishError
from ..theory.activations import Activation, Erf, PiecewiseLinear, QuadratureActivation
from ..theory.architectures import Architecture, get_architecture
from ..theory.blocks import BLOCK_INDEX, DEPTH, Act, BatchNorm, Block, Dense, Residual, Scale, Serial
from ..theory.recursion import M

SAMPLERS = ("gram", "dense")
BN_KINDS = ("population", "batch")


def spawn_generators(seed: int, seeds: int) -> list:
    """``seeds`` independent generators spawned from SeedSequence(seed)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise AnglefishError(f"seed must be a non-negative integer, got {seed!r}")
    return [np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(int(seed)).spawn(seeds)]


@dataclass
class Signal:
    """Per-seed values of a batch at one point of the network.

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

    def gram_matrix(self) -> np.ndarray:
        if self.gram is None:
            u = self.units
            self.gram = np.matmul(u.transpose(0, 2, 1), u, dtype=np.float64) if u.dtype == np.float64 \
                else np.matmul(u.transpose(0, 2, 1).astype(np.float64), u.astype(np.float64))
        return self.gram

    def rescaled(self) -> "Signal":
        """Bring each seed's values back to O(1) (per-unit RMS 1) when they drift far."""
        g = self.gram_matrix()
        ms = np.einsum("sbb->s", g) / (self.dim * g.shape[-1])
        with np.errstate(divide="ignore"):
            log_rms = 0.5 * np.log(ms)
        if np.all(np.abs(log_rms[np.isfinite(log_rms)]) < 30):
            return self
        log_rms = np.where(np.isfinite(log_rms), log_rms, 0.0)
        factor = np.exp(-log_rms)
        units = None if self.units is None else self.units * factor[:, None, None].astype(self.units.dtype)
        return Signal(units, g * (factor**2)[:, None, None], self.log_scale + log_rms, self.log_m, self.dim)


@dataclass
class Context:
    """What a run needs besides the signal: width, generators, sampler, BN kind, depth."""

    width: int
    rngs: list
    sampler: str = "gram"
    bn: str | None = None  # override every BatchNorm's kind
    dtype: type = np.float64
    block_index: int = 0
    depth: int = 0
    params: list | None = None  # dense mode: weights to reuse, in draw order (None: draw fresh)
    keep: list | None = None  # dense mode: append drawn weights here (for backward passes)
    _cursor: int = 0

    def normal(self, shape) -> np.ndarray:
        """Standard normals of shape (S,) + shape, seed s from generator s."""
        out = np.empty((len(self.rngs),) + tuple(shape), dtype=self.dtype)
        for s, g in enumerate(self.rngs):
            g.standard_normal(out=out[s], dtype=self.dtype)
        return out

    def weight(self, n_out: int, n_in: int, variance: float) -> np.ndarray:
        if self.params is not None:
            w = self.params[self._cursor]
            self._cursor += 1
            return w
        w = self.normal((n_out, n_in))
        w *= self.dtype(math.sqrt(variance / n_in))
        if self.keep is not None:
            self.keep.append(w)
        return w

    def value(self, expr: sp.Expr) -> float:
        """A block parameter at the current block index and depth."""
        if expr.free_symbols:
            expr = expr.subs({BLOCK_INDEX: self.block_index, DEPTH: self.depth})
        return float(expr)


# ----------------------------------------------------------------- what a block reads
@singledispatch
def needs_units(block: Block) -> bool:
    """Does ``block`` read the per-unit values of its input (True) or only their Gram (False)?"""
    return True


@needs_units.register
def _(block: Dense) -> bool:
    return False


@needs_units.register
def _(block: Serial) -> bool:
    return needs_units(block.blocks[0]) if block.blocks else True


@needs_units.register
def _(block: Residual) -> bool:
    return needs_units(block.branch)


# ----------------------------------------------------------------- activations, numerically
@singledispatch
def numeric_activation(activation: Activation):
    """(phi, homogeneous) for numpy; phi(x) elementwise, homogeneous: phi(c x) = c phi(x), c > 0."""
    x = sp.Symbol("x", real=True)
    return sp.lambdify(x, activation.phi(x), "numpy"), False


@numeric_activation.register
def _(activation: PiecewiseLinear):
    a_pos, a_neg = float(activation.slope_pos), float(activation.slope_neg)
    if a_neg == 0.0:
        def phi(x):
            out = np.maximum(x, 0)
            return out * out.dtype.type(a_pos) if a_pos != 1.0 else out
    else:
        def phi(x):
            return np.where(x > 0, x * x.dtype.type(a_pos), x * x.dtype.type(a_neg))
    return phi, True


@numeric_activation.register
def _(activation: Erf):
    from scipy.special import erf

    return erf, False


@numeric_activation.register
def _(activation: QuadratureActivation):
    return activation.numeric()[0], False


@lru_cache(maxsize=None)
def _diagonal_kernel(activation: Activation):
    """log E phi(u)^2 as a function of log Var u (for the population moment)."""
    k = sp.simplify(activation.kernel(M, M, M))
    if isinstance(activation, PiecewiseLinear):
        log_k1 = math.log(float(k.subs(M, 1)))
        return lambda log_m: log_m + log_k1
    f = sp.lambdify(M, k, "math")
    return lambda log_m: math.log(f(math.exp(log_m)))


# ----------------------------------------------------------------- propagation
@singledispatch
def propagate(block: Block, sig: Signal, ctx: Context, need_units: bool = True) -> Signal:
    """Push a signal through ``block``; register implementations for new block types."""
    raise AnglefishError(f"no numeric implementation for block {type(block).__name__}; "
                         "register one with anglefish.numeric.propagate.register")


@propagate.register
def _(block: Serial, sig, ctx, need_units=True):
    blocks = block.blocks
    for i, b in enumerate(blocks):
        need = needs_units(blocks[i + 1]) if i + 1 < len(blocks) else need_units
        sig = propagate(b, sig, ctx, need)
    return sig


def _factor(cov: np.ndarray) -> np.ndarray:
    """F with F F^T = cov for a stack of PSD matrices (Cholesky, eigh where singular)."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(cov)
        return v * np.sqrt(np.clip(w, 0, None))[..., None, :]


@propagate.register
def _(block: Dense, sig, ctx, need_units=True):
    v = ctx.value(block.variance)
    n_in, n_out = sig.dim, ctx.width
    if ctx.sampler == "dense":
        if sig.units is None:
            raise AnglefishError("internal: the dense simulator needs per-unit values")
        w = ctx.weight(n_out, n_in, v)
        units = np.matmul(w, sig.units)
    else:
        cov = sig.gram_matrix() * (v / n_in)
        f = _factor(cov).astype(ctx.dtype)
        units = np.matmul(ctx.normal((n_out, cov.shape[-1])), f.transpose(0, 2, 1))
    return Signal(units, None, sig.log_scale, sig.log_m + math.log(v), n_out)


@propagate.register
def _(block: Act, sig, ctx, need_units=True):
    phi, homogeneous = numeric_activation(block.activation)
    log_m = _diagonal_kernel(block.activation)(sig.log_m)
    if homogeneous:
        return Signal(phi(sig.units), None, sig.log_scale, log_m, sig.dim)
    true = sig.units * np.exp(sig.log_scale)[:, None, None].astype(sig.units.dtype)
    return Signal(phi(true), None, np.zeros_like(sig.log_scale), log_m, sig.dim)


@propagate.register
def _(block: Scale, sig, ctx, need_units=True):
    a = ctx.value(block.alpha)
    units = sig.units if a > 0 or sig.units is None else -sig.units
    return Signal(units, sig.gram, sig.log_scale + math.log(abs(a)), sig.log_m + 2 * math.log(abs(a)), sig.dim)


@propagate.register
def _(block: BatchNorm, sig, ctx, need_units=True):
    kind = ctx.bn or block.kind
    u = sig.units
    if kind == "population":
        factor = np.exp(sig.log_scale - 0.5 * sig.log_m)[:, None, None].astype(u.dtype)
        return Signal(u * factor, None, np.zeros_like(sig.log_scale), 0.0, sig.dim)
    if u.shape[-1] < 2:
        raise AnglefishError("batch-statistics BatchNorm needs a batch of at least 2 inputs")
    mean = u.mean(axis=-1, keepdims=True)
    centred = u - mean
    var = np.mean(centred * centred, axis=-1, keepdims=True)
    eps = block.eps * np.exp(-2.0 * sig.log_scale)[:, None, None]
    out = centred / np.sqrt(var + eps.astype(u.dtype))
    return Signal(out, None, np.zeros_like(sig.log_scale), 0.0, sig.dim)


def _residual_draws(ctx: Context, b: int, dof: int):
    """Per seed: A, a b x b standard normal matrix, and W ~ Wishart_b(I, dof) by the Bartlett
    decomposition (W = T T^T, T lower triangular, T_ii^2 ~ chi^2_{dof-i}, T_ij ~ N(0, 1)).
    With fewer degrees of freedom than b (a width below twice the batch) W is singular and
    Bartlett does not apply: W = G^T G with G a dof x b standard normal matrix (0 when dof = 0)."""
    s = len(ctx.rngs)
    if dof < b:
        a = np.empty((s, b, b))
        g = np.empty((s, dof, b))
        for k, gen in enumerate(ctx.rngs):
            gen.standard_normal(out=a[k])
            gen.standard_normal(out=g[k])
        return a, np.matmul(g.transpose(0, 2, 1), g)
    n_off = b * (b - 1) // 2
    normals = np.empty((s, b * b + n_off))
    chis = np.empty((s, b))
    dofs = dof - np.arange(b)
    for k, g in enumerate(ctx.rngs):
        g.standard_normal(out=normals[k])
        chis[k] = g.chisquare(dofs)
    a = normals[:, : b * b].reshape(s, b, b)
    t = np.zeros((s, b, b))
    t[:, np.arange(b), np.arange(b)] = np.sqrt(chis)
    rows, cols = np.tril_indices(b, -1)
    t[:, rows, cols] = normals[:, b * b:]
    return a, np.matmul(t, t.transpose(0, 2, 1))


@propagate.register
def _(block: Residual, sig, ctx, need_units=True):
    branch = block.branch.blocks
    # trailing scalings fold into the last Dense's variance (signs do not matter for a Gram)
    k = len(branch)
    while k > 0 and isinstance(branch[k - 1], Scale):
        k -= 1
    last = branch[k - 1] if k else None
    if ctx.sampler == "gram" and not need_units and isinstance(last, Dense) and sig.dim >= 1:
        a = propagate(Serial(*branch[:k - 1]), sig, ctx, need_units=False)
        v = ctx.value(last.variance) * math.prod(ctx.value(b.alpha) ** 2 for b in branch[k:])
        n = ctx.width
        if n != sig.dim:
            raise AnglefishError("a residual block must keep the width")
        b = a.gram_matrix().shape[-1]
        if n < b:
            raise AnglefishError(f"width {n} is smaller than the batch {b}")
        f2 = _factor(a.gram_matrix() * (v / a.dim))  # branch output rows ~ N(0, f2 f2^T)
        fh = _factor(sig.gram_matrix())  # H = Q fh^T
        amat, wish = _residual_draws(ctx, b, n - b)
        cross = np.matmul(np.matmul(fh, amat), f2.transpose(0, 2, 1))
        zz = np.matmul(np.matmul(f2, np.matmul(amat.transpose(0, 2, 1), amat) + wish), f2.transpose(0, 2, 1))
        top = np.maximum(sig.log_scale, a.log_scale)
        e_h, e_a = np.exp(sig.log_scale - top), np.exp(a.log_scale - top)
        gram = (sig.gram_matrix() * (e_h**2)[:, None, None] + (cross + cross.transpose(0, 2, 1))
                * (e_h * e_a)[:, None, None] + zz * (e_a**2)[:, None, None])
        log_m = float(np.logaddexp(sig.log_m, a.log_m + math.log(v)))
        return Signal(None, gram, top, log_m, n)
    out = propagate(block.branch, sig, ctx, need_units=True)
    if sig.units is None:
        raise AnglefishError("internal: residual sum needs the skip's per-unit values")
    if out.units.shape != sig.units.shape:
        raise AnglefishError("a residual block must keep the width")
    top = np.maximum(sig.log_scale, out.log_scale)
    e_h = np.exp(sig.log_scale - top)[:, None, None].astype(sig.units.dtype)
    e_b = np.exp(out.log_scale - top)[:, None, None].astype(sig.units.dtype)
    units = sig.units * e_h + out.units * e_b
    return Signal(units, None, top, float(np.logaddexp(sig.log_m, out.log_m)), sig.dim)


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


def _check_positive_int(value, name, minimum=1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise AnglefishError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def simulate(arch: Architecture | str, inputs: np.ndarray, depth: int, width: int, rngs: list,
             sampler: str = "gram", bn: str | None = None, every: int = 1, dtype=np.float64,
             progress=None, seed: int = 0, at=None) -> Trajectory:
    """Run ``depth`` blocks of ``arch`` on per-seed ``inputs`` (S, D, B); record the pair (0, 1).

    ``inputs[s]`` holds the B input vectors of seed s as columns.  Records every
    ``every``-th depth (always the last), or exactly the depths in ``at``.
    """
    arch = get_architecture(arch)
    depth = _check_positive_int(depth, "depth", 0)
    width = _check_positive_int(width, "width")
    every = _check_positive_int(every, "--every")
    if sampler not in SAMPLERS:
        raise AnglefishError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if bn is not None and bn not in BN_KINDS:
        raise AnglefishError(f"bn must be one of {', '.join(BN_KINDS)}, got {bn!r}")
    inputs = np.asarray(inputs, dtype=dtype)
    if inputs.ndim != 3 or inputs.shape[0] != len(rngs) or inputs.shape[2] < 2:
        raise AnglefishError("inputs must have shape (seeds, dim, batch) with batch >= 2")
    uses_batch_bn = any(isinstance(b, BatchNorm) and (bn or b.kind) == "batch" for b in arch.block.walk())
    if uses_batch_bn and inputs.shape[2] < 2:
        raise AnglefishError("batch-statistics BatchNorm needs --batch >= 2")
    if at is not None:
        recorded = np.unique(np.append(np.asarray(at, dtype=np.int64), depth))
    else:
        recorded = np.unique(np.append(np.arange(0, depth + 1, every), depth)).astype(np.int64)
    with threadpool_limits(limits=1, user_api="blas"):
        # the Gram sampler's many small batched products run 10-50x slower on a
        # multi-threaded BLAS (thread start-up per call); one thread is fastest here
        return _simulate(arch, inputs, depth, width, rngs, sampler, bn, dtype, progress, seed, recorded)


def _simulate(arch, inputs, depth, width, rngs, sampler, bn, dtype, progress, seed, recorded):
    ctx = Context(width=width, rngs=rngs, sampler=sampler, bn=bn, dtype=dtype, depth=depth)
    s = len(rngs)
    sig = Signal(inputs, None, np.zeros(s), 0.0, inputs.shape[1])
    grams = np.empty((len(recorded), s, 2, 2))
    scales = np.empty((len(recorded), s))
    dims = np.empty(len(recorded), dtype=np.int64)
    row = 0
    need = True if sampler == "dense" else needs_units(arch.block)
    for l in range(depth + 1):
        if l == recorded[row]:
            g = sig.gram_matrix()
            grams[row] = g[:, :2, :2]
            scales[row] = sig.log_scale
            dims[row] = sig.dim
            row += 1
        if l == depth:
            break
        ctx.block_index = l
        sig = propagate(arch.block, sig, ctx, need).rescaled()
        if progress is not None:
            progress(l + 1, depth)
    return Trajectory(arch.name, sampler, bn, width, inputs.shape[2], recorded, grams, scales, dims, seed)
