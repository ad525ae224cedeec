"""``anglefish sweep SPEC``: a grid of runs as units of work, written as one tidy table.

A spec (TOML, read with the standard library's ``tomllib``, or JSON) names the grid::

    quantities    = ["angles", "fisher", "lr"]   # which measurements (at least one)
    architectures = ["mlp", "resnet"]            # registered names (ARCH[activation] allowed)
    depths        = [5, 10]                      # L, number of blocks (>= 1)
    widths        = [64, 128]                    # N (>= 2)
    theta0s       = [0.5, 1.0]                   # input angles (radians, 0 .. pi); angles only
    seeds         = [0, 1]                       # master seeds: one row set per seed
    networks      = 16                           # random networks per cell (>= 2; lr: initialisations)
    samples       = 16                           # T inputs of fisher and lr (>= 1)
    steps         = 50                           # gradient-descent steps of lr (>= 1)

Every combination is one unit (:mod:`anglefish.units`; ``theta0s`` only multiplies the angles cells),
run in-process, on the local pool (``--workers``) or on a Dask cluster (``--scheduler``); the numbers
do not depend on which.  Each unit gives rows of the tidy table, one per statistic:

* angles: ``theta_L`` (angle of the seed-averaged Gram after L blocks, radians) and ``log_q_L`` (log
  of the seed-averaged per-unit second moment), Monte Carlo over ``networks`` Gram-sampler networks
  (:func:`anglefish.numeric.angle_table`); theory = the exact infinite-width map (limit N = inf), and
  ``theory_finite_width`` = the O(1/N) theory at N = width (:func:`anglefish.theory.finite_width.
  finite_width_theory`; empty where its expansion is not valid or the architecture has no rule);
* fisher: ``lambda_max`` and ``mean_eigenvalue`` of F = K/T over ``networks`` dense networks
  (:func:`anglefish.numeric.fisher.fisher_spectrum`); theory = leading order as N -> inf, T given
  (:func:`anglefish.theory.fisher_theory.fisher_theory`);
* lr: ``eta_monotone`` (largest learning rate with a monotone loss in ``steps`` steps) and
  ``eta_divergence`` (largest at which training still converges), mean over ``networks``
  initialisations (:func:`anglefish.numeric.training.learning_rate_thresholds`); theory of
  eta_monotone = 2/lambda_max at N = inf; eta_divergence has no theory (empty).

``se`` is the standard error of ``mc`` over networks (sd/sqrt(n), ddof 1).  Depth is the number of
blocks L (0-based layer index l = 0 .. L).  Files: ``sweep.csv`` (``sweep.parquet`` as well when
pyarrow is importable) and ``manifest.json`` (the spec, anglefish's version, the seeds, the executor,
the start time and duration).
"""
from __future__ import annotations

import csv
import io
import json
import math
import pathlib
import time

from .errors import AnglefishError

__all__ = ["COLUMNS", "KEYS", "load_spec", "check_spec", "sweep_units", "run_sweep", "cell", "write_sweep",
           "to_csv"]

QUANTITIES = ("angles", "fisher", "lr")
#: key: (kind, default); "ints"/"floats"/"names" are non-empty lists
KEYS = {"quantities": ("names", None), "architectures": ("names", None), "depths": ("ints", None),
        "widths": ("ints", None), "theta0s": ("floats", None), "seeds": ("ints", [0]),
        "networks": ("int", 16), "samples": ("int", 16), "steps": ("int", 50)}
MINIMUM = {"depths": 1, "widths": 2, "seeds": 0, "networks": 2, "samples": 1, "steps": 1}
COLUMNS = ("quantity", "statistic", "architecture", "depth", "width", "theta0", "samples", "networks", "seed",
           "theory", "theory_limit", "theory_finite_width", "theory_finite_width_limit", "mc", "se", "note")


