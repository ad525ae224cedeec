"""Empirical Fisher information and the empirical NTK Gram of finite dense random networks.

Convention (the project's contract)
-----------------------------------
* Inputs: T vectors x_t in R^D with i.i.d. N(0, 1) coordinates; D = width in
  :func:`fisher_spectrum`.  Arrays hold them per seed as columns, shape (S, D, T), as in
  :mod:`anglefish.numeric.simulate`.
* Network: the architecture's repeated block (``get_architecture(name).block``, a Serial)
  applied ``depth`` times (0-based block index l = 0 .. depth-1), then a scalar linear
  readout f(x) = v^T h^L with v_i ~ N(0, 1/N_L) and **no readout bias**.  (A bias b would add
  one parameter and the constant 1 to every K_st.)
* Weights in standard parameterisation: ``Dense(var)`` draws W_ij ~ N(0, var / fan_in), no
  biases; a variance that depends on the block index l or the depth L is evaluated there.
* Parameters theta: ALL weights including v; P is their number.
* Empirical FIM:  F = (1/T) sum_t grad f(x_t) grad f(x_t)^T  (P x P), the Hessian of
  (1/2T) sum_t (f(x_t) - y_t)^2 at zero residual (Gaussian output noise of unit variance).
  Its nonzero eigenvalues equal those of K/T with K_st = grad f(x_s) . grad f(x_t), the
  empirical NTK Gram (T x T).  The P x P matrix is never built.
* Mean eigenvalue m_lambda = tr F / P = tr K / (T P); for a subset of parameters, F is
  the diagonal block of F on that subset and P the subset's size.
* ``BatchNorm(kind='population')`` is a fixed division by sqrt(m), m the population
  per-unit second moment at that point, tracked as ``log_m`` exactly as the dense
  simulator does (same functions, :func:`anglefish.numeric.simulate._diagonal_kernel`);
  it is a constant of the architecture, not differentiated, and not changed by training.
* ``BatchNorm(kind='batch')`` uses each unit's mean and (biased) variance over the T
  inputs, with eps = ``block.eps``, and IS differentiated through those statistics, so
  f(x_s) depends on every input.  K_st = sum_W df_s/dW . df_t/dW still holds but the
  per-layer factorisation does not; K is then computed from the full Jacobian of all T
  outputs with respect to every pre-activation of every input (T backward passes at
  once, one seed at a time; cost ~T times the population-BN cost, memory O(T^2 N)).

How K is computed without the P x P matrix
------------------------------------------
For a Dense W with inputs H (N_in x T, one column per input) and backpropagated
signals Delta (N_out x T, column t = df_t/d(W h(x_t))), df_t/dW = Delta_t H_t^T, hence
K^W = (Delta^T Delta) o (H^T H) (elementwise product); the readout adds H_L^T H_L.
With batch BN the backward state is G[s] = df_s / dZ (N_out x T) for every output s and
K^W_st = sum_{a,b} (G[s]^T G[t])_ab (H^T H)_ab.

Randomness: one generator per seed from :func:`anglefish.numeric.spawn_generators`;
seed s draws only from generator s, so a seed's numbers do not depend on how many seeds
run.  Draw order per seed in :func:`fisher_spectrum`: the inputs X (D x T) first, then
every weight in network order (block 0's Dense layers in the order they appear, block 1,
...), then the readout v.  Weight draws mirror the dense simulator's (``Context.weight``):
the same generator state yields bitwise the same matrices.

Extending: a new block type registers :func:`init_block` (draw its weights),
:func:`forward` and :func:`backward` (its vector-Jacobian product); a new activation
registers :func:`numeric_derivative` (phi') next to ``numeric_activation`` (phi).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache, singledispatch

import numpy as np
import sympy as sp

from ..errors import AnglefishError
from ..theory.activations import Activation, PiecewiseLinear
from ..theory.architectures import Architecture, get_architecture
from ..theory.blocks import BLOCK_INDEX, DEPTH, Act, BatchNorm, Block, Dense, Residual, Scale, Serial
from .simulate import BN_KINDS, _diagonal_kernel, numeric_activation, spawn_generators

#: refuse a batch-BN Gram whose Jacobian of all outputs would need more memory than this per seed
BATCH_BN_MAX_BYTES = 8 * 2**30

__all__ = ["Params", "init_params", "draw_inputs", "forward", "backward", "init_block",
           "numeric_derivative", "network_outputs", "ntk_gram", "fisher_spectrum", "parse_subset",
           "check_int", "uses_batch_bn"]


# ----------------------------------------------------------------- validation
def check_int(value, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, else AnglefishError (one line)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise AnglefishError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_bn(bn):
    if bn is not None and bn not in BN_KINDS:
        raise AnglefishError(f"bn must be one of {', '.join(BN_KINDS)} or None, got {bn!r}")
    return bn


def _check_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise AnglefishError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise AnglefishError(f"dtype must be float32 or float64, got {dt}")
    return dt.type


def uses_batch_bn(arch: Architecture, bn: str | None = None) -> bool:
    """Does the network use batch-statistics BN (after the ``bn`` override)?"""
    return any(isinstance(b, BatchNorm) and (bn or b.kind) == "batch" for b in arch.block.walk())


def parse_subset(subset: str, depth: int):
    """'all' | 'layer:K' (0 <= K < depth, all weights inside repeated block K) | 'layer:readout' (v).

    Returns (blocks, readout): the set of block indices whose weights count, and whether v counts.
    """
    if not isinstance(subset, str):
        raise AnglefishError(f"subset must be 'all', 'layer:K' or 'layer:readout', got {subset!r}")
    if subset == "all":
        return frozenset(range(depth)), True
    if subset == "layer:readout":
        return frozenset(), True
    if subset.startswith("layer:"):
        tail = subset[len("layer:"):]
        if tail.isascii() and tail.isdigit() and int(tail) < depth:
            return frozenset([int(tail)]), False
        raise AnglefishError(f"subset 'layer:K' needs 0 <= K < depth = {depth} (0-based block index) "
                             f"or 'readout', got {subset!r}")
    raise AnglefishError(f"subset must be 'all', 'layer:K' or 'layer:readout', got {subset!r}")


# ----------------------------------------------------------------- parameters
@dataclass
class Params:
    """Explicit weights of ``seeds`` networks (leading axis S everywhere).

    weights: list of (S, n_out, n_in) arrays in draw order (network order).
    owners: the 0-based repeated-block index l of each weight.
    readout: (S, N_L), v_i ~ N(0, 1/N_L).
    """

    arch: Architecture
    depth: int
    width: int
    in_dim: int
    bn: str | None
    weights: list
    owners: list
    readout: np.ndarray

    @property
    def seeds(self) -> int:
        return self.readout.shape[0]

    @property
    def dtype(self):
        return self.readout.dtype.type

    def n_params(self, subset: str = "all") -> int:
        """Number of parameters (per network) in ``subset``."""
        blocks, readout = parse_subset(subset, self.depth)
        n = sum(w.shape[1] * w.shape[2] for w, o in zip(self.weights, self.owners) if o in blocks)
        return int(n + (self.readout.shape[1] if readout else 0))

    def select(self, seed_index: int) -> "Params":
        """The parameters of one seed (views, leading axis kept)."""
        sl = slice(seed_index, seed_index + 1)
        return Params(self.arch, self.depth, self.width, self.in_dim, self.bn,
                      [w[sl] for w in self.weights], list(self.owners), self.readout[sl])

    def copy(self) -> "Params":
        return Params(self.arch, self.depth, self.width, self.in_dim, self.bn,
                      [w.copy() for w in self.weights], list(self.owners), self.readout.copy())


@dataclass
class InitContext:
    """What drawing a block's weights needs: width, generators, dtype, block index, depth."""

    width: int
    rngs: list
    dtype: type
    depth: int
    block_index: int = 0
    weights: list = field(default_factory=list)
    owners: list = field(default_factory=list)

    def normal(self, shape) -> np.ndarray:
        """Standard normals of shape (S,) + shape, seed s from generator s."""
        out = np.empty((len(self.rngs),) + tuple(shape), dtype=self.dtype)
        for s, g in enumerate(self.rngs):
            g.standard_normal(out=out[s], dtype=self.dtype)
        return out

    def value(self, expr: sp.Expr) -> float:
        return _value(expr, self.block_index, self.depth)


