"""Memoised derivations, keyed by the objects they derive from, cleared when a registry changes.

Every cached derivation takes the :class:`~anglefish.theory.architectures.Architecture` (a frozen,
hashable dataclass: name, block list, flags) or the activation *object* as its key, never a name:
re-registering an architecture under the same name gives a new object and so new results.  The
caches are also cleared whenever an architecture, activation or block type is registered or
removed, so that no stale derivation is held.
"""
from __future__ import annotations

from functools import lru_cache

_CACHES: list = []


def memoize(function=None, *, maxsize=None):
    """``functools.lru_cache`` that :func:`clear_caches` empties (usable with or without arguments)."""
    def wrap(fn):
        cached = lru_cache(maxsize=maxsize)(fn)
        _CACHES.append(cached.cache_clear)
        return cached
    return wrap(function) if function is not None else wrap


def register_clearer(clear) -> None:
    """Add a callable that empties a cache that is not a memoized function (e.g. a dict)."""
    _CACHES.append(clear)


def clear_caches() -> None:
    """Empty every cache of derived results."""
    for clear in _CACHES:
        clear()


__all__ = ["clear_caches", "memoize", "register_clearer"]
