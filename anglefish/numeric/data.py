"""Offline data sets for the data-driven figures (ACML 2019 figures 8, 11, 12).

The paper uses two classes (0 and 1) of MNIST and of CIFAR-10, 1000 training and 1000 test
images each, PCA-whitened so that every input coordinate has variance 1 (the assumption of its
theorems).  Nothing here downloads anything and nothing is unpickled:

- ``digits`` (the default): scikit-learn's bundled 8x8 handwritten digits
  (:func:`sklearn.datasets.load_digits`), playing MNIST's role.  Only about 360 images belong to
  classes 0 and 1, so they are split half/half into train and test by a fixed rule (below).
- ``mnist``: the four IDX files of MNIST (``train-images-idx3-ubyte`` ...; ``.gz`` accepted) in a
  directory the user already has.  Any data set in the same format (e.g. Fashion-MNIST) works.
- ``cifar10``: the *binary* version of CIFAR-10 (``cifar-10-batches-bin/data_batch_{1..5}.bin`` and
  ``test_batch.bin``), never the pickled Python version.

Conventions used throughout:

- Inputs are rows: ``x`` has shape ``(n, dim)``, float64 (the layout ``given_inputs`` expects).
- Labels are in {0, 1}: label 0 for ``classes[0]``, label 1 for ``classes[1]``.
- Whitening statistics come from the training split only (by default the training images kept);
  variances use divisor n (not n - 1), so the whitened training split has mean exactly 0 and
  covariance exactly the identity (up to rounding); the test split is transformed with the same
  map and is only approximately white.  With fewer training images than pixels the whitened
  training images form a regular simplex (see :func:`prepare`): pick pairs from the test split.
- Randomness: a numpy ``Generator`` built from ``SeedSequence(seed)``; the result of
  :func:`load_dataset` is fully determined by its arguments.

Every bad file or argument raises :class:`anglefish.errors.AnglefishError` with a one-line
message that names the file.
"""
from __future__ import annotations

import gzip
import math
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import AnglefishError

DATASETS = ("digits", "mnist", "cifar10")
WHITEN_ON = ("subsample", "train")

#: Element types of the IDX format: the third byte of the magic number -> big-endian numpy dtype.
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

#: The four MNIST files by role, each under its canonical name (``-idx`` with a dash; a dot, as in
#: ``train-images.idx3-ubyte``, is accepted too) with or without ``.gz``.
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

CIFAR_DIRNAME = "cifar-10-batches-bin"
CIFAR_TRAIN_FILES = tuple(f"data_batch_{k}.bin" for k in range(1, 6))
CIFAR_TEST_FILE = "test_batch.bin"
CIFAR_SHAPE = (3, 32, 32)  # channel-major: 1024 red, 1024 green, 1024 blue bytes, rows of 32
CIFAR_RECORD = 1 + 3 * 32 * 32  # one label byte, then 3072 pixel bytes

#: Default relative threshold: principal components whose variance is at most this fraction of
#: the largest variance are dropped before whitening (they are rounding noise or near-constant).
DEFAULT_RTOL = 1e-8


# --------------------------------------------------------------------------------------------
# the data set returned to callers
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Whitening:
    """A PCA-whitening map fitted on a training split: ``z = (x - mean) @ components.T / scale``.

    mean: (raw_dim,) training mean.  components: (dim, raw_dim) orthonormal rows, the principal
    directions kept, in decreasing order of variance, each signed so that its largest-magnitude
    loading is positive (so the map does not depend on the LAPACK build).  scale: (dim,) standard
    deviations (divisor n) of the training split along those directions.  variances: (raw_rank,)
    all component variances found, kept and dropped, largest first.  rtol: the relative threshold
    used to drop components.
    """

    mean: np.ndarray
    components: np.ndarray
    scale: np.ndarray
    variances: np.ndarray
    rtol: float

    @property
    def dim(self) -> int:
        """Number of components kept (the whitened dimension)."""
        return int(self.components.shape[0])

    @property
    def raw_dim(self) -> int:
        """Dimension of the inputs before whitening."""
        return int(self.mean.shape[0])

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Whiten rows of ``x`` (n, raw_dim) -> (n, dim), float64."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.raw_dim:
            raise AnglefishError(f"whitening expects inputs of shape (n, {self.raw_dim}), got {x.shape}")
        return ((x - self.mean) @ self.components.T) / self.scale


