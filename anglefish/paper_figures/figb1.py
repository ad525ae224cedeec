"""Fig. B1: batch-statistics BN against population BN in the ResNet+BN, through depth.

The paper's proofs divide by population moments (a fixed sqrt(l + 2)); a real network uses each
mini-batch's per-unit mean and variance.  Both are simulated on the same architecture with the
same master seed and batch (the pair plus ``batch - 2`` i.i.d. N(0, I) inputs) via
``compare_bn_kinds``; points are the paper's angle (seed-averaged inner products) +-1 jackknife
SE; the line is the exact population-BN map.  Right panel: the gap batch - population, +-2 SE
(combined as if independent, conservative).  One colour per input angle.

Settings:
    arch 'resnet-bn'; depth 100 (quick 50); theta0s [0.5, 1.5]; width 1024 (quick 256);
    seeds 16; batch 32; every 5.
Until 2026-11 (issue 14) the full run had 64 seeds (105 s of CPU; 16 s now): the gap batch - population
was positive at every depth > 0, 12-54 SE, and is 5-27 SE at 16 seeds (smallest at the first depth,
theta0 = 1.5); population BN stays within 1.2 (64 seeds) and 1.5 (16 seeds) SE of the map at every
depth.  One unit of work per input angle (:func:`units`).
Time: full 16 s of CPU (one process, load 11: 230 s wall), quick about 2 s; single-threaded BLAS
(every unit of work pins it): multi-threaded OpenBLAS on a busy 2-core machine made the full run ten
times slower (the batch-32 Gram sampler does many small matrix products).
"""
from __future__ import annotations

import numpy as np

from .base import FigureParams, Table, derive_seed, settings
from .style import SEQUENCE, new_figure, points, styled

NAME = "figB1"
TITLE = "Batch-statistics BN vs population BN: the pair's angle through depth (ResNet+BN)"
PAPER = ("not in the paper: the paper's Theorem 6 uses population BN; this figure shows what "
         "mini-batch BN, as trained networks use it, does instead")
CLAIM = ("population BN follows the derived map (slow, logarithmic shrinkage); batch-statistics BN is a "
         "different map: the centring over the batch pushes the pair apart, so its angle shrinks less "
         "or grows with depth")
DATA_SOURCE = ("synthetic: a pair at exactly theta0 plus batch - 2 i.i.d. N(0, I) inputs, per-coordinate "
               "variance 1, Gram sampler; same master seed for both BN kinds")
GENERIC = False
FULL = {"arch": "resnet-bn", "depth": 100, "theta0s": [0.5, 1.5], "width": 1024, "seeds": 16, "batch": 32,
        "every": 5}
QUICK = {"depth": 50, "width": 256}
COLUMNS = {"theta0": "input angle of the pair (rad)", "l": "depth (blocks applied)",
           "theta_theory": "exact population-BN map (rad)",
           "theta_population": "paper's angle, population BN (simulation)", "theta_population_se": "its SE",
           "theta_batch": "paper's angle, batch-statistics BN (simulation)", "theta_batch_se": "its SE",
           "gap": "theta_batch - theta_population", "gap_se": "SE of the gap (independent errors combined)"}


def units(params: FigureParams) -> list:
    """One :func:`~anglefish.numeric.compare_bn_kinds` per input angle (:mod:`anglefish.units`), in the
    order of ``theta0s``."""
    from ..numeric import compare_bn_kinds
    from ..units import unit

    s = settings(params, FULL, QUICK)
    return [unit(compare_bn_kinds, arch=s["arch"], depth=int(s["depth"]), theta0=float(t0), width=int(s["width"]),
                 seeds=int(s["seeds"]), batch=int(s["batch"]), seed=derive_seed(params.seed, NAME, float(t0)),
                 every=int(s["every"]), cost=int(s["depth"]) * int(s["width"]) * int(s["seeds"]) / 1e3)
            for t0 in s["theta0s"]]


def compute(params: FigureParams) -> Table:
    from ..theory.evaluate import numeric_maps
    from ..units import run_units

    s = settings(params, FULL, QUICK)
    depth = int(s["depth"])
    rows, seeds, curves = [], {}, {}
    nm = numeric_maps(s["arch"])
    for t0, res in zip(s["theta0s"], run_units(units(params))):
        seeds[f"{t0:g}"] = derive_seed(params.seed, NAME, float(t0))
        for r in res["rows"]:
            rows.append({"theta0": float(t0), **{k: r[k] for k in COLUMNS if k in r}})
        ls, theta, _ = nm.iterate(float(t0), depth)
        curves[f"{t0:g}"] = theta[:, 0].tolist()
    return Table.from_rows(rows, list(COLUMNS), {"settings": s, "seeds": seeds, "columns": COLUMNS,
                                                 "theory_curves": curves})


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    curves = table.metadata.get("theory_curves", {})
    angles = table.unique("theta0")
    n = len(angles)
    fig, axes = new_figure(3.3 * n + 3.6, 3.8, 1, n + 1)
    gap = axes[0, -1]
    for k, t0 in enumerate(angles):
        ax = axes[0, k]
        c = SEQUENCE[k % len(SEQUENCE)]
        t = table.where(theta0=t0)
        ls = t.column("l")
        curve = curves.get(f"{t0:g}")
        if curve is not None:
            ax.plot(np.arange(len(curve)), curve, color=c, linewidth=1.4, label="population-BN theory")
        points(ax, ls, t.column("theta_population"), se=t.column("theta_population_se"), color=c, marker="o",
               size=3.8, label="population BN (simulation)")
        ax.plot(ls, t.column("theta_batch"), color="0.35", linewidth=0.8, linestyle="--")
        points(ax, ls, t.column("theta_batch"), se=t.column("theta_batch_se"), color="0.35", marker="s",
               size=3.8, label="batch BN (simulation)")
        ax.set_xlabel("depth l (blocks)")
        if k == 0:
            ax.set_ylabel("angle θ$^l$ (rad)")
        ax.set_xlim(-1, s["depth"] + 1)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo - 0.25 * (hi - lo), hi)  # room for the legend below the curves
        ax.set_title(f"θ0 = {t0:g}")
        ax.legend(loc="lower left", fontsize=7.5)
        gap.errorbar(ls, t.column("gap"), yerr=2 * t.column("gap_se"), color=c, marker="s", markersize=3.5,
                     markerfacecolor="white", linewidth=1.0, elinewidth=1.0, label=f"θ0 = {t0:g}")
    gap.axhline(0.0, color="0.5", linewidth=0.9)
    gap.set_xlim(-1, s["depth"] + 1)
    gap.set_xlabel("depth l (blocks)")
    gap.set_ylabel("θ$_{batch}$ − θ$_{population}$ (rad)")
    gap.set_title("gap between the BN kinds (±2 SE)")
    gap.legend(loc="upper left", fontsize=7.5)
    fig.suptitle(f"{s['arch']}: width {s['width']}, {s['seeds']} seeds, batch {s['batch']}; "
                 "points: paper's angle ±1 SE", fontsize=9)
    return fig