def _value(expr, block_index, depth) -> float:
    if getattr(expr, "free_symbols", None):
        expr = expr.subs({BLOCK_INDEX: block_index, DEPTH: depth})
    return float(expr)


@singledispatch
def init_block(block: Block, n_in: int, ctx: InitContext) -> int:
    """Draw ``block``'s weights (append to ctx.weights/ctx.owners); return its output width."""
    raise AnglefishError(f"no Fisher/training implementation for block {type(block).__name__}; "
                         "register init_block, forward and backward in anglefish.numeric.fisher")


@init_block.register
def _(block: Dense, n_in, ctx):
    v = ctx.value(block.variance)
    w = ctx.normal((ctx.width, n_in))
    w *= ctx.dtype(math.sqrt(v / n_in))  # as simulate.Context.weight
    ctx.weights.append(w)
    ctx.owners.append(ctx.block_index)
    return ctx.width


@init_block.register
def _(block: Act, n_in, ctx):
    return n_in


@init_block.register
def _(block: BatchNorm, n_in, ctx):
    return n_in


@init_block.register
def _(block: Scale, n_in, ctx):
    return n_in


@init_block.register
def _(block: Serial, n_in, ctx):
    for b in block.blocks:
        n_in = init_block(b, n_in, ctx)
    return n_in


