"""Fig. 7: output angle against input angle after 1 and 3 blocks, one panel per architecture.

Points: the angle of single random networks, mean over 10 initialisations (as in the paper),
thin bars +-sd over initialisations, thick bars +-1 standard error of that mean.  Dotted lines:
the exact infinite-width map iterated 1 and 3 times.  Inputs are a synthetic pair at exactly the
input angle (per-coordinate variance 1); the width is the input dimension, as in the paper
(N = D), 784 by default (MNIST's input dimension; the paper does not state the dimension left
after its PCA whitening).  Generic: ``params.arch`` draws user architectures.

Settings.  Time on 2 cores, drawing included: quick about 1.7 s, full about 1.5 s (simulation
0.1 s / 0.2 s; the rest is drawing):
    angles 24 (quick 10) input angles evenly in (0, pi]; depths [1, 3]; width 784;
    seeds 10 (the paper's 10 initialisations); theory_points 181.
"""
from __future__ import annotations

import math

import numpy as np

from .base import FigureParams, Table, derive_seed, settings
from .style import color, label, lighten, new_figure, pi_ticks, points, styled

NAME = "fig07"
TITLE = "Output angle vs input angle after 1 and 3 blocks: random networks and theory"
PAPER = ("ACML 2019 Fig. 7: output vs input angle after 1 and 3 blocks, 10 random initialisations "
         "(mean +- sd), theory dotted, for MLP / ResNet / ResNet+BN")
CLAIM = ("single random networks follow the derived angle map: the output angle is below the input "
         "angle, most for the MLP, least for ResNet+BN; the spread over initialisations is small at "
         "this width")
DATA_SOURCE = ("synthetic: a pair of inputs at exactly the input angle, per-coordinate variance 1 "
               "(anglefish.numeric.pair_batch), Gram sampler")
GENERIC = True
FULL = {"angles": 24, "depths": [1, 3], "width": 784, "seeds": 10, "theory_points": 181}
QUICK = {"angles": 10}
COLUMNS = {"kind": "'mc' (simulation at a grid angle) or 'theory' (fine theory curve)",
           "architecture": "architecture name", "l": "depth (blocks applied)",
           "theta_in": "input angle (rad)", "theta_theory": "exact infinite-width output angle (rad)",
           "theta_single_mean": "mean over initialisations of single-network output angles",
           "theta_single_sd": "sd over initialisations", "theta_single_se": "sd / sqrt(seeds)",
           "theta_mc": "paper's angle (seed-averaged inner products)", "theta_mc_se": "its jackknife SE"}


def _theory(arch, theta0, depths):
    """Exact angles at ``depths`` (rows) from each of ``theta0`` (columns), or None."""
    from ..errors import AnglefishError
    from ..theory.evaluate import numeric_maps

    try:
        nm = numeric_maps(arch)
    except AnglefishError:
        return None
    ls, theta, _ = nm.iterate(np.asarray(theta0, dtype=float), max(depths), at=depths)
    return theta[np.searchsorted(ls, depths)]


def compute(params: FigureParams) -> Table:
    from ..numeric import angle_table

    s = settings(params, FULL, QUICK)
    depths = sorted(int(d) for d in s["depths"])
    grid = np.linspace(0.0, math.pi, int(s["angles"]) + 1)[1:]
    fine = np.linspace(0.0, math.pi, int(s["theory_points"]))
    archs = params.architectures()
    rows, seeds = [], {}
    for arch in archs:
        curve = _theory(arch, fine, depths)
        at_grid = _theory(arch, grid, depths)
        if curve is not None:
            for i, l in enumerate(depths):
                for t0, th in zip(fine, curve[i]):
                    rows.append({"kind": "theory", "architecture": arch, "l": l, "theta_in": float(t0),
                                 "theta_theory": float(th)})
        for j, t0 in enumerate(grid):
            seed = derive_seed(params.seed, NAME, arch, j)
            seeds[f"{arch}/{j}"] = seed
            res = angle_table(arch, max(depths), float(t0), int(s["width"]), int(s["seeds"]), seed=seed,
                              every=1)
            by_l = {r["l"]: r for r in res["rows"]}
            for i, l in enumerate(depths):
                r = by_l[l]
                rows.append({"kind": "mc", "architecture": arch, "l": l, "theta_in": float(t0),
                             "theta_theory": None if at_grid is None else float(at_grid[i, j]),
                             "theta_single_mean": r["theta_single_mean"], "theta_single_sd": r["theta_single_sd"],
                             "theta_single_se": r["theta_single_sd"] / math.sqrt(int(s["seeds"])),
                             "theta_mc": r["theta_mc"], "theta_mc_se": r["theta_mc_se"]})
    return Table.from_rows(rows, list(COLUMNS),
                           {"settings": s, "seeds": seeds, "columns": COLUMNS, "architectures": list(archs)})


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    archs = table.unique("architecture")
    fig, axes = new_figure(3.3 * len(archs) + 0.4, 6.0, 2, len(archs),
                           gridspec_kw={"height_ratios": [1.7, 1]})
    markers = ["o", "s", "^", "D"]
    for j, arch in enumerate(archs):
        ax, dev = axes[0, j], axes[1, j]
        ax.plot([0, math.pi], [0, math.pi], color="0.75", linestyle="-", linewidth=0.8, label="identity")
        dev.axhline(0.0, color="0.5", linewidth=0.9)
        t = table.where(architecture=arch)
        depths = t.unique("l")
        for k, l in enumerate(depths):
            c = color(arch) if k == len(depths) - 1 else lighten(color(arch), 0.45)  # shallower: lighter
            theory = t.where(kind="theory", l=l)
            if len(theory):
                ax.plot(theory.column("theta_in"), theory.column("theta_theory"), color=c, linestyle=":",
                        linewidth=1.6, label=f"theory, L = {l}")
            mc = t.where(kind="mc", l=l)
            x, y = mc.column("theta_in"), mc.column("theta_single_mean")
            sd, se = mc.column("theta_single_sd"), mc.column("theta_single_se")
            points(ax, x, y, sd=sd, se=se, color=c, marker=markers[k % 4], label=f"{s['seeds']} networks, L = {l}")
            offset = (k - 0.5) * 0.035  # side by side, so the two depths' bars do not hide each other
            points(dev, x + offset, y - mc.column("theta_theory"), sd=sd, se=se, color=c, marker=markers[k % 4],
                   label=f"L = {l}")
        ax.set_xlim(0, math.pi * 1.02)
        ax.set_ylim(0, math.pi * 1.02)
        ax.set_aspect("equal")
        for a in (ax, dev):
            a.set_xlim(0, math.pi * 1.04)
            pi_ticks(a.xaxis)
        pi_ticks(ax.yaxis)
        dev.set_xlabel("input angle θ$^0$")
        if j == 0:
            ax.set_ylabel("output angle θ$^L$")
            dev.set_ylabel("networks − theory (rad)")
        ax.set_title(f"{label(arch)}")
        ax.legend(loc="upper left", fontsize=7.5)
        dev.legend(loc="lower left", fontsize=7.5, ncol=2)
    lo = min(a.get_ylim()[0] for a in axes[1])
    hi = max(a.get_ylim()[1] for a in axes[1])
    for a in axes[1]:
        a.set_ylim(lo, hi)
    fig.suptitle(f"single networks of width {s['width']}: mean over {s['seeds']} initialisations "
                 "(thin bar ±sd, thick bar ±SE); dotted: infinite-width theory", fontsize=9)
    return fig
