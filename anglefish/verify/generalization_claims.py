"""Verdicts on "skipping two layers makes the generalization gap smaller" (Furusho, Liu & Ikeda, INNS-BDDL 2019).

Entry point: :func:`generalization_claims(quick=True, seed=0, progress=None) -> list[dict]`
returns three claim result dicts, in the verdict schema of issue 11:

* ``resnet2-gap-smaller`` -- the paper's statement as a whole (its headline);
* ``resnet2-gap-smaller-linear`` -- the linear case, which the paper computed;
* ``resnet2-gap-smaller-relu`` -- "the applicability to the case with the ReLU activation".

Each dict: ``id``, ``source``, ``statement``, ``verdict``, ``reason`` (one sentence),
``condition``, ``counterexample``, ``true_law``, ``primary_reading`` ({reading, quantity, model,
regime}), ``readings`` (rows {reading, quantity, model, regime, verdict, evidence}; the first is
the primary), ``evidence``, ``quantity``, ``method``.  The headline verdict is the primary
reading's verdict and nothing else; the other readings are reported beside it.

Primary reading (the paper's words, literally): the generalization gap -- expected loss minus
empirical loss, l = (f - y)^2/2 -- of networks *trained to a global minimum* (the setting of the
stability theorem the paper invokes: Charles & Papailiopoulos 2018, algorithms converging to
global minima of a PL function) in the regime where that theorem's PL constant is set by a
full-rank input covariance, n >= d; linear networks (the case the paper computed) on the teacher
task.  For the ReLU claim the same words with ReLU networks after the step budget (they have no
closed-form global minimum; their training loss at the end is reported).

Other readings (rows, never promoted): linear n < d (GD's interpolant, chosen by its
initialisation); linear after a fixed budget of steps (finite time); the bound compared through
mu alone (1/(mu n), Lipschitz constants taken equal); the full stability bound
2 Lip^2/(mu (n-1)) at initialisation; ReLU n >= d and n < d; the digits task.

Judging one reading.  For each depth, the paired differences (same data per replicate) of the
reading's quantity, ResNet2 - ResNet1 and ResNet2 - MLP, over replicates: mean, SE, z = mean/SE.
A comparison at a depth is "smaller" if z < -Z, "larger" if z > Z, else "equal" (|z| <= Z); in the
converged n >= d readings a difference below CONVERGED_RTOL x the least-squares gap (0.1%) is
"equal" whatever its z (there the exact gaps are equal and what remains is optimisation error).
With Z = 3 the one-sided false-alarm rate is 0.13% per comparison, about 2% over the 14
comparisons of a 7-depth reading.  Where the exact theory proves the two quantities equal
(converged least squares, n >= d), an "equal" comparison contradicts "smaller".
  holds           -- both comparisons "smaller" at every depth;
  holds only if   -- both "smaller" at some depths, contradicted (some "larger", or "equal" where
                     theory proves equality) at others: condition = the depths where it holds;
  fails           -- nowhere both "smaller", and contradicted somewhere;
  not checkable   -- otherwise (differences within the noise, no theory of equality), or no
                     depth has usable evidence (e.g. none converged).
The two linear bound readings are judged on their exact laws at infinite width (a bound is a
theoretical quantity; ``theory_at``: 1/(mu n) = 1/(kappa1 mp_edge n), and the full bound whose
kappa1 cancels), with the finite-width measurement at initialisation reported beside
(``measured_verdict``); ``evidence['judged_on']`` names the rows a verdict comes from.
"""
from __future__ import annotations

import math

import numpy as np

SOURCE = ("Furusho, Liu & Ikeda, INNS-BDDL 2019, 'Skipping two layers in ResNet makes the generalization gap "
          "smaller than skipping one or no layer' (abstract; body unavailable)")
VERDICTS = ("holds", "holds with another rate", "holds only if", "fails", "ambiguous", "not checkable")
#: per-comparison threshold on z (one-sided false-alarm rate 0.13%)
Z = 3.0
#: a linear run counts as converged when every replicate's training loss is within this fraction of
#: the least-squares minimum's gap above that minimum (optimisation error negligible beside the gap)
CONVERGED_RTOL = 1e-3
#: n < d: converged when every replicate's training loss is below this fraction of its gap
INTERPOLATED_RTOL = 1e-3
STATEMENT = ("A ResNet whose skip spans two layers (ResNet2) has a smaller generalization gap (expected loss "
             "minus empirical loss) than one skipping one layer (ResNet1) or no layer (MLP)")
