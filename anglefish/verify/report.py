"""``anglefish verify``: run the contract suite on every registered architecture, judge the
published claims, calibrate the suite, and write report.md and report.json."""
from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass

from ..theory.architectures import architectures
from ..units import Plan, make_executor, reusing, run_units, unit
from .calibration import BATTERY, calibrate, calibration_units
from .claims import Settings, claim_units, evaluate_claims
from .contracts import fisher_vs_dense, gram_vs_dense, symbolic_vs_numeric, theory_vs_gram
from .tolerance import describe_model
from .verdicts import MEANING
from .work import fisher_unit, mc_unit


@dataclass(frozen=True)
class Mode:
    name: str
    width: int
    seeds: int
    configs: tuple
    dense_seeds: int
    calibration_repeats: int
    calibration_width: int
    calibration_seeds: int
    fisher: dict
    calibration_fisher: dict | None


#: the Fisher contract runs at every depth of ``fisher['depths']`` on dense networks (the reference); in
#: quick mode the calibration judges the derivative-kernel mutants on the very networks of the contract
#: (no extra simulation)
QUICK_FISHER = dict(depths=(2, 5), width=128, samples=32, seeds=32)
#: ``verify --full`` judges the derivative-kernel mutants (and counts the correct theory's Fisher false
#: alarms) on 512 networks per width drawn by the projected sampler: the dense networks' law of the NTK
#: Gram without weight matrices (O(L N T^2) per network instead of O(L N^2)).  Before commit 6e44bd3 it
#: used 256 dense networks (77 s of CPU for the three architectures, ~70% of it drawing N x N weights);
#: 512 projected networks take 21 s and halve the variance of the means (README: before/after)
FULL_CALIBRATION_FISHER = dict(depths=(12,), width=256, samples=8, seeds=512, sampler="projected")
#: repeats of the calibration battery in ``verify --full``: enough to judge every mutant (on the first
#: battery) and to show the correct theory's false alarms on 24 x this many checks; the false-alarm RATE
#: per check (>= 5000 checks) is measured by ``verify --calibrate R`` (:func:`run_calibration`), a run of
#: its own (--full used to run 100 repeats, 2400 checks: more than a third of its CPU time)
FULL_CALIBRATION_REPEATS = 5
#: the number of repeats of ``verify --calibrate`` that gives >= 5000 checks (24 per repeat)
RATE_REPEATS = 210
QUICK = Mode("quick", 512, 128, ((1, 0.4), (10, 1.0)), 800, 2, 1024, 256, QUICK_FISHER, QUICK_FISHER)
FULL = Mode("full", 1024, 256, BATTERY, 3000, FULL_CALIBRATION_REPEATS, 1024, 256,
            dict(depths=(2, 5), width=512, samples=32, seeds=32),
            FULL_CALIBRATION_FISHER)


def versions() -> dict:
    import mpmath
    import numpy
    import scipy
    import sympy

    from .. import __version__

    return {"anglefish": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "sympy": sympy.__version__, "mpmath": mpmath.__version__}


def contract_units(mode: Mode, seed: int) -> list:
    """The contract suite's units of work, in suite order, per registered architecture: the symbolic
    check, the Monte Carlo pair of every configuration, the Gram-vs-dense test, the Fisher networks of
    every depth."""
    config = {k: v for k, v in mode.fisher.items() if k != "depths"}
    out = []
    for name in architectures():
        out.append(unit(symbolic_vs_numeric, arch=name, seed=seed, cost=7.0))  # costs: ~50 per CPU s (.work)
        out += [mc_unit(name, depth, theta0, mode.width, mode.seeds, seed, "contracts", name, depth, theta0)
                for depth, theta0 in mode.configs]
        out.append(unit(gram_vs_dense, arch=name, seeds=mode.dense_seeds, seed=seed, cost=mode.dense_seeds / 200))
        out += [fisher_unit(name, depth, seed=seed, **config) for depth in mode.fisher["depths"]]
    return out


