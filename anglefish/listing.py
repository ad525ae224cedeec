"""What ``anglefish list`` shows, without SymPy when nothing beyond the built-ins is registered.

:func:`live_listing` reads the registries (it imports :mod:`anglefish.theory`, hence SymPy: about
0.5 s).  The built-in registries are the same in every process, so their listing is also kept as a
snapshot, ``anglefish/_listing_snapshot.py``, written by ``python -m anglefish.listing``.

:func:`registry_listing` returns the snapshot only when it must equal the live listing:

* nothing in this process has imported :mod:`anglefish.theory` (registering an architecture, block
  type or activation needs it, so no plugin and no ``--arch-file`` registered anything), and
* the snapshot was written from the same theory: the same hash of every source file under
  ``anglefish/theory``, the same anglefish, SymPy and Python versions (SymPy prints the depth-
  dependent block parameters, e.g. ``Scale(1/sqrt(L))``).

Otherwise it is the live listing.  ``tests/test_cli_fast.py`` checks that the committed snapshot is
current (run ``python -m anglefish.listing`` after changing a built-in architecture, block type or
activation) and that ``anglefish list`` does not import SymPy.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import pathlib
import pprint
import sys

from . import __version__

SNAPSHOT_PATH = pathlib.Path(__file__).resolve().parent / "_listing_snapshot.py"


def live_listing() -> dict:
    """{"architectures": [{name, block, description, source}], "blocks": [{name, summary}],
    "activations": [{name}]}, in registration order, from the registries of this process."""
    from .theory import activations, architectures, block_types

    archs = [{"name": a.name, "block": repr(a.block), "description": a.description, "source": a.source}
             for a in architectures().values()]
    blocks = [{"name": name, "summary": cls.summary} for name, cls in block_types().items()]
    acts = [{"name": name} for name in activations()]
    return {"architectures": archs, "blocks": blocks, "activations": acts}


def theory_fingerprint() -> str:
    """What the built-in listing depends on: the anglefish, SymPy and Python versions and a hash of
    every source file of anglefish/theory (read without importing either)."""
    h = hashlib.sha256()
    root = pathlib.Path(__file__).resolve().parent / "theory"
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        sympy = importlib.metadata.version("sympy")
    except importlib.metadata.PackageNotFoundError:
        sympy = "?"
    return (f"anglefish {__version__}; sympy {sympy}; python {sys.version_info[0]}.{sys.version_info[1]}; "
            f"theory source {h.hexdigest()[:24]}")


def snapshot_listing() -> dict | None:
    """The committed snapshot of the built-in listing if it was written from this theory, else None."""
    try:
        from ._listing_snapshot import FINGERPRINT, LISTING
    except ImportError:
        return None
    return LISTING if FINGERPRINT == theory_fingerprint() else None


def registry_listing() -> dict:
    """The listing of this process's registries: the snapshot where it must be equal (module
    docstring), else :func:`live_listing`."""
    if "anglefish.theory" not in sys.modules:
        snapshot = snapshot_listing()
        if snapshot is not None:
            return snapshot
    return live_listing()


def write_snapshot(path: pathlib.Path = SNAPSHOT_PATH) -> pathlib.Path:
    """Write the built-in listing (this process's registries: call it before registering anything)."""
    text = ('"""The built-in listing of `anglefish list` (written by `python -m anglefish.listing`; do not edit)."""\n'
            f"FINGERPRINT = {theory_fingerprint()!r}\n"
            f"LISTING = {pprint.pformat(live_listing(), width=110, sort_dicts=False)}\n")
    path.write_text(text)
    return path


if __name__ == "__main__":
    print(write_snapshot())
