"""Fig. F4: the largest Fisher eigenvalue with its lower and upper bounds through depth.

Convention (:mod:`anglefish.theory.spectrum`, :mod:`anglefish.numeric.fisher`): scalar linear
readout f = v^T h^L, no biases, standard parameterisation, T inputs with i.i.d. N(0, 1)
coordinates (D = N), F = (1/T) sum_t grad f grad f^T over the selected weights (``params``,
default all weights), whose nonzero eigenvalues are those of K/T.  One panel per architecture;
y = eigenvalue / N (log scale), x = depth L.

Theory (lines, at every integer depth; N -> oo at fixed L, T):
* ``lambda_theory``: N [kappa1 + (T-1) kappa2] / T (solid);
* ``lower_theory``: the largest theory lower bound on E lambda_max (Rayleigh quotient of the
  uniform vector, Jensen with the input-driven terms of E K, s/m, max K_tt / T; dashed);
* ``upper_theory``: the smallest theory upper bound on E lambda_max (tr F = N kappa1; dotted);
* ``sqrt_ps_theory``: sqrt(P s_lambda) of the infinite-width Gram (dash-dotted).  It bounds
  lambda_max of that matrix, not the finite-width mean: E s_lambda exceeds its N -> oo value by
  O(L/N), and where kappa2 ~ kappa1 the bound is tight, so measured points may lie above it
  (e.g. the deep MLP at N = 64).  The Gershgorin bound of the infinite-width Gram equals
  lambda_theory (tight there) and is not drawn.
Jensen's bound is drawn at its N -> oo value (the input-driven O(1) terms of E K are left out:
they are below the line width here).
Simulation (points, at the simulated depths; ``seeds`` networks, one seed each from
``derive_seed(seed, 'figF4', arch, L)``): mean +-1 SE of lambda_max; triangles: the mean over
networks of each network's own best sample lower bound (max of s/m, 1^T K 1 / T^2,
max_t K_tt / T) and best upper bound (min of sqrt(P s), tr F, Gershgorin).  Every network's
lambda_max lies between its own bounds (column ``sample_bounds_hold``).

Settings.  Time on 2 cores: quick about 2 s, full about 40 s:
    depths [1, 2, 3, 5, 7, 10, 14, 20] (quick [1, 2, 4, 8]); width N 256 (quick 64);
    samples T 32 (quick 16); seeds 16 (quick 6); params 'all'.
"""
from __future__ import annotations

import numpy as np

from ..errors import AnglefishError
from .base import FigureParams, Table, derive_seed, settings
from .style import color, label, lighten, new_figure, points, styled

NAME = "figF4"
TITLE = "Largest Fisher eigenvalue with its lower and upper bounds through depth"
PAPER = ("Karakida, Akaho & Amari (AISTATS 2019) bound lambda_max by s_lambda / m_lambda <= lambda_max <= "
         "sqrt(P s_lambda); no figure of this form is in the ACML or INNS papers")
CLAIM = ("lambda_max lies between bounds that follow from the first two moments of the spectrum and from the "
         "NTK Gram in sample space; the lower bound (the uniform mode of K) is tight at infinite width, the "
         "upper bounds are loose by about sqrt(T kappa1^2 / [kappa1^2 + (T-1) kappa2^2])")
DATA_SOURCE = ("synthetic: T inputs with i.i.d. N(0, 1) coordinates (D = N), random networks drawn by "
               "anglefish.numeric.fisher.fisher_spectrum, one generator per network")
#: run-time hint of the figure's one unit of work (anglefish.units.COST_PER_SECOND = 50 per CPU second):
#: the full figure takes ~3.6 s of CPU, so it starts among the long units, not last
COST = 180.0
GENERIC = True
FULL = {"depths": [1, 2, 3, 5, 7, 10, 14, 20], "width": 256, "samples": 32, "seeds": 16, "params": "all"}
QUICK = {"depths": [1, 2, 4, 8], "width": 64, "samples": 16, "seeds": 6}
COLUMNS = {
    "architecture": "architecture name", "depth": "number of blocks L",
    "lambda_theory": "N -> oo lambda_max / N", "lower_theory": "largest theory lower bound on E lambda_max, / N",
    "lower_theory_name": "which bound", "upper_theory": "smallest theory upper bound on E lambda_max, / N",
    "upper_theory_name": "which bound",
    "sqrt_ps_theory": "sqrt(P s_lambda) of the infinite-width Gram, / N (bounds lambda_max of that matrix)",
    "s_lambda_theory": "N -> oo s_lambda = tr F^2 / P",
    "lambda_mc": "Monte Carlo lambda_max / N, mean over networks (empty at depths not simulated)",
    "lambda_mc_se": "its standard error", "lower_sample": "mean over networks of each network's best sample lower bound, / N",
    "upper_sample": "mean over networks of each network's best sample upper bound, / N",
    "sample_bounds_hold": "number of networks whose lambda_max lies within all its sample bounds",
    "networks": "networks simulated at this depth", "s_lambda_mc": "Monte Carlo s_lambda, mean over networks",
}


def _best(bounds, kind: str):
    usable = [b for b in bounds if b.kind == kind and b.applies_to == "E lambda_max" and b.value is not None]
    if not usable:
        return None, None
    pick = max(usable, key=lambda b: b.value) if kind == "lower" else min(usable, key=lambda b: b.value)
    return pick.value, pick.name


