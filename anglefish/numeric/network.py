"""The finite-network interpreter: explicit weights, forward and backward of the dense network.

One interpreter serves every finite-network computation of anglefish -- the dense simulator
(:mod:`.simulate`, ``sampler='dense'``), the empirical Fisher information (:mod:`.fisher`), full-batch
gradient descent (:mod:`.training`) and the classifiers of the training study (:mod:`.classify`).  It
reads the architecture's block list through each block type's rules ``init``, ``forward``,
``backward`` (:mod:`anglefish.theory.blocks`); it holds no per-block table of its own.

Conventions
-----------
* Values are true values, per seed, as columns: (S, N, T) -- S networks, N units, T inputs.
* Weights: one (S, n_out, n_in) array per Dense, in network order (block 0's Dense layers in the
  order they appear, then block 1, ...); ``owners`` gives the 0-based repeated-block index of each.
  ``Dense(v)`` draws W_ij ~ N(0, v / fan_in); network s draws only from generator s.
* The population second moment per unit, ``log_m``, is tracked through the blocks (inputs with
  per-coordinate variance 1: log_m = 0) for population BatchNorm, which divides by sqrt(m).
* Batch norm modes (``Pass.bn_mode``): 'train' -- mini-batch BN uses the batch's statistics and is
  differentiated through them; 'record' -- the same, and the statistics are appended to
  ``Pass.recorded``; 'fixed' -- mini-batch BN uses recorded statistics ``Pass.fixed`` (evaluation).
  ``Pass.bn`` overrides every BatchNorm's kind ('population' | 'batch').
* Backward: a cotangent of shape (S, R, N, T) -- R scalar functionals pulled back at once (R = 1 for
  a loss or a sum of outputs; R = T for the Jacobian of all outputs with mini-batch BN).  Every Dense
  calls ``Pass.on_dense(index, h, g)`` with its input h (S, n_in, T) and the cotangent g at its
  output: the hook from which gradients and NTK Grams are built.
* A Dense never touches a weight itself: it asks the pass for ``apply_dense(v, h)`` (W h) and
  ``apply_dense_transposed(cache, g)`` (W^T g).  :class:`Pass` applies the explicit weights;
  :class:`anglefish.numeric.projected.ProjectedPass` draws, per network, only the projections of
  a fresh W that the pass needs (no N x N matrix; exact in law -- see that module).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import AnglefishError
from ..seeds import generators
from ..theory.architectures import Architecture, get_architecture
from ..theory.blocks import BN_KINDS, block_value
from ..validation import check_choice, check_dtype, check_int

BN_MODES = ("train", "record", "fixed")


@dataclass
class Weights:
    """Explicit weights of S networks of one architecture and depth (leading axis S everywhere).

    weights: (S, n_out, n_in) arrays in network order; owners: the repeated-block index of each.
    """

    arch: Architecture
    depth: int
    width: int
    in_dim: int
    weights: list
    owners: list

    @property
    def seeds(self) -> int:
        return self.weights[0].shape[0] if self.weights else 0

    def select(self, index) -> "Weights":
        """The networks ``index`` (a slice or an index array) as views/copies, leading axis kept."""
        return Weights(self.arch, self.depth, self.width, self.in_dim, [w[index] for w in self.weights],
                       list(self.owners))

    def copy(self) -> "Weights":
        return Weights(self.arch, self.depth, self.width, self.in_dim, [w.copy() for w in self.weights],
                       list(self.owners))


def standard_normals(rngs: list, shape, dtype=np.float64) -> np.ndarray:
    """Standard normals of shape (S,) + shape, network s from generator s (numpy's sampler of
    ``dtype``: float32 draws are another sample, not rounded float64 draws)."""
    out = np.empty((len(rngs),) + tuple(shape), dtype=dtype)
    for s, g in enumerate(rngs):
        g.standard_normal(out=out[s], dtype=dtype)
    return out


@dataclass
class InitContext:
    """What drawing a block's weights needs (the ``ctx`` of ``Block.init``)."""

    width: int
    rngs: list
    dtype: type
    depth: int
    block_index: int = 0
    weights: list = field(default_factory=list)
    owners: list = field(default_factory=list)

    def normal(self, shape) -> np.ndarray:
        return standard_normals(self.rngs, shape, self.dtype)

    def value(self, expr) -> float:
        return block_value(expr, self.block_index, self.depth)

    def add_weight(self, w: np.ndarray) -> None:
        self.weights.append(w)
        self.owners.append(self.block_index)


def draw_weights(arch: Architecture | str, depth: int, width: int, in_dim: int, rngs: list, dtype=np.float64,
                 blocks=None) -> Weights:
    """Draw the weights of ``len(rngs)`` networks: ``depth`` blocks of ``arch`` at ``width`` (network s
    from ``rngs[s]`` only, in network order).  ``blocks``: draw only these repeated blocks (in
    increasing order; the simulator draws one block at a time), with ``in_dim`` the width entering
    the first of them."""
    arch = get_architecture(arch)
    depth = check_int(depth, "depth", 1)
    width = check_int(width, "width")
    in_dim = check_int(in_dim, "in_dim")
    dtype = check_dtype(dtype)
    if not isinstance(rngs, (list, tuple)) or len(rngs) < 1:
        raise AnglefishError("rngs must be a non-empty list of numpy Generators (one per network)")
    ctx = InitContext(width, list(rngs), dtype, depth)
    n = in_dim
    for l in (range(depth) if blocks is None else blocks):
        ctx.block_index = int(l)
        n = arch.block.init(n, ctx)
    return Weights(arch, depth, width, in_dim, ctx.weights, ctx.owners)