def run_contracts(mode: Mode, seed: int, progress=None, workers: int | None = 1) -> list:
    """Every contract check on every registered architecture.  The units of work
    (:func:`contract_units`) run on ``workers`` processes (:mod:`anglefish.units`; 1: in this process);
    the numbers do not depend on it.  ``progress(done, total)`` counts units."""
    results = iter(run_units(contract_units(mode, seed), workers, progress))
    config = {k: v for k, v in mode.fisher.items() if k != "depths"}
    outcomes = []
    for name in architectures():
        outcomes.append(next(results))
        for _ in mode.configs:
            outcomes.extend(theory_vs_gram(next(results)))
        outcomes.append(next(results))
        for depth in mode.fisher["depths"]:
            outcomes.extend(fisher_vs_dense(name, depth=depth, **config, seed=seed, mc=next(results)))
    return outcomes


def run_verification(mode: Mode = QUICK, seed: int = 0, progress=None, workers: int | None = 1) -> dict:
    """The contract suite, the claims and the calibration.  Their units of work (Monte Carlo pairs,
    Fisher networks, the claims' simulated series and training runs, the calibration batteries) run
    together on ``workers`` processes (:mod:`anglefish.units`; 1: in this process; None: every core
    available); the checks, verdicts and calibration are then formed from their results in this
    process.  The numbers do not depend on ``workers``."""
    t0 = time.perf_counter()
    say = progress or (lambda *a: None)
    settings = Settings(width=mode.width, seeds=mode.seeds, seed=seed, full=mode.name == "full")
    calibration = dict(width=mode.calibration_width, seeds=mode.calibration_seeds,
                       repeats=mode.calibration_repeats, seed=seed, fisher=mode.calibration_fisher)
    plan = Plan().add(contract_units(mode, seed), claim_units(settings), calibration_units(**calibration))
    stage = f"{len(plan)} units of work"
    say(stage, 0)
    results = plan.run(workers, progress=lambda d, t: say(stage, d / t))
    with reusing(results):
        say("contract suite", 0)
        checks = run_contracts(mode, seed)
        say("claims", 0)
        claim_rows = evaluate_claims(settings, progress=lambda d, t: say("claims", d / t))
        say("calibration", 0)
        cal = calibrate(**calibration)
    applicable = [c for c in checks if c.applicable]
    return {
        "mode": mode.name,
        "passed": all(c.passed for c in applicable),
        "checks": [{"id": c.id, "architecture": c.architecture, "passed": c.passed, "statistic": c.statistic,
                    "tolerance": c.tolerance, "false_alarm_rate": c.false_alarm_rate,
                    "applicable": c.applicable, "status": c.status, "details": c.details} for c in checks],
        "claims": claim_rows,
        "verdict_vocabulary": dict(MEANING),
        "calibration": cal.as_dict(),
        "tolerance_model": describe_model(),
        "seed": seed,
        "versions": versions(),
        "elapsed_s": time.perf_counter() - t0,
        "workers": make_executor(workers).workers,
    }


def _fmt(x) -> str:
    if isinstance(x, bool) or x is None:
        return str(x)
    if isinstance(x, float):
        return f"{x:.4g}"
    if isinstance(x, (list, tuple)) and all(not isinstance(v, (dict, list, tuple)) for v in x):
        shown = ", ".join(_fmt(v) for v in x[:12])
        return f"[{shown}{', ...' if len(x) > 12 else ''}]"
    return str(x).replace("|", "\\|").replace("\n", " ")


def _scalar(v) -> bool:
    return not isinstance(v, (dict, list, tuple)) or (
        isinstance(v, (list, tuple)) and all(not isinstance(x, (dict, list, tuple)) for x in v))


#: rows shown of a long table in report.md (report.json has everything)
MAX_ROWS = 24


