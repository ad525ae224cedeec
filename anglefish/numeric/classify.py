"""Binary classifiers on top of an architecture, trained by SGD: the distance ratio of ACML 2019.

The network (Furusho & Ikeda, ACML 2019, Sec. 5 and Figs. 11-12)
------------------------------------------------------------------
* The architecture's repeated block, L times, at width N = D (the input dimension, as in the
  paper; a residual block must keep the width anyway).  Hidden weights are drawn exactly as
  the block list says (``Dense(v)``: W_ij ~ N(0, v / fan_in), no biases), one numpy
  ``Generator`` per seed, in the order the simulator draws them (block 0 first, Dense blocks
  in walk order); the head is drawn after them.
* Head: a **softmax over 2 classes**, z = U a + b with U (2 x N) and bias b (2,), where
  a = h^L / sqrt(m_L) when ``head_input='population'`` (the default) or a = h^L when
  ``'raw'``.  m_L is the population per-unit second moment at the top (1 for the MLP, 2^L for
  the ResNet, (L + 2)/2 for the ResNet+BN; tracked from the block list like population BN).  The
  division is a fixed constant: it leaves the distance ratio unchanged (r is scale-invariant)
  but keeps one learning rate usable at every depth (without it the ResNet's head input grows
  like 2^(L/2) and so does its gradient).  U ~ N(0, head_init_std^2 / N) (default 0: zero
  head, initial logits 0), b = 0.
* Loss: the mean cross-entropy over the mini-batch.  SGD: plain steps
  theta <- theta - learning_rate * grad, all parameters (hidden weights, U, b), no momentum, no
  weight decay.  An epoch is a fresh permutation of the training set per seed (from that seed's
  generator) cut into floor(n_train / batch_size) mini-batches of exactly ``batch_size``; the
  remainder (< batch_size samples) is skipped in that epoch.
* Batch norm: ``bn=None`` keeps each BatchNorm block's own kind (the paper's architectures:
  population).  Population BN is the paper's proof: a fixed division by the population standard
  deviation sqrt(m) at that point, m tracked from the block list exactly as the simulator
  tracks ``Signal.log_m`` (inputs with per-coordinate variance 1); it is not re-estimated
  during training.  ``bn='batch'`` uses each mini-batch's per-unit mean and variance (+ eps) in
  training, differentiated through; for evaluation (test error, distance ratio, training loss
  'before/after') the mean and variance come from one pass over the whole training set
  (``Classifier.bn_statistics``, recomputed after training, like a "precise BN" population).
  ``bn='population'`` forces population BN.

The distance ratio (Theorem 1, Devroye-Gyorfi-Lugosi 4.4)
---------------------------------------------------------
On the last hidden layer h^L of the test set, with class means m+ (label 1), m- (label 0) and
class covariances S+, S- (divisor n_c - 1, the sample covariance), v = m+ - m-:

    r = v^T (m+ - m-) / (sqrt(v^T S+ v) + sqrt(v^T S- v)),  error <= 1 / (1 + r^2)

for the linear rule along v.  v^T S v is the variance of the projections (h - m) . v, so no
N x N matrix is formed.  r is invariant to rescaling h^L and to swapping the classes.

Layouts: data rows (n, D) float64 with labels in {0, 1}; inside the network (S, N, B) --
seeds, units, batch -- like the simulator; weights (S, n_out, n_in).  Every result is a
function of the arguments and the seed alone.  Bad inputs raise
:class:`anglefish.errors.AnglefishError` with a one-line message.

Speed: all seeds of one (architecture, depth) are trained at once (batched matmuls, one BLAS
thread).  On the digits task (D = 50, 180 training images, 30 epochs of 9 mini-batches) the
whole study of :func:`distance_ratio_study` (3 architectures x L = 1..10) takes about 7.5 s
with 3 seeds and 17 s with 8 on 2 cores (measured with other work running).
"""
from __future__ import annotations

import copy
import math
import zlib
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from functools import lru_cache, singledispatch

import numpy as np
import sympy as sp
from threadpoolctl import threadpool_limits

from ..errors import AnglefishError
from ..theory.activations import Activation, PiecewiseLinear, QuadratureActivation
from ..theory.architectures import Architecture, get_architecture
from ..theory.blocks import BLOCK_INDEX, DEPTH, Act, BatchNorm, Block, Dense, Residual, Scale, Serial
from .simulate import BN_KINDS, _diagonal_kernel, numeric_activation

HEAD = "softmax over 2 classes (z = U a + b), cross-entropy"
HEAD_INPUTS = ("population", "raw")
COVARIANCE_DDOF = 1


