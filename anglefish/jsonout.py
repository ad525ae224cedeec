"""Strict JSON for every ``--json`` output.

Python's ``json`` writes NaN and Infinity, which are not JSON: strict parsers reject them.
:func:`dumps` never does.  A number that is not finite becomes ``null`` and the dict holding
it gains a sibling ``"<key>_note"`` saying why: the reason given by the code that produced
it (``Missing("one seed has no standard error")``) or, when none was given, what the value
was ("not a number" / "overflows float64").  A list with such entries becomes a list with
nulls and its key gets the note.  numpy scalars and arrays become plain numbers and lists;
paths and other objects their ``str``.
"""
from __future__ import annotations

import dataclasses
import json
import math
import pathlib

NOTE_SUFFIX = "_note"


class Missing:
    """A value that has no number, with the reason (printed as null plus a note)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = str(reason)

    def __repr__(self):
        return f"Missing({self.reason!r})"

    def __bool__(self):
        return False


def missing(reason: str) -> Missing:
    return Missing(reason)


def _why(x: float) -> str:
    if math.isnan(x):
        return "not a number (undefined for this input)"
    return f"overflows float64 ({'+' if x > 0 else '-'}inf)"


def _scalar(x):
    """(plain value, reason or None) for one leaf."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if isinstance(x, Missing):
        return None, x.reason
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x, None
    if np is not None and isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, int):
        return x, None
    if isinstance(x, float):
        return (x, None) if math.isfinite(x) else (None, _why(x))
    if isinstance(x, pathlib.PurePath):
        return str(x), None
    try:  # SymPy and other numbers
        value = float(x)
    except (TypeError, ValueError):
        return str(x), None
    return (value, None) if math.isfinite(value) else (None, _why(value))


def clean(obj):
    """A copy of ``obj`` that :func:`json.dumps` writes with ``allow_nan=False``: see the module
    docstring.  Returns the cleaned object."""
    value, _ = _clean(obj)
    return value


def _clean(obj):
    """(clean value, reason if the value itself became null, else None)."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if np is not None and isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        obj = dataclasses.asdict(obj)
    if isinstance(obj, dict):
        out = {}
        notes = {}
        for key, val in obj.items():
            key = str(key)
            cleaned, reason = _clean(val)
            out[key] = cleaned
            if reason is not None:
                notes[key + NOTE_SUFFIX] = reason
        for note_key, reason in notes.items():
            out.setdefault(note_key, reason)
        return out, None
    if isinstance(obj, (list, tuple)):
        items, reasons = [], []
        for val in obj:
            cleaned, reason = _clean(val)
            items.append(cleaned)
            if reason is not None:
                reasons.append(reason)
        if reasons:
            kinds = sorted(set(reasons))
            return items, f"{len(reasons)} entries are null: {'; '.join(kinds)}"
        return items, None
    return _scalar(obj)


def dumps(obj, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` (never NaN or Infinity)."""
    return json.dumps(clean(obj), indent=indent, allow_nan=False)


def strict_loads(text: str):
    """json.loads that rejects NaN, Infinity and -Infinity (what a strict parser does)."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)