def _table(rows: list, indent: str = "") -> list:
    """A list of flat dicts as one markdown table (columns: the union of their scalar keys)."""
    cols = []
    for r in rows:
        for k, v in r.items():
            if k not in cols and _scalar(v):
                cols.append(k)
    if not cols:
        return []
    out = [indent + "| " + " | ".join(cols) + " |", indent + "|" + "---|" * len(cols)]
    for r in rows[:MAX_ROWS]:
        out.append(indent + "| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |")
    if len(rows) > MAX_ROWS:
        out.append(indent + f"| ... {len(rows) - MAX_ROWS} more rows in report.json |" + " |" * (len(cols) - 1))
    return out


def _evidence_lines(evidence: dict, title: str = "evidence", depth: int = 0) -> list:
    """Nested evidence as markdown: the scalars of a dict as a two-column table, lists of dicts as
    tables, dicts of dicts as one table per row key (or recursively, with a bold label)."""
    lines = []
    scalars = {k: v for k, v in evidence.items() if _scalar(v)}
    if scalars:
        lines += [f"*{title}*", "", "| | |", "|---|---|"]
        lines += [f"| {_fmt(k)} | {_fmt(v)} |" for k, v in scalars.items()]
        lines.append("")
    for k, v in evidence.items():
        if _scalar(v):
            continue
        label = f"{title} / {k}"
        if isinstance(v, (list, tuple)) and v and all(isinstance(x, dict) for x in v):
            lines += [f"*{label}*", ""] + _table(list(v)) + [""]
        elif isinstance(v, dict) and v and all(isinstance(x, dict) and all(_scalar(y) for y in x.values())
                                               for x in v.values()):
            lines += [f"*{label}*", ""] + _table([{"": key, **row} for key, row in v.items()]) + [""]
        elif isinstance(v, dict) and depth < 3:
            lines += _evidence_lines(v, label, depth + 1)
        elif isinstance(v, (list, tuple)) and depth < 3:
            lines += [f"*{label}*", ""] + [f"- {_fmt(x)}" for x in v[:MAX_ROWS]] + [""]
    return lines


def _claims_section(claims: list) -> list:
    from .verdicts import MEANING

    out = ["## Published claims", "",
           "Each verdict is the verdict of the claim's *primary reading* — the paper's words taken literally "
           "(where they leave a choice open, the reading that decides the paper's own conclusion). Other "
           "readings are listed under each claim and never change its verdict.", "",
           "| verdict | meaning |", "|---|---|"]
    out += [f"| {v} | {m} |" for v, m in MEANING.items()]
    out += ["", "| claim | source | verdict | reason |", "|---|---|---|---|"]
    for c in claims:
        out.append(f"| `{c['id']}` | {_fmt(c['source'])} | **{c['verdict']}** | {_fmt(c.get('reason', ''))} |")
    out.append("")
    for c in claims:
        p = c.get("primary_reading", {})
        out += [f"### {c['id']}: {c['verdict']}", "",
                f"*{c['statement']}* ({c['source']}; quantity: {c['quantity']}; checked by {c['method']})", "",
                f"- Primary reading: **{_fmt(p.get('reading'))}** — quantity {_fmt(p.get('quantity'))}; "
                f"model {_fmt(p.get('model'))}; regime {_fmt(p.get('regime'))}.",
                f"- Reason: {_fmt(c.get('reason'))}."]
        if c.get("condition"):
            out.append(f"- Condition: {_fmt(c['condition'])}; counterexample: "
                       + ", ".join(f"{k} = {_fmt(v)}" for k, v in (c.get("counterexample") or {}).items()) + ".")
        if c.get("true_law"):
            out.append(f"- True law: {_fmt(c['true_law'])}.")
        if c.get("from_bounds"):
            out.append(f"- From the eigenvalue bounds alone: {_fmt(c['from_bounds']['line'])}.")
        out += ["", "| reading | quantity | model | regime | verdict | why |", "|---|---|---|---|---|---|"]
        for r in c.get("readings", []):
            out.append(f"| {_fmt(r['reading'])} | {_fmt(r['quantity'])} | {_fmt(r['model'])} | {_fmt(r['regime'])} | "
                       f"{r['verdict']} | {_fmt(r.get('why', ''))} |")
        out.append("")
        out += _evidence_lines(c["evidence"])
    return out


