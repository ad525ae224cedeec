"""Fig. W1: how far the infinite-width and the finite-width theory are from finite networks, over L/N.

For each architecture and width N, one Monte Carlo run (exact Gram sampler, ``angle_table`` with
``finite_width=True``) records the paper's angle (arccos of seed-averaged inner products) every
N/64 blocks up to L = N/4.  Plotted against L/N, log-log, one panel per architecture:

* open markers: |theta_theory - theta_mc| / theta_mc, the infinite-width theory (N -> oo);
* filled markers: |theta_theory_finite - theta_mc| / theta_mc, the O(1/N) finite-width theory at
  that N (omitted where it says it is not valid);
* grey line: the Monte Carlo's own relative SE (jackknife over seeds, largest over the widths) --
  errors below it are noise;
* lines in each width's colour: the bias the finite-width theory predicts,
  |theta_theory_finite - theta_theory| / theta_mc -- the open markers should sit on them (an
  O(1/N) bias grows like L/N and halves when N doubles at fixed L);
* dashed: the tolerance model's allowance for the O(1/N^2) remainder of the finite-width theory,
  0.3 (L/N)^2 rad (anglefish.verify.tolerance.FINITE_WIDTH_ALLOWANCE), relative to the widest N's
  angle; the remainder falls about 3.3x per doubling of N at fixed L (issue 15, phase 1).

Settings.  Time on 2 cores: quick about 2 s of simulation and drawing after the SymPy derivation of
the finite-width recursion (about 10 s once per process, the ReLU fourth moments); full about 1-2
minutes:
    theta0 1.2, widths 128, 256, 512 (quick 64, 128), seeds 1024 (quick 256), L/N up to 1/4 in
    steps of 1/64 (quick 1/32).
"""
from __future__ import annotations

import numpy as np
from matplotlib.ticker import FuncFormatter

from ..verify.tolerance import FINITE_WIDTH_ALLOWANCE
from .base import FigureParams, Table, derive_seed, settings
from .style import SEQUENCE, label, new_figure, plain_log_ticks, styled

NAME = "figW1"
TITLE = "Relative error of the infinite-width and the finite-width (O(1/N)) theory against Monte Carlo, over L/N"
PAPER = "not in the papers: the finite-width theory of issue 15 (moment closure to O(1/N), derived per block)"
CLAIM = ("the infinite-width theory misses finite networks by an error growing like L/N; the O(1/N) theory "
         "removes it down to an O((L/N)^2) remainder, or to the Monte Carlo noise")
DATA_SOURCE = ("synthetic: a pair of inputs at exactly theta0 with per-coordinate variance 1 "
               "(anglefish.numeric.pair_batch), Gram sampler, one generator per seed")
GENERIC = True
FULL = {"theta0": 1.2, "widths": [128, 256, 512], "seeds": 1024, "max_ratio": 0.25, "step_ratio": 1 / 64}
QUICK = {"widths": [64, 128], "seeds": 256, "step_ratio": 1 / 32}
COLUMNS = {"architecture": "architecture name", "N": "width", "L": "depth (blocks applied)",
           "L_over_N": "depth over width",
           "theta_mc": "paper's angle: arccos of seed-averaged inner products (rad)",
           "theta_mc_se": "jackknife standard error of theta_mc over seeds",
           "theta_theory": "infinite-width theory (N -> oo), rad",
           "theta_theory_finite": "finite-width theory to O(1/N) at this N, rad (empty where not valid)",
           "rel_err_infinite": "|theta_theory - theta_mc| / theta_mc",
           "rel_err_finite": "|theta_theory_finite - theta_mc| / theta_mc (empty where not valid)",
           "rel_bias_theory": "|theta_theory_finite - theta_theory| / theta_mc: the predicted bias (empty where not valid)",
           "rel_se": "theta_mc_se / theta_mc"}


def _run(width: int, s: dict) -> tuple:
    """(depth, every) of the run at ``width``: every N * step_ratio blocks up to N * max_ratio."""
    every = max(1, round(width * float(s["step_ratio"])))
    return every * max(1, int(round(float(s["max_ratio"]) * width / every))), every


