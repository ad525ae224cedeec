"""Fig. G1: the generalization gap through depth for MLP, ResNet1 and ResNet2, linear and ReLU, with the bound.

The networks and conventions are those of :mod:`anglefish.theory.generalization` (ResNet-k: k
weight layers inside the skip; width N = d; f = v . h^L; all weights trained) and the
measurements those of :func:`anglefish.numeric.generalization.gap_study` on the teacher task
(x ~ N(0, I_d), y = beta* . x + eps, |beta*|^2 ~ 1, noise sd 0.5): full-batch GD from the
standard initialisation, eta = 1/lambda_max(K/n), gap = test loss - training loss after the
step budget.  Four panels: rows linear / ReLU, columns n < d / n > d.  Log y.

* Points: the measured gap, mean over replicates with its 95% t-interval (same data for every
  architecture; the figure shares its run with the ``resnet2-gap-smaller`` claims).
* Solid lines (linear only): the exact expected gap at convergence in the limit of infinite width
  -- least squares for n >= d + 2 (one line: every architecture reaches the same map), the lazy
  interpolant for n <= d - 2 (depends on the architecture through the output variance q_L at
  initialisation).  These are limits (N = d -> oo, t -> oo); the points are at N = d and after a
  finite number of steps -- deep ResNets at n > d are not converged within the budget (their
  training loss is in the CSV) and their points lie above the line.  At n < d the N = oo line is
  far from N = d = 16 once L is not small against N (ResNet at L = 10: line 256, points ~40): at
  finite width the tangent metric M is dominated by the same directions as the initial function
  beta_0 = A^T v, so GD removes most of beta_0.
* Crosses (linear only): the linearised dynamics with each network's own initial tangent metric,
  converged (``lazy_gap``): the exact finite-width prediction if training were lazy; the points
  lie on them (measured: ResNet2 at L = 10, 39 vs 36).
* Dotted lines: the stability bound 2 Lip^2/(mu (n-1)) (Charles & Papailiopoulos 2018) at the
  initialisation of each network, median over replicates (Lip^2 = max_i r_i^2 K_ii).

Settings (``FULL`` / ``QUICK`` of :mod:`anglefish.numeric.generalization`, any key overridable):
full -- depths 1, 2, 4, 6, 10, d = 16, n = 8 and 64, 16 replicates, 1000 steps (the settings of
``verify --full``'s generalization claims, whose verdicts depths 3 and 8 did not change; about 2
CPU-minutes, 3 with depths 3 and 8); quick -- depths 1 and 3, d = 8, n = 4
and 32, 16 replicates, 200 steps (about 3 s of CPU).
"""
from __future__ import annotations

import numpy as np

from .base import FigureParams, Table, settings
from .style import new_figure, points, styled

NAME = "figG1"
TITLE = "Generalization gap through depth: MLP, ResNet1, ResNet2 (linear and ReLU) with the stability bound"
PAPER = ("Furusho, Liu & Ikeda, INNS-BDDL 2019 (abstract only): ResNet2 has a smaller generalization gap than "
         "ResNet1 or the MLP; no figure of this form is available")
CLAIM = ("at a global minimum with n >= d the three linear networks have the same gap (least squares); with n < d "
         "the gap grows with the output variance at initialisation (2^L for both ResNets, 1 for the MLP); the "
         "stability bound does not order them as claimed")
DATA_SOURCE = ("synthetic teacher task: x ~ N(0, I_d), y = beta* . x + N(0, 0.25), beta* ~ N(0, I/d); "
               "anglefish.numeric.generalization.gap_study")
KIND_COLORS = {"mlp": "#1f77b4", "resnet1": "#ff7f0e", "resnet2": "#d62728"}
KIND_LABELS = {"mlp": "MLP", "resnet1": "ResNet1 (h + W·h)", "resnet2": "ResNet2 (h + W2·W1·h)"}
MARKERS = {"mlp": "o", "resnet1": "s", "resnet2": "^"}
COLUMNS = {"activation": "linear | relu", "regime": "n<d | n>d", "n": "training examples", "d": "input dim = width",
           "kind": "mlp | resnet1 | resnet2", "architecture": "block list name", "depth": "number of blocks L",
           "gap_mean": "measured gap, mean over replicates", "gap_ci_low": "95% t-interval, low",
           "gap_ci_high": "95% t-interval, high", "train_mean": "training loss after the budget, mean",
           "bound_median": "stability bound 2 Lip^2/(mu (n-1)) at initialisation, median over replicates",
           "mu_median": "PL constant lambda_min+(K/n) at initialisation, median",
           "theory_gap": "exact expected gap at convergence, infinite width (linear; empty outside its range)",
           "lazy_gap_mean": "linearised dynamics with the initial tangent metric, converged (linear), mean",
           "ls_gap_mean": "exact least-squares gap on the same data (linear, n >= d), mean"}


def _settings(params: FigureParams) -> dict:
    from ..numeric.generalization import FULL, QUICK

    return settings(params, FULL, QUICK)


def _overrides(params: FigureParams) -> dict:
    from ..numeric.generalization import FULL

    return {k: v for k, v in _settings(params).items() if k in FULL}


def units(params: FigureParams) -> list:
    """The generalization study's runs (:func:`anglefish.numeric.generalization.gap_study_units`)."""
    from ..numeric.generalization import gap_study_units

    return gap_study_units(quick=False, seed=params.seed, **_overrides(params))