@init_block.register
def _(block: Residual, n_in, ctx):
    n_out = init_block(block.branch, n_in, ctx)
    if n_out != n_in:
        raise AnglefishError(f"a residual block must keep the width ({n_in} -> {n_out})")
    return n_in


def init_params(arch: Architecture | str, depth: int, width: int, in_dim: int, rngs: list,
                bn: str | None = None, dtype=np.float64) -> Params:
    """Draw every weight of ``len(rngs)`` networks: ``depth`` blocks of ``arch`` at ``width``, then v.

    Seed s draws from ``rngs[s]`` only, in network order, readout last.  ``bn`` overrides every
    BatchNorm's kind ('population' | 'batch'), as in :func:`anglefish.numeric.simulate`.
    """
    arch = get_architecture(arch)
    depth = check_int(depth, "depth")
    width = check_int(width, "width")
    in_dim = check_int(in_dim, "in_dim")
    _check_bn(bn)
    dtype = _check_dtype(dtype)
    if not isinstance(rngs, (list, tuple)) or len(rngs) < 1:
        raise AnglefishError("rngs must be a non-empty list of numpy Generators (one per seed)")
    ctx = InitContext(width, list(rngs), dtype, depth)
    n = in_dim
    for l in range(depth):
        ctx.block_index = l
        n = init_block(arch.block, n, ctx)
    v = ctx.normal((n,))
    v *= dtype(math.sqrt(1.0 / n))
    return Params(arch, depth, width, in_dim, bn, ctx.weights, ctx.owners, v)


def draw_inputs(dim: int, samples: int, rngs: list, dtype=np.float64) -> np.ndarray:
    """Per-seed inputs (S, dim, samples) with i.i.d. N(0, 1) coordinates, seed s from rngs[s]."""
    dim = check_int(dim, "width/input dimension")
    samples = check_int(samples, "samples")
    dtype = _check_dtype(dtype)
    x = np.empty((len(rngs), dim, samples), dtype=dtype)
    for s, g in enumerate(rngs):
        g.standard_normal(out=x[s], dtype=dtype)
    return x


# ----------------------------------------------------------------- activations: phi and phi'
@lru_cache(maxsize=None)
def _phi(activation: Activation):
    return numeric_activation(activation)[0]


@singledispatch
def numeric_derivative(activation: Activation):
    """phi'(x) elementwise for numpy: the SymPy derivative of phi, lambdified."""
    x = sp.Symbol("x", real=True)
    d = sp.diff(activation.phi(x), x)
    f = sp.lambdify(x, d, ["scipy", "numpy"])  # scipy: erf (in GELU') on arrays

    def dphi(z):
        return np.broadcast_to(np.asarray(f(z), dtype=z.dtype), z.shape)
    return dphi


