"""Fig. F1: the largest Fisher eigenvalue per unit width, lambda_max / N, through depth.

Convention (:mod:`anglefish.theory.ntk`, :mod:`anglefish.numeric.fisher`): scalar linear readout
f(x) = v^T h^L, no biases, standard parameterisation, T inputs with i.i.d. N(0, 1) coordinates
(D = N), empirical FIM F = (1/T) sum_t grad f(x_t) grad f(x_t)^T, whose nonzero eigenvalues
are those of K/T (K the empirical NTK Gram).  Three readings of "the FIM", one panel each:

* ``all``: every weight (all blocks and the readout v);
* ``layer:first``: the diagonal block of F on the weights of block 0 (the first block);
* ``layer:last``: the same on the weights of block L - 1 (the last block, moves with L).

Lines: the infinite-width theory ``fisher_theory(arch, L, N, T, params)['lambda_max'] / N`` at
every integer depth.  Points: ``fisher_spectrum`` on ``seeds`` random networks per depth, one
call per network with its own seed (``derive_seed(seed, 'figF1', arch, L, k)``; the same
networks in the three panels), mean +-1 SE over networks.  Log y.  Generic:
``params.arch`` draws user architectures (no line where the theory refuses, e.g. batch BN).

Finite width: where the theory's pair kernel kappa2 vanishes (the MLP's first block: its
weights see orthogonal inputs), all T eigenvalues are equal at infinite width and the finite-N
top eigenvalue sits above them by a factor of order (1 + sqrt(T/N))^2; the points of that curve
are expected above the line (measured: x1.3 at L = 1 growing to x2.0 at L = 16-24 for N = 512,
T = 32; x1.5-1.9 at N = 128, T = 16).  Elsewhere the top eigenvalue is the isolated all-ones
mode and the points follow the line to within about 10%, except where L/N is no longer small
(full mode: MLP at L = 16 +19%, ResNet first block at L = 16 / 24 +16% / +50%; finite-width
corrections grow with L/N, the deep ResNet's spread over networks is log-normal).

Settings.  Time on 2 cores (shared with other jobs), drawing included: quick about 2.6 s, full
about 70-110 s (of which ``laws`` about 5 s: the symbolic large-depth laws of the three
architectures; most of the rest is drawing the weights, once per panel):
    depths [1, 2, 3, 4, 6, 8, 12, 16, 24] (quick [1, 2, 4, 8]); width N 512 (quick 128);
    samples T 32 (quick 16); seeds 12 (quick 8); panels ['all', 'layer:first', 'layer:last'];
    laws True (quick False): put the derived large-L law class (``fisher_law``) in the legend.
"""
from __future__ import annotations

import numpy as np

from ..errors import AnglefishError
from .base import FigureParams, Table, derive_seed, settings
from .style import color, label, new_figure, points, styled

NAME = "figF1"
TITLE = "Largest Fisher eigenvalue per unit width through depth: whole FIM, first block, last block"
PAPER = ("INNS-BDDL 2019 (abstract only): the MLP's FIM eigenvalues do not depend on depth, the ResNet's "
         "grow exponentially, the ResNet+BN's sub-linearly; no figure of this form is available")
CLAIM = ("lambda_max / N of the whole FIM grows linearly in depth for the MLP, exponentially for the ResNet and "
         "like L log L for the ResNet+BN; per block it is depth-independent for the MLP (first and last block) "
         "and for the ResNet+BN's last block, linear for the ResNet+BN's first block, exponential for the ResNet")
DATA_SOURCE = ("synthetic: T inputs with i.i.d. N(0, 1) coordinates (D = N), random networks drawn by "
               "anglefish.numeric.fisher.fisher_spectrum, one generator per network")
GENERIC = True
FULL = {"depths": [1, 2, 3, 4, 6, 8, 12, 16, 24], "width": 512, "samples": 32, "seeds": 12,
        "panels": ["all", "layer:first", "layer:last"], "laws": True}
