"""Offline data sets: IDX and CIFAR-10 binary readers on files written here, whitening, pair choice.

All checks are deterministic (fixed seeds), so none has a false-alarm rate.
"""
import gzip
import itertools
import math
import struct

import numpy as np
import pytest

from anglefish.errors import AnglefishError
from anglefish.numeric.data import (balanced_subsample, fit_whitening, load_cifar10_arrays, load_dataset,
                                    load_mnist_arrays, pick_pair, prepare, read_cifar10_batch, read_idx)


# ---------------------------------------------------------------- writers of the standard formats

def idx_bytes(arr: np.ndarray, type_code: int = 0x08, big_endian_dtype: str = ">u1") -> bytes:
    """IDX encoding written from the format's description: 0, 0, type, ndim, sizes (>u4), data."""
    header = bytes([0, 0, type_code, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    return header + np.ascontiguousarray(arr, dtype=big_endian_dtype).tobytes()


def write_mnist(directory, rng, n_train=30, n_test=20, rows=5, cols=4, gz=False):
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, arr in arrays.items():
        data = idx_bytes(arr)
        if gz:
            with gzip.open(directory / (name + ".gz"), "wb") as fh:
                fh.write(data)
        else:
            (directory / name).write_bytes(data)
    return arrays


def cifar_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """Records of 1 label byte + 3072 pixel bytes (R plane, G plane, B plane, each 32x32 row-major)."""
    out = bytearray()
    for im, lab in zip(images, labels):
        out.append(int(lab))
        out += im.astype(np.uint8).tobytes()
    return bytes(out)


def write_cifar(directory, rng, per_batch=6):
    sub = directory / "cifar-10-batches-bin"
    sub.mkdir()
    batches = {}
    for name in [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]:
        images = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, per_batch, dtype=np.uint8)
        (sub / name).write_bytes(cifar_bytes(images, labels))
        batches[name] = (images, labels)
    return sub, batches


# ---------------------------------------------------------------- IDX

@pytest.mark.parametrize("gz", [False, True])
def test_mnist_idx_files_round_trip_exactly(tmp_path, gz):
    arrays = write_mnist(tmp_path, np.random.default_rng(1), gz=gz)
    got = load_mnist_arrays(tmp_path)
    assert np.array_equal(got["train_images"], arrays["train-images-idx3-ubyte"])
    assert np.array_equal(got["train_labels"], arrays["train-labels-idx1-ubyte"])
    assert np.array_equal(got["test_images"], arrays["t10k-images-idx3-ubyte"])
    assert np.array_equal(got["test_labels"], arrays["t10k-labels-idx1-ubyte"])
    assert got["train_images"].dtype == np.uint8 and got["train_images"].shape == (30, 5, 4)
    assert all(p.name.endswith(".gz") == gz for p in got["files"])


def test_idx_reader_honours_other_element_types_big_endian(tmp_path):
    arr = np.arange(-6, 6, dtype=np.int32).reshape(3, 4) * 1000003
    (tmp_path / "a.idx").write_bytes(idx_bytes(arr, 0x0C, ">i4"))
    got = read_idx(tmp_path / "a.idx")
    assert got.shape == (3, 4) and np.array_equal(got, arr)
    f = np.linspace(-1, 1, 5)
    (tmp_path / "b.idx").write_bytes(idx_bytes(f, 0x0E, ">f8"))
    assert np.array_equal(read_idx(tmp_path / "b.idx"), f)


def test_mnist_torchvision_layout_is_found(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    arrays = write_mnist(raw, np.random.default_rng(2))
    assert np.array_equal(load_mnist_arrays(tmp_path)["test_labels"], arrays["t10k-labels-idx1-ubyte"])


def _expect_error(fn, *fragments):
    with pytest.raises(AnglefishError) as info:
        fn()
    msg = str(info.value)
    assert "\n" not in msg
    for frag in fragments:
        assert frag in msg, msg
    return msg


def test_malformed_idx_files_raise_naming_the_file(tmp_path):
    write_mnist(tmp_path, np.random.default_rng(3))
    path = tmp_path / "train-images-idx3-ubyte"
    good = path.read_bytes()

    path.write_bytes(good[:-7])  # truncated data
    _expect_error(lambda: load_mnist_arrays(tmp_path), str(path), "truncated")
    path.write_bytes(good[:10])  # truncated header (3 dims need 16 bytes)
    _expect_error(lambda: load_mnist_arrays(tmp_path), str(path), "truncated")
    path.write_bytes(good + b"\0")  # trailing garbage
    _expect_error(lambda: load_mnist_arrays(tmp_path), str(path), "oversized")
    path.write_bytes(b"\x00\x00\x07\x03" + good[4:])  # unknown type code
    _expect_error(lambda: load_mnist_arrays(tmp_path), str(path), "magic number 0x00000703")
    path.write_bytes(b"\x1f\x8b\x08\x03" + good[4:])  # e.g. a gzip file saved without .gz
    _expect_error(lambda: load_mnist_arrays(tmp_path), str(path), "not an IDX file")
    path.write_bytes(good)

    labels = tmp_path / "train-labels-idx1-ubyte"
    good_labels = labels.read_bytes()
    labels.write_bytes(idx_bytes(np.zeros(29, dtype=np.uint8)))  # one label short
    _expect_error(lambda: load_mnist_arrays(tmp_path), str(labels), "29 labels for 30")
    labels.write_bytes(idx_bytes(np.full(30, 10, dtype=np.uint8)))
    _expect_error(lambda: load_mnist_arrays(tmp_path), str(labels), "outside 0..9")
    labels.write_bytes(good_labels)

    test_images = tmp_path / "t10k-images-idx3-ubyte"
    test_images.unlink()
    _expect_error(lambda: load_mnist_arrays(tmp_path), str(test_images), "not found")


def test_truncated_gzip_idx_raises_naming_the_file(tmp_path):
    write_mnist(tmp_path, np.random.default_rng(4), gz=True)
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])
    _expect_error(lambda: load_mnist_arrays(tmp_path), str(path))