def compute(params: FigureParams) -> Table:
    from ..numeric.spectrum import spectrum_mc
    from ..theory.spectrum import spectrum_theory

    s = settings(params, FULL, QUICK)
    depths = sorted({int(d) for d in s["depths"]})
    if not depths or depths[0] < 1:
        raise AnglefishError(f"figF4 depths must be integers >= 1, got {s['depths']!r}")
    width, samples, n_seeds, sel = int(s["width"]), int(s["samples"]), int(s["seeds"]), s["params"]
    archs = params.architectures()
    rows, seeds = [], {}
    for arch in archs:
        for depth in range(1, depths[-1] + 1):
            row = {"architecture": arch, "depth": depth}
            try:
                th = spectrum_theory(arch, depth, width, samples, sel, input_terms=False)
            except AnglefishError:  # e.g. batch BN: no closed map
                th = None
            if th is not None:
                lo, lo_name = _best(th["bounds"], "lower")
                up, up_name = _best(th["bounds"], "upper")
                row.update(lambda_theory=th["lambda_max"] / width, lower_theory=lo / width, lower_theory_name=lo_name,
                           upper_theory=up / width, upper_theory_name=up_name, s_lambda_theory=th["s_lambda"],
                           sqrt_ps_theory=next(b.value for b in th["bounds"] if b.name == "sqrt_P_s") / width)
            if depth in depths:
                sd = derive_seed(params.seed, NAME, arch, depth)
                seeds[f"{arch}/L={depth}"] = sd
                mc = spectrum_mc(arch, depth, width, samples, n_seeds, sel, seed=sd)
                per = mc["sample_bounds_per_seed"]
                lower = np.max([per[k] for k in ("s_over_m", "rayleigh_uniform", "max_diagonal")], axis=0)
                upper = np.min([per[k] for k in ("sqrt_P_s", "trace", "gershgorin")], axis=0)
                lam = mc["lambda_max_per_seed"]
                row.update(lambda_mc=mc["lambda_max"] / width, lambda_mc_se=mc["lambda_max_se"] / width,
                           lower_sample=float(lower.mean()) / width, upper_sample=float(upper.mean()) / width,
                           sample_bounds_hold=int(np.sum((lam >= lower * (1 - 1e-9)) & (lam <= upper * (1 + 1e-9)))),
                           networks=n_seeds, s_lambda_mc=mc["s_lambda"])
            rows.append(row)
    return Table.from_rows(rows, list(COLUMNS), {"settings": s, "seeds": seeds, "columns": COLUMNS,
                                                 "architectures": list(archs)})


@styled
def plot(table: Table):
    from matplotlib.lines import Line2D

    s = table.metadata["settings"]
    archs = table.unique("architecture")
    fig, axes = new_figure(3.3 * len(archs) + 0.4, 3.9, 1, len(archs))
    for j, arch in enumerate(archs):
        ax = axes[0, j]
        t = table.where(architecture=arch)
        d = t.column("depth")
        c = color(arch)
        for col, style in (("lambda_theory", "-"), ("lower_theory", "--"), ("upper_theory", ":"),
                           ("sqrt_ps_theory", "-.")):
            y = t.column(col)
            if np.any(np.isfinite(y)):
                ax.plot(d, y, color=c if col == "lambda_theory" else lighten(c, 0.25), linestyle=style, zorder=2)
        y = t.column("lambda_mc")
        ok = np.isfinite(y)
        for col, marker in (("lower_sample", "^"), ("upper_sample", "v")):
            ax.plot(d[ok], t.column(col)[ok], linestyle="none", marker=marker, markersize=3.5, color=lighten(c, 0.35),
                    zorder=3)
        points(ax, d[ok], y[ok], se=t.column("lambda_mc_se")[ok], color=c)
        ax.set_yscale("log")
        ax.set_xlabel("depth L (blocks)")
        ax.set_title(label(arch))
        if j == 0:
            ax.set_ylabel("eigenvalue of F / N (log scale)")
    handles = [Line2D([], [], color="0.2", linestyle="-", label="λ$_{max}$, N = ∞"),
               Line2D([], [], color="0.5", linestyle="--", label="best lower bound (theory)"),
               Line2D([], [], color="0.5", linestyle=":", label="upper bound tr F (theory)"),
               Line2D([], [], color="0.5", linestyle="-.", label="√(P s$_λ$) of the N = ∞ Gram"),
               Line2D([], [], color="0.2", marker="o", markerfacecolor="white", linestyle="none",
                      label="λ$_{max}$ measured ±1 SE"),
               Line2D([], [], color="0.6", marker="^", linestyle="none", label="sample lower bound (mean)"),
               Line2D([], [], color="0.6", marker="v", linestyle="none", label="sample upper bound (mean)")]
    axes[0, -1].legend(handles=handles, loc="lower right", fontsize=7)
    fig.supxlabel(f"Lines: infinite-width theory; points: width N = {s['width']}, {s['seeds']} networks per depth, "
                  f"T = {s['samples']} inputs, parameters '{s['params']}'.  Each network's λ$_{{max}}$ lies between "
                  "its own sample bounds.", fontsize=7.5)
    return fig