@dataclass
class Pass:
    """One forward (and backward) pass: the weights, the BN override and mode, the cursor over the
    weights, and the per-Dense hook of the backward pass (the ``ctx`` of ``Block.forward/backward``)."""

    weights: Weights
    bn: str | None = None
    bn_mode: str = "train"
    fixed: list | None = None
    recorded: list | None = None
    on_dense: object = None
    block_index: int = 0
    cursor: int = 0
    bn_cursor: int = 0
    offset: int = 0  # index of the first weight of the drawn blocks (the simulator draws block by block)

    def value(self, expr) -> float:
        return block_value(expr, self.block_index, self.weights.depth)

    def next_weight(self):
        index = self.cursor
        self.cursor += 1
        return index, self.weight(index)

    def weight(self, index: int) -> np.ndarray:
        return self.weights.weights[index - self.offset]

    def next_bn(self) -> int:
        k = self.bn_cursor
        self.bn_cursor += 1
        return k

    # ---- the Dense hooks: every Dense applies its weight through the pass (``Dense.forward/backward``)
    def apply_dense(self, variance: float, h: np.ndarray):
        """Z = W h for the next Dense in network order (its explicit weight); returns (Z, cache).
        ``variance`` is the Dense's v (W_ij ~ N(0, v / fan_in)); the explicit weight already has it."""
        index, w = self.next_weight()
        if w.shape[2] != h.shape[1]:
            raise AnglefishError(f"internal: weight {index} has fan-in {w.shape[2]}, input has {h.shape[1]}")
        return np.matmul(w, h), (index, h)

    def apply_dense_transposed(self, cache, g: np.ndarray) -> np.ndarray:
        """W^T g for the Dense of ``cache`` (cotangent g (S, R, n_out, T)), after the ``on_dense`` hook."""
        index, h = cache
        if self.on_dense is not None:
            self.on_dense(index, h, g)
        return np.matmul(self.weight(index).transpose(0, 2, 1)[:, None], g)


def new_pass(weights: Weights, bn: str | None = None, bn_mode: str = "train", **kw) -> Pass:
    check_choice(bn, "bn", BN_KINDS, allow_none=True)
    check_choice(bn_mode, "bn_mode", BN_MODES)
    if bn_mode == "record" and kw.get("recorded") is None:
        kw["recorded"] = []
    return Pass(weights, bn, bn_mode, **kw)


def forward(weights: Weights, x: np.ndarray, ctx: Pass, log_m: float = 0.0, blocks=None):
    """Push true values x (S, in_dim, T) through the repeated blocks ``blocks`` (default: all).

    Returns (h, log_m, caches) with one cache per block (for :func:`backward`)."""
    h, caches = x, []
    for l in (range(weights.depth) if blocks is None else blocks):
        ctx.block_index = int(l)
        h, log_m, c = weights.arch.block.forward(h, log_m, ctx)
        caches.append(c)
    return h, log_m, caches


def backward(weights: Weights, caches: list, g: np.ndarray, ctx: Pass, lowest_block: int = 0) -> np.ndarray:
    """Pull the cotangent g (S, R, N_L, T) at the top back through blocks depth-1 .. lowest_block."""
    for l in range(weights.depth - 1, lowest_block - 1, -1):
        ctx.block_index = l
        g = weights.arch.block.backward(caches[l], g, ctx)
    return g


_CONTROLLER = None


def one_blas_thread():
    """A context in which BLAS runs on one thread (the many small batched products of the samplers
    and of gradient descent run 10-50x slower on a multi-threaded BLAS).  The loaded libraries are
    scanned once per process (threadpoolctl), not on every call."""
    global _CONTROLLER
    from threadpoolctl import ThreadpoolController

    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def spawn_generators(seed: int, count: int) -> list:
    """``count`` independent generators spawned from SeedSequence(seed): generator s drives network s."""
    return generators(seed, count)


def uses_batch_bn(arch, bn: str | None = None) -> bool:
    """Does the network use mini-batch BN (after the override ``bn``)?"""
    return get_architecture(arch).uses_batch_bn(bn)


def log_rms(h: np.ndarray) -> np.ndarray:
    """Per network, the log of the root mean square of its values (S, N, T) -> (S,)."""
    ms = np.einsum("snt,snt->s", h, h, dtype=np.float64) / (h.shape[1] * h.shape[2])
    with np.errstate(divide="ignore"):
        out = 0.5 * np.log(ms)
    return np.where(np.isfinite(out), out, 0.0)


__all__ = ["BN_MODES", "InitContext", "Pass", "Weights", "backward", "draw_weights", "forward", "log_rms",
           "new_pass", "one_blas_thread", "spawn_generators", "standard_normals", "uses_batch_bn"]