COMPARISONS = (("resnet1", "ResNet2 - ResNet1"), ("mlp", "ResNet2 - MLP"))


# ----------------------------------------------------------------------------- judging
def _stats(values) -> dict:
    """Mean, SE and z = mean/SE of paired differences (finite replicates only; nan below 2)."""
    from ..numeric.generalization import summarize

    out = summarize(values)
    mean, se = out["mean"], out["se"]
    if out["count"] < 2:
        return {"mean": math.nan, "se": math.nan, "z": math.nan, "count": out["count"]}
    if se == 0:
        z = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    else:
        z = mean / se
    return {"mean": mean, "se": se, "z": z, "count": out["count"]}


def classify(stat: dict, z_threshold: float = Z) -> str:
    """'smaller' | 'larger' | 'equal' for a paired difference ResNet2 - other ({"mean", "z"} and an
    optional equivalence ``margin``: a difference with |mean| <= margin is 'equal' whatever its z);
    'unknown' when z is nan."""
    z = stat["z"]
    if math.isnan(z):
        return "unknown"
    if abs(stat["mean"]) <= stat.get("margin", 0.0):
        return "equal"
    if z < -z_threshold:
        return "smaller"
    if z > z_threshold:
        return "larger"
    return "equal"


def judge(depth_rows: list, equal_by_theory: bool = False) -> dict:
    """The verdict of one reading from its per-depth comparisons (rule in the module docstring).

    depth_rows: [{"depth", "usable": bool, "vs": {"resnet1": {"z", ...}, "mlp": {"z", ...}}}, ...].
    Returns {"verdict", "holds_at", "contradicted_at", "condition", "counterexample"}.
    """
    usable = [r for r in depth_rows if r.get("usable", True)]
    holds_at, contra_at, worst = [], [], None
    for r in usable:
        cls = {k: classify(r["vs"][k]) for k, _ in COMPARISONS}
        r["classes"] = cls
        if all(c == "smaller" for c in cls.values()):
            holds_at.append(r["depth"])
        elif any(c == "larger" for c in cls.values()) or (equal_by_theory and any(c == "equal" for c in cls.values())):
            contra_at.append(r["depth"])
            if worst is None:
                worst = r
    if not usable:
        verdict = "not checkable"
    elif len(holds_at) == len(usable):
        verdict = "holds"
    elif holds_at and contra_at:
        verdict = "holds only if"
    elif contra_at:
        verdict = "fails"
    else:
        verdict = "not checkable"
    condition = f"depth L in {holds_at}" if verdict == "holds only if" else None
    counterexample = None
    if worst is not None and verdict in ("holds only if", "fails"):
        counterexample = {"depth": worst["depth"], **{f"{k}": {"difference": worst["vs"][k]["mean"],
                                                               "se": worst["vs"][k]["se"], "z": worst["vs"][k]["z"],
                                                               "class": worst["classes"][k]} for k, _ in COMPARISONS}}
    return {"verdict": verdict, "holds_at": holds_at, "contradicted_at": contra_at, "condition": condition,
            "counterexample": counterexample}


# ----------------------------------------------------------------------------- evidence from a study
def _value(run: dict, key: str):
    if key == "gap_budget":
        return run["gap"]
    if key == "inverse_mu":
        return np.log(1.0 / run["mu"])
    if key == "log_bound":
        return np.log(run["bound"])
    return run.get(key)


def _converged(run: dict, n: int, dim: int):
    """(usable, measure) for the 'trained to convergence' readings."""
    if n >= dim and "opt_error" in run:
        opt = np.max(np.abs(run["opt_error"]))
        return bool(opt <= CONVERGED_RTOL * abs(np.mean(run["ls_gap"]))), float(opt)
    ratio = float(np.max(run["train"] / np.maximum(np.abs(run["gap"]), 1e-300)))
    return bool(ratio <= INTERPOLATED_RTOL), ratio