QUICK = {"depths": [1, 2, 4, 8], "width": 128, "samples": 16, "seeds": 8, "laws": False}
COLUMNS = {"architecture": "architecture name", "panel": "which parameters: all | layer:first | layer:last",
           "depth": "number of blocks L",
           "subset": "the parameter subset at this depth (layer:K is 0-based block K)",
           "lambda_theory": "infinite-width theory lambda_max / N (fisher_theory); empty if the theory refuses",
           "lambda_mc": "Monte Carlo lambda_max / N, mean over seeds (empty at depths not simulated)",
           "lambda_mc_se": "its standard error (sd / sqrt(seeds))",
           "lambda_mc_sd": "sd over seeds of lambda_max / N",
           "mean_eigenvalue_theory": "theory m_lambda = tr F / P of the subset (fisher_theory)",
           "mean_eigenvalue_mc": "Monte Carlo m_lambda, mean over seeds"}
PANEL_TITLES = {"all": "whole FIM (all weights)", "layer:first": "first block only (block 0)",
                "layer:last": "last block only (block L−1)", "layer:readout": "readout v only"}


def _subset(panel: str, depth: int) -> str:
    """The concrete subset name of a panel at a depth (fisher_spectrum takes 'layer:K')."""
    if panel == "layer:first":
        return "layer:0"
    if panel == "layer:last":
        return f"layer:{depth - 1}"
    return panel


def _theory(arch, depth, width, samples, subset):
    from ..theory.fisher_theory import fisher_theory

    try:
        return fisher_theory(arch, depth, width, samples, params=subset)
    except AnglefishError:  # e.g. batch BN: no closed map
        return None


def _checked(params: FigureParams) -> tuple:
    """(settings, depths) after checking depths and panels."""
    s = settings(params, FULL, QUICK)
    depths = sorted({int(d) for d in s["depths"]})
    if not depths or depths[0] < 1:
        raise AnglefishError(f"figF1 depths must be integers >= 1, got {s['depths']!r}")
    for panel in s["panels"]:
        if panel not in PANEL_TITLES:
            raise AnglefishError(f"figF1 panels must be among {', '.join(PANEL_TITLES)}, got {panel!r}")
    return s, depths


def units(params: FigureParams) -> list:
    """One single-network :func:`~anglefish.numeric.fisher.fisher_spectrum` per (architecture, depth,
    panel, network), in the order :func:`compute` reads them (:mod:`anglefish.units`)."""
    from ..numeric.fisher import fisher_spectrum
    from ..units import arch_name, unit

    s, depths = _checked(params)
    width, samples = int(s["width"]), int(s["samples"])
    return [unit(fisher_spectrum, arch=arch_name(arch), depth=depth, width=width, samples=samples, seeds=1,
                 subset=_subset(panel, depth), seed=derive_seed(params.seed, NAME, arch, depth, k),
                 cost=depth * width * width * samples / 1e6)
            for arch in params.architectures() for depth in depths for panel in s["panels"]
            for k in range(int(s["seeds"]))]