def _calibration_section(cal: dict) -> list:
    """The calibration's lines of report.md (and of calibration.md, ``verify --calibrate``)."""
    out = [
        f"- Power: {cal['caught']} of {len(cal['mutants'])} deliberately wrong theories caught "
        f"({100 * cal['power']:.1f}%; target >= 95%).",
        f"- False alarms under the correct theory: {cal['false_alarms']} of {cal['checks_run']} checks "
        f"({100 * cal['false_alarm_rate']:.2f}%; one-sided 95% upper bound {100 * cal['false_alarm_upper_95']:.2f}%; "
        f"target <= 0.1% per check).",
        f"- Standardised residuals |t| <= 2: {100 * cal['fraction_abs_t_within_2']:.1f}% "
        f"(95.4% if the standard errors are right).",
        *[f"- {name} checks: power {fam['caught']} of {fam['mutants']} mutants; false alarms "
          f"{fam['false_alarms']} of {fam['checks_run']} checks (95% upper bound "
          f"{100 * fam['false_alarm_upper_95']:.2f}%)." for name, fam in cal.get("families", {}).items()],
        *[f"- Angle/norm tolerance model {name}: {m['configurations']} configurations, {m['checks_run']} checks, "
          f"{m['false_alarms']} false alarms; cost {m['cost_width_seeds']} simulated width x seeds, "
          f"{m['simulation_s']:.0f} s of simulation."
          for name, m in cal.get("families", {}).get("angle", {}).get("models", {}).items()],
        f"- Derivative-kernel mutants: " + (
            f"judged by the Fisher contract (whole-FIM lambda_max and m_lambda, first-block m_lambda) on "
            f"{_fisher_networks(cal['settings']['fisher'])} with {cal['settings']['fisher']}; the correct theory's "
            f"checks on the same networks count among the checks above." if isinstance(cal['settings']['fisher'], dict)
            else f"{cal['settings']['fisher']}."),
        f"- Settings: width {cal['settings']['width']}, {cal['settings']['seeds']} seeds, "
        f"{cal['settings']['repeats']} repeats of the battery (depth, theta0) = {cal['settings']['battery']}; "
        f"{cal['elapsed_s']:.0f} s.", ""]
    missed = [m for m in cal["mutants"] if not m["caught"]]
    if missed:
        out.append("Mutants not caught: " + "; ".join(f"{m['architecture']}: {m['mutant']}" for m in missed) + ".")
        out.append("")
    return out


def _fisher_networks(fisher: dict) -> str:
    """Which networks a calibration's Fisher setting judges the derivative-kernel mutants on."""
    if fisher.get("sampler", "dense") == "projected":
        return ("networks drawn by the projected sampler (no weight matrix; the dense networks' law of the NTK "
                "Gram, held against dense networks in distribution by tests/test_fisher_projected.py)")
    return "dense networks"


def _rate_pointer(cal: dict) -> str:
    """What this run's calibration shows, and where the false-alarm rate per check is measured."""
    return (f"This run's calibration judges every mutant and counts the correct theory's false alarms on its "
            f"{cal['checks_run']} checks ({cal['settings']['repeats']} repeats of the battery): a count, not a "
            f"measurement of a rate of 0.1% per check. The rate is measured by `anglefish verify --calibrate "
            f"{RATE_REPEATS}` (>= 5000 checks; its result is in the README).")


