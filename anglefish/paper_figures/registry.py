"""The figure registry (names and aliases -> modules) and the runner :func:`render`.

Every module of this package whose file name starts with ``fig`` and that defines ``NAME``
is registered when the registry is first used; a figure living elsewhere can be added with
:func:`register_figure`.  Names are matched without case, without a ``fig``/``figure``
prefix and without leading zeros: "fig4", "fig04", "4" and "Figure 4" all mean fig04;
"A1", "a1" and "figA1" mean figA1.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import pathlib
import pkgutil
import platform
import re
import time
from types import ModuleType

from ..errors import AnglefishError
from ..outputs import SafeWriter
from .base import FigureParams, Table, settings

_FIGURES: dict = {}  # canonical key -> module
_DISCOVERED = False
_REQUIRED = ("NAME", "TITLE", "compute", "plot")
FORMATS = ("png", "pdf")


def figure_key(name) -> str:
    """The canonical lookup key of a figure name or alias ('fig04' -> '4', 'figA1' -> 'a1')."""
    text = re.sub(r"[\s_-]+", "", str(name)).lower()
    text = re.sub(r"^(figure|fig)", "", text)
    m = re.fullmatch(r"([a-z]*)0*(\d+)([a-z]*)", text)
    if not m:
        raise AnglefishError(f"not a figure name: {name!r} (try 'fig04', '4' or 'A1')")
    return f"{m.group(1)}{int(m.group(2))}{m.group(3)}"


def _sort_key(module: ModuleType):
    m = re.fullmatch(r"([a-z]*)(\d+)([a-z]*)", figure_key(module.NAME))
    return (m.group(1) != "", m.group(1), int(m.group(2)), m.group(3))


def register_figure(module: ModuleType, *, replace: bool = False) -> ModuleType:
    """Add a figure module (it must define NAME, TITLE, compute and plot)."""
    missing = [a for a in _REQUIRED if not hasattr(module, a)]
    if missing:
        raise AnglefishError(f"figure module {module.__name__} lacks {', '.join(missing)}")
    key = figure_key(module.NAME)
    if key in _FIGURES and _FIGURES[key] is not module and not replace:
        raise AnglefishError(f"figure '{module.NAME}' is already registered")
    _FIGURES[key] = module
    return module


def _discover() -> None:
    global _DISCOVERED
    if _DISCOVERED:
        return
    package = importlib.import_module(__package__)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("fig"):
            module = importlib.import_module(f"{__package__}.{info.name}")
            if hasattr(module, "NAME"):
                register_figure(module, replace=True)
    _DISCOVERED = True


def figures() -> list:
    """All registered figure modules, in paper order (numbered figures, then appendices)."""
    _discover()
    return sorted(_FIGURES.values(), key=_sort_key)


def figure_names() -> list:
    return [m.NAME for m in figures()]


def get_figure(name) -> ModuleType:
    """The module of a figure, by name or alias."""
    _discover()
    try:
        return _FIGURES[figure_key(name)]
    except KeyError:
        raise AnglefishError(f"unknown figure '{name}'; known: {', '.join(figure_names())}") from None


def resolve(names=None) -> list:
    """Modules for ``names`` (None, 'all' or [] = every figure), in the given order, no repeats.
    A string that names no figure ("" or ",") is an error, not "all"."""
    if names is None or names == "all" or (not isinstance(names, str) and len(names) == 0):
        return figures()
    if isinstance(names, str):
        text = names
        names = [n for n in re.split(r"[,\s]+", names) if n]
        if not names:
            raise AnglefishError(f"no figure named in {text!r} (give names such as 'fig04,A1', or None for all)")
    out = []
    for name in names:
        mods = figures() if str(name).lower() == "all" else [get_figure(name)]
        out.extend(m for m in mods if m not in out)
    return out


# ------------------------------------------------------------------------------- running
def _versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("anglefish", "numpy", "sympy", "mpmath", "matplotlib", "scikit-learn"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def figure_bytes(fig, fmt: str) -> bytes:
    """The figure as PNG or PDF bytes, with time stamps and tool names stripped so that the
    same figure gives the same bytes."""
    import matplotlib

    from .style import RC

    if fmt not in FORMATS:
        raise AnglefishError(f"figure format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    meta = {"png": {"Software": None},
            "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": "anglefish"}}[fmt]
    buf = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format=fmt, metadata=meta)
    return buf.getvalue()


def _manifest(module, params, table, files, seconds) -> dict:
    meta = dict(table.metadata)
    return {
        "figure": module.NAME,
        "title": module.TITLE,
        "claim": getattr(module, "CLAIM", ""),
        "paper": getattr(module, "PAPER", ""),
        "data_source": meta.pop("data_source", getattr(module, "DATA_SOURCE", "")),
        "quick": bool(params.quick),
        "seed": int(params.seed),
        "data_dir": params.data_dir,
        "arch": params.arch if getattr(module, "GENERIC", False) else None,
        "settings": meta.pop("settings", {}),
        "seeds": meta.pop("seeds", {}),
        "columns": meta.pop("columns", {}),
        "metadata": meta,
        "files": files,
        "versions": _versions(),
        "elapsed_seconds": {k: round(v, 3) for k, v in seconds.items()},
    }


def figure_table(name: str, quick: bool, seed: int, data_dir, arch, options: dict) -> Table:
    """``compute`` of figure ``name`` with these parameters (the unit of work of a figure that does
    not split its work into units itself)."""
    return get_figure(name).compute(FigureParams(quick=bool(quick), seed=seed, data_dir=data_dir, arch=arch,
                                                 options=options))


#: seconds of a whole figure's unit plus its drawing when the module states no ``COST`` (fig02 .. fig10
#: full: 0-1.2 s of unit and 0.4-1.1 s of drawing each).  The drawing waits for the unit, so the unit is
#: ordered by the whole chain: at the default hint of 1 (0.02 s) the seven ran last and their drawings,
#: 5 s on one core, came after every unit of the run.
WHOLE_FIGURE_SECONDS = 2.0


def figure_units(module, params: FigureParams) -> list:
    """The units of work of a figure: ``module.units(params)`` where the module splits its work (its
    ``compute`` then runs exactly these, via :func:`anglefish.units.run_units`), else one unit running
    its whole ``compute`` (:func:`figure_table`), with the cost hint ``module.COST`` (default
    :data:`WHOLE_FIGURE_SECONDS` on the scale :data:`anglefish.units.COST_PER_SECOND`)."""
    from ..units import COST_PER_SECOND, unit

    if hasattr(module, "units"):
        return module.units(params)
    return [unit(figure_table, name=module.NAME, quick=params.quick, seed=int(params.seed), data_dir=params.data_dir,
                 arch=params.arch, options=dict(params.options),
                 cost=getattr(module, "COST", WHOLE_FIGURE_SECONDS * COST_PER_SECOND))]


def _table(module, params: FigureParams):
    from ..units import run_units

    if hasattr(module, "units"):
        return module.compute(params)
    return run_units(figure_units(module, params))[0]


def _drawn(module, params: FigureParams, names_out, formats, results: dict, took: dict) -> dict:
    """The files of one figure ({name: bytes}) once the results of its units are in ``results``
    ({payload: result}; ``took``: {payload: seconds the unit ran}): its table, the drawing in every
    format, the CSV and the manifest (``elapsed_seconds``: ``compute`` = its units' seconds plus
    assembling the table, ``plot`` = drawing, ``total``)."""
    from ..units import reusing

    start = time.perf_counter()
    with reusing(results):
        table = _table(module, params)
    compute_s = sum(took.get(u.payload(), 0.0) for u in figure_units(module, params)) + time.perf_counter() - start
    start = time.perf_counter()
    seconds = {"compute": compute_s}
    files = {}
    if formats:
        t = time.perf_counter()
        fig = module.plot(table)
        for i, fmt in enumerate(formats):
            files[f"{module.NAME}.{fmt}"] = figure_bytes(fig, fmt)
            if i == 0:  # the layout is solved; keep it for the other formats
                fig.set_layout_engine("none")
        seconds["plot"] = time.perf_counter() - t
    files[f"{module.NAME}.csv"] = table.to_csv()
    seconds["total"] = compute_s + time.perf_counter() - start
    manifest = _manifest(module, params, table, names_out, seconds)
    files["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=False) + "\n"
    return files


def render(names, out_dir, quick: bool = False, seed: int = 0, formats=FORMATS, force: bool = False,
           data_dir=None, progress=None, arch: str | None = None, options: dict | None = None,
           workers: int | None = 1) -> list:
    """Compute, draw and write figures; returns the written paths.

    Per figure NAME: ``<out_dir>/NAME/NAME.<fmt>`` for each format, ``NAME.csv`` (the plotted
    data) and ``manifest.json`` (parameters, seeds, data source, package versions, elapsed
    seconds, the claim illustrated).  ``formats=()`` writes only the CSV and the manifest.
    Files anglefish did not write are never overwritten unless ``force``; every target is
    checked before any computation starts.  ``arch`` goes to the generic figures (others
    ignore it); ``options`` maps a figure name to overrides of its settings.

    The figures' units of work (:func:`figure_units`: figF1's networks, figF2's initialisations, the
    training and generalization studies' cells, every other figure whole) run together, on
    ``workers`` processes (:mod:`anglefish.units`; 1: in this process; None: every core available);
    the numbers do not depend on ``workers``.  A figure is assembled and drawn (in memory, in this
    process) as soon as its last unit is done, while the pool runs the others; the files are written
    only after every unit is done, so an interruption (Ctrl-C) while the units run writes nothing.
    ``progress(done, total)`` counts the units (done = 0 before the first).
    """
    from ..units import Plan, iterate_units

    formats = tuple(formats)
    for fmt in formats:
        if fmt not in FORMATS:
            raise AnglefishError(f"figure format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    modules = resolve(names)
    options = {figure_key(k): v for k, v in (options or {}).items()}
    unknown = set(options) - {figure_key(m.NAME) for m in modules}
    if unknown:
        raise AnglefishError(f"options given for figures not rendered: {', '.join(sorted(unknown))}")
    if arch is not None:
        FigureParams(arch=arch).architectures()  # unknown names fail before any work
        generic = [m.NAME for m in figures() if getattr(m, "GENERIC", False)]
        if not any(m.NAME in generic for m in modules):
            raise AnglefishError(f"--arch applies only to the generic figures ({', '.join(generic)})")
    out_dir = pathlib.Path(out_dir)
    jobs = []
    for module in modules:
        params = FigureParams(quick=bool(quick), seed=seed, data_dir=None if data_dir is None else str(data_dir),
                              arch=arch if getattr(module, "GENERIC", False) else None,
                              options=options.get(figure_key(module.NAME), {}))
        if hasattr(module, "FULL"):
            settings(params, module.FULL, getattr(module, "QUICK", None))  # unknown options fail early
        writer = SafeWriter(out_dir / module.NAME, force=force)
        names_out = [f"{module.NAME}.{fmt}" for fmt in formats] + [f"{module.NAME}.csv", "manifest.json"]
        writer.check(names_out)
        jobs.append((module, params, writer, names_out))
    plan = Plan().add([figure_units(module, params) for module, params, _, _ in jobs])
    keys = list(plan.units)
    needs = [{u.payload() for u in figure_units(module, params)} for module, params, _, _ in jobs]
    results, took, index_took, drawn = {}, {}, {}, {}

    def draw_ready():
        for j, job in enumerate(jobs):
            if j not in drawn and needs[j] <= results.keys():
                drawn[j] = _drawn(*job[:2], job[3], formats, results, took)

    # the main process draws each figure while the pool runs the other figures' units (it would wait idle)
    stream = iterate_units([plan.units[k] for k in keys], workers, progress, seconds=index_took)
    with contextlib.closing(stream):  # an error while drawing cancels the units not finished
        for i, result in stream:
            results[keys[i]] = result
            took[keys[i]] = index_took.get(i, 0.0)
            draw_ready()
    draw_ready()
    written = []
    for j, (_, _, writer, _) in enumerate(jobs):
        written.extend(writer.write(drawn[j]))
    return written