# ----------------------------------------------------------------------------- the spec
def load_spec(path) -> dict:
    """Read a spec file (``.toml`` or ``.json``) and check it (:func:`check_spec`)."""
    import tomllib

    path = pathlib.Path(path)
    try:
        text = path.read_bytes()
    except OSError as err:
        raise AnglefishError(f"SPEC {path}: cannot read ({err.strerror or err})") from None
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text.decode())
    except (ValueError, UnicodeDecodeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise AnglefishError(f"SPEC {path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: "
                             f"{first}") from None
    return check_spec(raw)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_spec(raw) -> dict:
    """The spec with defaults filled in; one line (AnglefishError) naming the first bad key or value."""
    from .validation import check_architecture

    if not isinstance(raw, dict):
        raise AnglefishError(f"sweep spec: must be a table of keys, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise AnglefishError(f"sweep spec: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    spec = {}
    for key, (kind, default) in KEYS.items():
        if key not in raw:
            if default is None and not (key == "theta0s" and "angles" not in raw.get("quantities", ["angles"])):
                raise AnglefishError(f"sweep spec: {key!r} is required")
            spec[key] = default
            continue
        value = raw[key]
        if kind == "int":
            if not _is_int(value) or value < MINIMUM[key]:
                raise AnglefishError(f"sweep spec: {key} must be an integer >= {MINIMUM[key]}, got {value!r}")
        else:
            if not isinstance(value, list) or not value:
                raise AnglefishError(f"sweep spec: {key} must be a non-empty list, got {value!r}")
            if len(set(map(repr, value))) != len(value):
                raise AnglefishError(f"sweep spec: {key} lists a value twice: {value!r}")
            for v in value:
                if kind == "ints" and (not _is_int(v) or v < MINIMUM[key]):
                    raise AnglefishError(f"sweep spec: {key} must hold integers >= {MINIMUM[key]}, got {v!r}")
                if kind == "floats" and (isinstance(v, bool) or not isinstance(v, (int, float))
                                         or not 0 <= v <= math.pi):
                    raise AnglefishError(f"sweep spec: {key} must hold angles in [0, pi] (radians), got {v!r}")
                if kind == "names" and not isinstance(v, str):
                    raise AnglefishError(f"sweep spec: {key} must hold names (strings), got {v!r}")
            if kind == "floats":
                value = [float(v) for v in value]
        spec[key] = value
    for q in spec["quantities"]:
        if q not in QUANTITIES:
            raise AnglefishError(f"sweep spec: quantities: unknown quantity {q!r} (known: {', '.join(QUANTITIES)})")
    for name in spec["architectures"]:
        base, _, act = name.partition("[")
        check_architecture(base, act.rstrip("]") or None, flag="sweep spec: architectures")
    return spec


# ----------------------------------------------------------------------------- units
def sweep_units(spec: dict) -> list:
    """One unit (:func:`cell`) per grid point, in a fixed order (quantity, architecture, depth, width,
    theta0, seed); the table's rows follow it."""
    from .units import arch_name, unit

    out = []
    for q in spec["quantities"]:
        for a in spec["architectures"]:
            name = arch_name(a)
            for depth in spec["depths"]:
                for width in spec["widths"]:
                    for theta0 in (spec["theta0s"] if q == "angles" else [None]):
                        for seed in spec["seeds"]:
                            extra = {"theta0": theta0} if q == "angles" else {"samples": spec["samples"]}
                            if q == "lr":
                                extra["steps"] = spec["steps"]
                            out.append(unit(cell, quantity=q, arch=name, depth=depth, width=width, seed=seed,
                                            networks=spec["networks"], cost=depth * width * width,
                                            label=f"{q} {name} L={depth} N={width}", **extra))
    return out


def _f(x):
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def cell(quantity: str, arch: str, depth: int, width: int, seed: int, networks: int, theta0: float | None = None,
         samples: int | None = None, steps: int | None = None) -> list:
    """The rows of one grid point (a unit of work; see the module text for the statistics)."""
    base = {"quantity": quantity, "architecture": arch, "depth": depth, "width": width, "theta0": theta0,
            "samples": samples, "networks": networks, "seed": seed}
    if quantity == "angles":
        return _angles(base, arch, depth, width, theta0, networks, seed)
    theory, why = _fisher_theory(arch, depth, width, samples)
    inf = f"N = inf (leading order), T = {samples}"
    if quantity == "fisher":
        from .numeric.fisher import fisher_spectrum

        mc = fisher_spectrum(arch, depth, width, samples, networks, seed=seed)
        return [{**base, "statistic": key, "theory": theory.get(key), "theory_limit": inf, "mc": _f(mc[key]),
                 "se": _f(mc[key + "_se"]), "note": why} for key in ("lambda_max", "mean_eigenvalue")]
    from .numeric.training import learning_rate_thresholds

    s = learning_rate_thresholds(arch, depth, width, samples, inits=networks, seed=seed, steps=steps)["summary"]
    rows = []
    for key, th, limit in (("eta_monotone", theory.get("eta_max"), inf + ": 2/lambda_max"),
                           ("eta_divergence", None, "no theory")):
        m = s[key]
        se = m["sd"] / math.sqrt(m["n"]) if m["sd"] is not None else None
        note = why if th is None and key == "eta_monotone" else ""
        if m["n"] < networks:
            note = f"{networks - m['n']} of {networks} initialisations found no threshold up to 64 x 2/lambda_max"
        rows.append({**base, "statistic": key, "theory": th, "theory_limit": limit, "mc": _f(m["mean"]),
                     "se": _f(se), "note": note})
    return rows


def _fisher_theory(arch, depth, width, samples):
    from .theory.fisher_theory import fisher_theory

    try:
        t = fisher_theory(arch, depth, width, samples)
    except AnglefishError as err:
        return {}, f"no theory: {err}"
    return {k: _f(t.get(k)) for k in ("lambda_max", "mean_eigenvalue", "eta_max")}, ""


def _angles(base, arch, depth, width, theta0, networks, seed) -> list:
    from .numeric import angle_table

    table = angle_table(arch, depth, theta0, width, networks, seed=seed, every=depth)
    last = table["rows"][-1]
    try:
        from .theory.finite_width import finite_width_theory

        fw = finite_width_theory(arch, depth, width, theta0)
        fw_note = "" if fw.get("valid") else f"finite-width theory not valid: {fw.get('reason')}"
    except AnglefishError as err:
        fw, fw_note = {}, f"no finite-width theory: {err}"
    fw_limit = f"N = {width}, to O(1/N) (error O(1/N^2))"
    inf = "N = inf (exact map)"
    notes = [table.get("theory_note", ""), fw_note]
    return [{**base, "statistic": "theta_L", "theory": _f(last["theta_theory"]), "theory_limit": inf,
             "theory_finite_width": _f(fw.get("theta_theory_finite")), "theory_finite_width_limit": fw_limit,
             "mc": _f(last["theta_mc"]), "se": _f(last["theta_mc_se"]),
             "note": "; ".join(n for n in notes + [last.get("theta_mc_note", "")] if n)},
            {**base, "statistic": "log_q_L", "theory": _f(last["log_q_theory"]), "theory_limit": inf,
             "theory_finite_width": _f(fw.get("log_q_theory_finite")), "theory_finite_width_limit": fw_limit,
             "mc": _f(last["log_q_mc"]), "se": _f(last["log_q_mc_se"]),
             "note": "; ".join(n for n in notes + [last.get("log_q_mc_note", "")] if n)}]


# ----------------------------------------------------------------------------- running and writing
def run_sweep(spec: dict, workers: int | None = 1, progress=None) -> tuple:
    """(rows, manifest) of the sweep: its units run on ``workers`` processes, or on the Dask cluster set
    by :func:`anglefish.units.set_scheduler`; the rows do not depend on which."""
    from . import __version__
    from .units import make_executor, run_units

    units = sweep_units(spec)
    executor = make_executor(workers, len(units))
    started = time.time()
    t0 = time.perf_counter()
    results = run_units(units, executor=executor, progress=progress)
    rows = [{c: r.get(c) for c in COLUMNS} for result in results for r in result]
    manifest = {"spec": spec, "anglefish_version": __version__, "seeds": spec["seeds"], "units": len(units),
                "rows": len(rows),
                "executor": {"kind": type(executor).__name__, "workers": executor.workers,
                             "scheduler": getattr(executor, "address", None)},
                "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                "elapsed_s": round(time.perf_counter() - t0, 3)}
    return rows, manifest


def to_csv(rows: list) -> str:
    """The tidy table as CSV: floats as repr (round-trip exact), missing values empty."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: "" if v is None else repr(v) if isinstance(v, float) else v for k, v in r.items()})
    return buf.getvalue()


def write_sweep(rows: list, manifest: dict, out) -> list:
    """Write sweep.csv, sweep.parquet (if pyarrow is importable) and manifest.json into ``out``."""
    from .jsonout import dumps

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {"sweep.csv": to_csv(rows)}
    try:
        import pyarrow
        import pyarrow.parquet as pq
    except ImportError:
        pyarrow = None
    names = list(files) + (["sweep.parquet"] if pyarrow is not None else []) + ["manifest.json"]
    manifest = {**manifest, "files": names}
    paths = []
    for name, text in files.items():
        (out / name).write_text(text)
        paths.append(out / name)
    if pyarrow is not None:
        pq.write_table(pyarrow.Table.from_pylist(rows), out / "sweep.parquet")
        paths.append(out / "sweep.parquet")
    (out / "manifest.json").write_text(dumps(manifest) + "\n")
    paths.append(out / "manifest.json")
    return paths