def units(params: FigureParams) -> list:
    """One :func:`~anglefish.numeric.angle_table` (``finite_width=True``) per (architecture, width), in
    the order of the table (:mod:`anglefish.units`)."""
    from ..numeric import angle_table
    from ..units import arch_name, unit

    s = settings(params, FULL, QUICK)
    out = []
    for arch in params.architectures():
        for width in s["widths"]:
            depth, every = _run(int(width), s)
            out.append(unit(angle_table, arch=arch_name(arch), depth=depth, theta0=float(s["theta0"]), width=int(width),
                            seeds=int(s["seeds"]), seed=derive_seed(params.seed, NAME, arch, int(width)), every=every,
                            finite_width=True,
                            cost=depth * int(width) * int(s["seeds"]) / 1e6))
    return out


def compute(params: FigureParams) -> Table:
    from ..units import run_units

    s = settings(params, FULL, QUICK)
    archs = params.architectures()
    rows, seeds = [], {}
    results = iter(run_units(units(params)))
    for arch in archs:
        for width in s["widths"]:
            width = int(width)
            seeds[f"{arch} N={width}"] = derive_seed(params.seed, NAME, arch, width)
            res = next(results)
            for r in res["rows"]:
                if r["l"] == 0 or r["theta_theory"] is None:
                    continue
                mc, fin = r["theta_mc"], r["theta_theory_finite"]
                rows.append({"architecture": arch, "N": width, "L": r["l"], "L_over_N": r["l"] / width,
                             "theta_mc": mc, "theta_mc_se": r["theta_mc_se"], "theta_theory": r["theta_theory"],
                             "theta_theory_finite": fin, "rel_err_infinite": abs(r["theta_theory"] - mc) / mc,
                             "rel_err_finite": None if fin is None else abs(fin - mc) / mc,
                             "rel_bias_theory": None if fin is None else abs(fin - r["theta_theory"]) / mc,
                             "rel_se": r["theta_mc_se"] / mc})
    return Table.from_rows(rows, list(COLUMNS),
                           {"settings": s, "seeds": seeds, "columns": COLUMNS, "architectures": list(archs)})


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    archs = table.unique("architecture")
    fig, axes = new_figure(3.3 * len(archs), 4.0, 1, len(archs), sharey=True)
    widths = sorted({int(n) for n in table.column("N")})
    for ax, arch in zip(axes[0], archs):
        t = table.where(architecture=arch)
        for k, width in enumerate(widths):
            sub = t.where(N=width)
            x = sub.column("L_over_N")
            c = SEQUENCE[k % len(SEQUENCE)]
            ax.plot(x, sub.column("rel_err_infinite"), ls="none", marker="o", mfc="none", mec=c, ms=4.5,
                    label=f"N = {width}: N → ∞ theory")
            fin = sub.column("rel_err_finite")
            ax.plot(x, fin, ls="none", marker="o", color=c, ms=3.6, label=f"N = {width}: O(1/N) theory")
            ax.plot(x, sub.column("rel_bias_theory"), color=c, lw=0.9, label=f"N = {width}: predicted bias")
        xs = np.array(sorted(set(t.column("L_over_N").tolist())))
        noise = [np.nanmax(t.where(L_over_N=x).column("rel_se")) for x in xs]
        ax.plot(xs, noise, color="0.6", lw=1.0, label="Monte Carlo SE (relative)")
        wide = t.where(N=widths[-1])
        wx, wmc = wide.column("L_over_N"), wide.column("theta_mc")
        ax.plot(wx, FINITE_WIDTH_ALLOWANCE * wx**2 / wmc, ls="--", color="0.35", lw=1.0,
                label=f"allowance {FINITE_WIDTH_ALLOWANCE:g} (L/N)² rad (relative, widest N)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = [r for r in (1 / 128, 1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2) if xs[0] * 0.9 <= r <= xs[-1] * 1.1]
        plain_log_ticks(ax.xaxis, ticks)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"1/{round(1 / v)}"))
        ax.set_xlabel("L / N")
        ax.set_title(label(arch))
    axes[0, 0].set_ylabel("|theory − Monte Carlo| / Monte Carlo")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=7)
    fig.suptitle(f"θ0 = {s['theta0']:g}, {s['seeds']} seeds per width: open N → ∞, filled O(1/N) at that N",
                 fontsize=9)
    return fig