# ----------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class SGDSettings:
    """Every hyper-parameter of one training run (see the module docstring for their meaning).

    learning_rate: SGD step size.  batch_size: mini-batch size.  epochs: passes over the
    training set.  head_init_std: U_ij ~ N(0, head_init_std^2 / N), 0 = zero head.
    head_input: 'population' (h^L / sqrt(m_L)) or 'raw' (h^L).  bn: None (the blocks' own
    kind), 'population' or 'batch'.
    """

    learning_rate: float = 0.05
    batch_size: int = 20
    epochs: int = 30
    head_init_std: float = 0.0
    head_input: str = "population"
    bn: str | None = None

    def __post_init__(self):
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float, np.floating, np.integer)) \
                or not (math.isfinite(lr) and lr > 0):
            raise AnglefishError(f"learning_rate must be a positive finite number, got {lr!r}")
        _check_int(self.batch_size, "batch_size", 1)
        _check_int(self.epochs, "epochs", 0)
        std = self.head_init_std
        if isinstance(std, bool) or not isinstance(std, (int, float, np.floating, np.integer)) \
                or not (math.isfinite(std) and std >= 0):
            raise AnglefishError(f"head_init_std must be a finite number >= 0, got {std!r}")
        if self.head_input not in HEAD_INPUTS:
            raise AnglefishError(f"head_input must be one of {', '.join(HEAD_INPUTS)}, got {self.head_input!r}")
        if self.bn is not None and self.bn not in BN_KINDS:
            raise AnglefishError(f"bn must be one of {', '.join(BN_KINDS)} or None, got {self.bn!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise AnglefishError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_data(x, y, what: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1 or not np.all(np.isfinite(x)):
        raise AnglefishError(f"{what} inputs must be a finite (n, dim) array, got shape {x.shape}")
    y = np.asarray(y)
    if y.shape != (x.shape[0],):
        raise AnglefishError(f"{what} labels must have shape ({x.shape[0]},), got {y.shape}")
    if y.size and not np.all((y == 0) | (y == 1)):
        raise AnglefishError(f"{what} labels must be 0 or 1")
    return x, y.astype(np.int64)


# ----------------------------------------------------------------------------- the network
@dataclass
class Classifier:
    """A stack of S classifiers (one per seed) of one architecture and depth.

    weights: hidden weights (S, n_out, n_in) in draw order.  head_w: (S, 2, N); head_b: (S, 2).
    bn: the BN override (None, 'population', 'batch').  head_input: see the module docstring.
    log_m_top: log of the population per-unit second moment of h^L.  bn_statistics: for batch
    BN, per BatchNorm layer in forward order the (mean, inv_std) arrays (S, N, 1) used in
    evaluation; None otherwise or before :func:`refresh_bn_statistics`.
    """

    architecture: Architecture
    depth: int
    dim: int
    weights: list
    head_w: np.ndarray
    head_b: np.ndarray
    bn: str | None = None
    head_input: str = "population"
    log_m_top: float = 0.0
    bn_statistics: list | None = None

    @property
    def seeds(self) -> int:
        return self.head_w.shape[0]

    @property
    def uses_batch_bn(self) -> bool:
        return any(isinstance(b, BatchNorm) and (self.bn or b.kind) == "batch" for b in self.architecture.block.walk())

    def head_factor(self) -> float:
        return math.exp(-0.5 * self.log_m_top) if self.head_input == "population" else 1.0

    def copy(self) -> "Classifier":
        stats = None if self.bn_statistics is None else [tuple(a.copy() for a in s) for s in self.bn_statistics]
        return Classifier(self.architecture, self.depth, self.dim, [w.copy() for w in self.weights],
                          self.head_w.copy(), self.head_b.copy(), self.bn, self.head_input, self.log_m_top, stats)


@lru_cache(maxsize=4096)
def _block_value(expr: sp.Expr, block_index: int, depth: int) -> float:
    if expr.free_symbols:
        expr = expr.subs({BLOCK_INDEX: block_index, DEPTH: depth})
        if expr.free_symbols:
            raise AnglefishError(f"block parameter {expr} depends on symbols other than l and L")
    return float(expr)


def _log_m_after_activation(activation: Activation, log_m: float) -> float:
    if not math.isfinite(log_m):
        return math.nan
    try:
        return _diagonal_kernel(activation)(log_m)
    except (NotImplementedError, TypeError, ValueError):
        return math.nan


@singledispatch
def activation_derivative(activation: Activation):
    """phi'(x) elementwise for numpy (register for new activation types)."""
    x = sp.Symbol("x", real=True)
    f = sp.lambdify(x, sp.diff(activation.phi(x), x), ["scipy", "numpy"])

    def dphi(z):
        return np.broadcast_to(np.asarray(f(z), dtype=z.dtype), z.shape)
    return dphi


@activation_derivative.register
def _(activation: PiecewiseLinear):
    a_pos, a_neg = float(activation.slope_pos), float(activation.slope_neg)

    def dphi(z):  # at z == 0 exactly (probability 0) the slope on the negative side
        return np.where(z > 0, a_pos, a_neg)
    return dphi


@activation_derivative.register
def _(activation: QuadratureActivation):
    d = activation.numeric()[1]
    return lambda z: np.asarray(d(z), dtype=z.dtype)


@lru_cache(maxsize=None)
def _phi_pair(activation: Activation):
    return numeric_activation(activation)[0], activation_derivative(activation)


# ----------------------------------------------------------------- forward and backward
@dataclass
class Pass:
    """One forward (and backward) pass.

    bn_mode: 'train' (batch BN uses the batch's statistics, differentiated), 'record' (as
    train, and the statistics are appended to ``recorded``) or 'fixed' (batch BN uses
    ``fixed[k]`` for the k-th BatchNorm layer).  grads: filled by the backward pass, one array
    per hidden weight.
    """

    clf: Classifier
    bn_mode: str = "train"
    fixed: list | None = None
    recorded: list | None = None
    block_index: int = 0
    cursor: int = 0
    bn_cursor: int = 0
    grads: list = field(default_factory=list)

    def value(self, expr) -> float:
        return _block_value(expr, self.block_index, self.clf.depth)


@singledispatch
def forward(block: Block, h: np.ndarray, log_m: float, p: Pass):
    """(out, log_m_out, cache) for true values h (S, N, B); log_m: log population moment per unit."""
    raise AnglefishError(f"no classifier forward for block {type(block).__name__}; "
                         "register one with anglefish.numeric.classify.forward.register")


@singledispatch
def backward(block: Block, cache, g: np.ndarray, p: Pass) -> np.ndarray:
    """Cotangent g (S, N_out, B) at the block's output -> at its input; Dense blocks store
    their weight gradient in ``p.grads``."""
    raise AnglefishError(f"no classifier backward for block {type(block).__name__}; "
                         "register one with anglefish.numeric.classify.backward.register")


@forward.register
def _(block: Serial, h, log_m, p):
    caches = []
    for b in block.blocks:
        h, log_m, c = forward(b, h, log_m, p)
        caches.append(c)
    return h, log_m, caches


@backward.register
def _(block: Serial, cache, g, p):
    for b, c in zip(reversed(block.blocks), reversed(cache)):
        g = backward(b, c, g, p)
    return g


@forward.register
def _(block: Dense, h, log_m, p):
    index = p.cursor
    p.cursor += 1
    w = p.clf.weights[index]
    return np.matmul(w, h), log_m + math.log(p.value(block.variance)), (index, h)


@backward.register
def _(block: Dense, cache, g, p):
    index, h = cache
    p.grads[index] = np.matmul(g, h.transpose(0, 2, 1))
    return np.matmul(p.clf.weights[index].transpose(0, 2, 1), g)


@forward.register
def _(block: Act, h, log_m, p):
    phi, _ = _phi_pair(block.activation)
    return phi(h), _log_m_after_activation(block.activation, log_m), h


@backward.register
def _(block: Act, cache, g, p):
    return g * _phi_pair(block.activation)[1](cache)


@forward.register
def _(block: Scale, h, log_m, p):
    a = p.value(block.alpha)
    return h * a, log_m + 2 * math.log(abs(a)), a


@backward.register
def _(block: Scale, cache, g, p):
    return g * cache


@forward.register
def _(block: BatchNorm, h, log_m, p):
    kind = p.clf.bn or block.kind
    if kind == "population":
        if not math.isfinite(log_m):
            raise AnglefishError(f"{block!r}: the population second moment here is unknown (an activation "
                                 "upstream has no Gaussian kernel); use bn='batch'")
        factor = math.exp(-0.5 * log_m)
        return h * factor, 0.0, ("population", factor)
    k = p.bn_cursor
    p.bn_cursor += 1
    if p.bn_mode == "fixed":
        if p.fixed is None or k >= len(p.fixed):
            raise AnglefishError("batch-statistics BN in evaluation needs the training-set statistics "
                                 "(call refresh_bn_statistics first)")
        mean, inv_std = p.fixed[k]
        return (h - mean) * inv_std, 0.0, ("fixed", inv_std)
    if h.shape[-1] < 2:
        raise AnglefishError("batch-statistics BatchNorm needs a batch of at least 2 inputs")
    mean = h.mean(axis=-1, keepdims=True)
    centred = h - mean
    inv_std = 1.0 / np.sqrt(np.mean(centred * centred, axis=-1, keepdims=True) + block.eps)
    if p.bn_mode == "record":
        p.recorded.append((mean, inv_std))
    y = centred * inv_std
    return y, 0.0, ("batch", y, inv_std)


@backward.register
def _(block: BatchNorm, cache, g, p):
    if cache[0] == "population":
        return g * cache[1]
    if cache[0] == "fixed":
        return g * cache[1]
    _, y, inv_std = cache
    # y = (u - mean) / sigma, sigma^2 = var + eps:  du = (dy - mean(dy) - y mean(dy y)) / sigma
    return (g - g.mean(axis=-1, keepdims=True) - y * np.mean(g * y, axis=-1, keepdims=True)) * inv_std


@forward.register
def _(block: Residual, h, log_m, p):
    out, log_m_branch, cache = forward(block.branch, h, log_m, p)
    if out.shape != h.shape:
        raise AnglefishError("a residual block must keep the width")
    return h + out, float(np.logaddexp(log_m, log_m_branch)), cache


@backward.register
def _(block: Residual, cache, g, p):
    return g + backward(block.branch, cache, g, p)


def init_classifier(arch: Architecture | str, depth: int, dim: int, rngs: list, head_init_std: float = 0.0,
                    head_input: str = "population", bn: str | None = None) -> Classifier:
    """S = len(rngs) classifiers of width N = ``dim`` (= the input dimension)."""
    arch = get_architecture(arch)
    depth = _check_int(depth, "depth", 1)
    dim = _check_int(dim, "input dimension", 1)
    if not rngs:
        raise AnglefishError("need at least one generator (seeds >= 1)")
    SGDSettings(head_init_std=head_init_std, head_input=head_input, bn=bn)  # validates
    s = len(rngs)
    weights = []
    # the Dense variances in forward (draw) order, by a walk of the block list per block index
    specs = []

    def walk(block, l):
        if isinstance(block, Dense):
            specs.append(_block_value(block.variance, l, depth))
        for child in block.children():
            walk(child, l)

    for l in range(depth):
        walk(arch.block, l)
    for v in specs:
        w = np.empty((s, dim, dim))
        for k, g in enumerate(rngs):
            g.standard_normal(out=w[k])
        weights.append(w * math.sqrt(v / dim))
    head_w = np.zeros((s, 2, dim))
    if head_init_std > 0:
        for k, g in enumerate(rngs):
            head_w[k] = g.standard_normal((2, dim)) * (head_init_std / math.sqrt(dim))
    clf = Classifier(arch, depth, dim, weights, head_w, np.zeros((s, 2)), bn, head_input)
    # the population second moment at the top, tracked through a forward pass of a dummy batch
    clf.log_m_top = _forward_hidden(clf, np.zeros((s, dim, 2)), Pass(clf, bn_mode="train"))[1]
    return clf


def _forward_hidden(clf: Classifier, h: np.ndarray, p: Pass):
    """(h^L, log_m^L, caches) for per-seed inputs h (S, D, B)."""
    log_m = 0.0
    caches = []
    for l in range(clf.depth):
        p.block_index = l
        h, log_m, c = forward(clf.architecture.block, h, log_m, p)
        caches.append(c)
    if p.cursor != len(clf.weights):
        raise AnglefishError("internal: the block list used a different number of weights than drawn")
    return h, log_m, caches


def _as_batch(clf: Classifier, x: np.ndarray) -> np.ndarray:
    """Rows (n, D) shared by all seeds, or per-seed (S, n, D) -> (S, D, n)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 2:
        x = np.broadcast_to(x[None], (clf.seeds,) + x.shape)
    if x.ndim != 3 or x.shape[0] != clf.seeds or x.shape[2] != clf.dim:
        raise AnglefishError(f"inputs must have shape (n, {clf.dim}) or ({clf.seeds}, n, {clf.dim}), got {x.shape}")
    return x.transpose(0, 2, 1)


def refresh_bn_statistics(clf: Classifier, x_train) -> Classifier:
    """For batch BN: the per-unit means and inverse standard deviations of every BatchNorm layer
    over the whole training set (one forward pass), used in evaluation.  No-op otherwise."""
    if not clf.uses_batch_bn:
        clf.bn_statistics = None
        return clf
    h = _as_batch(clf, x_train)
    recorded = []
    with threadpool_limits(limits=1, user_api="blas"):
        _forward_hidden(clf, h, Pass(clf, bn_mode="record", recorded=recorded))
    clf.bn_statistics = recorded
    return clf


def hidden_features(clf: Classifier, x) -> np.ndarray:
    """The last hidden layer h^L (S, n, N) of rows ``x`` (n, D), in evaluation mode."""
    h = _as_batch(clf, x)
    with threadpool_limits(limits=1, user_api="blas"):
        out = _forward_hidden(clf, h, Pass(clf, bn_mode="fixed", fixed=clf.bn_statistics))[0]
    return out.transpose(0, 2, 1)


def logits(clf: Classifier, x) -> np.ndarray:
    """Head outputs (S, n, 2) in evaluation mode."""
    a = hidden_features(clf, x) * clf.head_factor()
    return np.matmul(a, clf.head_w.transpose(0, 2, 1)) + clf.head_b[:, None, :]


def _cross_entropy(z: np.ndarray, y: np.ndarray):
    """Mean cross-entropy (S,) and softmax probabilities; z (S, 2, B), y (S, B)."""
    z = z - z.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(z).sum(axis=1, keepdims=True))
    log_p = z - log_norm
    picked = np.take_along_axis(log_p, y[:, None, :], axis=1)[:, 0, :]
    return -picked.mean(axis=-1), np.exp(log_p)


def loss(clf: Classifier, x, y) -> np.ndarray:
    """Mean cross-entropy per seed (S,) on rows x (n, D), labels y (n,), evaluation mode."""
    x, y = _check_data(x, y, "loss")
    z = logits(clf, x).transpose(0, 2, 1)
    return _cross_entropy(z, np.broadcast_to(y, (clf.seeds, len(y))))[0]


def loss_and_gradients(clf: Classifier, x, y, bn_mode: str = "train"):
    """(loss (S,), gradients) of the mean cross-entropy of per-seed batches.

    x: (S, B, D) or (B, D) rows; y: (S, B) or (B,) labels.  gradients: dict with 'weights' (list
    like clf.weights), 'head_w', 'head_b'.  bn_mode 'train' differentiates batch BN through the
    batch's statistics, 'fixed' uses ``clf.bn_statistics``.  Manual backward pass.
    """
    h0 = _as_batch(clf, x)
    y = np.asarray(y)
    y = np.broadcast_to(y, (clf.seeds, h0.shape[-1])) if y.ndim == 1 else y
    if y.shape != (clf.seeds, h0.shape[-1]) or not np.all((y == 0) | (y == 1)):
        raise AnglefishError("labels must be 0/1 with one per input")
    y = y.astype(np.int64)
    p = Pass(clf, bn_mode=bn_mode, fixed=clf.bn_statistics)
    p.grads = [None] * len(clf.weights)
    h, _, caches = _forward_hidden(clf, h0, p)
    c = clf.head_factor()
    a = h * c
    z = np.matmul(clf.head_w, a) + clf.head_b[:, :, None]  # (S, 2, B)
    value, prob = _cross_entropy(z, y)
    batch = h.shape[-1]
    dz = prob.copy()
    np.put_along_axis(dz, y[:, None, :], np.take_along_axis(dz, y[:, None, :], axis=1) - 1.0, axis=1)
    dz /= batch
    grad_head_w = np.matmul(dz, a.transpose(0, 2, 1))
    grad_head_b = dz.sum(axis=-1)
    g = np.matmul(clf.head_w.transpose(0, 2, 1), dz) * c
    for l in reversed(range(clf.depth)):
        p.block_index = l
        g = backward(clf.architecture.block, caches[l], g, p)
    return value, {"weights": p.grads, "head_w": grad_head_w, "head_b": grad_head_b}


def sgd_step(clf: Classifier, grads: dict, learning_rate: float) -> None:
    for w, gw in zip(clf.weights, grads["weights"]):
        w -= learning_rate * gw
    clf.head_w -= learning_rate * grads["head_w"]
    clf.head_b -= learning_rate * grads["head_b"]


@dataclass
class TrainingRun:
    """A trained stack of classifiers and its history.

    initial: the classifiers at initialisation (a copy).  trained: after training.
    epoch_loss: (epochs, S) mean mini-batch loss of each epoch (training mode).
    settings: the SGDSettings used; seed: the master seed.
    """

    initial: Classifier
    trained: Classifier
    epoch_loss: np.ndarray
    settings: SGDSettings
    seed: int


def train_classifier(arch: Architecture | str, x_train, y_train, depth: int, seeds: int = 1, seed: int = 0,
                     settings: SGDSettings | None = None, rngs: list | None = None) -> TrainingRun:
    """Train ``seeds`` classifiers of ``arch`` with ``depth`` blocks at once (one per generator).

    Generators: ``rngs`` or, by default, ``spawn_generators(seed, seeds)``; generator s draws
    net s's weights, then its head, then its mini-batch permutations.
    """
    from .simulate import spawn_generators

    settings = settings or SGDSettings()
    x_train, y_train = _check_data(x_train, y_train, "training")
    seeds = _check_int(seeds, "seeds", 1)
    if rngs is None:
        rngs = spawn_generators(seed, seeds)
    elif len(rngs) != seeds:
        raise AnglefishError(f"got {len(rngs)} generators for {seeds} seeds")
    n = x_train.shape[0]
    bs = settings.batch_size
    if bs > n:
        raise AnglefishError(f"batch_size {bs} exceeds the {n} training inputs")
    clf = init_classifier(arch, depth, x_train.shape[1], rngs, settings.head_init_std, settings.head_input,
                          settings.bn)
    if clf.uses_batch_bn and bs < 2:
        raise AnglefishError("batch-statistics BN needs batch_size >= 2")
    refresh_bn_statistics(clf, x_train)
    initial = clf.copy()
    steps = n // bs
    history = np.empty((settings.epochs, seeds))
    # overflow in a diverging run is caught below (non-finite loss) and reported as one error
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(settings.epochs):
            perms = np.stack([g.permutation(n) for g in rngs])
            total = np.zeros(seeds)
            for k in range(steps):
                idx = perms[:, k * bs:(k + 1) * bs]
                value, grads = loss_and_gradients(clf, x_train[idx], y_train[idx])
                if not np.all(np.isfinite(value)):
                    raise AnglefishError(f"training diverged (non-finite loss) at epoch {epoch + 1}; "
                                         f"lower the learning rate {settings.learning_rate:g}")
                sgd_step(clf, grads, settings.learning_rate)
                total += value
            history[epoch] = total / steps
    refresh_bn_statistics(clf, x_train)
    return TrainingRun(initial, clf, history, settings, int(seed))


# ----------------------------------------------------------------------------- evaluation
def distance_ratio(features, labels, ddof: int = COVARIANCE_DDOF) -> np.ndarray:
    """The paper's distance ratio r with v = m+ - m-, per leading index.

    features: (..., n, N) rows (h^L of n inputs); labels: (n,) in {0, 1} (1 is '+').
    r = |v|^2 / (sqrt(v^T S+ v) + sqrt(v^T S- v)), S_c the class covariance with divisor
    n_c - ddof; v^T S v is computed as the variance of the projections on v.  Returns an array
    of the leading shape (a 0-d array for one net); inf if both projected variances vanish and
    the means differ, nan if the means coincide too.
    """
    f = np.asarray(features, dtype=np.float64)
    if f.ndim < 2 or not np.all(np.isfinite(f)):
        raise AnglefishError(f"features must be a finite (..., n, N) array, got shape {f.shape}")
    labels = np.asarray(labels)
    if labels.shape != (f.shape[-2],):
        raise AnglefishError(f"labels must have shape ({f.shape[-2]},) to match the features, got {labels.shape}")
    if not np.all((labels == 0) | (labels == 1)):
        raise AnglefishError("labels must be 0 or 1")
    ddof = _check_int(ddof, "ddof", 0)
    parts = []
    for c in (1, 0):
        fc = f[..., labels == c, :]
        if fc.shape[-2] < ddof + 1 or fc.shape[-2] < 2:
            raise AnglefishError(f"the distance ratio needs at least 2 inputs of each class, class {c} has "
                                 f"{fc.shape[-2]}")
        parts.append(fc)
    means = [fc.mean(axis=-2) for fc in parts]
    v = means[0] - means[1]
    numerator = np.einsum("...i,...i->...", v, v)
    spread = 0.0
    for fc, m in zip(parts, means):
        proj = np.einsum("...ni,...i->...n", fc - m[..., None, :], v)
        spread = spread + np.sqrt(np.einsum("...n,...n->...", proj, proj) / (fc.shape[-2] - ddof))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(numerator / spread)


def test_error(clf: Classifier, x, y) -> np.ndarray:
    """Fraction of rows misclassified per seed (S,); ties (equal logits) go to class 0."""
    x, y = _check_data(x, y, "test")
    return np.mean(np.argmax(logits(clf, x), axis=-1) != y[None, :], axis=-1)


test_error.__test__ = False  # not a pytest test, whatever imports it


def evaluate(clf: Classifier, x_test, y_test, x_train=None, y_train=None) -> dict:
    """Per seed (arrays of length S): distance ratio r on h^L of the test set, the bound
    1/(1 + r^2), test error, and (if training data are given) the training loss."""
    x_test, y_test = _check_data(x_test, y_test, "test")
    r = distance_ratio(hidden_features(clf, x_test), y_test)
    out = {"ratio": r, "bound": 1.0 / (1.0 + r ** 2), "test_error": test_error(clf, x_test, y_test)}
    if x_train is not None:
        out["train_loss"] = loss(clf, x_train, y_train)
    return out


# ----------------------------------------------------------------------------- the study
#: default settings of the distance-ratio study of Figs. 11-12 (and the training claims);
#: the figures use these dicts as their FULL / QUICK settings so that all share one run.
STUDY_FULL = {"dataset": "digits", "classes": [0, 1], "n_train": 1000, "n_test": 1000, "depths": list(range(1, 11)),
              "seeds": 8, "learning_rate": 0.05, "batch_size": 20, "epochs": 30, "head_init_std": 0.0,
              "head_input": "population", "bn": None, "data_seed": 0}
STUDY_QUICK = {"seeds": 3}

_STUDY_CACHE: "OrderedDict[tuple, dict]" = OrderedDict()
_STUDY_CACHE_SIZE = 8
_DATA_CACHE: "OrderedDict[tuple, object]" = OrderedDict()


def cached_dataset(name: str = "digits", data_dir=None, classes=(0, 1), n_train: int = 1000, n_test: int = 1000,
                   seed: int = 0):
    """:func:`anglefish.numeric.data.load_dataset`, remembered per arguments (a few kept)."""
    from .data import load_dataset

    key = (name, None if data_dir is None or name == "digits" else str(data_dir), tuple(int(c) for c in classes),
           int(n_train), int(n_test), int(seed))
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = load_dataset(name, data_dir=data_dir, classes=tuple(classes), n_train=n_train,
                                        n_test=n_test, seed=seed)
        while len(_DATA_CACHE) > 4:
            _DATA_CACHE.popitem(last=False)
    return _DATA_CACHE[key]


def study_seed(seed: int, arch: str, depth: int) -> int:
    """The master seed of one (architecture, depth) of the study, from the study's seed."""
    words = [int(seed), zlib.crc32(b"distance-ratio-study"), zlib.crc32(arch.encode()), int(depth)]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint32)[0])


