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

The forward and backward passes are those of the one finite-network interpreter
(:mod:`anglefish.numeric.network`): each block type brings its own ``init``, ``forward`` and
``backward`` rules, each activation its ``numpy_phi`` and ``numpy_dphi``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import AnglefishError
from ..seeds import generators
from ..theory.architectures import Architecture, get_architecture
from ..theory.blocks import BN_KINDS
from ..validation import check_choice, check_dtype, check_int
from .network import (
    Weights,
    backward,
    draw_weights,
    forward,
    new_pass,
    one_blas_thread,
    standard_normals,
    uses_batch_bn,
)

#: refuse a batch-BN Gram whose Jacobian of all outputs would need more memory than this per seed
BATCH_BN_MAX_BYTES = 8 * 2**30

__all__ = ["PASS_MEMORY", "Params", "SAMPLERS", "WEIGHT_MEMORY", "init_params", "draw_inputs", "network_outputs",
           "ntk_gram", "ntk_grams", "fisher_spectrum", "parse_subset", "projected_gram", "projected_pass_bytes", "check_int",
           "uses_batch_bn"]


def parse_subset(subset: str, depth: int):
    """'all' | 'layer:K' (0 <= K < depth, all weights inside repeated block K) | 'layer:readout' (v),
    and the depth-relative forms 'layer:first', 'layer:last' (:func:`anglefish.theory.ntk.parse_params`).

    Returns (blocks, readout): the set of block indices whose weights count, and whether v counts.
    """
    from ..theory.ntk import parse_params

    kind, k = parse_params(subset, depth)
    if kind == "all":
        return frozenset(range(depth)), True
    if kind == "readout":
        return frozenset(), True
    return frozenset([k]), False


# ----------------------------------------------------------------- parameters
@dataclass
class Params:
    """Explicit weights of ``seeds`` networks and their scalar readouts (leading axis S everywhere).

    net: the hidden weights (:class:`anglefish.numeric.network.Weights`); readout: (S, N_L),
    v_i ~ N(0, 1/N_L); bn: the BN override of every pass.
    """

    net: Weights
    readout: np.ndarray
    bn: str | None = None

    @property
    def arch(self) -> Architecture:
        return self.net.arch

    @property
    def depth(self) -> int:
        return self.net.depth

    @property
    def width(self) -> int:
        return self.net.width

    @property
    def in_dim(self) -> int:
        return self.net.in_dim

    @property
    def weights(self) -> list:
        return self.net.weights

    @property
    def owners(self) -> list:
        return self.net.owners

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
        return Params(self.net.select(sl), self.readout[sl], self.bn)

    def copy(self) -> "Params":
        return Params(self.net.copy(), self.readout.copy(), self.bn)


def init_params(arch: Architecture | str, depth: int, width: int, in_dim: int, rngs: list,
                bn: str | None = None, dtype=np.float64) -> Params:
    """Draw every weight of ``len(rngs)`` networks: ``depth`` blocks of ``arch`` at ``width``, then v.

    Seed s draws from ``rngs[s]`` only, in network order, readout last.  ``bn`` overrides every
    BatchNorm's kind ('population' | 'batch'), as in :func:`anglefish.numeric.simulate`.
    """
    check_choice(bn, "bn", BN_KINDS, allow_none=True)
    dtype = check_dtype(dtype)
    net = draw_weights(arch, depth, width, in_dim, rngs, dtype)
    n = net.weights[-1].shape[1] if net.weights else in_dim
    v = np.empty((len(rngs), n), dtype=dtype)
    for s, g in enumerate(rngs):
        g.standard_normal(out=v[s], dtype=dtype)
    v *= dtype(math.sqrt(1.0 / n))
    return Params(net, v, bn)


def draw_inputs(dim: int, samples: int, rngs: list, dtype=np.float64) -> np.ndarray:
    """Per-seed inputs (S, dim, samples) with i.i.d. N(0, 1) coordinates, seed s from rngs[s]."""
    dim = check_int(dim, "width/input dimension")
    samples = check_int(samples, "samples")
    dtype = check_dtype(dtype)
    return standard_normals(rngs, (dim, samples), dtype)