@dataclass(frozen=True)
class Dataset:
    """Two classes of a data set, PCA-whitened, ready for the figures.

    x_train, x_test: (n, dim) float64, rows are inputs, whitened with training statistics.
    y_train, y_test: (n,) int64 in {0, 1}; 0 means ``classes[0]``, 1 means ``classes[1]``.
    classes: the two original class labels.  dim: whitened dimension (components kept).
    source: where the images came from (files read or the bundled set).  notes: sentences on
    what was done (split, subsample sizes, components kept and dropped).  whitening: the fitted
    map, to whiten further inputs the same way.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple
    dim: int
    source: str
    notes: tuple = ()
    whitening: Whitening | None = field(default=None, repr=False)


# --------------------------------------------------------------------------------------------
# IDX (MNIST)
# --------------------------------------------------------------------------------------------

def _read_bytes(path: Path) -> bytes:
    """Whole file content; ``.gz`` files are decompressed.  Failures name the file."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise AnglefishError(f"{path}: file not found") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise AnglefishError(f"{path}: corrupt or truncated gzip file ({exc})") from None
    except OSError as exc:
        raise AnglefishError(f"{path}: cannot read ({exc.strerror or exc})") from None


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an IDX file into an array of the shape its header states.

    Header: two zero bytes, a type byte (see ``IDX_TYPES``; MNIST uses 0x08, unsigned byte), the
    number of dimensions k, then k big-endian unsigned 32-bit sizes; then the data, big-endian,
    row-major.  The data must be exactly as long as the header says.  ``name`` is used in errors.
    """
    if len(data) < 4:
        raise AnglefishError(f"{name}: truncated IDX file ({len(data)} bytes, no complete magic number)")
    zero0, zero1, type_code, ndim = data[0], data[1], data[2], data[3]
    magic = int.from_bytes(data[:4], "big")
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_TYPES or ndim == 0:
        raise AnglefishError(f"{name}: not an IDX file (magic number 0x{magic:08x}; expected 0x0000TTKK "
                             f"with type TT in {{{', '.join(f'{t:02x}' for t in IDX_TYPES)}}} and KK >= 1)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise AnglefishError(f"{name}: truncated IDX header ({len(data)} bytes, need {header} for {ndim} sizes)")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[type_code])
    expected = math.prod(shape) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        kind = "truncated" if found < expected else "oversized"
        raise AnglefishError(f"{name}: {kind} IDX file: header says {'x'.join(map(str, shape))} elements "
                             f"of {dtype.itemsize} byte(s) = {expected} data bytes, found {found}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path) -> np.ndarray:
    """Read one IDX file (plain or ``.gz``) into a numpy array; see :func:`parse_idx`."""
    path = Path(path)
    return parse_idx(_read_bytes(path), str(path))


def _find_mnist_file(directory: Path, canonical: str) -> Path:
    """The file for one MNIST role: canonical name or the dotted variant, plain preferred to .gz."""
    dotted = canonical.replace("-idx", ".idx")
    for base in (canonical, dotted):
        for suffix in ("", ".gz"):
            candidate = directory / (base + suffix)
            if candidate.is_file():
                return candidate
    raise AnglefishError(f"{directory / canonical}: file not found (also tried {dotted} and .gz variants); "
                         f"--data-dir must contain the four MNIST IDX files")


def load_mnist_arrays(data_dir) -> dict:
    """Read MNIST's four IDX files from ``data_dir`` (or ``data_dir/MNIST/raw``).

    Returns a dict with ``train_images`` (n, rows, cols) uint8, ``train_labels`` (n,) uint8,
    ``test_images``, ``test_labels`` and ``files`` (the paths read).  Images must be 3-D, labels
    1-D, of the same count, with labels in 0..9.
    """
    root = _existing_dir(data_dir, "mnist")
    directory = root
    if not any((root / (n + s)).is_file() for n in MNIST_FILES.values() for s in ("", ".gz")):
        if (root / "MNIST" / "raw").is_dir():  # the layout torchvision leaves behind
            directory = root / "MNIST" / "raw"
    out, files = {}, []
    for role, canonical in MNIST_FILES.items():
        path = _find_mnist_file(directory, canonical)
        arr = read_idx(path)
        want = 3 if role.endswith("images") else 1
        if arr.ndim != want:
            raise AnglefishError(f"{path}: expected a {want}-dimensional IDX array for {role.replace('_', ' ')}, "
                                 f"found shape {arr.shape}")
        if arr.dtype != np.uint8:
            raise AnglefishError(f"{path}: expected unsigned bytes (IDX type 0x08), found {arr.dtype}")
        out[role] = arr
        files.append(path)
    for split in ("train", "test"):
        images, labels = out[f"{split}_images"], out[f"{split}_labels"]
        label_file = files[list(MNIST_FILES).index(f"{split}_labels")]
        if images.shape[0] != labels.shape[0]:
            raise AnglefishError(f"{label_file}: {labels.shape[0]} labels for {images.shape[0]} {split} images")
        if labels.size and labels.max() > 9:
            raise AnglefishError(f"{label_file}: label {int(labels.max())} outside 0..9")
    out["files"] = files
    return out


# --------------------------------------------------------------------------------------------
# CIFAR-10 binary version
# --------------------------------------------------------------------------------------------

def read_cifar10_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 binary batch: ``(images (n, 3, 32, 32) uint8, labels (n,) uint8)``.

    Each record is 1 label byte (0..9) followed by 3072 pixel bytes: the red, green and blue
    planes in turn, each 32 rows of 32.  The file size must be a positive multiple of 3073
    (the official batches hold 10000 records each).
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) == 0 or len(data) % CIFAR_RECORD:
        raise AnglefishError(f"{path}: truncated or not a CIFAR-10 binary batch ({len(data)} bytes is not a "
                             f"positive multiple of the {CIFAR_RECORD}-byte record)")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, CIFAR_RECORD)
    labels = records[:, 0].copy()
    bad = np.flatnonzero(labels > 9)
    if bad.size:
        raise AnglefishError(f"{path}: not a CIFAR-10 binary batch (label byte {int(labels[bad[0]])} "
                             f"in record {int(bad[0])}, expected 0..9)")
    return records[:, 1:].reshape((-1,) + CIFAR_SHAPE).copy(), labels


def _cifar_directory(data_dir) -> Path:
    root = _existing_dir(data_dir, "cifar10")
    for candidate in (root / CIFAR_DIRNAME, root):
        if (candidate / CIFAR_TEST_FILE).is_file() or (candidate / CIFAR_TRAIN_FILES[0]).is_file():
            return candidate
    hint = " (extract cifar-10-binary.tar.gz first)" if (root / "cifar-10-binary.tar.gz").is_file() else ""
    raise AnglefishError(f"{root / CIFAR_DIRNAME}: CIFAR-10 binary batches not found in it or in {root}{hint}")


def load_cifar10_arrays(data_dir) -> dict:
    """Read the CIFAR-10 binary batches from ``data_dir/cifar-10-batches-bin`` or ``data_dir``.

    Returns a dict with ``train_images`` (n, 3, 32, 32) uint8 (batches 1..5 in order),
    ``train_labels``, ``test_images``, ``test_labels`` and ``files``.  All six files must exist
    and hold the same number of records (a file cut at a record boundary is caught this way).
    """
    directory = _cifar_directory(data_dir)
    names = CIFAR_TRAIN_FILES + (CIFAR_TEST_FILE,)
    paths = [directory / n for n in names]
    for p in paths:
        if not p.is_file():
            raise AnglefishError(f"{p}: file not found (CIFAR-10 binary needs {', '.join(names)})")
    batches = [read_cifar10_batch(p) for p in paths]
    counts = [len(lab) for _, lab in batches]
    if len(set(counts)) != 1:
        short = paths[int(np.argmin(counts))]
        raise AnglefishError(f"{short}: truncated CIFAR-10 batch ({min(counts)} records; the others hold "
                             f"{max(counts)})")
    return {
        "train_images": np.concatenate([im for im, _ in batches[:5]]),
        "train_labels": np.concatenate([lab for _, lab in batches[:5]]),
        "test_images": batches[5][0],
        "test_labels": batches[5][1],
        "files": paths,
    }


# --------------------------------------------------------------------------------------------
# preparation: class selection, balanced subsample, PCA whitening
# --------------------------------------------------------------------------------------------

def balanced_subsample(labels: np.ndarray, classes, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices (sorted) of up to ``n`` items whose label is one of the two ``classes``.

    Each class gets n // 2 (the second class the odd one out) when it has that many; a class with
    fewer gives all it has and the other class fills the rest.  If fewer than n items exist, all
    are taken.  Which items of a class are taken is a uniform draw from ``rng``.
    """
    labels = np.asarray(labels)
    pools = [np.flatnonzero(labels == c) for c in classes]
    avail = [len(p) for p in pools]
    q0 = min(avail[0], n // 2)
    q1 = min(avail[1], n - q0)
    q0 = min(avail[0], n - q1)
    picked = [np.sort(rng.choice(pool, size=q, replace=False)) if q < len(pool) else pool
              for pool, q in zip(pools, (q0, q1))]
    return np.sort(np.concatenate(picked))


def fit_whitening(x_train: np.ndarray, rtol: float = DEFAULT_RTOL) -> Whitening:
    """Fit PCA whitening on the rows of ``x_train`` (n, raw_dim) by the SVD of the centred matrix.

    Component k has variance s_k^2 / n (divisor n).  Components with variance <= rtol times the
    largest are dropped (constant pixels, and the rank lost to centring when n <= raw_dim); the
    others are scaled to unit variance.
    """
    x = np.asarray(x_train, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or not np.all(np.isfinite(x)):
        raise AnglefishError(f"whitening needs a finite (n, dim) training array with n >= 2, got shape "
                             f"{getattr(x, 'shape', None)}")
    if not (math.isfinite(rtol) and 0.0 <= rtol < 1.0):
        raise AnglefishError(f"rtol must be in [0, 1), got {rtol}")
    mean = x.mean(axis=0)
    centred = x - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    variances = s ** 2 / x.shape[0]
    if variances.size == 0 or variances[0] <= 0.0:
        raise AnglefishError("whitening: the training inputs are all identical (zero variance)")
    keep = variances > rtol * variances[0]
    components = vt[keep]
    pivots = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(len(components)), pivots])
    components = components * signs[:, None]
    return Whitening(mean=mean, components=components, scale=np.sqrt(variances[keep]), variances=variances,
                     rtol=float(rtol))


