"""Fig. 9: co-activation rate after 3 blocks against the input angle.

The co-activation rate is the fraction of ReLU units of the next block that are active for both
inputs of the pair.  Theory (Thm 11 applied at depth 3): 1/2 (1 - theta_3/pi), with theta_3 the
angle after 3 blocks from the exact infinite-width map -- so the theory line is a derived
quantity, not the input angle.  Points: ``coactivation_rate`` on finite networks (Gram sampler):
mean over initialisations of each network's fraction, thin bars +-sd over initialisations, thick
bars +-1 SE.  Dashed grey: the rate at the input (no block), 1/2 (1 - theta0/pi).

Settings.  Time on 2 cores, drawing included: quick about 0.7 s, full about 1.7 s:
    depth 3; angles 24 (quick 10) evenly in (0, pi]; width 1024; seeds 64 (quick 16);
    theory_points 181.
"""
from __future__ import annotations

import math

import numpy as np

from .base import PAPER_ARCHITECTURES, FigureParams, Table, derive_seed, settings
from .style import color, label, new_figure, pi_ticks, points, styled

NAME = "fig09"
TITLE = "Co-activation rate after 3 blocks vs input angle"
PAPER = "ACML 2019 Fig. 9: co-activation rate of ReLU units after 3 blocks vs input angle, three architectures"
CLAIM = ("Thm 11: two inputs at angle theta co-activate a ReLU unit with probability 1/2 (1 - theta/pi); "
         "after 3 blocks the angle has shrunk (MLP most), so the MLP co-activates most")
DATA_SOURCE = ("synthetic: a pair of inputs at exactly the input angle, per-coordinate variance 1, "
               "Gram sampler; pre-activations of the next block's first Dense sampled exactly")
GENERIC = False
FULL = {"depth": 3, "angles": 24, "width": 1024, "seeds": 64, "theory_points": 181}
QUICK = {"angles": 10, "seeds": 16}
COLUMNS = {"kind": "'mc' (simulation at a grid angle) or 'theory' (fine theory curve)",
           "architecture": "architecture name", "theta0": "input angle (rad)",
           "theta_depth": "angle after `depth` blocks from the exact map (rad)",
           "rate_theory": "1/2 (1 - theta_depth/pi)",
           "rate_mc": "mean over initialisations of the fraction of co-active units",
           "rate_se": "standard error of rate_mc", "rate_sd": "sd over initialisations",
           "theta_single_mean": "mean single-network angle at that depth (simulation)"}


def compute(params: FigureParams) -> Table:
    from ..numeric.coactivation import coactivation_rate
    from ..theory.evaluate import numeric_maps

    s = settings(params, FULL, QUICK)
    depth = int(s["depth"])
    grid = np.linspace(0.0, math.pi, int(s["angles"]) + 1)[1:]
    fine = np.linspace(0.0, math.pi, int(s["theory_points"]))
    rows, seeds = [], {}
    for arch in PAPER_ARCHITECTURES:
        nm = numeric_maps(arch)
        th_fine = nm.iterate(fine, depth, at=[depth])[1][-1]
        th_grid = nm.iterate(grid, depth, at=[depth])[1][-1]
        for t0, th in zip(fine, th_fine):
            rows.append({"kind": "theory", "architecture": arch, "theta0": float(t0), "theta_depth": float(th),
                         "rate_theory": 0.5 * (1.0 - float(th) / math.pi)})
        for j, (t0, th) in enumerate(zip(grid, th_grid)):
            seed = derive_seed(params.seed, NAME, arch, j)
            seeds[f"{arch}/{j}"] = seed
            r = coactivation_rate(arch, depth, float(t0), int(s["width"]), int(s["seeds"]), seed=seed)
            rows.append({"kind": "mc", "architecture": arch, "theta0": float(t0), "theta_depth": float(th),
                         "rate_theory": 0.5 * (1.0 - float(th) / math.pi), "rate_mc": r["rate"],
                         "rate_se": r["rate_se"], "rate_sd": r["rate_se"] * math.sqrt(int(s["seeds"])),
                         "theta_single_mean": r["theta_single_mean"]})
    return Table.from_rows(rows, list(COLUMNS), {"settings": s, "seeds": seeds, "columns": COLUMNS,
                                                 "architectures": list(PAPER_ARCHITECTURES)})


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    fig, axes = new_figure(5.4, 4.0)
    ax = axes[0, 0]
    x = np.linspace(0, math.pi, 2)
    ax.plot(x, 0.5 * (1 - x / math.pi), color="0.6", linestyle="--", linewidth=1.0,
            label="at the input: ½(1 − θ$^0$/π)")
    markers = ["o", "s", "^"]
    for k, arch in enumerate(table.unique("architecture")):
        t = table.where(architecture=arch)
        th = t.where(kind="theory")
        ax.plot(th.column("theta0"), th.column("rate_theory"), color=color(arch),
                label=f"{label(arch)}: ½(1 − θ$^{{{s['depth']}}}$/π)")
        mc = t.where(kind="mc")
        points(ax, mc.column("theta0"), mc.column("rate_mc"), sd=mc.column("rate_sd"), se=mc.column("rate_se"),
               color=color(arch), marker=markers[k % 3], label=f"{label(arch)} simulation")
    ax.set_xlim(0, math.pi * 1.02)
    ax.set_ylim(0, 0.52)
    pi_ticks(ax.xaxis)
    ax.set_xlabel("input angle θ$^0$")
    ax.set_ylabel(f"co-activation rate after {s['depth']} blocks")
    ax.set_title(f"width {s['width']}, {s['seeds']} initialisations (thin ±sd, thick ±SE)")
    ax.legend(loc="lower left", fontsize=7.5)
    return fig