@numeric_derivative.register
def _(activation: PiecewiseLinear):
    a_pos, a_neg = float(activation.slope_pos), float(activation.slope_neg)

    def dphi(z):  # at z == 0 exactly (probability 0) the slope on the negative side
        t = z.dtype.type
        return np.where(z > 0, t(a_pos), t(a_neg))
    return dphi


@lru_cache(maxsize=None)
def _dphi(activation: Activation):
    return numeric_derivative(activation)


# ----------------------------------------------------------------- forward and backward
@dataclass
class RunContext:
    """A forward/backward pass: the parameters, the current block index and hooks.

    on_dense(index, h, g): called by every Dense in the backward pass with its input h
    (S, n_in, T) and the cotangent g (S, R, n_out, T) at its output.
    """

    params: Params
    bn: str | None = None
    block_index: int = 0
    cursor: int = 0
    on_dense: object = None

    def value(self, expr) -> float:
        return _value(expr, self.block_index, self.params.depth)


@singledispatch
def forward(block: Block, h: np.ndarray, log_m: float, ctx: RunContext):
    """(out, log_m_out, cache): push true values h (S, N, T) through ``block``.

    log_m is the log population second moment per unit (as the simulator's Signal.log_m).
    """
    raise AnglefishError(f"no Fisher/training forward for block {type(block).__name__}; "
                         "register one with anglefish.numeric.fisher.forward.register")


@singledispatch
def backward(block: Block, cache, g: np.ndarray, ctx: RunContext) -> np.ndarray:
    """Vector-Jacobian product: cotangent g (S, R, N_out, T) at the output -> at the input.

    R indexes scalar functionals pulled back at once (R = 1: sum of per-input outputs or the
    loss; R = T: every output separately, for batch BN).
    """
    raise AnglefishError(f"no Fisher/training backward for block {type(block).__name__}; "
                         "register one with anglefish.numeric.fisher.backward.register")


@forward.register
def _(block: Serial, h, log_m, ctx):
    caches = []
    for b in block.blocks:
        h, log_m, c = forward(b, h, log_m, ctx)
        caches.append(c)
    return h, log_m, caches


@backward.register
def _(block: Serial, cache, g, ctx):
    for b, c in zip(reversed(block.blocks), reversed(cache)):
        g = backward(b, c, g, ctx)
    return g


@forward.register
def _(block: Dense, h, log_m, ctx):
    index = ctx.cursor
    ctx.cursor += 1
    w = ctx.params.weights[index]
    if w.shape[2] != h.shape[1]:
        raise AnglefishError(f"internal: weight {index} has fan-in {w.shape[2]}, input has {h.shape[1]}")
    return np.matmul(w, h), log_m + math.log(ctx.value(block.variance)), (index, h)


@backward.register
def _(block: Dense, cache, g, ctx):
    index, h = cache
    if ctx.on_dense is not None:
        ctx.on_dense(index, h, g)
    w = ctx.params.weights[index]
    return np.matmul(w.transpose(0, 2, 1)[:, None], g)


def _act_log_m(activation: Activation, log_m: float) -> float:
    """log E phi(u)^2 for Var u = exp(log_m), as the simulator; nan if phi has no kernel (then a
    later population BN refuses)."""
    if not math.isfinite(log_m):
        return math.nan
    try:
        return _diagonal_kernel(activation)(log_m)
    except NotImplementedError:
        return math.nan


@forward.register
def _(block: Act, h, log_m, ctx):
    return _phi(block.activation)(h), _act_log_m(block.activation, log_m), h


@backward.register
def _(block: Act, cache, g, ctx):
    return g * _dphi(block.activation)(cache)[:, None]


@forward.register
def _(block: Scale, h, log_m, ctx):
    a = ctx.value(block.alpha)
    return h * h.dtype.type(a), log_m + 2 * math.log(abs(a)), a


