"""Fig. 12: test error against the distance ratio after training, every trained network.

The networks are those of fig11 (same settings, same seed, shared cached study: see
:mod:`anglefish.paper_figures.fig11` and :func:`anglefish.numeric.study.distance_ratio_study`
for every convention and hyper-parameter).  One point per trained network (architecture by
colour, depth by marker size).  The Pearson correlation of test error with r over all nets and
its 95% confidence interval (Fisher z: tanh(atanh r +- 1.96 / sqrt(n - 3))) are printed on the
plot and are the 'correlation' rows of the CSV, together with the Spearman rank correlation
(approximate interval, SE sqrt(1.06 / (n - 3))), the within-depth Pearson correlation (r and
error minus their mean at each depth: is the relation more than "deeper nets have lower r and
higher error"?) and the Pearson correlation over the paper-like subset (depths <= 3, first
seed: 9 nets).  The paper reports -0.91 over its 9 nets.  Dashed:
Theorem 1's bound 1 / (1 + r^2) on the error of the linear rule along v (a bound, not a fit).

Settings: those of fig11 plus ``level`` (confidence level, 0.95).  Time on 2 cores, drawing
included: quick about 0.9 s and full about 0.9 s after fig11 (the study is cached); run alone it
first trains the networks (quick about 7.5 s more, full about 17 s more).
"""
from __future__ import annotations

import copy
import math

import numpy as np

from ..numeric.study import STUDY_FULL, STUDY_QUICK
from .base import FigureParams, Table, settings
from .style import color, label, new_figure, styled

NAME = "fig12"
TITLE = "Test error vs distance ratio after training, all trained networks, with the Pearson correlation"
PAPER = "ACML 2019 Fig. 12: test error vs distance ratio after training; correlation -0.91 over 9 nets"
CLAIM = "the distance ratio after training correlates strongly and negatively with the test error (-0.91 over 9 nets)"
DATA_SOURCE = ("scikit-learn's bundled 8x8 digits, classes 0 and 1, PCA-whitened (the exact source and split "
               "are recorded per run)")
GENERIC = False
FULL = {**copy.deepcopy(STUDY_FULL), "level": 0.95}
QUICK = dict(STUDY_QUICK)
COLUMNS = {"kind": "'net' (one trained network) or 'correlation' (a summary row)",
           "architecture": "architecture name (net rows)", "depth": "number of blocks L (net rows)",
           "seed_index": "replicate index within (architecture, depth) (net rows)",
           "ratio_after": "distance ratio on h^L of the test set after training",
           "error_after": "test error after training", "ratio_before": "distance ratio at initialisation",
           "bound_after": "Theorem 1 bound 1 / (1 + ratio_after^2)",
           "train_loss_after": "training cross-entropy after training",
           "subset": "nets the correlation is over (correlation rows)",
           "method": "pearson or spearman (correlation rows)", "n": "number of nets (correlation rows)",
           "r": "correlation of error_after with ratio_after", "lo": "lower confidence limit (Fisher z)",
           "hi": "upper confidence limit", "level": "confidence level"}


def units(params: FigureParams) -> list:
    """The training study's units (shared with fig11: the same units run once)."""
    from .fig11 import study_units

    return study_units(params, settings(params, FULL, QUICK))


def compute(params: FigureParams) -> Table:
    from ..numeric.study import correlation_summary
    from .fig11 import study

    s = settings(params, FULL, QUICK)
    res = study(params, s)
    rows = [{"kind": "net", **{k: r[k] for k in ("architecture", "depth", "seed_index", "ratio_after", "error_after",
                                                 "ratio_before", "bound_after", "train_loss_after")}}
            for r in res["rows"]]
    for c in correlation_summary(res, float(s["level"])):
        rows.append({"kind": "correlation", **{k: c[k] for k in ("subset", "method", "n", "r", "lo", "hi", "level")}})
    return Table.from_rows(rows, list(COLUMNS),
                           {"settings": s, "seeds": res["seeds"], "columns": COLUMNS,
                            "data_source": res["dataset"]["source"], "dataset": res["dataset"], "head": res["head"],
                            "sgd": res["sgd"], "architectures": res["architectures"]})


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    nets = table.where(kind="net")
    corr = table.where(kind="correlation")
    fig, axes = new_figure(8.2, 4.2, 1, 2, gridspec_kw={"width_ratios": [2.3, 1]})
    ax, side = axes[0, 0], axes[0, 1]
    markers = ["o", "s", "^", "D"]
    depths = nets.column("depth")
    dmin, dmax = float(np.min(depths)), float(np.max(depths))
    handles = []
    for k, arch in enumerate(nets.unique("architecture")):
        t = nets.where(architecture=arch)
        d = t.column("depth")
        size = 10 + 45 * (d - dmin) / max(dmax - dmin, 1)  # deeper nets: larger markers
        handles.append(ax.scatter(t.column("ratio_after"), t.column("error_after"), s=size, marker=markers[k % 4],
                                  facecolors="none", edgecolors=color(arch), linewidths=1.0, label=label(arch),
                                  zorder=3))
    x = nets.column("ratio_after")
    hi_x = float(np.max(x)) * 1.08
    grid = np.linspace(1e-3, hi_x, 200)
    ymax = max(float(np.max(nets.column("error_after"))) * 1.15, 0.05)
    handles += ax.plot(grid, 1 / (1 + grid ** 2), color="0.45", linestyle="--", linewidth=1.0,
                       label="Theorem 1 bound 1/(1 + r²)", zorder=2)
    ax.set_xlim(0, hi_x)
    ax.set_ylim(-0.02 * ymax, ymax)
    ax.set_xlabel("distance ratio r after training (h$^L$, test set)")
    ax.set_ylabel("test error after training")
    ds = table.metadata.get("dataset", {})
    ax.set_title(f"{ds.get('name', s['dataset'])} classes {s['classes'][0]} vs {s['classes'][1]}: {len(nets)} trained "
                 f"nets ({s['seeds']} seeds × {len(s['depths'])} depths × {len(nets.unique('architecture'))} "
                 "architectures)", fontsize=8.5)
    side.set_axis_off()
    side.legend(handles=handles, loc="upper left", fontsize=7.5, title=f"marker size: depth {int(dmin)}..{int(dmax)}",
                title_fontsize=7.5, borderaxespad=0)
    level = corr.column("level")[0] if len(corr) else s["level"]
    lines = [f"correlation of test error with r\n({100 * level:g}% CI, Fisher z):"]
    for i in range(len(corr)):
        r, lo, hi = (corr.column(c)[i] for c in ("r", "lo", "hi"))
        subset = corr.columns["subset"][i].replace("<=", "≤")
        name = f"{corr.columns['method'][i].capitalize()}, {subset}, n = {int(corr.column('n')[i])}"
        lines.append(f"{name}:\n    {r:+.2f}  [{lo:+.2f}, {hi:+.2f}]".replace("-", "−") if math.isfinite(r)
                     else f"{name}:\n    undefined (constant errors)")
    lines.append("paper (9 nets): −0.91")
    side.text(0.0, 0.45, "\n".join(lines), transform=side.transAxes, ha="left", va="top", fontsize=7.5,
              linespacing=1.35)
    return fig