def distance_ratio_study(architectures=("mlp", "resnet", "resnet-bn"), seed: int = 0, data_dir=None,
                         progress=None, **overrides) -> dict:
    """Train every architecture at every depth for several seeds; r and test error before/after.

    Settings: :data:`STUDY_FULL` updated by ``overrides`` (same keys).  Net (arch, L, s) uses
    generator s of ``spawn_generators(study_seed(seed, arch, L), seeds)``.  Results are cached
    per (architectures, settings, seed, data_dir): the figures and the claims that ask for the
    same study share one computation.  Returns a dict with 'rows' (one per net: architecture,
    depth, seed_index, ratio_before/after, bound_before/after, error_before/after,
    train_loss_before/after, final_epoch_loss), 'settings', 'seeds' (per arch/depth),
    'dataset' (name, source, dim, sizes, notes, and ratio_inputs: r of the whitened test inputs
    themselves, depth 0) and 'elapsed_seconds'.

    Time on 2 cores (digits, D = 50, 180 training images, 30 epochs of 9 steps): quick (3
    seeds) about 7.5 s, full (8 seeds) about 17 s; it grows roughly linearly with the number of
    seeds, the epochs and the training set, and like N^2 per step in the width N = D (MNIST and
    CIFAR-10 with 1000 training images and D ~ 700-1000 take minutes).
    """
    import time

    unknown = set(overrides) - set(STUDY_FULL)
    if unknown:
        raise AnglefishError(f"unknown study setting(s): {', '.join(sorted(unknown))}; known: "
                             f"{', '.join(sorted(STUDY_FULL))}")
    s = {**STUDY_FULL, **overrides}
    s = {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.items()}
    archs = tuple(get_architecture(a).name for a in architectures)
    depths = [_check_int(d, "depth", 1) for d in s["depths"]]
    if not depths:
        raise AnglefishError("depths must list at least one depth")
    seeds = _check_int(s["seeds"], "seeds", 1)
    _check_int(seed, "seed", 0)
    sgd = SGDSettings(float(s["learning_rate"]), int(s["batch_size"]), int(s["epochs"]), float(s["head_init_std"]),
                      s["head_input"], s["bn"])
    if s["dataset"] == "digits":
        data_dir = None  # bundled: the directory plays no part (and must not split the cache)
    key = (archs, repr(sorted(s.items())), int(seed), None if data_dir is None else str(data_dir))
    if key in _STUDY_CACHE:
        _STUDY_CACHE.move_to_end(key)
        return copy.deepcopy(_STUDY_CACHE[key])
    start = time.perf_counter()
    data = cached_dataset(s["dataset"], data_dir, s["classes"], int(s["n_train"]), int(s["n_test"]),
                          int(s["data_seed"]))
    rows, seed_map = [], {}
    total, done = len(archs) * len(depths), 0
    for arch in archs:
        for depth in depths:
            run_seed = study_seed(seed, arch, depth)
            seed_map[f"{arch}/L{depth}"] = run_seed
            run = train_classifier(arch, data.x_train, data.y_train, depth, seeds, run_seed, sgd)
            before = evaluate(run.initial, data.x_test, data.y_test, data.x_train, data.y_train)
            after = evaluate(run.trained, data.x_test, data.y_test, data.x_train, data.y_train)
            for k in range(seeds):
                rows.append({"architecture": arch, "depth": depth, "seed_index": k,
                             "ratio_before": float(before["ratio"][k]), "ratio_after": float(after["ratio"][k]),
                             "bound_before": float(before["bound"][k]), "bound_after": float(after["bound"][k]),
                             "error_before": float(before["test_error"][k]),
                             "error_after": float(after["test_error"][k]),
                             "train_loss_before": float(before["train_loss"][k]),
                             "train_loss_after": float(after["train_loss"][k]),
                             "final_epoch_loss": float(run.epoch_loss[-1, k]) if len(run.epoch_loss) else None})
            done += 1
            if progress is not None:
                progress(done, total)
    result = {"rows": rows, "settings": s, "sgd": sgd.as_dict(), "head": HEAD, "seeds": seed_map,
              "dataset": {"name": data.name, "source": data.source, "dim": data.dim, "classes": list(data.classes),
                          "n_train": int(len(data.y_train)), "n_test": int(len(data.y_test)),
                          "ratio_inputs": float(distance_ratio(data.x_test, data.y_test)),
                          "notes": list(data.notes)},
              "architectures": list(archs), "elapsed_seconds": time.perf_counter() - start}
    _STUDY_CACHE[key] = result
    while len(_STUDY_CACHE) > _STUDY_CACHE_SIZE:
        _STUDY_CACHE.popitem(last=False)
    return copy.deepcopy(result)