@backward.register
def _(block: Scale, cache, g, ctx):
    return g * g.dtype.type(cache)


@forward.register
def _(block: BatchNorm, h, log_m, ctx):
    kind = ctx.bn or block.kind
    if kind == "population":
        if not math.isfinite(log_m):
            raise AnglefishError(f"{block!r}: the population second moment here is unknown (an activation "
                                 "upstream has no Gaussian kernel); use kind='batch'")
        factor = h.dtype.type(math.exp(-0.5 * log_m))
        return h * factor, 0.0, ("population", factor)
    if h.shape[-1] < 2:
        raise AnglefishError("batch-statistics BatchNorm needs at least 2 inputs (samples >= 2)")
    centred = h - h.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(np.mean(centred * centred, axis=-1, keepdims=True) + h.dtype.type(block.eps))
    y = centred * inv_std
    return y, 0.0, ("batch", y, inv_std)


@backward.register
def _(block: BatchNorm, cache, g, ctx):
    if cache[0] == "population":
        return g * cache[1]
    _, y, inv_std = cache
    y = y[:, None]
    # y = (z - mean) / sigma, sigma^2 = var + eps:  dz = (dy - mean(dy) - y mean(dy y)) / sigma
    return (g - g.mean(axis=-1, keepdims=True) - y * np.mean(g * y, axis=-1, keepdims=True)) \
        * inv_std[:, None]


@forward.register
def _(block: Residual, h, log_m, ctx):
    out, log_m_branch, cache = forward(block.branch, h, log_m, ctx)
    if out.shape != h.shape:
        raise AnglefishError("a residual block must keep the width")
    return h + out, float(np.logaddexp(log_m, log_m_branch)), cache


@backward.register
def _(block: Residual, cache, g, ctx):
    return g + backward(block.branch, cache, g, ctx)