def compute(params: FigureParams) -> Table:
    from ..numeric.generalization import gap_study, summarize
    from ..theory.generalization import gap_architecture, theory_at

    s = _settings(params)
    result = gap_study(quick=False, seed=params.seed, **_overrides(params))
    task = result["task"]
    dim = task["dim"]
    rows = []
    for r in result["runs"]:
        g = summarize(r["gap"])
        th = None
        if r["activation"] == "linear" and task["noise_var"] is not None:
            th = theory_at(gap_architecture(r["kind"], "linear"), r["depth"], r["n"], dim, task["noise_var"],
                           task["teacher_norm2"])["gap_exact"]
        rows.append({
            "activation": r["activation"], "regime": "n<d" if r["n"] < dim else "n>d", "n": r["n"], "d": dim,
            "kind": r["kind"], "architecture": r["architecture"], "depth": r["depth"],
            "gap_mean": g["mean"], "gap_ci_low": g["ci_low"], "gap_ci_high": g["ci_high"],
            "train_mean": float(np.mean(r["train"])), "bound_median": float(np.median(r["bound"])),
            "mu_median": float(np.median(r["mu"])), "theory_gap": th,
            "lazy_gap_mean": float(np.mean(r["lazy_gap"])) if "lazy_gap" in r else None,
            "ls_gap_mean": float(np.mean(r["ls_gap"])) if "ls_gap" in r else None,
        })
    return Table.from_rows(rows, list(COLUMNS), {"settings": s, "columns": COLUMNS,
                                                 "seeds": {"master": params.seed, "replicates": s["seeds"]}})


@styled
def plot(table: Table):
    from matplotlib.lines import Line2D

    s = table.metadata["settings"]
    activations = table.unique("activation")
    regimes = [r for r in ("n<d", "n>d") if r in table.unique("regime")]
    fig, axes = new_figure(3.5 * len(regimes) + 0.6, 3.1 * len(activations) + 0.6, len(activations), len(regimes))
    for i, act in enumerate(activations):
        for j, regime in enumerate(regimes):
            ax = axes[i, j]
            sub = table.where(activation=act, regime=regime)
            for kind in sub.unique("kind"):
                t = sub.where(kind=kind)
                depth, mean = t.column("depth"), t.column("gap_mean")
                lo, hi = t.column("gap_ci_low"), t.column("gap_ci_high")
                c = KIND_COLORS.get(kind, "k")
                err = np.vstack([np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)])
                ax.errorbar(depth, mean, yerr=err, fmt="none", ecolor=c, elinewidth=1.6, zorder=3)
                points(ax, depth, mean, color=c, marker=MARKERS.get(kind, "o"))
                th = t.column("theory_gap")
                if np.any(np.isfinite(th)) and regime == "n<d":  # ResNet1 and ResNet2 share q_L = 2^L: dash one
                    ax.plot(depth, th, color=c, linewidth=1.2, zorder=2, linestyle=(0, (5, 3)) if kind == "resnet2" else "-")
                elif np.any(np.isfinite(th)) and kind == sub.unique("kind")[0]:  # least squares: one line for all
                    ax.plot(depth, th, color="0.2", linewidth=1.2, zorder=2)
                ax.plot(depth, t.column("bound_median"), color=c, linestyle=":", linewidth=1.2, zorder=1)
                lazy = t.column("lazy_gap_mean")
                if np.any(np.isfinite(lazy)):
                    ax.plot(depth, lazy, linestyle="none", marker="x", markersize=4, color=c, zorder=4)
            ax.set_yscale("log")
            ax.set_xticks(sorted({int(v) for v in sub.column("depth")}))
            n = int(sub.column("n")[0]) if len(sub) else 0
            d = int(sub.column("d")[0]) if len(sub) else 0
            ax.set_title(f"{'linear' if act == 'linear' else 'ReLU'}, n = {n} {'<' if regime == 'n<d' else '>'} d = {d}")
            ax.set_xlabel("depth L (blocks)")
            if j == 0:
                ax.set_ylabel("gap = test − train loss")
    handles = [Line2D([], [], color=KIND_COLORS[k], marker=MARKERS[k], markerfacecolor="white", linestyle="none",
                      label=KIND_LABELS[k]) for k in KIND_COLORS]
    handles += [Line2D([], [], color="0.3", linestyle="-", label="exact gap at convergence, N = ∞ (linear)"),
                Line2D([], [], color="0.3", marker="x", linestyle="none",
                       label="linearised GD, initial tangent metric at N = d (linear)"),
                Line2D([], [], color="0.3", linestyle=":", label="stability bound at initialisation (median)")]
    fig.legend(handles=handles, loc="outside upper center", ncol=3, fontsize=7)
    fig.supxlabel(f"Points: mean ± 95% CI over {s['seeds']} paired replicates after {s['steps']} GD steps "
                  f"(η = {s['lr_factor']}/λmax); teacher task, noise sd {s['noise']}.\nSolid lines: N = ∞ limits (black: "
                  "least squares, the same for all); at N = d the tangent metric aligns with the initial function,\n"
                  "so deep ResNets at n < d lie far below their N = ∞ line, on their crosses.",
                  fontsize=7.5)
    return fig