def markdown(report: dict) -> str:
    checks = report["checks"]
    applicable = [c for c in checks if c["applicable"]]
    failed = [c for c in applicable if not c["passed"]]
    cal = report["calibration"]
    out = [f"# anglefish verification report ({report['mode']})", "",
           f"Consistency of theory and simulation: **{'PASS' if report['passed'] else 'FAIL'}** — "
           f"{len(applicable) - len(failed)} of {len(applicable)} checks passed"
           + (f" ({len(checks) - len(applicable)} not run: reasons in the table below; a check that cannot "
              "run is never counted as passed)" if len(checks) > len(applicable) else "")
           + f"; seed {report['seed']}; {report['elapsed_s']:.0f} s.", "",
           "Paper-claim verdicts below never change the exit status: a false claim is a finding.", "",
           "## How theory is held against simulation", "",
           f"Angles and norms are simulated with the exact Gram sampler, the contract suite's Fisher spectra on "
           f"dense networks (the calibration's derivative-kernel mutants on the networks named under Calibration). "
           f"A check passes when {report['tolerance_model']['rule']} (z for a two-sided false-alarm rate alpha = "
           f"{report['tolerance_model']['alpha']:g} per check). The finite-width (O(1/N)) theory removes the bias "
           "that grows like L/N where it is derived, valid and its remainder measured (each angle/norm check's "
           "details name the model it used and, for the extrapolation, why); elsewhere, and for the Fisher "
           "spectrum, the Richardson combination of widths N and 2N removes it and the allowance is measured "
           "from the same width doubling.", "",
           "## Calibration", "", *_calibration_section(cal), _rate_pointer(cal), ""]
    out += _claims_section(report["claims"])
    out += ["## Consistency checks", "", "| check | architecture | passed | statistic | tolerance | false-alarm rate | configuration |",
            "|---|---|---|---|---|---|---|"]
    for c in checks:
        d = c["details"]
        config = ", ".join(f"{k}={d[k]}" for k in ("depth", "theta0", "width", "seeds", "seeds_simulated", "model") if k in d)
        if not c["applicable"]:
            out.append(f"| {c['id']} | {c['architecture']} | not run | | | | {d.get('reason', '')} |")
            continue
        out.append(f"| {c['id']} | {c['architecture']} | {'yes' if c['passed'] else '**NO**'} | "
                   f"{c['statistic']:.3g} | {c['tolerance']:.3g} | {c['false_alarm_rate']:g} | {config} |")
    out += ["", "## Versions", "", ", ".join(f"{k} {v}" for k, v in report["versions"].items()), ""]
    return "\n".join(out)


def run_calibration(repeats: int, seed: int = 0, progress=None, workers: int | None = 1) -> dict:
    """The calibration alone with ``repeats`` batteries (verify --calibrate): the correct theory's
    false-alarm rate over repeats x 12 Monte Carlo configurations (2 checks each: angle and norm) at
    the full mode's width and seeds, with its Clopper-Pearson 95% upper bound, and the power against
    the angle mutants (judged on the first battery).  The units run on ``workers`` processes; the
    numbers do not depend on it."""
    t0 = time.perf_counter()
    cal = calibrate(width=FULL.calibration_width, seeds=FULL.calibration_seeds, repeats=repeats, seed=seed,
                    progress=progress, workers=workers).as_dict()
    return {"mode": f"calibration ({repeats} repeats)", "calibration": cal, "tolerance_model": describe_model(),
            "seed": seed, "versions": versions(), "elapsed_s": time.perf_counter() - t0,
            "workers": make_executor(workers).workers}


def calibration_markdown(report: dict) -> str:
    cal = report["calibration"]
    return "\n".join([f"# anglefish calibration ({cal['settings']['repeats']} repeats)", "",
                      f"Seed {report['seed']}; {report['workers']} worker(s).", "",
                      *_calibration_section(cal)]) + "\n"


def write_report(report: dict, directory, force: bool = False) -> list:
    from ..outputs import SafeWriter

    if str(report.get("mode", "")).startswith("calibration"):
        return SafeWriter(directory, force).write({"calibration.json": json.dumps(report, indent=2, default=str) + "\n",
                                                   "calibration.md": calibration_markdown(report)})
    return SafeWriter(directory, force).write({"report.json": json.dumps(report, indent=2, default=str) + "\n",
                                               "report.md": markdown(report)})
