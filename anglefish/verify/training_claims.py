"""The ACML 2019 claims about trained networks (Figs. 11-12 and the remarks), with verdicts.

Evidence comes from the same computation as figures 11 and 12: the cached training study
:func:`anglefish.numeric.study.distance_ratio_study` with the figures' settings
(``STUDY_FULL``, and ``STUDY_QUICK`` on top in quick mode) and the same master seed, so a
process that renders the figures and then evaluates these claims trains once.  Default task:
classes 0 vs 1 of scikit-learn's bundled digits, PCA-whitened (D = N = 50), the MLP, ResNet and
ResNet+BN at L = 1..10, ``seeds`` networks each, distance ratio r on h^L of the test set.

Claims and verdict rules (z = difference / its standard error; |z| > 2 is "significant",
a one-sided false-alarm rate of about 2.3% per comparison when there is no difference):

(a) ``acml-fig11-preserved-angles-train-better`` -- "nets whose angles are preserved at
    initialisation reach a higher distance ratio after training".  How well a net preserves
    angles is computed, not assumed: the exact infinite-width map from theta0 = the mean angle
    between test inputs of different classes gives theta^L / theta0, averaged over the depths
    studied, which orders the architectures.
    Primary reading (the paper's: architectures compared): the mean of r after training over all
    depths and seeds of each architecture (SE from the per-depth sample variances); holds if
    every step up the preservation order raises it significantly (z > 2).
    Second reading (per (architecture, depth) cell): Pearson correlation across the cells of
    theta^L / theta0 with the cell's mean r after training (95% Fisher-z interval); holds if the
    interval lies above 0.  (Depth drives both quantities, so this reading mixes depth in.)
    Verdict (primary reading alone): 'holds' if every step up the order is significant; 'fails' if
    some step down the order is significant (z < -2); else 'not checkable' (differences within the
    noise of this many seeds).  The second reading gets its own verdict (holds: interval above 0;
    fails: below 0; else not checkable) and is reported, never promoted.

(b) ``acml-fig12-ratio-error-correlation`` -- "r correlates with test error (-0.91 over 9
    nets)".  Pearson correlation of test error with r after training over all trained nets, 95%
    Fisher-z interval.  "Strongly negative" means r <= t with t = tanh(atanh(-0.91) +
    1.96 / sqrt(9 - 3)) = -0.62, the upper 95% limit of the paper's own estimate: a correlation
    weaker than t is not what the paper's 9 nets support.  Verdict of a correlation reading:
    'holds' if r <= t and its interval excludes 0; 'holds with another rate' if it is significantly
    negative but weaker than t (the kind -- a negative correlation -- holds, its strength is not the
    paper's); 'fails' if it is not significantly negative; 'not checkable' if undefined (constant
    test errors or ratios, < 4 nets).  The primary reading is Pearson over all trained nets; the
    Spearman rank correlation (test errors are coarse: multiples of 1/n_test), the within-depth
    (partial, given depth) correlation -- deeper nets have both lower r and higher error, so the
    pooled correlation could come from depth alone -- and the paper-like subset (depths <= 3,
    first seed: 9 nets) are reported as readings, never promoted.

(c) ``acml-remark-mlp-degrades-ratio`` -- "the MLP degrades r with depth at initialisation;
    skip connections and BN relax this".  Least-squares slope b of log r (before training) on L
    over all nets of an architecture (its OLS standard error).  Holds if b_MLP < 0 significantly
    (z < -2) and both b_ResNet - b_MLP > 0 and b_ResNet+BN - b_MLP > 0 significantly (z > 2);
    fails if the MLP's slope is not significantly negative or a relaxation is significantly
    reversed (z < -2); otherwise 'not checkable' (a relaxation within the noise).  The ResNet+BN
    vs ResNet comparison is reported but not part of the verdict (the claim does not order them).
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import AnglefishError

ACML = "Furusho & Ikeda, ACML 2019"
from .verdicts import VERDICTS, Reading, claim_result, not_checkable, validate

ARCHS = ("mlp", "resnet", "resnet-bn")
Z = 2.0
PAPER_R, PAPER_N = -0.91, 9


def strong_threshold(level: float = 0.95) -> float:
    """Upper confidence limit of the paper's correlation (-0.91 over 9 nets), Fisher z."""
    from statistics import NormalDist

    q = NormalDist().inv_cdf((1 + level) / 2)
    return math.tanh(math.atanh(PAPER_R) + q / math.sqrt(PAPER_N - 3))


