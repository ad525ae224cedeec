"""Memoised derivations, keyed by the objects they derive from, cleared when a registry changes;
the costly SymPy derivations are also kept on disk between runs.

In memory
---------
Every cached derivation takes the :class:`~anglefish.theory.architectures.Architecture` (a frozen,
hashable dataclass: name, block list, flags) or the activation *object* as its key, never a name:
re-registering an architecture under the same name gives a new object and so new results.  The
caches are also cleared whenever an architecture, activation or block type is registered or
removed, so that no stale derivation is held.

On disk (``memoize(disk=True)``)
--------------------------------
A derivation that takes seconds of SymPy (the polar integrals of an activation's kernels, the
per-block maps, the NTK recursion, the depth laws ...) is also stored in the user cache directory,
``$ANGLEFISH_CACHE_DIR`` if set, else platformdirs' ``user_cache_dir('anglefish')`` where platformdirs
is installed, else ``$XDG_CACHE_HOME/anglefish`` or ``~/.cache/anglefish``;
``ANGLEFISH_CACHE_DIR=off`` disables it (the tests run with a fresh temporary directory).

* Key: the function's module and name and a canonical text of its arguments -- an architecture by
  its whole definition (every block's type and parameters, SymPy numbers by ``srepr``, every
  activation's definition), not by its name alone -- together with a fingerprint of the code that
  derives: the package version, the SymPy and mpmath versions, the Python version and a hash of
  the source of ``anglefish/theory`` (so an edited rule never meets a result of the old one).  A
  block or activation type defined outside anglefish adds a hash of its module's source file; an
  argument without a canonical text (a Python callable, e.g. an activation given as a function)
  makes the call memory-only.
* A file holds a header (format, the full key, the fingerprint, the payload's length and SHA-256)
  and the pickled result.  It is used only if every one of these matches and it unpickles, and
  only if it belongs to the current user and is not writable by others; anything else (a stale,
  truncated, corrupt or foreign file) is ignored, recomputed and overwritten (atomically).
* Only results that survive a round trip are stored: no SymPy ``Dummy`` (its identity is
  per-process) and no function with a Python implementation attached (``implemented_function``).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import pickle
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

_CACHES: list = []

#: environment variable that relocates ('/some/dir') or disables ('off') the disk cache
CACHE_ENV = "ANGLEFISH_CACHE_DIR"
_OFF = ("off", "none", "0", "false", "no")
_FORMAT = b"anglefish-derivation-cache 1\n"
_MISS = object()


def memoize(function=None, *, maxsize=None, disk: bool = False):
    """``functools.lru_cache`` that :func:`clear_caches` empties (usable with or without arguments);
    ``disk=True`` also keeps results in the disk cache (module docstring)."""
    def wrap(fn):
        cached = lru_cache(maxsize=maxsize)(_disk_backed(fn) if disk else fn)
        _CACHES.append(cached.cache_clear)
        return cached
    return wrap(function) if function is not None else wrap


def register_clearer(clear) -> None:
    """Add a callable that empties a cache that is not a memoized function (e.g. a dict)."""
    _CACHES.append(clear)


def clear_caches() -> None:
    """Empty every in-memory cache of derived results (the disk cache is keyed by content, so a
    changed definition never meets an old result there)."""
    for clear in _CACHES:
        clear()


# ----------------------------------------------------------------- canonical keys
class Uncacheable(Exception):
    """An argument has no canonical text: the call is not cached on disk."""


def _type_key(cls: type) -> str:
    name = f"{cls.__module__}.{cls.__qualname__}"
    if cls.__module__ == "anglefish" or cls.__module__.startswith("anglefish."):
        return name  # covered by the fingerprint of anglefish's theory source
    return f"{name}@{_module_source_hash(cls.__module__)}"


@lru_cache(maxsize=None)
def _module_source_hash(module: str) -> str:
    path = getattr(sys.modules.get(module), "__file__", None)
    if not path:
        raise Uncacheable(f"no source file for module {module}")
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError as err:
        raise Uncacheable(str(err)) from None


def stable_key(obj) -> str:
    """A canonical text of ``obj`` that is equal for equal definitions in any process; raises
    :class:`Uncacheable` for objects without one (callables, arrays, ...)."""
    import sympy as sp

    if obj is None or isinstance(obj, (bool, str)):
        return repr(obj)
    if isinstance(obj, int):
        return repr(int(obj))
    if isinstance(obj, float):
        return repr(float(obj))
    if isinstance(obj, (tuple, list)):
        inner = ",".join(stable_key(x) for x in obj)
        return f"({inner})" if isinstance(obj, tuple) else f"[{inner}]"
    if isinstance(obj, (set, frozenset)):
        return "{" + ",".join(sorted(stable_key(x) for x in obj)) + "}"
    if isinstance(obj, dict):
        return "{" + ",".join(sorted(f"{stable_key(k)}:{stable_key(v)}" for k, v in obj.items())) + "}"
    if isinstance(obj, sp.Basic):
        return "S" + sp.srepr(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = ",".join(f"{f.name}={stable_key(getattr(obj, f.name))}" for f in dataclasses.fields(obj))
        return f"{_type_key(type(obj))}({fields})"
    raise Uncacheable(f"no canonical text for {type(obj).__name__}")


@lru_cache(maxsize=None)
def fingerprint() -> str:
    """What a stored derivation depends on besides its arguments: the versions of anglefish, SymPy,
    mpmath and Python, and a hash of the source files of anglefish/theory."""
    import mpmath
    import sympy

    from .. import __version__

    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return (f"anglefish {__version__}; sympy {sympy.__version__}; mpmath {mpmath.__version__}; "
            f"python {sys.version_info[0]}.{sys.version_info[1]}; theory source {h.hexdigest()[:24]}")


# ----------------------------------------------------------------- the store
def cache_dir() -> Path | None:
    """The directory of the disk cache (None: disabled).  ``$ANGLEFISH_CACHE_DIR`` ('off' disables),
    else platformdirs' user cache directory if platformdirs is installed, else
    ``$XDG_CACHE_HOME/anglefish``, else ``~/.cache/anglefish``."""
    env = os.environ.get(CACHE_ENV)
    if env is not None and env.strip():
        if env.strip().lower() in _OFF:
            return None
        return Path(env).expanduser()
    try:  # the platform's convention where platformdirs is installed (not a dependency)
        import platformdirs
    except ImportError:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() if xdg and xdg.strip() else Path.home() / ".cache"
        return base / "anglefish"
    return Path(platformdirs.user_cache_dir("anglefish"))


def _path(directory: Path, key: str) -> Path:
    return directory / "derivations" / (hashlib.sha256(key.encode()).hexdigest()[:40] + ".pkl")


def _trusted(path: Path) -> bool:
    """Our own file, not writable by group or others (POSIX; elsewhere any readable file)."""
    if not hasattr(os, "getuid"):
        return True
    st = path.stat()
    return st.st_uid == os.getuid() and not (st.st_mode & 0o022)


def load(key: str):
    """The stored value of ``key``, or the sentinel ``_MISS`` (missing, stale, corrupt or foreign)."""
    directory = cache_dir()
    if directory is None:
        return _MISS
    path = _path(directory, key)
    try:
        if not _trusted(path):
            return _MISS
        data = path.read_bytes()
        if not data.startswith(_FORMAT):
            return _MISS
        head, payload = data[len(_FORMAT):].split(b"\n", 1)
        header = json.loads(head)
        if (header.get("key") != key or header.get("fingerprint") != fingerprint()
                or header.get("size") != len(payload)
                or header.get("sha256") != hashlib.sha256(payload).hexdigest()):
            return _MISS
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 -- any failure to read means: not cached
        return _MISS


def store(key: str, value) -> bool:
    """Write ``value`` under ``key`` (atomically) if it survives a round trip; False if not stored."""
    directory = cache_dir()
    if directory is None or not portable(value):
        return False
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        header = json.dumps({"key": key, "fingerprint": fingerprint(), "size": len(payload),
                             "sha256": hashlib.sha256(payload).hexdigest()}).encode()
        path = _path(directory, key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_FORMAT + header + b"\n" + payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True
    except Exception:  # noqa: BLE001 -- a cache that cannot be written is just not used
        return False


def portable(value) -> bool:
    """Does ``value`` mean the same after pickling into another process?  No SymPy Dummy (its
    identity is per process), no function with a Python implementation attached, and only plain
    data, SymPy and mpmath objects and dataclasses made of them."""
    import mpmath
    import sympy as sp
    from sympy.core.function import AppliedUndef

    seen = set()

    def ok(v) -> bool:
        if v is None or isinstance(v, (bool, int, float, complex, str, bytes)):
            return True
        if id(v) in seen:
            return True
        seen.add(id(v))
        if isinstance(v, (tuple, list, set, frozenset)):
            return all(ok(x) for x in v)
        if isinstance(v, dict):
            return all(ok(k) and ok(x) for k, x in v.items())
        if isinstance(v, sp.Basic):
            if v.atoms(sp.Dummy):
                return False
            return not any(hasattr(f.func, "_imp_") for f in v.atoms(AppliedUndef))
        if isinstance(v, (mpmath.mpf, mpmath.mpc)):
            return True
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return all(ok(getattr(v, f.name)) for f in dataclasses.fields(v))
        return False

    return ok(value)


def disk_cached(name: str, args: tuple, compute, kwargs: dict | None = None):
    """The value of ``compute()`` for the call ``name(*args, **kwargs)``, looked up in and written to
    the disk cache (computed and not stored if the cache is off or an argument has no canonical
    text)."""
    if cache_dir() is None:
        return compute()
    try:
        key = f"{name}{stable_key(tuple(args))}{stable_key(dict(kwargs or {}))}"
    except Uncacheable:
        return compute()
    value = load(key)
    if value is _MISS:
        value = compute()
        store(key, value)
    return value


def _disk_backed(fn):
    """``fn`` with its results looked up in, and written to, the disk cache."""
    name = f"{fn.__module__}.{fn.__qualname__}"

    @functools.wraps(fn)
    def inner(*args, **kwargs):
        return disk_cached(name, args, lambda: fn(*args, **kwargs), kwargs)

    return inner


__all__ = ["CACHE_ENV", "Uncacheable", "cache_dir", "clear_caches", "disk_cached", "fingerprint", "load", "memoize",
           "portable",
           "register_clearer", "stable_key", "store"]
