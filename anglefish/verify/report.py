"""``anglefish verify``: run the contract suite on every registered architecture, judge the
published claims, calibrate the suite, and write report.md and report.json."""
from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass

from ..errors import AnglefishError
from ..theory.architectures import architectures
from .calibration import BATTERY, calibrate
from .claims import Settings, evaluate_claims
from .contracts import fisher_vs_dense, gram_vs_dense, monte_carlo_pair, symbolic_vs_numeric, theory_vs_gram
from .tolerance import DEFAULT_ALPHA, KAPPA


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


QUICK = Mode("quick", 512, 128, ((1, 0.4), (10, 1.0)), 800, 2, 1024, 256,
             dict(depth=3, width=128, samples=16, seeds=16), None)
FULL = Mode("full", 1024, 256, BATTERY, 3000, 100, 1024, 256,
            dict(depth=5, width=512, samples=32, seeds=32), dict(depth=12, width=256, samples=8, seeds=256))


def versions() -> dict:
    import mpmath
    import numpy
    import scipy
    import sympy

    from .. import __version__

    return {"anglefish": __version__, "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "sympy": sympy.__version__, "mpmath": mpmath.__version__}


def run_contracts(mode: Mode, seed: int, progress=None) -> list:
    """Every contract check on every registered architecture."""
    outcomes = []
    archs = list(architectures())
    steps = len(archs) * (3 + len(mode.configs))
    done = 0
    for name in archs:
        outcomes.append(symbolic_vs_numeric(name, seed=seed))
        done += 1
        for depth, theta0 in mode.configs:
            mc = monte_carlo_pair(name, depth, theta0, mode.width, mode.seeds, seed * 7919 + depth)
            outcomes.extend(theory_vs_gram(mc))
            done += 1
            if progress:
                progress(done, steps)
        outcomes.append(gram_vs_dense(name, seeds=mode.dense_seeds, seed=seed))
        done += 1
        outcomes.extend(fisher_vs_dense(name, **mode.fisher, seed=seed))
        done += 1
        if progress:
            progress(done, steps)
    return outcomes


def run_verification(mode: Mode = QUICK, seed: int = 0, progress=None) -> dict:
    t0 = time.perf_counter()
    say = progress or (lambda *a: None)
    say("contract suite", 0)
    checks = run_contracts(mode, seed, progress=lambda d, t: say("contract suite", d / t))
    say("claims", 0)
    settings = Settings(width=mode.width, seeds=mode.seeds, seed=seed, full=mode.name == "full")
    claim_rows = evaluate_claims(settings, progress=lambda d, t: say("claims", d / t))
    say("calibration", 0)
    cal = calibrate(width=mode.calibration_width, seeds=mode.calibration_seeds,
                    repeats=mode.calibration_repeats, seed=seed,
                    progress=lambda d, t: say("calibration", d / t), fisher=mode.calibration_fisher)
    applicable = [c for c in checks if c.applicable]
    return {
        "mode": mode.name,
        "passed": all(c.passed for c in applicable),
        "checks": [{"id": c.id, "architecture": c.architecture, "passed": c.passed, "statistic": c.statistic,
                    "tolerance": c.tolerance, "false_alarm_rate": c.false_alarm_rate,
                    "applicable": c.applicable, "details": c.details} for c in checks],
        "claims": [{"id": r["id"], "source": r["source"], "statement": r["statement"], "verdict": r["verdict"],
                    "evidence": r["evidence"], "quantity": r["quantity"], "method": r["method"]}
                   for r in claim_rows],
        "calibration": cal.as_dict(),
        "tolerance_model": {"alpha": DEFAULT_ALPHA, "kappa": KAPPA,
                            "rule": "|theory - (2 m(2N) - m(N))| <= z SE + kappa |m(2N) - m(N)|"},
        "seed": seed,
        "versions": versions(),
        "elapsed_s": time.perf_counter() - t0,
    }


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.4g}"
    return str(x)


def _evidence_lines(evidence: dict, indent="  ") -> list:
    lines = []
    for k, v in evidence.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            lines.append(f"{indent}- {k}:")
            for row in v:
                lines.append(f"{indent}  - " + ", ".join(f"{a} = {_fmt(b)}" for a, b in row.items()))
        elif isinstance(v, dict):
            lines.append(f"{indent}- {k}: " + ", ".join(f"{a} = {_fmt(b)}" for a, b in v.items()
                                                       if not isinstance(b, (dict, list))))
        else:
            lines.append(f"{indent}- {k}: {_fmt(v)}")
    return lines