# ----------------------------------------------------------------------------- statistics
def pearson_with_ci(x, y, level: float = 0.95, controls: int = 0) -> dict:
    """Pearson correlation of paired samples with its Fisher-z confidence interval.

    z = atanh(r), SE = 1 / sqrt(n - 3 - controls), interval tanh(z +- q SE), q the normal
    quantile of (1 + level) / 2; ``controls`` is the number of variables partialled out
    beforehand (for a partial correlation).  Needs n >= 4 + controls and both samples
    non-constant (else r and the interval are nan and 'defined' is False).
    """
    from statistics import NormalDist

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise AnglefishError(f"correlation needs two 1-d samples of equal length, got {x.shape} and {y.shape}")
    if not (0 < level < 1):
        raise AnglefishError(f"confidence level must be in (0, 1), got {level}")
    n = len(x)
    out = {"n": n, "r": math.nan, "lo": math.nan, "hi": math.nan, "level": level, "defined": False}
    controls = _check_int(controls, "controls", 0)
    if n < 4 + controls or np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    r = float(np.corrcoef(x, y)[0, 1])
    r = max(-1.0, min(1.0, r))
    q = NormalDist().inv_cdf((1 + level) / 2)
    z = math.atanh(max(-1 + 1e-15, min(1 - 1e-15, r)))
    se = 1 / math.sqrt(n - 3 - controls)
    out.update(r=r, lo=math.tanh(z - q * se), hi=math.tanh(z + q * se), defined=True)
    return out


