"""Checks of the Fisher spectrum's moments and bounds against sampled networks, their
calibration against kappa2 mutants, and the JSON-ready report the CLI prints.

Checks (each a :class:`anglefish.verify.contracts.CheckOutcome` with its false-alarm rate):

* ``s_lambda_vs_dense``: sigma = s_lambda P / N^2 = ||K||_F^2 / (T N)^2 (O(1) at large width;
  N -> oo value [kappa1^2 + (T-1) kappa2^2] / T) against the exact spectra of dense networks
  at widths N and 2N, by the width-extrapolated tolerance model (:mod:`.tolerance`).
  False-alarm rate <= alpha (Gaussian seed means; the allowance only widens the interval).
* ``concentration_vs_dense``: the same for s_lambda / (P m_lambda^2) = ||K||_F^2 / (tr K)^2,
  i.e. s_lambda normalised by the squared mean eigenvalue.  The network's common scale (the
  readout norm, ...) cancels, so it has 3-10x less spread over networks than s_lambda and
  reacts to kappa2 the same way.  False-alarm rate <= alpha.
* ``s_lambda_finite_width`` (first block of MLP-type architectures, where E s_lambda is derived
  to O(1/N)): a plain z SE check at width 2N with the derived bias.  False-alarm rate <= alpha
  up to the O((L/N)^2) remainder of the expansion.
* ``sample_bounds_each_network``: every network's lambda_max between its own sample bounds.
  Deterministic (false-alarm rate 0).
* ``theory_bounds_bracket_mean``: every theory bound that applies to E lambda_max satisfies
  lower <= mean + z SE and upper >= mean - z SE (one-sided, alpha/2 each).  The theory bounds
  are evaluated on the infinite-width Gram, so they bound the finite-width mean only up to the
  O(L/N) corrections of E K (measured consistent with 0); a failure at small N is a
  finite-width finding, not a false alarm of the statistics.

Mutants: kappa2 scaled by a few percent (``MUTANT_SCALES``) in the theory of s_lambda and the
concentration; :func:`calibrate_spectrum` reports how often each is caught and the false-alarm
rate of the correct theory on the same networks.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..errors import AnglefishError
from ..theory.architectures import get_architecture
from ..theory.spectrum import normalise_selection, selection, spectrum_theory
from .calibration import clopper_pearson_upper
from .contracts import CheckOutcome, _not_run
from .tolerance import (
    DEFAULT_ALPHA,
    Estimate,
    plain_check,
    width_extrapolated_check,
    z_for,
)

#: kappa2 mutants of the calibration
MUTANT_SCALES = (0.95, 0.98, 1.02, 1.05)
#: the calibration battery: (architecture, depth, width N, samples T, selection, seeds per width)
#: (shallow and with many networks: the spread of s_lambda over networks grows like sqrt(L/N), and the
#: kappa2 mutants move s_lambda by 2 x scale-change x the kappa2 share of [kappa1^2 + (T-1) kappa2^2])
CALIBRATION_BATTERY = (("mlp", 1, 128, 64, "all", 512), ("resnet", 1, 128, 64, "all", 512),
                       ("resnet-bn", 2, 128, 64, "all", 512), ("resnet-bn", 2, 128, 64, "layer:last", 512))


def spectrum_mc_pair(arch, depth: int, width: int, samples: int, seeds: int, params: str = "all",
                     seed: int = 0) -> dict:
    """:func:`anglefish.numeric.spectrum.spectrum_mc` at widths N and 2N (seeds 2 seed, 2 seed + 1)."""
    from ..numeric.spectrum import spectrum_mc

    return {n: spectrum_mc(arch, depth, n, samples, seeds, params, seed=2 * seed + k)
            for k, n in enumerate((width, 2 * width))}


def _sigma(mc: dict) -> Estimate:
    """sigma = s_lambda P / N^2 with its SE, from one width's Monte Carlo."""
    f = mc["n_params"] / mc["width"] ** 2
    return Estimate(mc["s_lambda"] * f, mc["s_lambda_se"] * f, mc["width"])