# ---------------------------------------------------------------- CIFAR-10 binary

def test_cifar_batches_round_trip_exactly_from_either_directory(tmp_path):
    sub, batches = write_cifar(tmp_path, np.random.default_rng(5))
    for where in (tmp_path, sub):
        got = load_cifar10_arrays(where)
        train_im = np.concatenate([batches[f"data_batch_{k}.bin"][0] for k in range(1, 6)])
        train_lab = np.concatenate([batches[f"data_batch_{k}.bin"][1] for k in range(1, 6)])
        assert np.array_equal(got["train_images"], train_im) and np.array_equal(got["train_labels"], train_lab)
        assert np.array_equal(got["test_images"], batches["test_batch.bin"][0])
        assert np.array_equal(got["test_labels"], batches["test_batch.bin"][1])
    # channel-major layout: the byte right after the label is the red pixel at row 0, col 0,
    # byte 1 + 1024 the green one, byte 1 + 32 the red pixel at row 1, col 0
    raw = (sub / "test_batch.bin").read_bytes()
    im = batches["test_batch.bin"][0][0]
    assert (raw[1], raw[1 + 1024], raw[1 + 32]) == (im[0, 0, 0], im[1, 0, 0], im[0, 1, 0])


def test_malformed_cifar_files_raise_naming_the_file(tmp_path):
    sub, _ = write_cifar(tmp_path, np.random.default_rng(6))
    path = sub / "data_batch_3.bin"
    good = path.read_bytes()
    path.write_bytes(good[:-100])  # cut mid-record
    _expect_error(lambda: load_cifar10_arrays(tmp_path), str(path), "truncated")
    path.write_bytes(good[:3073 * 4])  # cut at a record boundary
    _expect_error(lambda: load_cifar10_arrays(tmp_path), str(path), "truncated")
    path.write_bytes(b"")
    _expect_error(lambda: load_cifar10_arrays(tmp_path), str(path))
    bad = bytearray(good)
    bad[3073 * 2] = 200  # label byte of record 2
    path.write_bytes(bytes(bad))
    _expect_error(lambda: read_cifar10_batch(path), str(path), "label byte 200 in record 2")
    path.unlink()
    _expect_error(lambda: load_cifar10_arrays(tmp_path), str(path), "not found")
    _expect_error(lambda: load_cifar10_arrays(tmp_path / "nowhere"), "nowhere", "not a directory")
    (tmp_path / "empty").mkdir()
    _expect_error(lambda: load_cifar10_arrays(tmp_path / "empty"), "cifar-10-batches-bin")


def test_load_dataset_reads_files_and_needs_a_directory(tmp_path):
    rng = np.random.default_rng(7)
    write_cifar(tmp_path, rng, per_batch=12)
    d = load_dataset("cifar10", tmp_path, classes=(3, 5), n_train=10, n_test=4, seed=1)
    assert d.x_train.shape[0] <= 10 and d.x_test.shape[0] <= 4
    assert set(np.unique(d.y_train)) <= {0, 1} and d.classes == (3, 5)
    assert d.x_train.shape[1] == d.dim <= d.x_train.shape[0] - 1  # rank lost to centring
    assert "data_batch_1.bin" in d.source
    for name in ("mnist", "cifar10"):
        _expect_error(lambda: load_dataset(name), "data_dir")
    _expect_error(lambda: load_dataset("imagenet"), "unknown data set")
    _expect_error(lambda: load_dataset(classes=(1, 1)), "classes")
    _expect_error(lambda: load_dataset(n_train=1), "n_train")