def spearman_with_ci(x, y, level: float = 0.95) -> dict:
    """Spearman rank correlation (average ranks for ties) with an approximate Fisher-z interval,
    SE = sqrt(1.06 / (n - 3)) (Fieller, Hartley & Pearson 1957).  Same keys as
    :func:`pearson_with_ci`."""
    from statistics import NormalDist

    from scipy.stats import rankdata

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out = pearson_with_ci(rankdata(x), rankdata(y), level) if x.shape == y.shape and x.ndim == 1 \
        else pearson_with_ci(x, y, level)
    if out["defined"]:
        q = NormalDist().inv_cdf((1 + level) / 2)
        z = math.atanh(max(-1 + 1e-15, min(1 - 1e-15, out["r"])))
        se = math.sqrt(1.06 / (out["n"] - 3))
        out.update(lo=math.tanh(z - q * se), hi=math.tanh(z + q * se))
    return out


def summarize_study(result: dict) -> list:
    """Per (architecture, depth): number of nets and mean, sd, SE (sd / sqrt(n)) of every
    per-net quantity of :func:`distance_ratio_study` present in its rows (sd and SE are nan for
    one net)."""
    quantities = ("ratio_before", "ratio_after", "error_before", "error_after", "train_loss_before",
                  "train_loss_after")
    out = []
    present = [q for q in quantities if result["rows"] and q in result["rows"][0]]
    for arch in result["architectures"]:
        for depth in result["settings"]["depths"]:
            nets = [r for r in result["rows"] if r["architecture"] == arch and r["depth"] == depth]
            row = {"architecture": arch, "depth": int(depth), "nets": len(nets)}
            for q in present:
                v = np.array([r[q] for r in nets], dtype=np.float64)
                sd = float(v.std(ddof=1)) if len(v) > 1 else math.nan
                row.update({f"{q}_mean": float(v.mean()), f"{q}_sd": sd, f"{q}_se": sd / math.sqrt(len(v))})
            out.append(row)
    return out


