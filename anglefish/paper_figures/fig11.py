"""Fig. 11: the distance ratio of the last hidden layer before and after training, L = 1..10.

Binary task: classes 0 and 1 of scikit-learn's bundled 8x8 digits (PCA-whitened, D = 50;
about 180 training and 180 test images), or of MNIST / CIFAR-10 with the option
``dataset`` and ``params.data_dir``.  For every architecture (MLP, ResNet, ResNet+BN) and
depth L, ``seeds`` networks of width N = D are trained with a softmax head by plain
mini-batch SGD on the cross-entropy (:func:`anglefish.numeric.study.distance_ratio_study`,
whose module docstring states every convention: head on h^L / sqrt(m_L), zero head at
initialisation, population BN as a fixed division).  The distance ratio
r = v^T(m+ - m-) / (sqrt(v^T S+ v) + sqrt(v^T S- v)), v = m+ - m-, is measured on h^L of the
test set.  Points: mean over seeds, thin bars +-sd, thick bars +-1 SE.  Dotted line: r of the
whitened test inputs themselves (L = 0).

The paper (binary CIFAR-10, L = 1..3, hyper-parameters not reported) is extended here to
L = 10.  The trained networks are shared with fig12 and with the training claims
(``anglefish.verify.training_claims``): the study is cached per settings and seed, so a
``render`` of both figures trains once.

Settings (every hyper-parameter of the study).  Time on 2 cores, drawing included: quick
about 8.5 s, full about 18 s (digits; the training is ~90% of it; fig12 then costs only its
drawing, about 0.9 s):
    dataset 'digits'; classes [0, 1]; n_train 1000, n_test 1000 (digits has ~180 of each);
    data_seed 0; depths 1..10; seeds 8 (quick 3); learning_rate 0.05; batch_size 20;
    epochs 30; head_init_std 0 (zero head); head_input 'population'; bn None (the blocks'
    own kind: population).
"""
from __future__ import annotations

import copy

from ..numeric.study import STUDY_FULL, STUDY_QUICK
from .base import PAPER_ARCHITECTURES, FigureParams, Table, settings
from .style import color, label, new_figure, points, styled

NAME = "fig11"
TITLE = "Distance ratio of the last hidden layer before and after training, L = 1..10"
PAPER = ("ACML 2019 Fig. 11: distance ratio before/after training for L = 1, 2, 3 (binary CIFAR-10, softmax "
         "head, SGD, cross-entropy; hyper-parameters not reported), MLP / ResNet / ResNet+BN")
CLAIM = ("at initialisation the MLP's distance ratio falls with depth and skip connections and BN relax this; "
         "nets whose angles are preserved at initialisation reach a higher distance ratio after training")
DATA_SOURCE = ("scikit-learn's bundled 8x8 digits, classes 0 and 1, PCA-whitened (the exact source and split "
               "are recorded per run)")
GENERIC = False
FULL = copy.deepcopy(STUDY_FULL)
QUICK = dict(STUDY_QUICK)
COLUMNS = {"architecture": "architecture name", "depth": "number of blocks L", "nets": "trained networks (seeds)",
           "ratio_before_mean": "distance ratio on h^L of the test set at initialisation, mean over seeds",
           "ratio_before_sd": "sd over seeds", "ratio_before_se": "sd / sqrt(nets)",
           "ratio_after_mean": "distance ratio after training, mean over seeds", "ratio_after_sd": "sd over seeds",
           "ratio_after_se": "sd / sqrt(nets)",
           "error_after_mean": "test error after training, mean over seeds", "error_after_sd": "sd over seeds",
           "train_loss_after_mean": "training cross-entropy after training (evaluation mode), mean over seeds",
           "ratio_inputs": "distance ratio of the whitened test inputs themselves (L = 0)"}


def study(params: FigureParams, s: dict) -> dict:
    """The shared, cached training study for these settings (also used by fig12)."""
    from ..numeric.study import distance_ratio_study

    return distance_ratio_study(PAPER_ARCHITECTURES, seed=params.seed, data_dir=params.data_dir,
                                **{k: s[k] for k in STUDY_FULL})


def study_units(params: FigureParams, s: dict) -> list:
    """The units of work of :func:`study` (:func:`anglefish.numeric.study.study_units`)."""
    from ..numeric.study import study_units as units_of_study

    return units_of_study(PAPER_ARCHITECTURES, params.seed, params.data_dir, **{k: s[k] for k in STUDY_FULL})


def units(params: FigureParams) -> list:
    return study_units(params, settings(params, FULL, QUICK))


def compute(params: FigureParams) -> Table:
    from ..numeric.study import summarize_study

    s = settings(params, FULL, QUICK)
    res = study(params, s)
    rows = [{**r, "ratio_inputs": res["dataset"]["ratio_inputs"]} for r in summarize_study(res)]
    return Table.from_rows(rows, list(COLUMNS),
                           {"settings": s, "seeds": res["seeds"], "columns": COLUMNS,
                            "data_source": res["dataset"]["source"], "dataset": res["dataset"], "head": res["head"],
                            "sgd": res["sgd"], "architectures": res["architectures"],
                            "study_seconds": round(res["elapsed_seconds"], 3)})


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    fig, axes = new_figure(8.4, 3.7, 1, 2, sharey=True)
    markers = ["o", "s", "^", "D"]
    archs = table.unique("architecture")
    r0 = table.column("ratio_inputs")[0]
    for j, (when, title) in enumerate((("before", "at initialisation"), ("after", "after training"))):
        ax = axes[0, j]
        ax.axhline(r0, color="0.45", linestyle=":", linewidth=1.1, label=f"inputs (L = 0): {r0:.2f}", zorder=1)
        for k, arch in enumerate(archs):
            t = table.where(architecture=arch)
            offset = (k - (len(archs) - 1) / 2) * 0.12  # side by side so the bars do not hide each other
            x = t.column("depth") + offset
            y = t.column(f"ratio_{when}_mean")
            ax.plot(x, y, color=color(arch), linewidth=1.0, alpha=0.6, zorder=2)
            points(ax, x, y, sd=t.column(f"ratio_{when}_sd"), se=t.column(f"ratio_{when}_se"), color=color(arch),
                   marker=markers[k % 4], label=label(arch))
        depths = [int(d) for d in table.unique("depth")]
        ax.set_xticks(depths if len(depths) <= 12 else depths[::max(1, len(depths) // 10)])
        ax.set_xlabel("depth L (blocks)")
        ax.set_title(title)
        if j == 0:
            ax.set_ylabel("distance ratio r on h$^L$ (test set)")
            ax.legend(loc="best", fontsize=7.5)
    axes[0, 0].set_ylim(bottom=0)
    ds = table.metadata.get("dataset", {})
    fig.suptitle(f"{ds.get('name', s['dataset'])} classes {s['classes'][0]} vs {s['classes'][1]} "
                 f"(D = N = {ds.get('dim', '?')}); mean over {s['seeds']} seeds, thin bar ±sd, thick bar ±SE; "
                 f"SGD lr {s['learning_rate']:g}, batch {s['batch_size']}, {s['epochs']} epochs", fontsize=8.5)
    return fig