def prepare(name: str, train_images, train_labels, test_images, test_labels, classes=(0, 1),
            n_train: int = 1000, n_test: int = 1000, seed: int = 0, source: str = "", notes=(),
            rtol: float = DEFAULT_RTOL, whiten_on: str = "subsample") -> Dataset:
    """Select two classes, subsample each split (balanced, seeded), flatten, whiten: a Dataset.

    The subsample of the training split uses the first, that of the test split the second
    generator spawned from ``SeedSequence(seed)``.  Images of any shape are flattened row-major.

    ``whiten_on`` says which images the whitening statistics come from: ``"subsample"`` (the
    default, the n_train training images kept; their whitened coordinates then have mean 0 and
    variance 1 exactly) or ``"train"`` (every training image of the two classes; the kept
    subsample is then only approximately white).  Beware: fitted on n <= raw_dim images, the
    whitening maps those n images onto a regular simplex -- every pair at the same angle
    arccos(-1/(n-1)) and every norm equal -- so pairs should then be picked from the test split
    (a note says when this happens; it does with the paper's 1000 CIFAR-10 images in 3072 dims).
    """
    if whiten_on not in WHITEN_ON:
        raise AnglefishError(f"whiten_on must be one of {', '.join(WHITEN_ON)}, got {whiten_on!r}")
    c0, c1 = _check_classes(classes)
    _check_count(n_train, "n_train", 2)
    _check_count(n_test, "n_test", 1)
    _check_seed(seed)
    g_train, g_test = (np.random.Generator(np.random.PCG64(s)) for s in np.random.SeedSequence(seed).spawn(2))
    notes = list(notes)
    parts = []
    for split, images, labels, n, g in (("train", train_images, train_labels, n_train, g_train),
                                        ("test", test_images, test_labels, n_test, g_test)):
        labels = np.asarray(labels)
        idx = balanced_subsample(labels, (c0, c1), n, g)
        if len(idx) == 0:
            raise AnglefishError(f"{name}: no {split} images of classes {c0} and {c1}")
        x = np.asarray(images)[idx].reshape(len(idx), -1).astype(np.float64)
        y = (labels[idx] == c1).astype(np.int64)
        counts = np.bincount(y, minlength=2)
        msg = f"{split}: {len(idx)} images ({counts[0]} of class {c0}, {counts[1]} of class {c1})"
        if len(idx) < n:
            msg += f", fewer than the {n} requested"
        notes.append(msg)
        parts.append((x, y))
    (x_train, y_train), (x_test, y_test) = parts
    if x_train.shape[0] < 2:
        raise AnglefishError(f"{name}: whitening needs at least 2 training images, found {x_train.shape[0]}")
    if whiten_on == "subsample":
        fit_on, fit_what = x_train, f"the {x_train.shape[0]} training images kept"
    else:
        pool = np.flatnonzero(np.isin(np.asarray(train_labels), (c0, c1)))
        fit_on = np.asarray(train_images)[pool].reshape(len(pool), -1).astype(np.float64)
        fit_what = f"all {len(pool)} training images of classes {c0} and {c1}"
    w = fit_whitening(fit_on, rtol=rtol)
    dropped = w.raw_dim - w.dim  # includes directions beyond the SVD's min(n, raw_dim) components
    notes.append(f"PCA whitening fitted on {fit_what}: kept {w.dim} of {w.raw_dim} coordinates, dropped "
                 f"{dropped} direction(s) of variance <= {rtol:g} x the largest")
    if w.dim == fit_on.shape[0] - 1:
        notes.append(f"the whitening is fitted on n = {fit_on.shape[0]} images spanning n - 1 dimensions, so "
                     f"those images become a regular simplex (all pairwise angles arccos(-1/(n-1)) = "
                     f"{math.acos(-1.0 / (fit_on.shape[0] - 1)):.4f} rad): pick pairs from the test split")
    z_test = w.apply(x_test)
    z_train = w.apply(x_train)
    notes.append(f"whitened per-coordinate second moment, averaged over coordinates: train "
                 f"{float(np.mean(z_train ** 2)):.3g}, test {float(np.mean(z_test ** 2)):.3g}")
    return Dataset(name=name, x_train=z_train, y_train=y_train, x_test=z_test, y_test=y_test,
                   classes=(c0, c1), dim=w.dim, source=source, notes=tuple(notes), whitening=w)