def s_lambda_checks(arch, depth: int, width: int, samples: int, seeds: int, params: str = "all", seed: int = 0,
                    alpha: float = DEFAULT_ALPHA, kappa2_scale: float = 1.0, mc: dict | None = None,
                    theory: dict | None = None) -> list:
    """``s_lambda_vs_dense``, ``concentration_vs_dense`` and (where derived)
    ``s_lambda_finite_width``; ``mc`` from :func:`spectrum_mc_pair` lets several theories be
    judged on the same networks; ``kappa2_scale`` != 1 judges a mutant."""
    arch = get_architecture(arch)
    params = normalise_selection(params)
    selection(params, depth)
    if mc is None:
        mc = spectrum_mc_pair(arch, depth, width, samples, seeds, params, seed)
    if theory is None:
        theory = spectrum_theory(arch, depth, width, samples, params, kappa2_scale=kappa2_scale)
    k1, k2, t = theory["kappa1"], theory["kappa2"], samples
    small, large = mc[width], mc[2 * width]
    base = {"depth": depth, "width": width, "samples": samples, "seeds": seeds, "params": params,
            "kappa2_scale": kappa2_scale}
    out = []
    sigma_theory = (k1 * k1 + (t - 1) * k2 * k2) / t
    r = width_extrapolated_check(sigma_theory, _sigma(small), _sigma(large), alpha=alpha)
    out.append(CheckOutcome("s_lambda_vs_dense", arch.name, r.passed, r.statistic, r.tolerance, alpha, details={
        **base, "quantity": "s_lambda P / N^2 (N -> oo: [kappa1^2 + (T-1) kappa2^2] / T)", "theory": sigma_theory,
        "extrapolated": r.extrapolated, "se": r.se, "allowance": r.allowance,
        "mc": [_sigma(small).mean, _sigma(large).mean]}))
    conc_theory = theory["concentration"]
    est = [Estimate(m["concentration"], m["concentration_se"], m["width"]) for m in (small, large)]
    r = width_extrapolated_check(conc_theory, est[0], est[1], alpha=alpha)
    out.append(CheckOutcome("concentration_vs_dense", arch.name, r.passed, r.statistic, r.tolerance, alpha, details={
        **base, "quantity": "s_lambda / (P m_lambda^2) = ||K||_F^2 / (tr K)^2", "theory": conc_theory,
        "extrapolated": r.extrapolated, "se": r.se, "allowance": r.allowance, "mc": [e.mean for e in est]}))
    if kappa2_scale == 1.0:
        fin = spectrum_theory(arch, depth, 2 * width, samples, params)["s_lambda_finite"]
        if fin is None:
            out.append(_not_run("s_lambda_finite_width", arch.name,
                                       "E s_lambda to O(1/N) is derived only for the first block of MLP-type "
                                       "architectures"))
        else:
            r = plain_check(fin, Estimate(large["s_lambda"], large["s_lambda_se"], 2 * width), alpha=alpha)
            out.append(CheckOutcome("s_lambda_finite_width", arch.name, r.passed, r.statistic, r.tolerance, alpha,
                                    details={**base, "theory": fin, "mc": large["s_lambda"], "se": r.se,
                                             "quantity": "s_lambda at width 2N with the derived O(1/N) terms"}))
    return out


def bounds_checks(mc: dict, theory: dict, alpha: float = DEFAULT_ALPHA) -> list:
    """``sample_bounds_each_network`` (deterministic) and ``theory_bounds_bracket_mean`` for one
    width's Monte Carlo (:func:`anglefish.numeric.spectrum.spectrum_mc`) and theory
    (:func:`anglefish.theory.spectrum.spectrum_theory` at the same N, T)."""
    name = mc["architecture"]
    check = mc["bounds_check"]
    worst = min(v["worst_margin"] for k, v in check.items() if k != "passed")
    config = {"depth": mc["depth"], "width": mc["width"], "samples": mc["samples"], "seeds": mc["seeds"],
              "params": mc["params"]}
    out = [CheckOutcome("sample_bounds_each_network", name, check["passed"], -worst, 0.0, 0.0,
                        details={**config, "violations": {k: v["violations"] for k, v in check.items() if k != "passed"},
                                 "statistic_is": "minus the smallest relative slack over bounds and networks"})]
    if theory is None:
        return out + [_not_run("theory_bounds_bracket_mean", name, "no infinite-width theory for this network")]
    if not _finite(mc["lambda_max"]):
        return out + [_not_run("theory_bounds_bracket_mean", name, "the measured lambda_max is outside the float64 "
                                                                   "range")]
    z = z_for(alpha)
    mean, se = mc["lambda_max"], mc["lambda_max_se"]
    se = 0.0 if not math.isfinite(se) else se
    failed, slack = [], {}
    for b in theory["bounds"]:
        if b.applies_to != "E lambda_max" or b.value is None:
            continue
        gap = (mean + z * se - b.value) if b.kind == "lower" else (b.value - (mean - z * se))
        slack[b.name] = gap
        if gap < 0:
            failed.append(b.name)
    out.append(CheckOutcome("theory_bounds_bracket_mean", name, not failed, float(len(failed)), 0.0, alpha,
                            details={**config, "mc_lambda_max": mean, "se": se, "z": z, "failed": failed,
                                     "slack": slack, "statistic_is": "number of theory bounds violated"}))
    return out


