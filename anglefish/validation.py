"""Validation: the one place that decides whether an argument is acceptable.

Library functions call these validators and raise :class:`~anglefish.errors.AnglefishError` with a
one-line message naming the argument; the command line names the flag instead.
"""
from __future__ import annotations

import math

import numpy as np

from .errors import AnglefishError


def check_int(value, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int in [minimum, maximum] (bools and non-integers refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise AnglefishError(f"{name} must be an integer >= {minimum}, got {value!r}")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise AnglefishError(f"{name} must be an integer {bound}, got {value!r}")
    return value


def check_positive(value, name: str) -> float:
    """``value`` as a positive finite float."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise AnglefishError(f"{name} must be a positive number, got {value!r}") from None
    if isinstance(value, bool) or not (x > 0 and math.isfinite(x)):
        raise AnglefishError(f"{name} must be a positive finite number, got {value!r}")
    return x


def check_angles(theta, name: str = "input angles") -> np.ndarray:
    """Angles in [0, pi] (radians) as a float array."""
    theta = np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(theta)) or np.any(theta < 0) or np.any(theta > np.pi):
        raise AnglefishError(f"{name} must lie in [0, pi] radians")
    return theta


def check_choice(value, name: str, options, allow_none: bool = False):
    """``value`` if it is one of ``options`` (or None when ``allow_none``)."""
    if value is None and allow_none:
        return None
    if value not in options:
        raise AnglefishError(f"{name} must be one of {', '.join(map(str, options))}"
                             f"{' or None' if allow_none else ''}, got {value!r}")
    return value


def check_dtype(dtype):
    """float32 or float64, as a numpy scalar type."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise AnglefishError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise AnglefishError(f"dtype must be float32 or float64, got {dt}")
    return dt.type


def recorded_depths(depth, every=1, at=None) -> tuple:
    """(depth, sorted depths to record) of a run through ``depth`` blocks: every ``every``-th depth,
    or exactly the depths ``at``; the last depth is always recorded."""
    depth = check_int(depth, "depth", 0)
    every = check_int(every, "--every", 1)
    if at is not None:
        ls = np.unique(np.append(np.asarray(at, dtype=np.int64), depth))
        if ls[0] < 0 or ls[-1] > depth:
            raise AnglefishError(f"recorded depths must lie in [0, {depth}]")
    else:
        ls = np.unique(np.append(np.arange(0, depth + 1, every), depth)).astype(np.int64)
    return depth, ls


__all__ = ["recorded_depths", "check_angles", "check_choice", "check_dtype", "check_int", "check_positive"]