# ----------------------------------------------------------------- whole network
def _check_inputs(params: Params, x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[0] != params.seeds or x.shape[1] != params.in_dim or x.shape[2] < 1:
        raise AnglefishError(f"inputs must have shape (seeds={params.seeds}, dim={params.in_dim}, samples>=1), "
                             f"got {x.shape}")
    if params.arch.uses_batch_bn(params.bn) and x.shape[2] < 2:
        raise AnglefishError("batch-statistics BatchNorm needs at least 2 inputs (samples >= 2)")
    if not np.all(np.isfinite(x)):
        raise AnglefishError("inputs must be finite")
    return x.astype(params.dtype, copy=False)


def _forward_network(params: Params, x: np.ndarray, bn=None):
    """(h_L, caches per block, outputs f (S, T)); true values, no log-scale (finite or raise)."""
    ctx = new_pass(params.net, bn if bn is not None else params.bn)
    with np.errstate(over="ignore", invalid="ignore"):
        h, _, caches = forward(params.net, x, ctx)  # inputs: per-coordinate second moment 1
        f = np.einsum("sn,snt->st", params.readout, h)
    return h, caches, f


def network_outputs(params: Params, x: np.ndarray) -> np.ndarray:
    """f(x_t) for every seed and input: shape (S, T).  x: (S, in_dim, T)."""
    x = _check_inputs(params, x)
    return _forward_network(params, x)[2]


def _backward_network(params: Params, caches, g: np.ndarray, on_dense, lowest_block: int = 0):
    """Pull the cotangent g (S, R, N_L, T) at h_L back through blocks depth-1 .. lowest_block."""
    return backward(params.net, caches, g, new_pass(params.net, params.bn, on_dense=on_dense), lowest_block)


def _check_batch_bn_memory(samples: int, width: int, in_dim: int, dtype) -> None:
    """Refuse a batch-BN Gram whose Jacobian of all outputs would exceed BATCH_BN_MAX_BYTES per seed."""
    need = 4 * samples ** 2 * max(width, in_dim) * np.dtype(dtype).itemsize
    if need > BATCH_BN_MAX_BYTES:
        raise AnglefishError(f"batch-statistics BN needs ~{need / 2**30:.1f} GiB per seed for the Jacobian of "
                             f"all {samples} outputs (limit {BATCH_BN_MAX_BYTES / 2**30:.0f} GiB); "
                             "use fewer samples or a smaller width")


def ntk_gram(arch: Architecture | str, params: Params, x: np.ndarray, subset: str = "all") -> np.ndarray:
    """The empirical NTK Gram K_st = sum_{theta in subset} df(x_s)/dtheta df(x_t)/dtheta, (S, T, T).

    x: inputs (S, in_dim, T) as columns.  subset: 'all' | 'layer:K' (weights of repeated block K,
    0-based) | 'layer:readout' (v only).  float64 result.  The nonzero eigenvalues of K/T are
    those of the empirical FIM F (module docstring).  Without batch BN:
    K = sum_W (Delta_W^T Delta_W) o (H_W^T H_W) + H_L^T H_L; with batch BN from the Jacobian of
    all T outputs (T backward passes at once).
    """
    return ntk_grams(arch, params, x, (subset,))[subset]


def ntk_grams(arch: Architecture | str, params: Params, x: np.ndarray, subsets) -> dict:
    """{subset: :func:`ntk_gram` (arch, params, x, subset)} for several subsets from ONE forward and
    one backward pass of the networks (each subset's Gram sums the same terms in the same order as
    :func:`ntk_gram` alone: the same numbers)."""
    arch = get_architecture(arch)
    if not isinstance(params, Params):
        raise AnglefishError(f"params must come from init_params, got {type(params).__name__}")
    if arch is not params.arch and (arch.name != params.arch.name or arch.block != params.arch.block):
        raise AnglefishError(f"params were drawn for architecture '{params.arch.name}', not '{arch.name}'")
    subsets = list(dict.fromkeys(subsets))
    selections = [parse_subset(sub, params.depth) for sub in subsets]
    x = _check_inputs(params, x)
    if uses_batch_bn(params.arch, params.bn) and any(blocks for blocks, _ in selections):
        # full Jacobian: memory O(T^2 N) per seed, so one seed at a time
        _check_batch_bn_memory(x.shape[2], params.width, params.in_dim, params.dtype)
        per_seed = [_grams(params.select(s), x[s:s + 1], selections, True) for s in range(params.seeds)]
        return {sub: np.concatenate([g[i] for g in per_seed]) for i, sub in enumerate(subsets)}
    return dict(zip(subsets, _grams(params, x, selections, False)))


def _grams(params: Params, x: np.ndarray, selections, batch_bn: bool) -> list:
    h_l, caches, f = _forward_network(params, x)

    def pull_back(g, on_dense, lowest_block):
        return _backward_network(params, caches, g, on_dense, lowest_block)

    return _grams_of_pass(h_l, f, params.readout, params.owners, pull_back, selections, batch_bn)


def _gram_of_pass(h_l, f, v, owners, pull_back, blocks, readout: bool, batch_bn: bool) -> np.ndarray:
    """K from one forward pass (top values h_l (S, N_L, T), outputs f (S, T), readout v (S, N_L))
    and ``pull_back(g, on_dense, lowest_block)``, the backward pass of the same networks."""
    return _grams_of_pass(h_l, f, v, owners, pull_back, [(blocks, readout)], batch_bn)[0]


def _grams_of_pass(h_l, f, v, owners, pull_back, selections, batch_bn: bool) -> list:
    """One K per selection (blocks, readout) (:func:`_gram_of_pass`), all from one backward pass."""
    if not np.all(np.isfinite(f)):
        raise AnglefishError("the network's outputs overflowed (not finite); use a smaller depth")
    s, t = f.shape
    ks = [np.zeros((s, t, t)) for _ in selections]
    for k, (_, readout) in zip(ks, selections):
        if readout:
            k += np.matmul(h_l.transpose(0, 2, 1), h_l)
    lowest = [min(blocks) for blocks, _ in selections if blocks]
    if not lowest:
        return ks

    def targets(index):
        return [k for k, (blocks, _) in zip(ks, selections) if owners[index] in blocks]

    if batch_bn:
        # g[s, r, :, a] = d f(x_r) / d h_L(x_a) = v delta_ra: the T backward passes at once
        g = v[:, None, :, None] * np.eye(t, dtype=v.dtype)[None, :, None, :]

        def on_dense(index, h, grad):
            # K^W_rq = sum_{a,b} (G_r^T G_q)_ab (H^T H)_ab, G_r = grad[:, r] (N_out x T)
            into = targets(index)
            if not into:
                return
            a = np.matmul(h.transpose(0, 2, 1), h)  # (S, T, T) Gram of the inputs to W
            ga = np.matmul(grad, a[:, None])  # (S, R, N, T)
            flat = grad.reshape(s, t, -1)
            term = np.matmul(flat, ga.reshape(s, t, -1).transpose(0, 2, 1))
            for k in into:
                k += term
    else:
        # one backward pass of sum_t f(x_t): column t of the cotangent is df(x_t)/d(.)(x_t)
        g = np.broadcast_to(v[:, None, :, None], (s, 1, v.shape[1], t))

        def on_dense(index, h, grad):
            # K^W = (Delta^T Delta) o (H^T H)
            into = targets(index)
            if not into:
                return
            d = grad[:, 0]
            term = np.matmul(d.transpose(0, 2, 1), d) * np.matmul(h.transpose(0, 2, 1), h)
            for k in into:
                k += term
    with np.errstate(over="ignore", invalid="ignore"):
        pull_back(g, on_dense, min(lowest))
    if not all(np.all(np.isfinite(k)) for k in ks):
        raise AnglefishError("the NTK Gram overflowed (not finite); use a smaller depth")
    return ks


def projected_gram(arch: Architecture | str, depth: int, width: int, x: np.ndarray, rngs: list,
                   subset: str = "all", bn: str | None = None) -> tuple:
    """The empirical NTK Gram of ``len(rngs)`` fresh random networks without weight matrices:
    (K (S, T, T) float64, P of the subset).

    The same networks' law as ``init_params`` + :func:`ntk_gram` (the module docstring's
    convention, in_dim = x.shape[1]), drawn by :class:`anglefish.numeric.projected.ProjectedPass`:
    per network s, from ``rngs[s]`` in this order, Omega of every Dense (forward), the readout v,
    then the orthogonal parts of every Dense pulled back (backward).  Exact in law (that module's
    docstring); O(L N T^2) time and O(L N T) memory per network.  With batch BN, one network at a
    time (the Jacobian of all T outputs, as in :func:`ntk_gram`)."""
    from .projected import ProjectedPass, lazy_weights

    arch = get_architecture(arch)
    depth = check_int(depth, "depth")
    width = check_int(width, "width")
    blocks, readout = parse_subset(subset, depth)
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[0] != len(rngs) or x.shape[2] < 1:
        raise AnglefishError(f"inputs must have shape (seeds={len(rngs)}, dim, samples>=1), got {x.shape}")
    batch_bn = uses_batch_bn(arch, bn)
    if batch_bn and x.shape[2] < 2:
        raise AnglefishError("batch-statistics BatchNorm needs at least 2 inputs (samples >= 2)")
    if batch_bn and blocks and len(rngs) > 1:
        _check_batch_bn_memory(x.shape[2], width, x.shape[1], x.dtype)
        parts = [projected_gram(arch, depth, width, x[s:s + 1], rngs[s:s + 1], subset, bn) for s in range(len(rngs))]
        return np.concatenate([p[0] for p in parts]), parts[0][1]
    dtype = x.dtype.type
    net = lazy_weights(arch, depth, width, x.shape[1], len(rngs))
    ctx = ProjectedPass(net, bn, rngs=list(rngs), dtype=dtype)

    def pull_back(g, on_dense, lowest_block):
        ctx.on_dense = on_dense
        return backward(net, caches, g, ctx, lowest_block)

    # tall-skinny QRs and products: one BLAS thread (two threads ran 2-8x slower on a shared machine)
    with one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
        h, _, caches = forward(net, x, ctx)
        n = h.shape[1]
        v = standard_normals(rngs, (n,), dtype)
        v *= dtype(math.sqrt(1.0 / n))
        f = np.einsum("sn,snt->st", v, h)
        k = _gram_of_pass(h, f, v, net.owners, pull_back, blocks, readout, batch_bn and bool(blocks))
    return k, net.n_params(blocks) + (n if readout else 0)


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


#: fisher_spectrum (dense sampler) draws networks in chunks whose weights take at most this many bytes
WEIGHT_MEMORY = 256 * 2**20
#: fisher_spectrum (projected sampler) runs networks in chunks whose passes hold about this many bytes
PASS_MEMORY = 256 * 2**20
#: the samplers of :func:`fisher_spectrum`: 'projected' (default, no weight matrices) and 'dense'
#: (explicit weights: the reference)
SAMPLERS = ("projected", "dense")


def projected_pass_bytes(arch: Architecture | str, depth: int, width: int, samples: int, dtype=np.float64) -> int:
    """Bytes one network's projected pass keeps alive (:func:`projected_gram`): per Dense its input,
    Q and Omega, per other leaf block one (N, T) array, all (N, T) arrays at most (k <= T)."""
    arch = get_architecture(arch)
    from ..theory.blocks import Dense, Residual, Serial

    leaves = [b for b in arch.block.walk() if not isinstance(b, (Serial, Residual))]
    dense = sum(isinstance(b, Dense) for b in leaves)
    arrays = depth * (len(leaves) + 2 * dense) + 4
    return int(arrays * width * samples * np.dtype(dtype).itemsize)


def network_grams(arch: Architecture | str, depth: int, width: int, samples: int, seed: int, start: int, stop: int,
                  subset: str = "all", dtype="float64", bn: str | None = None, progress=None,
                  sampler: str = "projected") -> dict:
    """The NTK Grams K (stop - start, T, T) and the subset's P of networks start .. stop-1 of the run
    with master ``seed``: network s draws its inputs X (width x samples), then its weights (dense) or
    its projected pass (projected), from generator s of SeedSequence(seed) (spawn key (s,)) only, so
    any split into blocks gives the networks of one run (a unit of work of :func:`fisher_spectrum`).
    ``progress(done, total)`` counts networks."""
    arch = get_architecture(arch)
    dtype = check_dtype(dtype)
    check_choice(sampler, "sampler", SAMPLERS)
    rngs = generators(seed, stop - start, start=start)
    # networks run in chunks that keep their weights (dense) or their passes (projected) within a
    # memory cap; network s draws from its own generator only, so the chunking does not change any
    # number.  BLAS on one thread: processes over blocks of networks beat BLAS threads (anglefish.units)
    grams, done, n_params = [], 0, None
    chunk = 1 if sampler == "dense" else max(1, PASS_MEMORY // projected_pass_bytes(arch, depth, width, samples,
                                                                                      dtype))
    while done < len(rngs):
        part = rngs[done:done + chunk]
        with one_blas_thread():
            x = draw_inputs(width, samples, part, dtype)
            if sampler == "projected":
                k, n_params = projected_gram(arch, depth, width, x, part, subset, bn)
                grams.append(k)
            else:
                params = init_params(arch, depth, width, width, part, bn=bn, dtype=dtype)
                grams.append(ntk_gram(arch, params, x, subset))
                if n_params is None:
                    n_params = params.n_params(subset)
                    per_network = sum(w.nbytes for w in params.weights) + params.readout.nbytes
                    chunk = max(1, WEIGHT_MEMORY // per_network)
                del params
        done += len(part)
        del x
        if progress is not None:
            progress(done, len(rngs))
    return {"grams": np.concatenate(grams), "n_params": n_params}


def fisher_spectrum(arch: Architecture | str, depth: int, width: int, samples: int, seeds: int,
                    subset: str = "all", seed: int = 0, dtype=np.float64, bn: str | None = None,
                    progress=None, sampler: str = "projected", workers: int | None = 1) -> dict:
    """Eigenvalues of the empirical FIM (as those of K/T) of ``seeds`` random networks.

    Per seed s (generator s of ``anglefish.seeds.generators(seed, seeds)``): inputs X (width x samples,
    i.i.d. N(0,1)) drawn first, then the network.  ``sampler='projected'`` (default) draws no
    weight matrix (:func:`projected_gram`: O(L N T^2) time, O(L N T) memory per network, exact in
    law); ``sampler='dense'`` draws every weight (:func:`init_params`, in_dim = width) and is the
    reference: same law, another sample for the same seed.
    Returns seed means with standard errors (sd/sqrt(S), ddof 1; nan for one seed):
    ``lambda_max`` (largest eigenvalue of F = K/T), ``mean_eigenvalue`` (m_lambda = tr K/(T P)),
    ``s_lambda`` (tr F^2 / P = ||K||_F^2 / (T^2 P)), ``n_params`` (P of the subset), per-seed
    arrays ``lambda_max_per_seed``, ``mean_eigenvalue_per_seed``, ``s_lambda_per_seed``,
    ``eigenvalues`` (S, T) ascending, ``grams`` (S, T, T) (the NTK Grams K), and the settings.
    ``dtype=float32`` uses numpy's float32 normal sampler, i.e. another sample of networks than
    float64 (as in the simulator), not a rounded copy; K is accumulated in float64 either way.
    ``progress(done, total)`` is called with the number of networks done after each chunk.
    ``workers``: processes over blocks of networks (:func:`network_grams` as units of
    :func:`anglefish.units.run_units`); the numbers do not depend on it.
    Memory: see :func:`anglefish.resources.estimate_fisher` (the command line refuses runs
    beyond its budget before calling this).
    """
    from ..units import arch_name, blocks, run_units, unit

    arch = get_architecture(arch)
    depth = check_int(depth, "depth")
    width = check_int(width, "width")
    samples = check_int(samples, "samples")
    seeds = check_int(seeds, "seeds")
    check_choice(bn, "bn", BN_KINDS, allow_none=True)
    check_choice(sampler, "sampler", SAMPLERS)
    dtype = check_dtype(dtype)
    parse_subset(subset, depth)
    if uses_batch_bn(arch, bn) and samples < 2:
        raise AnglefishError("batch-statistics BatchNorm needs at least 2 inputs (samples >= 2)")
    parts = blocks(seeds, workers)
    if len(parts) == 1:
        results = [network_grams(arch, depth, width, samples, seed, 0, seeds, subset, dtype, bn, progress,
                                 sampler)]
    else:
        name = arch_name(arch)
        done = (lambda d, t: progress(round(seeds * d / t), seeds)) if progress is not None else None
        results = run_units([unit(network_grams, arch=name, depth=depth, width=width, samples=samples, seed=seed,
                                  start=a, stop=b, subset=subset, dtype=np.dtype(dtype).name, bn=bn, sampler=sampler,
                                  cost=b - a)
                             for a, b in parts], workers, done)
    n_params = results[0]["n_params"]
    k = np.concatenate([r["grams"] for r in results])
    eig = np.linalg.eigvalsh(k / samples)
    lam = eig[:, -1]
    m_lam = np.einsum("stt->s", k) / (samples * n_params)
    s_lam = np.einsum("st,st->s", eig, eig) / n_params  # tr F^2 / P
    lm, lse = _mean_se(lam)
    mm, mse = _mean_se(m_lam)
    sm, sse = _mean_se(s_lam)
    return {
        "architecture": arch.name, "depth": depth, "width": width, "samples": samples,
        "seeds": seeds, "seed": seed, "subset": subset, "bn": bn, "dtype": np.dtype(dtype).name,
        "sampler": sampler, "n_params": n_params,
        "lambda_max": lm, "lambda_max_se": lse,
        "mean_eigenvalue": mm, "mean_eigenvalue_se": mse,
        "lambda_max_per_seed": lam, "mean_eigenvalue_per_seed": m_lam, "eigenvalues": eig,
        "s_lambda": sm, "s_lambda_se": sse, "s_lambda_per_seed": s_lam, "grams": k,
    }