def _study_settings(quick: bool, overrides=None) -> dict:
    from ..numeric.study import STUDY_FULL, STUDY_QUICK

    s = dict(STUDY_FULL)
    if quick:
        s.update(STUDY_QUICK)
    s.update(overrides or {})
    return s


def _study(quick: bool, seed: int, data_dir=None, progress=None, overrides=None) -> dict:
    from ..numeric.study import distance_ratio_study

    return distance_ratio_study(ARCHS, seed=seed, data_dir=data_dir, progress=progress,
                                **_study_settings(quick, overrides))


def training_claim_units(quick: bool = True, seed: int = 0, *, data_dir=None, overrides: dict | None = None) -> list:
    """The units of work of :func:`training_claims`: the training study's (architecture, depth) cells."""
    from ..numeric.study import study_units

    return study_units(ARCHS, seed, data_dir, **_study_settings(quick, overrides))


def _z(a: float, sa: float, b: float, sb: float) -> float:
    """(a - b) / sqrt(sa^2 + sb^2); +-inf when both SEs vanish and a != b."""
    se = math.hypot(sa, sb)
    if se == 0 or not math.isfinite(se):
        return 0.0 if a == b else math.copysign(math.inf, a - b)
    return (a - b) / se


def _mean_angle_between_classes(result: dict) -> float:
    from ..numeric.study import cached_dataset

    s = result["settings"]
    d = cached_dataset(s["dataset"], None if s["dataset"] == "digits" else result.get("data_dir"), s["classes"],
                       int(s["n_train"]), int(s["n_test"]), int(s["data_seed"]))
    u = d.x_test / np.linalg.norm(d.x_test, axis=1, keepdims=True)
    cos = np.clip(u[d.y_test == 1] @ u[d.y_test == 0].T, -1.0, 1.0)
    return float(np.mean(np.arccos(cos)))


def _pooled(rows: list, arch: str, key: str, depths: list) -> tuple[float, float]:
    """Mean over depths of the per-depth means, and its SE from the per-depth variances."""
    means, variances = [], []
    for L in depths:
        v = np.array([r[key] for r in rows if r["architecture"] == arch and r["depth"] == L])
        means.append(v.mean())
        variances.append(v.var(ddof=1) / len(v) if len(v) > 1 else math.nan)
    return float(np.mean(means)), float(math.sqrt(np.sum(variances)) / len(depths))


def _task(result: dict) -> str:
    d = result.get("dataset", {})
    return f"{d.get('name', result['settings'].get('dataset', '?'))} classes {d.get('classes', result['settings'].get('classes'))}"


