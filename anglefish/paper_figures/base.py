"""The pieces every figure module shares: parameters, settings, seeds and the data table.

A figure module defines

* ``NAME`` ("fig04"), ``TITLE`` (one line), ``CLAIM`` (the statement the figure illustrates),
  ``PAPER`` (what the paper's figure shows, for the manifest), ``DATA_SOURCE``;
* ``FULL``: its figure-specific settings (documented in the module docstring) and ``QUICK``:
  the overrides used in quick mode;
* ``GENERIC = True`` if it honours ``params.arch`` (draw a user's architecture);
* ``compute(params) -> Table`` and ``plot(table) -> matplotlib.figure.Figure``.

``compute`` does all the numerical work and puts everything ``plot`` needs in the table
(columns) and its metadata (settings, architectures), so a figure can be redrawn from its CSV
plus manifest without recomputing.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..errors import AnglefishError

#: the three architectures of the ACML 2019 paper, in the order the paper draws them
PAPER_ARCHITECTURES = ("mlp", "resnet", "resnet-bn")


@dataclass(frozen=True)
class FigureParams:
    """What a figure is computed with.

    quick: small widths / fewer seeds / shallower iterations (seconds instead of minutes).
    seed: master seed; every Monte Carlo run of a figure derives its own seed from it
        (:func:`derive_seed`), so the figure is a function of this number alone.
    data_dir: where user-supplied data sets live (figures on real data; unused by the
        theory/simulation figures).
    arch: architecture name(s) for the generic figures (comma-separated for several);
        None means the paper's three architectures.
    options: overrides of the figure-specific settings (keys of the module's ``FULL``).
    """

    quick: bool = False
    seed: int = 0
    data_dir: str | None = None
    arch: str | None = None
    options: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise AnglefishError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.arch is not None and (not isinstance(self.arch, str) or not self.arch.strip()):
            raise AnglefishError(f"arch must be an architecture name, got {self.arch!r}")

    def architectures(self, default=PAPER_ARCHITECTURES) -> tuple:
        """The architectures to draw: ``arch`` (validated against the registry) or ``default``."""
        from ..theory.architectures import get_architecture

        names = default if self.arch is None else tuple(a.strip() for a in self.arch.split(",") if a.strip())
        return tuple(get_architecture(a).name for a in names)


def settings(params: FigureParams, full: Mapping, quick: Mapping | None = None) -> dict:
    """A figure's settings: ``full``, then ``quick`` overrides in quick mode, then ``params.options``.

    Unknown option names raise :class:`AnglefishError`.  Values are normalised to plain
    Python (tuples become lists) so they can go into the manifest as they are.
    """
    out = dict(full)
    if params.quick and quick:
        out.update(quick)
    for key, value in dict(params.options or {}).items():
        if key not in full:
            raise AnglefishError(f"unknown figure option '{key}'; known: {', '.join(sorted(full))}")
        out[key] = value
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in out.items()}


def derive_seed(seed: int, *keys) -> int:
    """A seed for one Monte Carlo run, from the master ``seed`` and descriptive ``keys``
    (figure name, architecture, angle, ...): :func:`anglefish.seeds.part_seed`."""
    from ..seeds import part_seed

    return part_seed(seed, *keys)


# ----------------------------------------------------------------------------- the table
def _format(value) -> str:
    """One CSV cell: shortest round-trip repr for floats, '' for None and NaN."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return ""
        return repr(value)
    return str(value)


class Table:
    """Named columns of equal length (numpy arrays or lists) plus JSON-able metadata.

    The CSV is deterministic: columns in the given order, floats as their shortest repr
    (round-trips exactly), integers as integers, None/NaN as empty cells, '\\n' line ends.
    """

    def __init__(self, columns: Mapping, metadata: Mapping | None = None):
        cols = {}
        length = None
        for name, values in columns.items():
            values = list(values.tolist() if isinstance(values, np.ndarray) else values)
            if length is None:
                length = len(values)
            elif len(values) != length:
                raise AnglefishError(f"table column '{name}' has {len(values)} rows, expected {length}")
            cols[str(name)] = values
        self.columns = cols
        self.metadata = dict(metadata or {})

    @classmethod
    def from_rows(cls, rows: list, columns: list | None = None, metadata: Mapping | None = None) -> "Table":
        """Build from a list of dicts; ``columns`` fixes the order (default: first row's keys)."""
        if columns is None:
            columns = list(rows[0]) if rows else []
        return cls({c: [r.get(c) for r in rows] for c in columns}, metadata)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def column(self, name: str, dtype=float) -> np.ndarray:
        """A column as a numpy array (None becomes NaN for numeric dtypes)."""
        values = self.columns[name]
        if dtype is float:
            return np.array([np.nan if v is None else float(v) for v in values])
        return np.array(values, dtype=dtype)

    def where(self, **conditions) -> "Table":
        """Rows whose columns equal the given values (floats compared exactly)."""
        keep = [i for i in range(len(self))
                if all(self.columns[k][i] == v for k, v in conditions.items())]
        return Table({k: [v[i] for i in keep] for k, v in self.columns.items()}, self.metadata)

    def unique(self, name: str) -> list:
        """Distinct values of a column in order of first appearance."""
        seen = []
        for v in self.columns[name]:
            if v not in seen:
                seen.append(v)
        return seen

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(list(self.columns))
        for i in range(len(self)):
            writer.writerow([_format(col[i]) for col in self.columns.values()])
        return buf.getvalue()

    @classmethod
    def read_csv(cls, path, metadata: Mapping | None = None) -> "Table":
        """Read a CSV written by :meth:`to_csv`: numbers become floats (integers ints), '' None."""
        with open(path, newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            rows = list(reader)

        def parse(cell):
            if cell == "":
                return None
            try:
                return int(cell)
            except ValueError:
                pass
            try:
                return float(cell)
            except ValueError:
                return cell

        return cls({h: [parse(r[j]) for r in rows] for j, h in enumerate(header)}, metadata)