def load_digits_arrays() -> dict:
    """scikit-learn's bundled 8x8 digits (1797 images, pixel values 0..16), split in two halves.

    Fixed split, independent of any seed: within each class, images in the bundled order go
    alternately to train (even positions) and test (odd positions).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - scikit-learn is a declared dependency
        raise AnglefishError("the digits data set needs scikit-learn (pip install scikit-learn)") from None
    bunch = load_digits()
    images, labels = bunch.images, bunch.target
    train = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        train[np.flatnonzero(labels == c)[::2]] = True
    return {"train_images": images[train], "train_labels": labels[train],
            "test_images": images[~train], "test_labels": labels[~train]}


def load_dataset(name: str = "digits", data_dir=None, classes=(0, 1), n_train: int = 1000, n_test: int = 1000,
                 seed: int = 0, rtol: float = DEFAULT_RTOL, whiten_on: str = "subsample") -> Dataset:
    """Two classes of ``digits`` (bundled), ``mnist`` or ``cifar10`` (from ``data_dir``), whitened.

    ``mnist`` and ``cifar10`` are read from files in ``data_dir`` (see :func:`load_mnist_arrays`,
    :func:`load_cifar10_arrays`); nothing is downloaded.  ``digits`` ignores ``data_dir``.  Up to
    ``n_train`` / ``n_test`` images per split, balanced between the classes, chosen with ``seed``.
    ``whiten_on``: fit the whitening on the kept training images (default) or on all training
    images of the two classes; see :func:`prepare` and :class:`Dataset` for the conventions.
    """
    if name not in DATASETS:
        raise AnglefishError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    if name == "digits":
        arrays = load_digits_arrays()
        import sklearn

        source = f"sklearn.datasets.load_digits (bundled with scikit-learn {sklearn.__version__}; 8x8, pixels 0..16)"
        notes = ["digits stands in for MNIST; train/test = alternate images of each class in the bundled "
                 "order (a fixed half/half split)"]
        if data_dir is not None:
            notes.append("data_dir ignored: digits is bundled")
    else:
        if data_dir is None:
            raise AnglefishError(f"the {name} data set is read from files you already have: give data_dir "
                                 f"(--data-dir); nothing is downloaded. Use 'digits' to run offline")
        arrays = load_mnist_arrays(data_dir) if name == "mnist" else load_cifar10_arrays(data_dir)
        directory = arrays["files"][0].parent
        source = f"{directory}: " + ", ".join(p.name for p in arrays["files"])
        notes = []
    return prepare(name, arrays["train_images"], arrays["train_labels"], arrays["test_images"],
                   arrays["test_labels"], classes=classes, n_train=n_train, n_test=n_test, seed=seed,
                   source=source, notes=notes, rtol=rtol, whiten_on=whiten_on)


# --------------------------------------------------------------------------------------------
# pair selection
# --------------------------------------------------------------------------------------------

def pick_pair(x: np.ndarray, target_angle: float, rng=None, max_points: int = 2000) -> tuple[int, int, float]:
    """The pair of rows of ``x`` (n, dim) whose angle is nearest to ``target_angle`` (radians).

    Exact search over all pairs i < j (vectorised cosine matrix), over a random subset of
    ``max_points`` rows when n is larger (drawn with ``rng``: a Generator, an int seed, or None
    for ``SeedSequence(0)``, so the choice is reproducible).  Rows of zero norm are skipped.
    The arccos of the cosine matrix is only a screen: every pair that could be the best given a
    bound on its rounding error is re-ranked with an angle formula that stays exact near 0 and
    pi, 2 atan2(|u - v|, |u + v|) for unit vectors u, v.  Returns ``(i, j, angle)``: row indices into ``x`` with i < j and the angle
    achieved; ties go to the smallest (i, j) in lexicographic order.
    """
    target = float(target_angle)
    if not math.isfinite(target) or not 0.0 <= target <= math.pi:
        raise AnglefishError(f"target angle must be in [0, pi] radians, got {target_angle}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or not np.all(np.isfinite(x)):
        raise AnglefishError(f"pick_pair needs a finite (n, dim) array, got shape {x.shape}")
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 2:
        raise AnglefishError(f"max_points must be an integer >= 2, got {max_points!r}")
    norms = np.linalg.norm(x, axis=1)
    rows = np.flatnonzero(norms > 0)
    if rows.size < 2:
        raise AnglefishError(f"pick_pair needs at least 2 non-zero inputs, got {rows.size}")
    if rows.size > max_points:
        if not isinstance(rng, np.random.Generator):
            seed = 0 if rng is None else rng
            _check_seed(seed)
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed))))
        rows = np.sort(rng.choice(rows, size=max_points, replace=False))
    u = x[rows] / norms[rows, None]
    cos = np.clip(u @ u.T, -1.0, 1.0)
    err = np.abs(np.arccos(cos) - target)
    # rounding error of a cosine of unit vectors <= delta; of its arccos <= ~delta / sin(angle)
    delta = 4.0 * (x.shape[1] + 2) * np.finfo(np.float64).eps
    slack = 2.0 * delta / np.sqrt(np.maximum(1.0 - cos ** 2, delta))
    il, jl = np.tril_indices(len(rows))  # exclude i == j and each pair's mirror image
    err[il, jl] = np.inf
    ceiling = np.min(err + slack)
    ci, cj = np.nonzero(err - slack <= ceiling)  # row-major order: lexicographic in (i, j)
    best_k, best_err, best_angle = -1, math.inf, math.nan
    chunk = max(1, 2 ** 22 // x.shape[1])
    for start in range(0, len(ci), chunk):
        a, b = u[ci[start:start + chunk]], u[cj[start:start + chunk]]
        angles = 2.0 * np.arctan2(np.linalg.norm(a - b, axis=1), np.linalg.norm(a + b, axis=1))
        errs = np.abs(angles - target)
        k = int(np.argmin(errs))  # first of equals: lexicographic tie-break
        if errs[k] < best_err:
            best_k, best_err, best_angle = start + k, float(errs[k]), float(angles[k])
    return int(rows[ci[best_k]]), int(rows[cj[best_k]]), best_angle


def datasets_in(data_dir) -> tuple:
    """The data sets with at least one of their files in ``data_dir``: a subset of
    ('mnist', 'cifar10'), looked for where the loaders look (``data_dir``, ``data_dir/MNIST/raw``,
    ``data_dir/cifar-10-batches-bin``; IDX files under either spelling, plain or ``.gz``).
    () for None or a path that is not a directory.  Presence only: the loaders check the contents."""
    if data_dir is None:
        return ()
    root = Path(os.path.expanduser(str(data_dir)))
    if not root.is_dir():
        return ()
    found = []
    mnist = [base + suffix for name in MNIST_FILES.values() for base in (name, name.replace("-idx", ".idx"))
             for suffix in ("", ".gz")]
    if any((d / f).is_file() for d in (root, root / "MNIST" / "raw") for f in mnist):
        found.append("mnist")
    if any((d / f).is_file() for d in (root / CIFAR_DIRNAME, root) for f in (CIFAR_TEST_FILE,) + CIFAR_TRAIN_FILES):
        found.append("cifar10")
    return tuple(found)


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------

def _existing_dir(data_dir, name: str) -> Path:
    path = Path(os.path.expanduser(str(data_dir)))
    if not path.is_dir():
        raise AnglefishError(f"{path}: not a directory (data_dir for {name})")
    return path


def _check_classes(classes) -> tuple[int, int]:
    try:
        c0, c1 = (int(c) for c in classes)
        ok = all(float(c) == int(c) for c in classes)
    except (TypeError, ValueError):
        ok = False
    if not ok or c0 == c1 or not (0 <= c0 <= 9 and 0 <= c1 <= 9):
        raise AnglefishError(f"classes must be two different labels in 0..9, got {classes!r}")
    return c0, c1


def _check_count(n, what: str, minimum: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < minimum:
        raise AnglefishError(f"{what} must be an integer >= {minimum}, got {n!r}")


def _check_seed(seed) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise AnglefishError(f"seed must be a non-negative integer, got {seed!r}")
