"""Fig. 4: the angle through depth L = 0..10 from theta0 = 0.5, log y.

Lines: the exact infinite-width map iterated (``numeric_maps(arch).iterate``).  Points: the
paper's angle (arccos of seed-averaged inner products) measured on finite random networks with
the exact Gram sampler, error bars +-1 jackknife standard error over seeds.  The CSV also has
the mean and sd of single-network angles.  Generic: ``params.arch`` draws a user architecture
(architectures without a closed map get simulation points only).

Settings.  Time on 2 cores, drawing included: quick about 1.0 s, full about 1.0 s
(simulation 0.4 s / 0.5 s):
    depth 10, theta0 0.5, width 1024 (quick 512), seeds 64 (quick 16), sampler 'gram'.
"""
from __future__ import annotations

import numpy as np

from .base import FigureParams, Table, derive_seed, settings
from .style import color, label, new_figure, plain_log_ticks, points, styled

NAME = "fig04"
TITLE = "Angle through depth from theta0 = 0.5 (theory lines, Monte Carlo points)"
PAPER = "ACML 2019 Fig. 4: angle vs L = 0..10 from theta0 = 0.5, log y, MLP / ResNet / ResNet+BN"
CLAIM = ("the MLP shrinks the angle fastest, the ResNet slower and the ResNet+BN slowest; finite "
         "networks follow the infinite-width map")
DATA_SOURCE = ("synthetic: a pair of inputs at exactly theta0 with per-coordinate variance 1 "
               "(anglefish.numeric.pair_batch), Gram sampler, one generator per seed")
GENERIC = True
FULL = {"depth": 10, "theta0": 0.5, "width": 1024, "seeds": 64, "sampler": "gram"}
QUICK = {"width": 512, "seeds": 16}
COLUMNS = {"architecture": "architecture name", "l": "depth (number of blocks applied)",
           "theta_theory": "exact infinite-width angle (rad); empty if the map has no closed form",
           "theta_mc": "paper's angle: arccos of seed-averaged inner products (rad)",
           "theta_mc_se": "jackknife standard error of theta_mc over seeds",
           "theta_single_mean": "mean over seeds of single-network angles",
           "theta_single_sd": "sd over seeds of single-network angles",
           "log_q_theory": "log of the per-unit second moment, theory", "log_q_mc": "same, Monte Carlo"}


def compute(params: FigureParams) -> Table:
    from ..numeric import angle_table

    s = settings(params, FULL, QUICK)
    archs = params.architectures()
    rows, seeds = [], {}
    for arch in archs:
        seed = derive_seed(params.seed, NAME, arch)
        seeds[arch] = seed
        res = angle_table(arch, int(s["depth"]), float(s["theta0"]), int(s["width"]), int(s["seeds"]),
                          sampler=s["sampler"], seed=seed)
        for r in res["rows"]:
            rows.append({"architecture": arch, **{k: r[k] for k in COLUMNS if k in r}})
    return Table.from_rows(rows, list(COLUMNS),
                           {"settings": s, "seeds": seeds, "columns": COLUMNS, "architectures": list(archs)})


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    fig, axes = new_figure(5.2, 3.9)
    ax = axes[0, 0]
    markers = ["o", "s", "^", "D", "v"]
    lo, hi = np.inf, 0.0
    for k, arch in enumerate(table.unique("architecture")):
        t = table.where(architecture=arch)
        ls, th = t.column("l"), t.column("theta_theory")
        if np.any(np.isfinite(th)):
            ax.plot(ls, th, color=color(arch), label=f"{label(arch)} theory", zorder=2)
        y = t.column("theta_mc")
        points(ax, ls, y, se=t.column("theta_mc_se"), color=color(arch), marker=markers[k % 5],
               label=f"{label(arch)} simulation")
        lo, hi = min(lo, np.nanmin(y), np.nanmin(th) if np.any(np.isfinite(th)) else np.inf), max(hi, np.nanmax(y))
    ax.set_yscale("log")
    ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 1.0,
                         1.2, 1.5, 2.0, 2.5, 3.0) if lo * 0.9 <= v <= hi * 1.1]
    if hi / lo < 10 and len(ticks) >= 2:
        plain_log_ticks(ax.yaxis, ticks)
    ax.set_ylim(lo * 0.93, hi * 1.05)
    ax.set_xlim(-0.3, s["depth"] + 0.3)
    ax.set_xticks(range(0, int(s["depth"]) + 1, 1 if s["depth"] <= 12 else max(1, int(s["depth"]) // 10)))
    ax.set_xlabel("depth L (blocks)")
    ax.set_ylabel("angle θ$^L$ (rad, log scale)")
    ax.set_title(f"θ0 = {s['theta0']:g}; simulation: width {s['width']}, {s['seeds']} seeds (±1 SE)")
    ax.legend(loc="lower left", ncol=1)
    return fig
