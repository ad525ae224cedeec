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

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..errors import AnglefishError
from ..theory.architectures import Architecture, get_architecture
from ..theory.blocks import BN_KINDS
from ..validation import check_choice, check_int
from .network import (
    Pass,
    Weights,
    backward,
    draw_weights,
    forward,
    new_pass,
    one_blas_thread,
)

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
        check_int(self.batch_size, "batch_size", 1)
        check_int(self.epochs, "epochs", 0)
        std = self.head_init_std
        if isinstance(std, bool) or not isinstance(std, (int, float, np.floating, np.integer)) \
                or not (math.isfinite(std) and std >= 0):
            raise AnglefishError(f"head_init_std must be a finite number >= 0, got {std!r}")
        check_choice(self.head_input, "head_input", HEAD_INPUTS)
        check_choice(self.bn, "bn", BN_KINDS, allow_none=True)

    def as_dict(self) -> dict:
        return asdict(self)


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

    net: the hidden weights (:class:`anglefish.numeric.network.Weights`; ``weights`` lists them in
    draw order).  head_w: (S, 2, N); head_b: (S, 2).
    bn: the BN override (None, 'population', 'batch').  head_input: see the module docstring.
    log_m_top: log of the population per-unit second moment of h^L.  bn_statistics: for batch
    BN, per BatchNorm layer in forward order the (mean, inv_std) arrays (S, N, 1) used in
    evaluation; None otherwise or before :func:`refresh_bn_statistics`.
    """

    architecture: Architecture
    depth: int
    dim: int
    net: Weights
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
    def weights(self) -> list:
        return self.net.weights

    @property
    def uses_batch_bn(self) -> bool:
        return self.architecture.uses_batch_bn(self.bn)

    def head_factor(self) -> float:
        return math.exp(-0.5 * self.log_m_top) if self.head_input == "population" else 1.0

    def copy(self) -> "Classifier":
        stats = None if self.bn_statistics is None else [tuple(a.copy() for a in s) for s in self.bn_statistics]
        return Classifier(self.architecture, self.depth, self.dim, self.net.copy(),
                          self.head_w.copy(), self.head_b.copy(), self.bn, self.head_input, self.log_m_top, stats)


def init_classifier(arch: Architecture | str, depth: int, dim: int, rngs: list, head_init_std: float = 0.0,
                    head_input: str = "population", bn: str | None = None) -> Classifier:
    """S = len(rngs) classifiers of width N = ``dim`` (= the input dimension)."""
    arch = get_architecture(arch)
    depth = check_int(depth, "depth", 1)
    dim = check_int(dim, "input dimension", 1)
    if not rngs:
        raise AnglefishError("need at least one generator (seeds >= 1)")
    SGDSettings(head_init_std=head_init_std, head_input=head_input, bn=bn)  # validates
    s = len(rngs)
    net = draw_weights(arch, depth, dim, dim, rngs)  # network s from generator s, in network order
    head_w = np.zeros((s, 2, dim))
    if head_init_std > 0:
        for k, g in enumerate(rngs):
            head_w[k] = g.standard_normal((2, dim)) * (head_init_std / math.sqrt(dim))
    clf = Classifier(arch, depth, dim, net, head_w, np.zeros((s, 2)), bn, head_input)
    # the population second moment at the top, tracked through a forward pass of a dummy batch
    clf.log_m_top = _forward_hidden(clf, np.zeros((s, dim, 2)), _pass(clf, "train"))[1]
    return clf


def _pass(clf: Classifier, bn_mode: str, **kw) -> Pass:
    """A pass of the one network interpreter (:mod:`.network`) over the classifiers' hidden layers."""
    return new_pass(clf.net, clf.bn, bn_mode, fixed=clf.bn_statistics if bn_mode == "fixed" else None, **kw)


def _forward_hidden(clf: Classifier, h: np.ndarray, p: Pass):
    """(h^L, log_m^L, caches) for per-seed inputs h (S, D, B)."""
    h, log_m, caches = forward(clf.net, h, p)
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
    p = _pass(clf, "record")
    with one_blas_thread():
        _forward_hidden(clf, h, p)
    clf.bn_statistics = p.recorded
    return clf


def hidden_features(clf: Classifier, x) -> np.ndarray:
    """The last hidden layer h^L (S, n, N) of rows ``x`` (n, D), in evaluation mode."""
    h = _as_batch(clf, x)
    with one_blas_thread():
        out = _forward_hidden(clf, h, _pass(clf, "fixed"))[0]
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
    grads = [None] * len(clf.weights)

    def on_dense(index, h, g):
        grads[index] = np.matmul(g[:, 0], h.transpose(0, 2, 1))

    p = _pass(clf, bn_mode, on_dense=on_dense)
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
    backward(clf.net, caches, g[:, None], p)
    return value, {"weights": grads, "head_w": grad_head_w, "head_b": grad_head_b}


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
    from .network import spawn_generators

    settings = settings or SGDSettings()
    x_train, y_train = _check_data(x_train, y_train, "training")
    seeds = check_int(seeds, "seeds", 1)
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
    with one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
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
    ddof = check_int(ddof, "ddof", 0)
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



__all__ = ["COVARIANCE_DDOF", "HEAD", "HEAD_INPUTS", "Classifier", "SGDSettings", "TrainingRun", "distance_ratio",
           "evaluate", "hidden_features", "init_classifier", "logits", "loss", "loss_and_gradients",
           "refresh_bn_statistics", "sgd_step", "test_error", "train_classifier"]