def calibrate_spectrum(battery=CALIBRATION_BATTERY, repeats: int = 4, seed: int = 0, alpha: float = DEFAULT_ALPHA,
                       scales=MUTANT_SCALES, progress=None) -> dict:
    """Power against kappa2 mutants and the false-alarm rate of the correct theory.

    For every configuration of ``battery`` and every repeat (master seeds seed, seed + 1, ...),
    dense networks are sampled once at N and 2N; the correct theory and every mutant (kappa2 x
    scale) are judged on the same numbers.  A mutant is caught in a repeat when a check fails;
    its power is the fraction of (configuration, repeat) trials caught, per check and by the
    battery (any check).  Configurations with kappa2 = 0 are skipped (a kappa2 mutant is the
    correct theory there)."""
    t0 = time.perf_counter()
    trials = {s: {"s_lambda_vs_dense": 0, "concentration_vs_dense": 0, "any": 0} for s in scales}
    n_trials, null_checks, null_failures, ts = 0, 0, 0, []
    skipped, null_failed = [], []
    total = len(battery) * repeats
    done = 0
    for arch, depth, width, samples, params, seeds in battery:
        base = spectrum_theory(arch, depth, width, samples, params, input_terms=False)
        if base["kappa2"] == 0:
            skipped.append(f"{arch} {params} L={depth}: kappa2 = 0")
            continue
        for r in range(repeats):
            mc = spectrum_mc_pair(arch, depth, width, samples, seeds, params, seed=1000 * (seed + r) + done)
            for o in s_lambda_checks(arch, depth, width, samples, seeds, params, alpha=alpha, mc=mc):
                if not o.applicable:
                    continue
                null_checks += 1
                null_failures += not o.passed
                if not o.passed:
                    null_failed.append(f"{o.id} {arch} {params} L={depth} repeat {r}")
                if o.details.get("se", 0) > 0 and "extrapolated" in o.details:
                    ts.append((o.details["theory"] - o.details["extrapolated"]) / o.details["se"])
            n_trials += 1
            for s in scales:
                th = spectrum_theory(arch, depth, width, samples, params, kappa2_scale=s, input_terms=False)
                outs = s_lambda_checks(arch, depth, width, samples, seeds, params, alpha=alpha, kappa2_scale=s,
                                       mc=mc, theory=th)
                caught = [o.id for o in outs if o.applicable and not o.passed]
                for cid in ("s_lambda_vs_dense", "concentration_vs_dense"):
                    trials[s][cid] += cid in caught
                trials[s]["any"] += bool(caught)
            done += 1
            if progress is not None:
                progress(done, total)
    power = {f"kappa2 x {s:g}": {k: v / n_trials for k, v in row.items()} for s, row in trials.items()} \
        if n_trials else {}
    ts = np.asarray(ts)
    return {"power": power, "trials_per_mutant": n_trials, "false_alarms": null_failures, "checks_run": null_checks,
            "false_alarm_rate": null_failures / null_checks if null_checks else float("nan"),
            "false_alarm_upper_95": clopper_pearson_upper(null_failures, null_checks),
            "false_alarm_checks": null_failed,
            "fraction_abs_t_within_2": float(np.mean(np.abs(ts) <= 2)) if ts.size else float("nan"),
            "nominal_fraction_within_2": 0.9545, "skipped": skipped, "elapsed_s": time.perf_counter() - t0,
            "settings": {"battery": [list(b) for b in battery], "repeats": repeats, "seed": seed, "alpha": alpha,
                         "scales": list(scales)}}


# ------------------------------------------------------------------ the bulk edge against simulation
#: the grid of the bulk-edge comparison (kappa2 = 0: the MLP's first block)
EDGE_WIDTHS = (64, 256, 1024, 2048)
EDGE_SAMPLES = (8, 32, 128, 512)


