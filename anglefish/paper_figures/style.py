"""Shared look of the figures: colours and labels per architecture, error bars, tick helpers.

Figures are built as bare :class:`matplotlib.figure.Figure` objects (no pyplot), so nothing
here touches the user's backend or global figure list; saving uses Agg (PNG) and the PDF
backend directly.
"""
from __future__ import annotations

import math

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

RC = {
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "errorbar.capsize": 0,
    "savefig.dpi": 150,
    "pdf.fonttype": 42,
    "svg.hashsalt": "anglefish",
}

LABELS = {"mlp": "MLP", "resnet": "ResNet", "resnet-bn": "ResNet+BN"}
_COLORS = {"mlp": "#1f77b4", "resnet": "#d62728", "resnet-bn": "#2ca02c"}
_EXTRA = ["#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"]
#: colours for a second categorical variable (input angle, theta0, ...)
SEQUENCE = ["#332288", "#117733", "#cc6677", "#ddaa33", "#88ccee", "#aa4499"]


def label(arch: str) -> str:
    return LABELS.get(arch, arch)


def color(arch: str) -> str:
    if arch in _COLORS:
        return _COLORS[arch]
    return _EXTRA[sum(map(ord, arch)) % len(_EXTRA)]


def lighten(c, amount: float = 0.45) -> tuple:
    """``c`` mixed with white (amount 0 = unchanged, 1 = white)."""
    from matplotlib.colors import to_rgb

    return tuple(1 - (1 - x) * (1 - amount) for x in to_rgb(c))


def new_figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **subplot_kw):
    """(fig, axes), axes always a 2-D array; call inside :func:`styled` plot functions."""
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def styled(fn):
    """Run a plot function under the house rc settings (ticks, fonts are read at draw time)."""
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return fn(*args, **kwargs)
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def points(ax, x, y, sd=None, se=None, *, color, marker="o", label=None, size=4.0, zorder=3):
    """Simulation points: thin bars = +-sd over initialisations, thick bars = +-1 standard error
    of the mean (either may be None)."""
    if sd is not None:
        ax.errorbar(x, y, yerr=sd, fmt="none", ecolor=color, elinewidth=0.8, alpha=0.55, zorder=zorder)
    if se is not None:
        ax.errorbar(x, y, yerr=se, fmt="none", ecolor=color, elinewidth=2.6, zorder=zorder)
    ax.plot(x, y, linestyle="none", marker=marker, markersize=size, markerfacecolor="white",
            markeredgecolor=color, markeredgewidth=1.2, color=color, label=label, zorder=zorder + 1)


def pi_ticks(axis, upto: float = math.pi, step: int = 4):
    """Ticks at multiples of pi/step on an angle axis (``axis`` = ax.xaxis or ax.yaxis)."""
    names = {0: "0", 1: "π/4", 2: "π/2", 3: "3π/4", 4: "π"} if step == 4 else None
    ticks = [k * math.pi / step for k in range(int(round(upto / (math.pi / step))) + 1)]
    axis.set_major_locator(FixedLocator(ticks))
    if names:
        axis.set_major_formatter(FuncFormatter(lambda v, _: names.get(int(round(v / (math.pi / 4))), "")))


def plain_log_ticks(axis, ticks):
    """On a log axis spanning less than a decade: these ticks, as plain decimals, no minor labels."""
    axis.set_major_locator(FixedLocator(list(ticks)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())