def compute(params: FigureParams) -> Table:
    from ..units import run_units

    s, depths = _checked(params)
    width, samples, n_seeds = int(s["width"]), int(s["samples"]), int(s["seeds"])
    archs = params.architectures()
    results = iter(run_units(units(params)))
    rows, seeds, laws = [], {}, {}
    for arch in archs:
        mc = {}
        for depth in depths:
            # one network per call (memory ~ depth N^2, not seeds x depth N^2); network k has its own
            # seed, and the same seed in every panel, so the panels show the same networks
            net_seeds = [derive_seed(params.seed, NAME, arch, depth, k) for k in range(n_seeds)]
            seeds[f"{arch}/L={depth}"] = net_seeds
            for panel in s["panels"]:
                runs = [next(results) for _ in net_seeds]
                mc[panel, depth] = (np.array([r["lambda_max"] for r in runs]) / width,
                                    np.array([r["mean_eigenvalue"] for r in runs]))
        for panel in s["panels"]:
            if s["laws"]:
                from ..theory.fisher_laws import fisher_law

                try:
                    laws[f"{arch}/{panel}"] = fisher_law(arch, panel)["class"]
                except AnglefishError:
                    laws[f"{arch}/{panel}"] = None
            for depth in range(1, depths[-1] + 1):  # theory at every depth, simulation where run
                subset = _subset(panel, depth)
                th = _theory(arch, depth, width, samples, subset)
                lam, mean = mc.get((panel, depth), (None, None))
                many = lam is not None and lam.size > 1
                rows.append({
                    "architecture": arch, "panel": panel, "depth": depth, "subset": subset,
                    "lambda_theory": None if th is None or th["lambda_max"] is None else th["lambda_max"] / width,
                    "lambda_mc": None if lam is None else float(lam.mean()),
                    "lambda_mc_se": float(lam.std(ddof=1) / np.sqrt(lam.size)) if many else None,
                    "lambda_mc_sd": float(lam.std(ddof=1)) if many else None,
                    "mean_eigenvalue_theory": None if th is None else th["mean_eigenvalue"],
                    "mean_eigenvalue_mc": None if mean is None else float(mean.mean()),
                })
    return Table.from_rows(rows, list(COLUMNS),
                           {"settings": s, "seeds": seeds, "columns": COLUMNS, "architectures": list(archs),
                            "laws": laws})


@styled
def plot(table: Table):
    from matplotlib.lines import Line2D

    s = table.metadata["settings"]
    laws = table.metadata.get("laws", {})
    panels = table.unique("panel")
    archs = table.unique("architecture")
    fig, axes = new_figure(3.3 * len(panels) + 0.4, 4.0, 1, len(panels), sharey=True)
    markers = ["o", "s", "^", "D", "v", "P"]
    max_depth = int(max(table.column("depth")))
    for j, panel in enumerate(panels):
        ax = axes[0, j]
        handles = []
        for k, arch in enumerate(archs):
            t = table.where(architecture=arch, panel=panel)
            d, th = t.column("depth"), t.column("lambda_theory")
            has_theory = bool(np.any(np.isfinite(th)))
            if has_theory:
                ax.plot(d, th, color=color(arch), linewidth=1.4, zorder=2)
            y = t.column("lambda_mc")
            ok = np.isfinite(y)
            points(ax, d[ok], y[ok], se=t.column("lambda_mc_se")[ok], color=color(arch), marker=markers[k % 6])
            law = laws.get(f"{arch}/{panel}")
            handles.append(Line2D([], [], color=color(arch), linestyle="-" if has_theory else "none",
                                  marker=markers[k % 6], markerfacecolor="white", markersize=4,
                                  label=label(arch) + (f": {law} in L" if law else "")))
        ax.set_yscale("log")
        ax.set_xlim(0.3, max_depth + 0.7)
        ax.set_xlabel("depth L (blocks)")
        ax.set_title(PANEL_TITLES.get(panel, panel))
        if j == 0:
            ax.set_ylabel("λ$_{max}$ / N (log scale)")
        ax.legend(handles=handles, loc="upper left", fontsize=7.5)
    lo, hi = axes[0, 0].get_ylim()
    axes[0, 0].set_ylim(lo, hi * (hi / lo) ** 0.2)  # room for the legends above the curves
    note = ""
    if "layer:first" in panels and "mlp" in archs:
        note = ("\nMLP block 0 (the first block; also the last at L = 1): κ$_2$ = 0, so at N = ∞ all T eigenvalues "
                "are equal; at finite N the top one lies above them, by a factor of order (1 + √(T/N))$^2$.")
    fig.supxlabel(f"Lines: infinite-width theory; points: width N = {s['width']}, {s['seeds']} networks per depth, "
                  f"mean ±1 SE; T = {s['samples']} inputs." + note, fontsize=7.5)
    return fig