# ----------------------------------------------------------------------------- (a)
def claim_preserved_angles(result: dict) -> dict:
    from ..numeric.statistics import pearson_with_ci
    from ..numeric.study import summarize_study
    from ..theory.evaluate import numeric_maps

    depths = [int(d) for d in result["settings"]["depths"]]
    archs = [a for a in ARCHS if a in result["architectures"]]
    theta0 = _mean_angle_between_classes(result)
    preserved = {}
    for arch in archs:
        ls, theta, _ = numeric_maps(arch).iterate(theta0, max(depths), at=depths)
        preserved[arch] = {int(l): float(t / theta0) for l, t in zip(ls, theta[:, 0])}
    order = sorted(archs, key=lambda a: np.mean([preserved[a][L] for L in depths]))  # least preserved first
    pooled = {a: _pooled(result["rows"], a, "ratio_after", depths) for a in archs}
    steps = []
    for lo, hi in zip(order, order[1:]):
        z = _z(pooled[hi][0], pooled[hi][1], pooled[lo][0], pooled[lo][1])
        steps.append({"from": lo, "to": hi, "difference": pooled[hi][0] - pooled[lo][0], "z": z})
    primary_holds = bool(steps) and all(s["z"] > Z for s in steps)
    primary_violated = any(s["z"] < -Z for s in steps)
    cells = summarize_study(result)
    x = [preserved[c["architecture"]][c["depth"]] for c in cells]
    y = [c["ratio_after_mean"] for c in cells]
    cell_corr = pearson_with_ci(np.array(x), np.array(y))
    second_holds = cell_corr["defined"] and cell_corr["lo"] > 0
    second_violated = cell_corr["defined"] and cell_corr["hi"] < 0
    steps_text = ", ".join(f"{st['from']} -> {st['to']}: z = {st['z']:.1f}" for st in steps)
    if primary_holds:
        verdict, why = "holds", f"every step up the theory's angle-preservation order raises r after training ({steps_text})"
    elif primary_violated:
        verdict, why = "fails", f"a step up the preservation order lowers r after training significantly ({steps_text})"
    else:
        verdict, why = "not checkable", f"the differences along the preservation order are within the noise ({steps_text})"
    cell_verdict = "holds" if second_holds else "fails" if second_violated else "not checkable"
    evidence = {
        "theta0_mean_between_classes": theta0,
        "angle_preserved_mean_over_depths": {a: float(np.mean([preserved[a][L] for L in depths])) for a in archs},
        "preservation_order_least_first": order,
        "ratio_after_mean": {a: pooled[a][0] for a in archs}, "ratio_after_se": {a: pooled[a][1] for a in archs},
        "ratio_before_mean": {a: _pooled(result["rows"], a, "ratio_before", depths)[0] for a in archs},
        "steps_up_the_order": steps, "primary_reading_holds": primary_holds,
        "per_cell_pearson_preserved_vs_ratio_after": cell_corr, "cells": len(cells),
        "nets_per_cell": int(result["settings"]["seeds"]), "depths": depths,
    }
    model = f"{', '.join(archs)} at L = {depths[0]}..{depths[-1]}, {result['settings']['seeds']} nets each, trained by SGD"
    primary = Reading("architectures compared (the paper's Fig. 11)",
                      "mean r after training per architecture, along the theory's preservation order", model,
                      _task(result), verdict, why, evidence)
    second = Reading("per (architecture, depth) cell", "Pearson correlation of theta^L/theta0 with the cell's mean r",
                     model, "all cells (depth mixes in)", cell_verdict,
                     f"r = {cell_corr['r']:.2f} [{cell_corr['lo']:.2f}, {cell_corr['hi']:.2f}]"
                     if cell_corr["defined"] else "correlation undefined", {"pearson": cell_corr})
    return {"id": "acml-fig11-preserved-angles-train-better", "source": f"{ACML}, Fig. 11 and Sec. 5",
            "statement": "Nets whose angles are preserved at initialisation reach a higher distance ratio after "
                         "training",
            **claim_result(primary, [second], evidence),
            "quantity": "distance ratio r on h^L of the test set after training, per architecture (mean over depths "
                        "and seeds, SE); theta^L/theta0 of the exact map",
            "method": "SGD training study shared with figs. 11-12 (anglefish.numeric.classify); z tests of the "
                      "pooled means along the theory's preservation order; per-cell Pearson with Fisher-z CI"}