def correlation_summary(result: dict, level: float = 0.95) -> list:
    """Test error after training against the distance ratio after training, four readings:
    Pearson over all nets (the primary one); Spearman over all nets; Pearson within depth
    (both quantities minus their mean at each depth, i.e. the partial correlation given depth,
    interval with ``controls`` = number of depths - 1), which asks whether the relation holds
    beyond "deeper nets have lower r and higher error"; and Pearson over the paper-like subset
    (depths <= 3, first seed of each: 9 nets for the three architectures).
    Each: dict(subset, method, n, r, lo, hi, level, defined)."""
    rows = result["rows"]
    x = np.array([r["ratio_after"] for r in rows])
    y = np.array([r["error_after"] for r in rows])
    depth = np.array([r["depth"] for r in rows])
    xc, yc = x.astype(float).copy(), y.astype(float).copy()
    for d in np.unique(depth):
        m = depth == d
        xc[m] -= x[m].mean()
        yc[m] -= y[m].mean()
    paper = [r for r in rows if r["depth"] <= 3 and r["seed_index"] == 0]
    px = np.array([r["ratio_after"] for r in paper])
    py = np.array([r["error_after"] for r in paper])
    return [{"subset": "all nets", "method": "pearson", **pearson_with_ci(x, y, level)},
            {"subset": "all nets", "method": "spearman", **spearman_with_ci(x, y, level)},
            {"subset": "all nets, within depth", "method": "pearson",
             **pearson_with_ci(xc, yc, level, controls=len(np.unique(depth)) - 1)},
            {"subset": "depths <= 3, first seed", "method": "pearson", **pearson_with_ci(px, py, level)}]


__all__ = ["COVARIANCE_DDOF", "HEAD", "HEAD_INPUTS", "STUDY_FULL", "STUDY_QUICK", "Classifier", "Pass", "SGDSettings",
           "TrainingRun", "activation_derivative", "backward", "cached_dataset", "correlation_summary",
           "distance_ratio", "distance_ratio_study", "evaluate", "forward", "hidden_features", "init_classifier",
           "logits", "loss", "loss_and_gradients", "pearson_with_ci", "refresh_bn_statistics", "sgd_step",
           "spearman_with_ci", "study_seed", "summarize_study", "test_error", "train_classifier"]