def bulk_edge_sweep(arch: str = "mlp", depths=(1, 4), widths=EDGE_WIDTHS, samples=EDGE_SAMPLES,
                    params: str = "layer:first", networks: int = 2**15, draws: int = 32, seed: int = 0,
                    progress=None) -> list:
    """The measured mean lambda_max of the first block against the derived bulk edge (N, T -> oo),
    its finite-width reduced model, the N -> oo value N kappa1 / T and the naive MP edge
    kappa1 (1 + sqrt(T/N))^2 N/T, on a grid of depth, width N and number of inputs T.  At each grid
    point max(6, min(32, networks // N)) networks are sampled.  One row per point with the ratios
    to the measurement."""
    from ..numeric.spectrum import bulk_edge_prediction, spectrum_mc

    rows = []
    grid = [(d, n, t) for d in depths for n in widths for t in samples]
    for i, (depth, n, t) in enumerate(grid):
        seeds = max(6, min(32, networks // n))
        mc = spectrum_mc(arch, depth, n, t, seeds, params, seed=seed + i)
        e = bulk_edge_prediction(arch, depth, n, t, params, draws=draws, seed=seed + i)
        m = mc["lambda_max"]
        rows.append({"depth": depth, "width": n, "samples": t, "ratio_T_over_N": t / n, "networks": seeds,
                     "lambda_max_mc": m, "lambda_max_se": mc["lambda_max_se"], "model": e["model"],
                     "model_se": e["model_se"], "edge": e["edge"], "naive_mp": e["naive_mp"],
                     "infinite_width": e["infinite_width"], "model_over_mc": e["model"] / m,
                     "edge_over_mc": e["edge"] / m, "naive_over_mc": e["naive_mp"] / m,
                     "infinite_over_mc": e["infinite_width"] / m, "sigma_d2": e["sigma_d2"]})
        if progress is not None:
            progress(rows[-1])
    return rows


# ------------------------------------------------------------------ the JSON-ready report for the CLI
def _theory_summary(theory: dict) -> dict:
    keys = ("kappa1", "kappa2", "n_params", "m_lambda", "s_lambda", "s_lambda_finite", "concentration",
            "lambda_max", "limit")
    return {k: theory.get(k) for k in keys}


def bounds_object(theory: dict | None, mc: dict | None = None) -> dict:
    """{name: {"value", "inequality", "kind", "from", "applies_to"[, "note"]}} for the theory bounds
    (keys ``<name>_theory``; none when ``theory`` is None) and, with ``mc``, the sample bounds
    (keys ``<name>_sample``)."""
    from ..numeric.spectrum import sample_bound_objects

    out = {} if theory is None else {f"{b.name}_theory": b.as_json() for b in theory["bounds"]}
    if mc is not None:
        out.update({f"{b.name}_sample": b.as_json() for b in sample_bound_objects(mc)})
    return out


def _finite(*values) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def fisher_bounds_report(arch, depth: int, width: int, samples: int, seeds: int, params: str = "all",
                         seed: int = 0, alpha: float = DEFAULT_ALPHA, check_width: bool = True,
                         edge_draws: int = 64, mc: dict | None = None, sampler: str = "projected",
                         bn: str | None = None, progress=None) -> dict:
    """What ``anglefish fisher`` prints about the spectrum's moments and bounds (JSON-ready).

    ``theory``: m_lambda, s_lambda, concentration, lambda_max at N -> oo (and s_lambda to O(1/N)
    where derived), or None with ``theory_note`` where the theory does not exist (batch BN) ;
    ``mc``: the same measured on ``seeds`` networks (mean, SE); ``bounds``: the named bounds
    (:func:`bounds_object`); ``edge``: where kappa2 = 0 and it is derived, the bulk edge (N, T ->
    oo) and its finite-width reduced model against the measured lambda_max; ``checks``: the bound
    checks and, with ``check_width``, the s_lambda checks, which sample ``seeds`` more networks at
    width N/2 (master seed ``seed + 1``) for the width-extrapolated tolerance model (not run, with
    the reason, for odd N or N < 4).  ``mc``: a :func:`anglefish.numeric.spectrum.spectrum_summary`
    of networks already sampled at width N (else they are sampled here with ``sampler``);
    ``progress(done, total)`` follows the networks sampled here.  A check whose theory or
    measurement is outside the float64 range is not run (the reason is given).  Every theory bound
    in ``bounds`` carries ``mc_consistent``: for a bound on E lambda_max, whether the measured mean
    satisfies it within z SE (lower <= mean + z SE, upper >= mean - z SE; one-sided at alpha/2, as
    ``theory_bounds_bracket_mean``); null with a note for bounds of the infinite-width Gram only."""
    from ..numeric.spectrum import bulk_edge_prediction, spectrum_mc

    arch = get_architecture(arch)
    params = normalise_selection(params)
    if mc is None:
        mc = spectrum_mc(arch, depth, width, samples, seeds, params, seed=seed, sampler=sampler, bn=bn,
                         progress=progress)
    theory, why = None, None
    if arch.uses_batch_bn(bn):
        why = "batch-statistics BN has no infinite-width theory (no closed kernel map)"
    else:
        try:
            theory = spectrum_theory(arch, depth, width, samples, params)
        except AnglefishError as err:
            why = str(err)
    out = {"architecture": arch.name, "depth": depth, "width": width, "samples": samples, "seeds": seeds,
           "seed": seed, "params": params, "sampler": mc.get("sampler", sampler),
           "theory": None if theory is None else _theory_summary(theory),
           "mc": {k: mc[k] for k in ("lambda_max", "lambda_max_se", "m_lambda", "m_lambda_se", "s_lambda",
                                     "s_lambda_se", "concentration", "concentration_se")},
           "bounds": bounds_object(theory, mc), "edge": None}
    if why:
        out["theory_note"] = why
    checks = bounds_checks(mc, theory, alpha)
    name = arch.name
    width_ids = ("s_lambda_vs_dense", "concentration_vs_dense")
    if not check_width:
        pass
    elif theory is None:
        checks += [_not_run(c, name, why) for c in width_ids]
    elif width % 2 or width < 4:
        checks += [_not_run(c, name, f"the width-extrapolated check samples width N/2 as well: it needs an even "
                                     f"width >= 4, got {width}") for c in width_ids]
    elif not _finite(theory["s_lambda"], theory["concentration"], mc["s_lambda"], mc["concentration"]):
        checks += [_not_run(c, name, "s_lambda of the theory or of the networks is outside the float64 range")
                   for c in width_ids]
    else:
        half = spectrum_mc(arch, depth, width // 2, samples, seeds, params, seed=seed + 1,
                           sampler=mc.get("sampler", sampler), bn=bn, progress=progress)
        checks += s_lambda_checks(arch, depth, width // 2, samples, seeds, params, alpha=alpha,
                                  mc={width // 2: half, width: mc})
    out["checks"] = [c.as_dict() for c in checks]
    bracket = next(c for c in checks if c.id == "theory_bounds_bracket_mean")
    for key, b in out["bounds"].items():
        if b["from"] != "theory":
            continue
        if b["applies_to"] != "E lambda_max":
            b["mc_consistent"] = None
            b["mc_consistent_note"] = "not compared: it bounds lambda_max of the infinite-width Gram only"
        elif bracket.applicable and key[:-len("_theory")] in bracket.details["slack"]:
            b["mc_consistent"] = bool(bracket.details["slack"][key[:-len("_theory")]] >= 0)
        else:
            b["mc_consistent"] = None
            b["mc_consistent_note"] = bracket.details.get("reason", "no value")
    try:
        edge = bulk_edge_prediction(arch, depth, width, samples, params, draws=edge_draws, seed=seed)
    except AnglefishError as err:
        out["edge_note"] = str(err)
    else:
        out["edge"] = {k: edge[k] for k in ("edge", "naive_mp", "infinite_width", "model", "model_se",
                                            "model_without_spread", "p1", "p2", "a", "sigma_d2", "ratio", "limits")}
        out["edge"]["model_over_mc"] = edge["model"] / mc["lambda_max"]
        out["edge"]["mc_lambda_max"] = mc["lambda_max"]
        out["edge"]["mc_lambda_max_se"] = mc["lambda_max_se"]
    return out


__all__ = ["CALIBRATION_BATTERY", "EDGE_SAMPLES", "EDGE_WIDTHS", "MUTANT_SCALES", "bounds_checks", "bounds_object",
           "bulk_edge_sweep", "calibrate_spectrum",
           "fisher_bounds_report", "s_lambda_checks", "spectrum_mc_pair"]