def test_load_dataset_mnist_labels_map_to_zero_one(tmp_path):
    arrays = write_mnist(tmp_path, np.random.default_rng(8), n_train=200, n_test=100)
    d = load_dataset("mnist", tmp_path, classes=(7, 2), n_train=16, n_test=8)
    raw = arrays["train-labels-idx1-ubyte"]
    assert len(d.y_train) == min(16, np.isin(raw, (7, 2)).sum())
    assert np.bincount(d.y_train).tolist() == [min(8, (raw == 7).sum()), min(8, (raw == 2).sum())]


# ---------------------------------------------------------------- preparation

def test_balanced_subsample_balances_and_fills_and_is_seeded():
    labels = np.array([0] * 50 + [1] * 7 + [2] * 40)
    rng = lambda s: np.random.default_rng(s)  # noqa: E731
    idx = balanced_subsample(labels, (0, 2), 20, rng(0))
    assert np.bincount(labels[idx], minlength=3).tolist() == [10, 0, 10]
    idx = balanced_subsample(labels, (0, 1), 20, rng(0))  # class 1 has only 7: class 0 fills
    assert np.bincount(labels[idx], minlength=3).tolist() == [13, 7, 0]
    assert np.array_equal(balanced_subsample(labels, (0, 2), 21, rng(3)), balanced_subsample(labels, (0, 2), 21, rng(3)))
    assert not np.array_equal(balanced_subsample(labels, (0, 2), 21, rng(3)), balanced_subsample(labels, (0, 2), 21, rng(4)))
    assert np.all(np.diff(idx) > 0)


def test_whitening_gives_zero_mean_unit_variance_and_decorrelated_training_split():
    rng = np.random.default_rng(9)
    mix = np.array([5.0, 3, 1, 0.5, 0.2, 0.1])[:, None] * rng.standard_normal((6, 6))
    x = rng.standard_normal((300, 6)) @ mix + 5.0
    w = fit_whitening(x)
    z = w.apply(x)
    assert w.dim == 6
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(np.cov(z.T, bias=True), np.eye(6), atol=1e-10)
    # the map is affine and uses the training statistics: a shifted copy moves by a fixed offset
    shift = rng.standard_normal(6)
    np.testing.assert_allclose(w.apply(x + shift) - z, np.broadcast_to(w.apply(shift[None] + w.mean), z.shape),
                               atol=1e-9)
    # the components are the eigenvectors of the training covariance (independent route: eigh)
    evals, evecs = np.linalg.eigh(np.cov(x.T, bias=True))
    np.testing.assert_allclose(np.sort(w.scale ** 2), evals, rtol=1e-9)
    np.testing.assert_allclose(np.abs(w.components @ evecs[:, ::-1]), np.eye(6), atol=1e-6)


def test_whitening_drops_degenerate_directions_and_says_so():
    rng = np.random.default_rng(10)
    base = rng.standard_normal((40, 4))
    # a constant coordinate and a copy of another: 6 raw coordinates, 4 real directions
    x = np.column_stack([base, np.full(40, 3.0), base[:, 0]])
    d = prepare("toy", x, np.array([0, 1] * 20), x[:10], np.array([0, 1] * 5), n_train=40, n_test=10)
    assert d.dim == 4 and d.x_train.shape == (40, 4)
    np.testing.assert_allclose(np.var(d.x_train, axis=0), 1.0, rtol=1e-10)
    assert any("kept 4 of 6" in n and "dropped 2" in n for n in d.notes)
    assert np.all(np.isfinite(d.x_test))


def test_whitening_a_subsample_smaller_than_the_dimension_makes_a_simplex_and_says_so():
    rng = np.random.default_rng(13)
    x = rng.integers(0, 256, (400, 3, 8, 8))
    y = np.arange(400) % 3
    d = prepare("toy", x, y, x, y, classes=(0, 2), n_train=60, n_test=60, seed=2)
    u = d.x_train / np.linalg.norm(d.x_train, axis=1, keepdims=True)
    off = (u @ u.T)[np.triu_indices(60, 1)]
    np.testing.assert_allclose(off, -1.0 / 59, atol=1e-12)  # the degeneracy is real ...
    assert any("regular simplex" in n for n in d.notes)  # ... and reported
    # fitted on all 267 training images of the two classes (> 192 dims) it is not
    d = prepare("toy", x, y, x, y, classes=(0, 2), n_train=60, n_test=60, seed=2, whiten_on="train")
    assert d.dim == 192 and not any("simplex" in n for n in d.notes)
    assert any("all 267 training images" in n for n in d.notes)
    u = d.x_train / np.linalg.norm(d.x_train, axis=1, keepdims=True)
    assert np.ptp((u @ u.T)[np.triu_indices(60, 1)]) > 0.1
    assert 0.8 < np.mean(d.x_train ** 2) < 1.2
    with pytest.raises(AnglefishError):
        prepare("toy", x, y, x, y, whiten_on="test")