def reading_rows(result: dict, activation: str, n: int, key: str, require_converged: bool) -> list:
    """Per depth: the reading's values per kind (mean/CI) and the paired comparisons."""
    from ..numeric.generalization import find_run, summarize

    dim = result["task"]["dim"]
    rows = []
    for depth in result["settings"]["depths"]:
        runs = {k: find_run(result, activation, k, depth, n) for k in ("mlp", "resnet1", "resnet2")}
        values = {k: np.asarray(_value(r, key), dtype=np.float64) for k, r in runs.items()}
        row = {"depth": int(depth), "usable": True,
               "values": {k: summarize(v) for k, v in values.items()},
               "vs": {k: _stats(values["resnet2"] - values[k]) for k, _ in COMPARISONS}}
        if require_converged:
            flags = {k: _converged(r, n, dim) for k, r in runs.items()}
            row["converged"] = {k: f[0] for k, f in flags.items()}
            row["convergence_measure"] = {k: f[1] for k, f in flags.items()}
            row["usable"] = all(f[0] for f in flags.values())
            if "ls_gap" in runs["mlp"]:
                # at a global minimum the gaps are equal exactly; what is left is optimisation error
                margin = CONVERGED_RTOL * abs(float(np.mean(runs["mlp"]["ls_gap"])))
                for k, _ in COMPARISONS:
                    row["vs"][k]["margin"] = margin
        if activation == "linear" and key in ("gap", "gap_budget"):
            if "ls_gap" in runs["mlp"]:
                row["exact_least_squares_gap"] = {k: summarize(r["ls_gap"]) for k, r in runs.items()}
                row["exact_max_abs_difference"] = float(max(np.max(np.abs(runs["resnet2"]["ls_gap"] - runs[k]["ls_gap"]))
                                                            for k in ("mlp", "resnet1")))
            if "lazy_gap" in runs["mlp"]:
                row["lazy_gap_initial_metric"] = {k: summarize(r["lazy_gap"]) for k, r in runs.items()}
        if key == "inverse_mu":
            row["mu"] = {k: summarize(r["mu"]) for k, r in runs.items()}
        if key == "log_bound":
            row["bound"] = {k: summarize(r["bound"]) for k, r in runs.items()}
        rows.append(row)
    return rows


def _theory_rows(result: dict, n: int) -> list:
    """The laws at the study's numbers (linear architectures): q_L, kappa1, mu, bounds, exact gap."""
    from ..theory.generalization import gap_architecture, theory_at

    t = result["task"]
    out = []
    for depth in result["settings"]["depths"]:
        row = {"depth": int(depth)}
        for k in ("mlp", "resnet1", "resnet2"):
            row[k] = theory_at(gap_architecture(k, "linear"), depth, n, t["dim"], t["noise_var"] or 0.0,
                               t["teacher_norm2"] or 0.0)
        out.append(row)
    return out


READINGS = {
    # name: (activation, which n, quantity key, require convergence, equal by theory, quantity text, regime)
    "linear, trained to convergence, n >= d": ("linear", "above", "gap", True, True,
                                               "gap = expected - empirical loss", "GD to a global minimum, n >= d"),
    "linear, trained to convergence, n < d": ("linear", "below", "gap", True, False,
                                              "gap = expected - empirical loss (training loss ~ 0)",
                                              "GD to interpolation from the standard initialisation, n < d"),
    "linear, fixed step budget, n >= d": ("linear", "above", "gap_budget", False, False,
                                          "gap after the step budget", "finite time: a fixed number of GD steps"),
    "linear, PL constant alone: 1/(mu n)": ("linear", "above", "inverse_mu", False, False,
                                            "log(1/mu), mu = lambda_min+(K/n) at initialisation",
                                            "stability bound compared through mu (Lipschitz constants equal)"),
    "linear, full stability bound 2 Lip^2/(mu (n-1))": ("linear", "above", "log_bound", False, False,
                                                        "log of the bound at initialisation",
                                                        "Charles & Papailiopoulos bound at initialisation"),
    "ReLU, after the step budget, n >= d": ("relu", "above", "gap_budget", False, False,
                                            "gap after the step budget", "GD, fixed number of steps, n >= d"),
    "ReLU, after the step budget, n < d": ("relu", "below", "gap_budget", False, False,
                                           "gap after the step budget", "GD, fixed number of steps, n < d"),
    "ReLU, PL constant alone: 1/(mu n)": ("relu", "above", "inverse_mu", False, False,
                                          "log(1/mu) at initialisation", "stability bound compared through mu"),
}