# ----------------------------------------------------------------------------- (b)
def claim_ratio_error_correlation(result: dict) -> dict:
    from ..numeric.study import correlation_summary

    t = strong_threshold()
    readings = correlation_summary(result)
    pearson, spearman, within_depth, paper_subset = readings

    def judge(c):
        if not c["defined"]:
            return "not checkable", "the correlation is undefined (constant test errors or ratios, or < 4 nets)", None
        text = f"r = {c['r']:.2f} [{c['lo']:.2f}, {c['hi']:.2f}] over {c['n']} nets"
        if c["hi"] < 0 and c["r"] <= t:
            return "holds", f"{text}: strongly negative (r <= {t:.2f})", None
        if c["hi"] < 0:
            return ("holds with another rate", f"{text}: negative, but weaker than the paper's -0.91 "
                    f"(r > {t:.2f}, the upper 95% limit of -0.91 over 9 nets)", f"correlation {c['r']:.2f}")
        return "fails", f"{text}: not significantly negative", f"correlation {c['r']:.2f}"

    evidence = {"pearson_all_nets": pearson, "spearman_all_nets": spearman,
                "pearson_within_depth": within_depth, "pearson_depths_le_3_first_seed": paper_subset,
                "strong_threshold": t, "paper": {"r": PAPER_R, "n": PAPER_N},
                "errors_distinct_values": int(len({r["error_after"] for r in result["rows"]})),
                "n_test": int(result["dataset"]["n_test"])}
    model = f"mlp, resnet, resnet-bn trained by SGD ({result['settings']['seeds']} nets per architecture and depth)"
    rows = []
    for name, c, quantity in (("Pearson over all trained nets (the paper's)", pearson, "Pearson r(test error, r after)"),
                              ("Spearman over all trained nets", spearman, "Spearman rank correlation"),
                              ("within depth (partial, given depth)", within_depth, "Pearson of depth-centred values"),
                              ("paper-like subset (depths <= 3, first seed)", paper_subset, "Pearson over 9 nets")):
        verdict, why, law = judge(c)
        rows.append(Reading(name, quantity, model, f"test set: {_task(result)}", verdict, why,
                            {"correlation": c}, true_law=law))
    return {"id": "acml-fig12-ratio-error-correlation", "source": f"{ACML}, Fig. 12",
            "statement": "The distance ratio after training correlates with the test error (-0.91 over 9 nets)",
            **claim_result(rows[0], rows[1:], evidence),
            "quantity": "Pearson correlation of test error with r after training over the trained nets",
            "method": "SGD training study shared with figs. 11-12; Pearson with 95% Fisher-z interval, threshold "
                      f"{t:.3f} = upper 95% limit of the paper's -0.91 (n = 9); Spearman as a second reading"}


# ----------------------------------------------------------------------------- (c)
def _slope(rows: list, arch: str) -> tuple[float, float, int]:
    """OLS slope of log r_before on depth over all nets of ``arch`` and its standard error."""
    x = np.array([r["depth"] for r in rows if r["architecture"] == arch], dtype=float)
    y = np.log(np.array([r["ratio_before"] for r in rows if r["architecture"] == arch], dtype=float))
    n = len(x)
    if n < 3 or np.ptp(x) == 0:
        raise AnglefishError(f"the depth slope of {arch} needs >= 3 nets at >= 2 depths")
    xc = x - x.mean()
    b = float(np.sum(xc * (y - y.mean())) / np.sum(xc * xc))
    resid = y - y.mean() - b * xc
    se = float(math.sqrt(np.sum(resid ** 2) / (n - 2) / np.sum(xc * xc)))
    return b, se, n