# ----------------------------------------------------------------- whole network
def _check_inputs(params: Params, x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[0] != params.seeds or x.shape[1] != params.in_dim or x.shape[2] < 1:
        raise AnglefishError(f"inputs must have shape (seeds={params.seeds}, dim={params.in_dim}, samples>=1), "
                             f"got {x.shape}")
    if uses_batch_bn(params.arch, params.bn) and x.shape[2] < 2:
        raise AnglefishError("batch-statistics BatchNorm needs at least 2 inputs (samples >= 2)")
    if not np.all(np.isfinite(x)):
        raise AnglefishError("inputs must be finite")
    return x.astype(params.dtype, copy=False)


def _forward_network(params: Params, x: np.ndarray, bn=None):
    """(h_L, caches per block, outputs f (S, T)); true values, no log-scale (finite or raise)."""
    ctx = RunContext(params, bn if bn is not None else params.bn)
    h, log_m = x, 0.0  # inputs: per-coordinate second moment 1
    caches = []
    with np.errstate(over="ignore", invalid="ignore"):
        for l in range(params.depth):
            ctx.block_index = l
            h, log_m, c = forward(params.arch.block, h, log_m, ctx)
            caches.append(c)
        f = np.einsum("sn,snt->st", params.readout, h)
    return h, caches, f


def network_outputs(params: Params, x: np.ndarray) -> np.ndarray:
    """f(x_t) for every seed and input: shape (S, T).  x: (S, in_dim, T)."""
    x = _check_inputs(params, x)
    return _forward_network(params, x)[2]


def _backward_network(params: Params, caches, g: np.ndarray, on_dense, lowest_block: int = 0):
    """Pull the cotangent g (S, R, N_L, T) at h_L back through blocks depth-1 .. lowest_block."""
    ctx = RunContext(params, params.bn, on_dense=on_dense)
    for l in range(params.depth - 1, lowest_block - 1, -1):
        ctx.block_index = l
        g = backward(params.arch.block, caches[l], g, ctx)
    return g


def ntk_gram(arch: Architecture | str, params: Params, x: np.ndarray, subset: str = "all") -> np.ndarray:
    """The empirical NTK Gram K_st = sum_{theta in subset} df(x_s)/dtheta df(x_t)/dtheta, (S, T, T).

    x: inputs (S, in_dim, T) as columns.  subset: 'all' | 'layer:K' (weights of repeated block K,
    0-based) | 'layer:readout' (v only).  float64 result.  The nonzero eigenvalues of K/T are
    those of the empirical FIM F (module docstring).  Without batch BN:
    K = sum_W (Delta_W^T Delta_W) o (H_W^T H_W) + H_L^T H_L; with batch BN from the Jacobian of
    all T outputs (T backward passes at once).
    """
    arch = get_architecture(arch)
    if not isinstance(params, Params):
        raise AnglefishError(f"params must come from init_params, got {type(params).__name__}")
    if arch is not params.arch and (arch.name != params.arch.name or arch.block != params.arch.block):
        raise AnglefishError(f"params were drawn for architecture '{params.arch.name}', not '{arch.name}'")
    blocks, readout = parse_subset(subset, params.depth)
    x = _check_inputs(params, x)
    if uses_batch_bn(params.arch, params.bn) and blocks:
        # full Jacobian: memory O(T^2 N) per seed, so one seed at a time
        need = 4 * x.shape[2] ** 2 * max(params.width, params.in_dim) * np.dtype(params.dtype).itemsize
        if need > BATCH_BN_MAX_BYTES:
            raise AnglefishError(f"batch-statistics BN needs ~{need / 2**30:.1f} GiB per seed for the Jacobian of "
                                 f"all {x.shape[2]} outputs (limit {BATCH_BN_MAX_BYTES / 2**30:.0f} GiB); "
                                 "use fewer samples or a smaller width")
        return np.concatenate([_gram(params.select(s), x[s:s + 1], blocks, readout, True)
                               for s in range(params.seeds)])
    return _gram(params, x, blocks, readout, False)


def _gram(params: Params, x: np.ndarray, blocks, readout: bool, batch_bn: bool) -> np.ndarray:
    h_l, caches, f = _forward_network(params, x)
    if not np.all(np.isfinite(f)):
        raise AnglefishError("the network's outputs overflowed (not finite); use a smaller depth")
    s, t = f.shape
    k = np.zeros((s, t, t))
    if readout:
        k += np.matmul(h_l.transpose(0, 2, 1), h_l)
    if not blocks:
        return k
    owners = params.owners
    v = params.readout
    if batch_bn:
        # g[s, r, :, a] = d f(x_r) / d h_L(x_a) = v delta_ra: the T backward passes at once
        g = v[:, None, :, None] * np.eye(t, dtype=v.dtype)[None, :, None, :]

        def on_dense(index, h, grad):
            # K^W_rq = sum_{a,b} (G_r^T G_q)_ab (H^T H)_ab, G_r = grad[:, r] (N_out x T)
            if owners[index] not in blocks:
                return
            a = np.matmul(h.transpose(0, 2, 1), h)  # (S, T, T) Gram of the inputs to W
            ga = np.matmul(grad, a[:, None])  # (S, R, N, T)
            flat = grad.reshape(s, t, -1)
            k[...] += np.matmul(flat, ga.reshape(s, t, -1).transpose(0, 2, 1))
    else:
        # one backward pass of sum_t f(x_t): column t of the cotangent is df(x_t)/d(.)(x_t)
        g = np.broadcast_to(v[:, None, :, None], (s, 1, v.shape[1], t))

        def on_dense(index, h, grad):
            # K^W = (Delta^T Delta) o (H^T H)
            if owners[index] not in blocks:
                return
            d = grad[:, 0]
            k[...] += np.matmul(d.transpose(0, 2, 1), d) * np.matmul(h.transpose(0, 2, 1), h)
    with np.errstate(over="ignore", invalid="ignore"):
        _backward_network(params, caches, g, on_dense, lowest_block=min(blocks))
    if not np.all(np.isfinite(k)):
        raise AnglefishError("the NTK Gram overflowed (not finite); use a smaller depth")
    return k


# ----------------------------------------------------------------- spectrum
def _mean_se(values: np.ndarray):
    """Mean over seeds and its standard error (sd / sqrt(S), ddof 1); SE is nan for one seed.
    Both are formed on values divided by the largest |value|, so that values near the top of
    the float64 range (a deep ResNet's eigenvalues) do not overflow when squared."""
    values = np.asarray(values, dtype=np.float64)
    scale = float(np.max(np.abs(values))) if values.size and np.all(np.isfinite(values)) else 1.0
    scale = scale if scale > 0 else 1.0
    unit = values / scale
    mean = float(unit.mean()) * scale
    se = float(unit.std(ddof=1) / math.sqrt(values.size)) * scale if values.size > 1 else float("nan")
    return mean, se


#: fisher_spectrum draws networks in chunks whose weights take at most this many bytes
WEIGHT_MEMORY = 256 * 2**20


def fisher_spectrum(arch: Architecture | str, depth: int, width: int, samples: int, seeds: int,
                    subset: str = "all", seed: int = 0, dtype=np.float64, bn: str | None = None,
                    progress=None) -> dict:
    """Eigenvalues of the empirical FIM (as those of K/T) of ``seeds`` random networks.

    Per seed s (generator s of ``spawn_generators(seed, seeds)``): inputs X (width x samples,
    i.i.d. N(0,1)) drawn first, then the weights (:func:`init_params`, in_dim = width).
    Returns seed means with standard errors (sd/sqrt(S), ddof 1; nan for one seed):
    ``lambda_max`` (largest eigenvalue of F = K/T), ``mean_eigenvalue`` (m_lambda = tr K/(T P)),
    ``n_params`` (P of the subset), per-seed arrays ``lambda_max_per_seed``,
    ``mean_eigenvalue_per_seed``, ``eigenvalues`` (S, T) ascending, and the settings.
    ``dtype=float32`` uses numpy's float32 normal sampler, i.e. another sample of networks than
    float64 (as in the simulator), not a rounded copy; K is accumulated in float64 either way.
    ``progress(done, total)`` is called with the number of networks done after each chunk.
    Memory: see :func:`anglefish.resources.estimate_fisher` (the command line refuses runs
    beyond its budget before calling this).
    """
    arch = get_architecture(arch)
    depth = check_int(depth, "depth")
    width = check_int(width, "width")
    samples = check_int(samples, "samples")
    seeds = check_int(seeds, "seeds")
    _check_bn(bn)
    dtype = _check_dtype(dtype)
    parse_subset(subset, depth)
    if uses_batch_bn(arch, bn) and samples < 2:
        raise AnglefishError("batch-statistics BatchNorm needs at least 2 inputs (samples >= 2)")
    rngs = spawn_generators(seed, seeds)
    # networks are drawn in chunks that keep their weights within WEIGHT_MEMORY bytes; network s
    # draws from rngs[s] only, so the chunking does not change any number
    grams, start, chunk, n_params = [], 0, 1, None
    while start < seeds:
        part = rngs[start:start + chunk]
        x = draw_inputs(width, samples, part, dtype)
        params = init_params(arch, depth, width, width, part, bn=bn, dtype=dtype)
        grams.append(ntk_gram(arch, params, x, subset))
        if n_params is None:
            n_params = params.n_params(subset)
            per_network = sum(w.nbytes for w in params.weights) + params.readout.nbytes
            chunk = max(1, WEIGHT_MEMORY // per_network)
        start += len(part)
        del x, params
        if progress is not None:
            progress(start, seeds)
    k = np.concatenate(grams)
    eig = np.linalg.eigvalsh(k / samples)
    lam = eig[:, -1]
    m_lam = np.einsum("stt->s", k) / (samples * n_params)
    lm, lse = _mean_se(lam)
    mm, mse = _mean_se(m_lam)
    return {
        "architecture": arch.name, "depth": depth, "width": width, "samples": samples,
        "seeds": seeds, "seed": seed, "subset": subset, "bn": bn, "dtype": np.dtype(dtype).name,
        "n_params": n_params,
        "lambda_max": lm, "lambda_max_se": lse,
        "mean_eigenvalue": mm, "mean_eigenvalue_se": mse,
        "lambda_max_per_seed": lam, "mean_eigenvalue_per_seed": m_lam, "eigenvalues": eig,
    }
