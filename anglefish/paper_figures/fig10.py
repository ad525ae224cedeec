"""Fig. 10: co-activation rate against depth L = 0..10 for fixed input angles.

The rate at depth L is measured in the ReLU fed by the output of L blocks (0-based block index L;
L = 0 is the first block, which sees the input pair).  Theory: 1/2 (1 - theta_L/pi) with theta_L
from the exact map.  Points: ``coactivation_rate``, mean over initialisations, thin bars +-sd,
thick bars +-1 SE.  One panel per input angle.

Settings.  Time on 2 cores, drawing included: quick about 1.4 s, full about 2.4 s:
    depth 10; theta0s [1.0, 2.0]; width 1024; seeds 64 (quick 16).
"""
from __future__ import annotations

import math

from .base import PAPER_ARCHITECTURES, FigureParams, Table, derive_seed, settings
from .style import color, label, new_figure, points, styled

NAME = "fig10"
TITLE = "Co-activation rate vs depth for fixed input angles"
PAPER = "ACML 2019 Fig. 10: co-activation rate vs depth, three architectures"
CLAIM = ("the co-activation rate 1/2 (1 - theta_L/pi) rises with depth as the angle shrinks: fastest for "
         "the MLP, slowest for ResNet+BN")
DATA_SOURCE = ("synthetic: a pair of inputs at exactly theta0, per-coordinate variance 1, Gram sampler; "
               "pre-activations of the next block's first Dense sampled exactly")
GENERIC = False
FULL = {"depth": 10, "theta0s": [1.0, 2.0], "width": 1024, "seeds": 64}
QUICK = {"seeds": 16}
COLUMNS = {"architecture": "architecture name", "theta0": "input angle (rad)",
           "l": "depth: the ReLU measured is fed by the output of l blocks",
           "theta_theory": "angle after l blocks, exact map (rad)", "rate_theory": "1/2 (1 - theta_theory/pi)",
           "rate_mc": "mean over initialisations of the fraction of co-active units",
           "rate_se": "standard error of rate_mc", "rate_sd": "sd over initialisations"}


def compute(params: FigureParams) -> Table:
    from ..numeric.coactivation import coactivation_rate
    from ..theory.evaluate import numeric_maps

    s = settings(params, FULL, QUICK)
    depth = int(s["depth"])
    rows, seeds = [], {}
    for t0 in s["theta0s"]:
        for arch in PAPER_ARCHITECTURES:
            ls, theta, _ = numeric_maps(arch).iterate(float(t0), depth)
            for l, th in zip(ls, theta[:, 0]):
                seed = derive_seed(params.seed, NAME, arch, float(t0), int(l))
                seeds[f"{arch}/{t0:g}/{l}"] = seed
                r = coactivation_rate(arch, int(l), float(t0), int(s["width"]), int(s["seeds"]), seed=seed)
                rows.append({"architecture": arch, "theta0": float(t0), "l": int(l), "theta_theory": float(th),
                             "rate_theory": 0.5 * (1.0 - float(th) / math.pi), "rate_mc": r["rate"],
                             "rate_se": r["rate_se"], "rate_sd": r["rate_se"] * math.sqrt(int(s["seeds"]))})
    return Table.from_rows(rows, list(COLUMNS), {"settings": s, "seeds": seeds, "columns": COLUMNS,
                                                 "architectures": list(PAPER_ARCHITECTURES)})


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    angles = table.unique("theta0")
    fig, axes = new_figure(3.5 * len(angles) + 0.5, 3.7, 1, len(angles), sharey=True)
    markers = ["o", "s", "^"]
    for j, t0 in enumerate(angles):
        ax = axes[0, j]
        t = table.where(theta0=t0)
        for k, arch in enumerate(t.unique("architecture")):
            a = t.where(architecture=arch)
            ls = a.column("l")
            ax.plot(ls, a.column("rate_theory"), color=color(arch), label=f"{label(arch)} theory", zorder=2)
            points(ax, ls, a.column("rate_mc"), sd=a.column("rate_sd"), se=a.column("rate_se"),
                   color=color(arch), marker=markers[k % 3], label=f"{label(arch)} simulation")
        ax.axhline(0.5, color="0.6", linestyle=":", linewidth=1.0)
        ax.set_xlim(-0.3, s["depth"] + 0.3)
        ax.set_xticks(range(0, int(s["depth"]) + 1, 1 if s["depth"] <= 12 else max(1, int(s["depth"]) // 10)))
        ax.set_xlabel("depth L (blocks before the ReLU measured)")
        if j == 0:
            ax.set_ylabel("co-activation rate")
        ax.set_title(f"input angle θ$^0$ = {t0:g} rad")
        if j == 0:  # the first angle (the smaller one by default) leaves the bottom free
            ax.legend(loc="lower right", fontsize=7.5, ncol=2)
    fig.suptitle(f"width {s['width']}, {s['seeds']} initialisations (thin ±sd, thick ±SE); "
                 "lines: ½(1 − θ$^L$/π) from the exact map; dotted: ½", fontsize=9)
    return fig