def claim_mlp_degrades_ratio(result: dict) -> dict:
    from ..numeric.study import summarize_study

    slopes = {a: _slope(result["rows"], a) for a in ARCHS if a in result["architectures"]}
    if "mlp" not in slopes or len(slopes) < 3:
        raise AnglefishError("claim (c) needs the MLP, the ResNet and the ResNet+BN")
    b_mlp, se_mlp, _ = slopes["mlp"]
    z_mlp = _z(b_mlp, se_mlp, 0.0, 0.0)
    relax = {a: _z(slopes[a][0], slopes[a][1], b_mlp, se_mlp) for a in ("resnet", "resnet-bn")}
    z_bn_vs_resnet = _z(slopes["resnet-bn"][0], slopes["resnet-bn"][1], slopes["resnet"][0], slopes["resnet"][1])
    text = (f"slope of log r per block: MLP {b_mlp:.3f} (z = {z_mlp:.1f}); relaxation vs MLP: "
            + ", ".join(f"{a} z = {z:.1f}" for a, z in relax.items()))
    if z_mlp < -Z and all(z > Z for z in relax.values()):
        verdict, why = "holds", f"the MLP's r falls with depth and both skip and BN flatten the fall ({text})"
    elif z_mlp >= -Z or any(z < -Z for z in relax.values()):
        verdict, why = "fails", (f"the MLP's r does not fall significantly with depth ({text})" if z_mlp >= -Z else
                                 f"a relaxation is significantly reversed ({text})")
    else:
        verdict, why = "not checkable", f"a relaxation is within the noise ({text})"
    cells = summarize_study(result)
    depths = [int(d) for d in result["settings"]["depths"]]
    by_depth = {a: [c["ratio_before_mean"] for c in cells if c["architecture"] == a] for a in slopes}
    evidence = {
        "slope_log_ratio_per_block": {a: slopes[a][0] for a in slopes},
        "slope_se": {a: slopes[a][1] for a in slopes}, "nets": {a: slopes[a][2] for a in slopes},
        "z_mlp_slope": z_mlp, "z_relaxation_vs_mlp": relax, "z_resnet_bn_vs_resnet": z_bn_vs_resnet,
        "ratio_before_mean_by_depth": by_depth, "depths": depths,
        "ratio_inputs": result["dataset"]["ratio_inputs"],
        "ratio_before_last_over_first_depth": {a: by_depth[a][-1] / by_depth[a][0] for a in slopes},
    }
    primary = Reading("slopes of log r with depth at initialisation", "OLS slope of log r (h^L, test set) per block",
                      f"mlp, resnet, resnet-bn at initialisation, {result['settings']['seeds']} nets per depth",
                      f"L = {depths[0]}..{depths[-1]}", verdict, why, evidence)
    return {"id": "acml-remark-mlp-degrades-ratio", "source": f"{ACML}, remarks on Figs. 8-11",
            "statement": "At initialisation the MLP degrades the distance ratio with depth; skip connections and "
                         "BN relax this",
            **claim_result(primary),
            "quantity": "slope of log r (h^L, test set, at initialisation) per block, per architecture",
            "method": "random initialisations of the training study shared with figs. 11-12; OLS slope over all "
                      "nets with its standard error; z tests"}


CLAIM_FUNCTIONS = {"acml-fig11-preserved-angles-train-better": "claim_preserved_angles",
                   "acml-fig12-ratio-error-correlation": "claim_ratio_error_correlation",
                   "acml-remark-mlp-degrades-ratio": "claim_mlp_degrades_ratio"}


def training_claims(quick: bool = True, seed: int = 0, *, data_dir=None, progress=None,
                    overrides: dict | None = None) -> list[dict]:
    """Verdicts on claims (a), (b), (c) (module docstring), from the shared cached training study.

    Each claim: dict with id, source, statement, verdict (one of ``VERDICTS``), evidence (numbers,
    JSON-ready), quantity, method.  ``quick`` uses the figures' quick settings (fewer seeds);
    ``overrides`` changes study settings (keys of ``STUDY_FULL``; the figures' ``options``) --
    the same settings and seed as a rendered fig11/fig12 reuse its cached networks.
    """
    result = _study(bool(quick), seed, data_dir, progress, overrides)
    result["data_dir"] = data_dir
    out = []
    for cid, name in CLAIM_FUNCTIONS.items():
        try:
            claim = globals()[name](result)
        except AnglefishError as err:
            claim = {"id": cid, "source": ACML, "statement": "", **not_checkable(str(err)), "quantity": "",
                     "method": ""}
        claim["evidence"]["study"] = {"settings": result["settings"], "seed": int(seed), "quick": bool(quick),
                                      "dataset": {k: result["dataset"][k] for k in ("name", "dim", "n_train",
                                                                                    "n_test", "classes")}}
        validate(claim, claim["id"])
        out.append(claim)
    return out


__all__ = ["VERDICTS", "claim_mlp_degrades_ratio", "claim_preserved_angles", "claim_ratio_error_correlation",
           "strong_threshold", "training_claim_units", "training_claims"]
