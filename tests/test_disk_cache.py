"""The disk cache of SymPy derivations (theory/cache.py): a hit returns what a fresh derivation
returns; a stale (other version, other code), corrupt, misplaced or foreign file is ignored and
rewritten, never trusted; a replaced architecture never meets the old one's results; 'off' stores
nothing."""
import json
import os

import pytest

import anglefish
from anglefish.theory import Architecture, Dense, ReLU, Residual, derive_maps, register_architecture
from anglefish.theory import cache
from anglefish.theory.cache import CACHE_ENV, clear_caches, fingerprint


@pytest.fixture
def disk(tmp_path, monkeypatch):
    """A fresh, empty cache directory and empty in-memory caches."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    clear_caches()
    yield tmp_path / "derivations"
    clear_caches()


def _files(directory):
    return sorted(directory.glob("*.pkl")) if directory.exists() else []


def _derive(name):
    clear_caches()  # forget the in-memory results: the next call reads the disk (or derives)
    return derive_maps(name)


def _arch_file(directory, name):
    """The cache file of derive_maps(name) (the only one whose header names that architecture)."""
    hits = [p for p in _files(directory) if b"_derive_maps(" in p.read_bytes()[:400]
            and f"name='{name}'".encode() in p.read_bytes()[:400]]
    assert len(hits) == 1, hits
    return hits[0]


def test_a_hit_equals_a_fresh_derivation_and_is_used(disk, monkeypatch):
    register_architecture(Architecture("disk-test", (Dense(2), ReLU())))
    fresh = _derive("disk-test")
    path = _arch_file(disk, "disk-test")
    calls = []
    monkeypatch.setattr(cache, "store", lambda key, value: calls.append(key))
    again = _derive("disk-test")
    assert again == fresh
    assert not any("_derive_maps(" in key for key in calls)  # read, not re-derived and re-stored
    assert path.exists()


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "other-key", "world-writable"])
def test_a_corrupt_or_foreign_file_is_ignored_and_rewritten(disk, damage):
    register_architecture(Architecture("disk-test", (Dense(2), ReLU())))
    register_architecture(Architecture("disk-other", Residual(Dense(2), ReLU(), Dense(1))))
    fresh = _derive("disk-test")
    other = _derive("disk-other")
    path = _arch_file(disk, "disk-test")
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[:-7])
    elif damage == "flip":  # one payload byte changed: the header's SHA-256 no longer matches
        path.write_bytes(data[:-20] + bytes([data[-20] ^ 0xFF]) + data[-19:])
    elif damage == "garbage":
        path.write_bytes(b"not a cache file at all")
    elif damage == "other-key":  # a valid file of another derivation, put in this one's place
        path.write_bytes(_arch_file(disk, "disk-other").read_bytes())
    else:
        os.chmod(path, 0o666)
    got = _derive("disk-test")
    assert got == fresh and got != other
    rewritten = path.read_bytes()
    assert rewritten.startswith(b"anglefish-derivation-cache") and b"name='disk-test'" in rewritten[:400]
    if damage == "world-writable":
        assert not os.stat(path).st_mode & 0o022


def test_a_poisoned_payload_under_a_stale_fingerprint_is_not_read(disk, monkeypatch):
    """A file written by another version (or other theory code) is ignored even if its payload
    unpickles to something plausible."""
    register_architecture(Architecture("disk-test", (Dense(2), ReLU())))
    fresh = _derive("disk-test")
    path = _arch_file(disk, "disk-test")
    fingerprint.cache_clear()
    monkeypatch.setattr(anglefish, "__version__", "0.0.0-other")
    assert "0.0.0-other" in fingerprint()
    # write, under the other version, a wrong value for the same key
    key = json.loads(path.read_bytes().split(b"\n", 2)[1])["key"]
    assert cache.store(key, "poison")
    fingerprint.cache_clear()
    monkeypatch.setattr(anglefish, "__version__", "0.1.0-this")
    assert cache.load(key) is cache._MISS
    assert _derive("disk-test") == fresh


def test_a_version_change_misses(disk, monkeypatch):
    register_architecture(Architecture("disk-test", (Dense(2), ReLU())))
    _derive("disk-test")
    calls = []
    real_store = cache.store
    monkeypatch.setattr(cache, "store", lambda key, value: calls.append(key) or real_store(key, value))
    fingerprint.cache_clear()
    monkeypatch.setattr(anglefish, "__version__", anglefish.__version__ + ".post1")
    try:
        _derive("disk-test")
    finally:
        fingerprint.cache_clear()
    assert any("_derive_maps(" in key for key in calls)  # derived again under the new version


def test_a_replaced_architecture_never_meets_the_old_results(disk, monkeypatch):
    register_architecture(Architecture("disk-test", (Dense(2), ReLU())))
    before = _derive("disk-test")
    register_architecture(Architecture("disk-test", Residual(Dense(2), ReLU(), Dense(1))), replace=True)
    after = _derive("disk-test")
    assert after != before
    monkeypatch.setenv(CACHE_ENV, "off")
    assert _derive("disk-test") == after  # what a cache-free derivation of the new one gives


def test_off_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache.cache_dir() is None
    register_architecture(Architecture("disk-test", (Dense(2), ReLU())))
    _derive("disk-test")
    assert not any(tmp_path.iterdir())
    clear_caches()


def test_default_directory_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    try:
        import platformdirs  # noqa: F401
    except ImportError:
        assert cache.cache_dir() == tmp_path / "anglefish"
    else:
        assert cache.cache_dir().name == "anglefish"


def test_unportable_values_are_not_stored(disk):
    import sympy as sp

    assert not cache.portable(sp.Dummy("x") + 1)
    assert not cache.portable(lambda x: x)
    assert cache.portable((sp.Symbol("x") + 1, 2.5, {"a": [1, None]}))
    assert not cache.store("k", sp.Dummy("x"))
    assert cache.load("k") is cache._MISS