def test_digits_default_works_offline():
    d = load_dataset()
    assert d.name == "digits" and d.classes == (0, 1)
    assert d.x_train.shape == (180, d.dim) and d.x_test.shape == (180, d.dim)
    assert 40 <= d.dim <= 64
    assert np.bincount(d.y_train).tolist() == [89, 91] and np.bincount(d.y_test).tolist() == [89, 91]
    np.testing.assert_allclose(np.var(d.x_train, axis=0), 1.0, rtol=1e-9)
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0.0, atol=1e-9)
    assert any("half/half" in n for n in d.notes) and "load_digits" in d.source
    again = load_dataset()
    assert np.array_equal(again.x_train, d.x_train) and np.array_equal(again.x_test, d.x_test)
    small = load_dataset(n_train=40, n_test=30, seed=5)
    assert np.bincount(small.y_train).tolist() == [20, 20] and np.bincount(small.y_test).tolist() == [15, 15]
    other = load_dataset(n_train=40, n_test=30, seed=6)
    assert not np.array_equal(other.x_test, small.x_test)


def test_digits_split_is_the_documented_alternation():
    from sklearn.datasets import load_digits

    from anglefish.numeric.data import load_digits_arrays

    bunch = load_digits()
    arrays = load_digits_arrays()
    for c in (0, 1, 7):
        of_c = bunch.images[bunch.target == c]
        assert np.array_equal(arrays["train_images"][arrays["train_labels"] == c], of_c[::2])
        assert np.array_equal(arrays["test_images"][arrays["test_labels"] == c], of_c[1::2])


# ---------------------------------------------------------------- pair choice

def _brute_force_pair(x, target):
    best = None
    for i, j in itertools.combinations(range(len(x)), 2):
        a, b = x[i], x[j]
        angle = math.acos(max(-1.0, min(1.0, float(a @ b) / math.sqrt(float(a @ a) * float(b @ b)))))
        if best is None or abs(angle - target) < best[0]:
            best = (abs(angle - target), i, j, angle)
    return best[1:]


@pytest.mark.parametrize("target", [0.05, 0.93, 1.31, 1.57, 1.83, 1.96, 3.0])
def test_pick_pair_matches_brute_force(target):
    x = np.random.default_rng(11).standard_normal((45, 7))
    i, j, angle = pick_pair(x, target)
    bi, bj, bangle = _brute_force_pair(x, target)
    assert (i, j) == (bi, bj)
    assert angle == pytest.approx(bangle, abs=1e-12)


def test_pick_pair_resolves_tiny_angles_beyond_arccos_precision():
    """arccos(cos) resolves ~1e-9 rad near 1e-7: it cannot rank 1.0001e-7 against 0.9998e-7 rad."""
    rng = np.random.default_rng(14)
    x = rng.standard_normal((30, 4))
    for (i, j, angle, plane) in ((5, 20, 0.9998e-7, [0, 1]), (8, 11, 1.0001e-7, [2, 3])):
        x[i] = 0.0
        x[i, plane] = [3.0, 0.5]  # the two pairs lie in orthogonal planes
        r = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
        x[j] = 0.0
        x[j, plane] = 0.7 * (r @ x[i, plane])
    i, j, angle = pick_pair(x, 1.0e-7)
    assert (i, j) == (8, 11)
    assert angle == pytest.approx(1.0001e-7, rel=1e-9)


def test_pick_pair_finds_a_planted_pair_and_subsamples_reproducibly():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((60, 5))
    x[17] = 2.5 * np.array([1.0, 0, 0, 0, 0])
    x[42] = 0.4 * np.array([math.cos(1.234567), math.sin(1.234567), 0, 0, 0])
    x[3] = 0.0  # zero rows are skipped
    i, j, angle = pick_pair(x, 1.234567)
    assert (i, j) == (17, 42) and angle == pytest.approx(1.234567, abs=1e-12)
    # above max_points only a subset is searched: indices still refer to x and the angle is real
    i, j, angle = pick_pair(x, 0.93, rng=np.random.default_rng(1), max_points=20)
    assert i < j and angle == pytest.approx(_brute_force_pair(x[[i, j]], 0.93)[2], abs=1e-12)
    assert pick_pair(x, 0.93, max_points=20) == pick_pair(x, 0.93, rng=0, max_points=20)
    with pytest.raises(AnglefishError):
        pick_pair(x, 4.0)
    with pytest.raises(AnglefishError):
        pick_pair(np.zeros((5, 3)), 1.0)