def markdown(report: dict) -> str:
    checks = report["checks"]
    applicable = [c for c in checks if c["applicable"]]
    failed = [c for c in applicable if not c["passed"]]
    cal = report["calibration"]
    out = [f"# anglefish verification report ({report['mode']})", "",
           f"Consistency of theory and simulation: **{'PASS' if report['passed'] else 'FAIL'}** — "
           f"{len(applicable) - len(failed)} of {len(applicable)} checks passed"
           + (f" ({len(checks) - len(applicable)} not applicable)" if len(checks) > len(applicable) else "")
           + f"; seed {report['seed']}; {report['elapsed_s']:.0f} s.", "",
           "Paper-claim verdicts below never change the exit status: a false claim is a finding.", "",
           "## How theory is held against simulation", "",
           f"Each Monte Carlo check simulates at widths N and 2N (the exact Gram sampler for angles and norms, dense "
           f"networks for the Fisher spectrum) and passes when "
           f"{report['tolerance_model']['rule']} (z for a two-sided false-alarm rate alpha = "
           f"{report['tolerance_model']['alpha']:g} per check, kappa = {report['tolerance_model']['kappa']}). "
           "The Richardson combination removes the finite-width bias that grows like L/N; the allowance is "
           "measured from the same width doubling.", "",
           "## Calibration", "",
           f"- Power: {cal['caught']} of {len(cal['mutants'])} deliberately wrong theories caught "
           f"({100 * cal['power']:.1f}%; target >= 95%).",
           f"- False alarms under the correct theory: {cal['false_alarms']} of {cal['checks_run']} checks "
           f"({100 * cal['false_alarm_rate']:.2f}%; one-sided 95% upper bound {100 * cal['false_alarm_upper_95']:.2f}%; "
           f"target <= 0.1% per check).",
           f"- Standardised residuals |t| <= 2: {100 * cal['fraction_abs_t_within_2']:.1f}% "
           f"(95.4% if the standard errors are right).",
           f"- Derivative-kernel mutants: " + (
               f"judged by the Fisher contract (whole-FIM lambda_max and m_lambda, first-block m_lambda) on dense "
               f"networks with {cal['settings']['fisher']}; the correct theory's checks on the same networks count "
               f"among the checks above." if isinstance(cal['settings']['fisher'], dict)
               else f"{cal['settings']['fisher']}."),
           f"- Settings: width {cal['settings']['width']}, {cal['settings']['seeds']} seeds, "
           f"{cal['settings']['repeats']} repeats of the battery (depth, theta0) = {cal['settings']['battery']}; "
           f"{cal['elapsed_s']:.0f} s.", ""]
    missed = [m for m in cal["mutants"] if not m["caught"]]
    if missed:
        out.append("Mutants not caught: " + "; ".join(f"{m['architecture']}: {m['mutant']}" for m in missed) + ".")
        out.append("")
    out += ["## Published claims", "", "| claim | source | verdict |", "|---|---|---|"]
    for c in report["claims"]:
        out.append(f"| `{c['id']}` | {c['source']} | **{c['verdict']}** |")
    out.append("")
    for c in report["claims"]:
        out += [f"### {c['id']}: {c['verdict']}", "", f"*{c['statement']}* ({c['source']}; quantity: "
                f"{c['quantity']}; checked by {c['method']})", ""]
        out += _evidence_lines(c["evidence"]) + [""]
    out += ["## Consistency checks", "", "| check | architecture | passed | statistic | tolerance | false-alarm rate | configuration |",
            "|---|---|---|---|---|---|---|"]
    for c in checks:
        d = c["details"]
        config = ", ".join(f"{k}={d[k]}" for k in ("depth", "theta0", "width", "seeds") if k in d)
        if not c["applicable"]:
            out.append(f"| {c['id']} | {c['architecture']} | n/a | | | | {d.get('reason', '')} |")
            continue
        out.append(f"| {c['id']} | {c['architecture']} | {'yes' if c['passed'] else '**NO**'} | "
                   f"{c['statistic']:.3g} | {c['tolerance']:.3g} | {c['false_alarm_rate']:g} | {config} |")
    out += ["", "## Versions", "", ", ".join(f"{k} {v}" for k, v in report["versions"].items()), ""]
    return "\n".join(out)


def write_report(report: dict, directory, force: bool = False) -> list:
    from ..outputs import SafeWriter

    return SafeWriter(directory, force).write({"report.json": json.dumps(report, indent=2, default=str) + "\n",
                                               "report.md": markdown(report)})
