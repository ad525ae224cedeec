"""Fig. A1: the derived large-depth laws against the exact map iterated to a million blocks.

For each architecture, ``depth_law(arch)`` gives the law derived from the series of the exact
map (no formula typed in): ``theta_l`` (keeps theta0), ``leading`` (the dominant term alone, e.g.
3 pi / l for the MLP) and, for logarithmic laws, ``corrected`` (leading plus the constant term).
Top row: the iterated exact angle rescaled by the leading law, theta_l / leading(l), which tends
to 1 (for the MLP this is l theta_l / (3 pi) -> 1: the law's constant); dashed: rescaled by the
corrected law.  Bottom row: relative error |law / theta_l - 1| of each form, log-log, which tends
to 0 where the law is right.  Colours: theta0 in {0.1, 0.5, 1.5, 3.0}.  For a geometric law
(a user architecture with slope s < 1 at theta = 0) the top row shows theta_l / s^l, which tends
to the law's constant K(theta0).  Generic: ``params.arch``.

Settings.  Time on 2 cores, drawing included: quick about 4 s (iteration 1.7 s, drawing 2.3 s),
full about 11 s (3 architectures x 4 angles x 10^6 blocks, ~9 s):
    depth 10^6 (quick 10^5); theta0s [0.1, 0.5, 1.5, 3.0]; points 121 log-spaced depths.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp
from matplotlib.ticker import LogLocator, NullFormatter

from .base import FigureParams, Table, settings
from .style import SEQUENCE, label, new_figure, styled

NAME = "figA1"
TITLE = "Derived large-depth laws vs the exact map iterated to 10^6 blocks"
PAPER = ("not in the paper: checks the depth laws anglefish derives (the paper's Table 1 claims "
         "exponential / sub-exponential / reciprocal decay)")
CLAIM = ("the derived laws are the true large-depth behaviour of the exact maps: MLP theta_l ~ 3 pi / l, "
         "ResNet ~ 6 pi / l (power laws, not exponential), ResNet+BN ~ 3 pi / log l (logarithmic); "
         "law / iterate -> 1 from every theta0")
DATA_SOURCE = "theory: derived depth laws (SymPy) and the exact map iterated in float64 (no simulation)"
#: run-time hint of the figure's one unit of work (anglefish.units.COST_PER_SECOND = 50 per CPU second):
#: the full figure takes ~6 s of CPU, so it starts among the long units, not last (a tail of 6 s)
COST = 300.0
GENERIC = True
FULL = {"depth": 10**6, "theta0s": [0.1, 0.5, 1.5, 3.0], "points": 121}
QUICK = {"depth": 10**5}
FORMS = ("theta_l", "leading", "corrected")
COLUMNS = {"architecture": "architecture name", "law_class": "derived class of the law",
           "theta0": "starting angle (rad)", "l": "depth (blocks applied)",
           "theta_iterate": "exact map iterated l times (float64)",
           "law_theta_l": "derived law with theta0 kept", "law_leading": "leading term of the law",
           "law_corrected": "leading term plus constant correction (logarithmic laws)",
           "ratio_theta_l": "theta_iterate / law_theta_l", "ratio_leading": "theta_iterate / law_leading",
           "ratio_corrected": "theta_iterate / law_corrected",
           "rescaled_geometric": "theta_iterate / s^l for geometric laws (-> K(theta0))"}


def _pretty(expr) -> str:
    if expr is None:
        return ""
    text = sp.sstr(expr)
    return text.replace("pi", "π").replace("*", "").replace("theta0", "θ0")


def _evaluator(expr):
    from ..theory.asymptotics import KOENIGS, THETA0
    from ..theory.blocks import BLOCK_INDEX

    if expr is None or expr.has(KOENIGS):
        return None
    f = sp.lambdify((BLOCK_INDEX, THETA0), expr, "mpmath")

    def value(l, t0):
        try:
            v = complex(f(int(l), t0))
        except (ZeroDivisionError, ValueError, TypeError, OverflowError):
            return None
        if abs(v.imag) > 1e-12 * max(1.0, abs(v.real)) or not math.isfinite(v.real):
            return None
        return v.real

    return value


def compute(params: FigureParams) -> Table:
    from ..theory.asymptotics import depth_law
    from ..theory.evaluate import numeric_maps

    s = settings(params, FULL, QUICK)
    depth = int(s["depth"])
    theta0s = [float(t) for t in s["theta0s"]]
    grid = np.unique(np.round(np.logspace(0, math.log10(depth), int(s["points"]))).astype(np.int64))
    grid = np.unique(np.append(grid, depth))
    archs = params.architectures()
    rows, laws = [], {}
    for arch in archs:
        law = depth_law(arch)
        forms = {name: _evaluator(getattr(law, name)) for name in FORMS}
        rate = float(law.rate) if law.rate is not None else None
        laws[arch] = {"class": law.law_class, **{name: _pretty(getattr(law, name)) for name in FORMS},
                      "rate": None if rate is None else rate}
        ls, theta, _ = numeric_maps(arch).iterate(np.array(theta0s), depth, at=grid)
        keep = np.searchsorted(ls, grid)
        for j, t0 in enumerate(theta0s):
            for l, th in zip(grid, theta[keep, j]):
                th = float(th)
                row = {"architecture": arch, "law_class": law.law_class, "theta0": t0, "l": int(l),
                       "theta_iterate": th}
                for name, f in forms.items():
                    v = None if f is None else f(l, t0)
                    row[f"law_{name}"] = v
                    row[f"ratio_{name}"] = th / v if v not in (None, 0.0) and th > 0 else None
                if rate is not None and 0 < rate < 1 and th > 0:
                    row["rescaled_geometric"] = math.exp(math.log(th) - int(l) * math.log(rate))
                rows.append(row)
    return Table.from_rows(rows, list(COLUMNS), {"settings": s, "columns": COLUMNS, "laws": laws,
                                                 "architectures": list(archs)})


def _relative_error(ratio):
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.abs(1.0 / ratio - 1.0)
    return np.where(err > 0, err, np.nan)


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    laws = table.metadata.get("laws", {})
    archs = table.unique("architecture")
    fig, axes = new_figure(3.5 * len(archs) + 0.6, 6.4, 2, len(archs))
    styles = {"theta_l": "-", "leading": "--", "corrected": "-."}
    names = {"theta_l": "law with θ0", "leading": "leading term", "corrected": "leading + constant"}
    for j, arch in enumerate(archs):
        t = table.where(architecture=arch)
        info = laws.get(arch, {})
        top, bottom = axes[0, j], axes[1, j]
        geometric = np.any(np.isfinite(t.column("rescaled_geometric")))
        has = {f: np.any(np.isfinite(t.column(f"ratio_{f}"))) for f in FORMS}
        for k, t0 in enumerate(t.unique("theta0")):
            a = t.where(theta0=t0)
            ls = a.column("l")
            c = SEQUENCE[k % len(SEQUENCE)]
            if geometric:
                top.plot(ls, a.column("rescaled_geometric"), color=c, label=f"θ0 = {t0:g}")
            elif has["leading"]:
                top.plot(ls, a.column("ratio_leading"), color=c, label=f"θ0 = {t0:g}")
                if has["corrected"]:
                    top.plot(ls, a.column("ratio_corrected"), color=c, linestyle="--", linewidth=1.2)
            else:
                top.plot(ls, a.column("theta_iterate"), color=c, label=f"θ0 = {t0:g}")
            for f in FORMS:
                if has[f]:
                    bottom.plot(ls, _relative_error(a.column(f"ratio_{f}")), color=c, linestyle=styles[f],
                                linewidth=1.2)
        top.set_xscale("log")
        top.set_xlim(1, s["depth"])
        if geometric:
            top.set_ylabel("θ$_l$ / s$^l$  (→ K(θ0))")
            top.set_title(f"{label(arch)}: geometric, s = {info.get('rate'):.4g}")
        elif has["leading"]:
            top.axhline(1.0, color="0.5", linewidth=0.9, linestyle=":")
            top.set_ylim(0, 1.12)
            if j == 0:
                top.set_ylabel("θ$_l$ / leading law  (→ 1)")
            extra = "\n(dashed: θ$_l$ / leading + constant)" if has["corrected"] else ""
            top.set_title(f"{label(arch)}: θ$_l$ ≈ {info.get('leading', '')}{extra}", fontsize=9)
        else:
            top.set_ylabel("θ$_l$ (no closed law)")
            top.set_title(f"{label(arch)}: {info.get('class', '')}")
        top.set_xlabel("depth l (blocks)")
        if j == 0:
            top.legend(loc="upper left" if has["leading"] else "best", fontsize=7.5)
        bottom.set_xscale("log")
        bottom.set_xlim(1, s["depth"])
        if any(has.values()):
            bottom.set_yscale("log")
            for f in FORMS:
                if has[f]:
                    bottom.plot([], [], color="0.3", linestyle=styles[f], linewidth=1.2, label=names[f])
            bottom.legend(loc="lower left", fontsize=7.5)
        else:
            bottom.text(0.5, 0.5, "no closed-form law to compare", ha="center", va="center",
                        transform=bottom.transAxes)
        bottom.set_xlabel("depth l (blocks)")
        if j == 0:
            bottom.set_ylabel("relative error |law / θ$_l$ − 1|")
    for ax in axes.ravel():  # minor ticks on 5-6 decades cost seconds to lay out and add nothing
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                axis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0), numticks=12))
                axis.set_minor_formatter(NullFormatter())
    fig.suptitle(f"exact map iterated to l = {s['depth']:.0e} (float64) against the derived laws", fontsize=9.5)
    return fig