#: readings judged on their exact law at infinite width (the theory_at key), linear teacher task only
THEORY_JUDGED = {"inverse_mu": "mu_only_bound", "log_bound": "bound"}


def _exact_stat(a: float, b: float) -> dict:
    """A difference of two exact numbers in the shape of a paired statistic (z = +-inf or 0)."""
    diff = a - b
    if abs(diff) <= 1e-12 * max(abs(a), abs(b)):
        return {"mean": 0.0, "se": 0.0, "z": 0.0}
    return {"mean": diff, "se": 0.0, "z": math.copysign(math.inf, diff)}


def evaluate_reading(result: dict, name: str, task_label: str = "teacher") -> dict:
    activation, which, key, converged, equal, quantity, regime = READINGS[name]
    ns = sorted(int(v) for v in result["settings"]["ns"])
    dim = result["task"]["dim"]
    pick = [v for v in ns if (v >= dim if which == "above" else v < dim)]
    if not pick:
        return {"reading": f"{name} ({task_label})", "quantity": quantity, "model": activation, "regime": regime,
                "verdict": "not checkable", "evidence": {"why": f"no sample size {which} d = {dim} in this study"}}
    n = pick[-1] if which == "above" else pick[0]
    rows = reading_rows(result, activation, n, key, converged)
    j = judge(rows, equal_by_theory=equal and task_label in ("teacher", "digits"))
    evidence = {"task": task_label, "n": n, "d": dim, "seeds": result["settings"]["seeds"],
                "steps": result["settings"]["steps"], "z_threshold": Z, "per_depth": rows,
                "judged_on": "per_depth", "holds_at": j["holds_at"], "contradicted_at": j["contradicted_at"],
                "unusable_depths": [r["depth"] for r in rows if not r["usable"]]}
    if activation == "linear" and task_label == "teacher":
        evidence["theory"] = _theory_rows(result, n)
        if key in THEORY_JUDGED:
            # a bound is a theoretical quantity: judged on its exact law (N = oo); the finite-width
            # measurement is reported beside it
            law = THEORY_JUDGED[key]
            exact = [{"depth": t["depth"], "usable": True,
                      "vs": {k: _exact_stat(t["resnet2"][law], t[k][law]) for k, _ in COMPARISONS}}
                     for t in evidence["theory"]]
            evidence.update(per_depth_theory=exact, judged_on="per_depth_theory", measured_verdict=j["verdict"],
                            measured_holds_at=j["holds_at"], measured_contradicted_at=j["contradicted_at"])
            j = judge(exact)
            evidence.update(holds_at=j["holds_at"], contradicted_at=j["contradicted_at"])
    return {"reading": f"{name} ({task_label})", "quantity": quantity, "model": activation, "regime": regime,
            "verdict": j["verdict"], "condition": j["condition"], "counterexample": j["counterexample"],
            "evidence": evidence}


# ----------------------------------------------------------------------------- the claims
def _reason(primary: dict) -> str:
    ev = primary["evidence"]
    v = primary["verdict"]
    rows = [r for r in ev.get("per_depth", []) if r["usable"]]
    if v == "not checkable":
        return (f"{primary['reading']}: no depth gives usable evidence "
                f"({ev.get('why') or 'no run converged within the step budget'}).")
    diffs = ", ".join(f"L={r['depth']}: {r['vs']['resnet1']['mean']:+.2g} / {r['vs']['mlp']['mean']:+.2g}"
                      for r in rows[:3])
    if v == "fails" and "exact_least_squares_gap" in (rows[0] if rows else {}):
        gap = rows[0]["exact_least_squares_gap"]["mlp"]["mean"]
        return (f"At a global minimum with n >= d every linear parametrisation realises the same least-squares map, "
                f"so the three gaps are equal; where GD reached it (L = {[r['depth'] for r in rows]}) the measured "
                f"differences ResNet2 - ResNet1 / ResNet2 - MLP are {diffs} beside a gap of {gap:.3g}, "
                f"so ResNet2's gap is not smaller.")
    return f"{primary['reading']}: ResNet2 - ResNet1 / ResNet2 - MLP {diffs}; verdict by the z > {Z:g} rule."


def _claim(cid: str, statement: str, readings: list, method: str) -> dict:
    primary = readings[0]
    return {
        "id": cid, "source": SOURCE, "statement": statement, "verdict": primary["verdict"],
        "reason": _reason(primary), "condition": primary.get("condition"),
        "counterexample": primary.get("counterexample"), "true_law": None,
        "primary_reading": {k: primary[k] for k in ("reading", "quantity", "model", "regime")},
        "readings": [{**{k: r[k] for k in ("reading", "quantity", "model", "regime", "verdict")},
                      "why": _reason(r), "condition": r.get("condition"), "counterexample": r.get("counterexample"),
                      "true_law": None,
                      "evidence": {**r["evidence"], "condition": r.get("condition"),
                                   "counterexample": r.get("counterexample")}} for r in readings],
        "evidence": {"readings": {r["reading"]: r["verdict"] for r in readings},
                     "primary_verdict_rule": "headline verdict = primary reading's verdict"},
        "quantity": primary["quantity"], "method": method,
    }


def _digits_overrides(quick: bool) -> dict:
    """The digits study's settings: the teacher study's at the largest n only (the n >= d readings)."""
    from ..numeric.generalization import FULL, QUICK

    s = dict(FULL)
    if quick:
        s.update(QUICK)
    return {"task": "digits", "ns": [max(s["ns"])]}


def generalization_claim_units(quick: bool = True, seed: int = 0) -> list:
    """The units of work of :func:`generalization_claims`: the runs of its teacher and digits studies."""
    from ..numeric.generalization import gap_study_units

    return gap_study_units(quick, seed) + gap_study_units(quick, seed, **_digits_overrides(quick))


def generalization_claims(quick: bool = True, seed: int = 0, progress=None) -> list[dict]:
    """The three claim result dicts (module docstring), from one teacher study and one digits study
    (the digits study at the largest n only).

    quick: the small settings of :data:`anglefish.numeric.generalization.QUICK` (seconds); else
    ``FULL`` (minutes).  seed: master seed of both studies.  progress(done, total) is called
    after every training run (teacher runs first, then digits).
    """
    from ..numeric.generalization import FULL, QUICK, gap_study

    s = dict(FULL)
    if quick:
        s.update(QUICK)
    units = len(s["activations"]) * len(s["kinds"]) * len(s["depths"]) * len(s["ns"])
    total = units + units // len(s["ns"])

    def tick(offset):
        return None if progress is None else (lambda i, _: progress(offset + i, total))

    teacher = gap_study(quick=quick, seed=seed, progress=tick(0))
    digits = gap_study(quick=quick, seed=seed, progress=tick(units), **_digits_overrides(quick))
    linear_names = ["linear, trained to convergence, n >= d", "linear, trained to convergence, n < d",
                    "linear, fixed step budget, n >= d", "linear, PL constant alone: 1/(mu n)",
                    "linear, full stability bound 2 Lip^2/(mu (n-1))"]
    relu_names = ["ReLU, after the step budget, n >= d", "ReLU, after the step budget, n < d",
                  "ReLU, PL constant alone: 1/(mu n)"]
    linear = [evaluate_reading(teacher, r) for r in linear_names]
    linear += [evaluate_reading(digits, linear_names[0], "digits")]
    relu = [evaluate_reading(teacher, r) for r in relu_names]
    relu += [evaluate_reading(digits, relu_names[0], "digits")]
    method = (f"full-batch GD of {s['seeds']} paired replicates per (architecture, depth, n), depths {s['depths']}, "
              f"d = N = {s['dim']}, n in {s['ns']}, {s['steps']} steps at eta = {s['lr_factor']}/lambda_max(K/n); "
              "exact least squares and the linearised dynamics beside")
    headline = _claim("resnet2-gap-smaller", STATEMENT, linear + relu, method)
    return [headline,
            _claim("resnet2-gap-smaller-linear", STATEMENT + " -- linear networks (the case the paper computed)",
                   linear, method),
            _claim("resnet2-gap-smaller-relu", STATEMENT + " -- ReLU networks (the paper's experiments)", relu, method)]


__all__ = ["VERDICTS", "Z", "READINGS", "classify", "judge", "evaluate_reading", "generalization_claim_units",
           "generalization_claims"]
