"""Fig. 8: the angle through depth L = 0..10 for fixed pairs of real, PCA-whitened images.

Data.  MNIST's role is played by scikit-learn's bundled 8x8 digits (classes 0 and 1, whitened:
D = 50 coordinates) unless ``params.data_dir`` holds the four MNIST IDX files, which are then
used; CIFAR-10 panels are drawn only when ``params.data_dir`` holds the CIFAR-10 binary batches
(nothing is downloaded).  For each data set and each target angle (MNIST / digits: 0.93 and
1.96 rad, CIFAR-10: 1.31 and 1.83 rad, the paper's pairs) the pair of test images whose angle
is nearest is picked with :func:`anglefish.numeric.data.pick_pair` (test split: the training
split is exactly white and, with fewer images than pixels, a regular simplex); the achieved
angle, the two row indices and the two classes are in the CSV and the manifest.

Lines: the exact infinite-width map iterated from the achieved angle
(``numeric_maps(arch).iterate``).  The map depends on the angle alone: for these homogeneous
architectures the norms of the two inputs drop out (population BN divides both by the same
population moment).  Points: the paper's angle (arccos of seed-averaged inner products) of
finite random networks on that very pair, exact Gram sampler (``anglefish.numeric.simulate``
with ``given_inputs``), +-1 jackknife standard error over seeds.

Width.  The paper has N = D.  Here N = max(D, ``min_width``): an input of dimension D < N is
embedded isometrically as sqrt(N/D) (x, 0), which keeps its angle and its per-unit second
moment ||x||^2 / D, so the width-N network sees the same statistics as a width-D one; it only
lowers the finite-width bias of the seed-averaged angle (about +0.1 to +0.2 rad for the MLP at
L = 10 and N = 50, measured).  ``min_width = 0`` gives the paper's N = D.

Settings.  Time on 2 cores, drawing included (digits only): quick about 1.3 s, full about
2.0 s (simulation 0.4 s / 1.0 s) once the theory maps and the digits are loaded; run alone in a
fresh process add about 2.5 s for building the three maps and 1.7 s for loading the digits
(both shared with other figures of a render):
    depth 10; mnist_angles [0.93, 1.96]; cifar10_angles [1.31, 1.83]; min_width 784;
    seeds 256 (quick 64); classes [0, 1]; n_train 1000, n_test 1000 images per split (digits
    has about 180 of each); data_seed 0 (subsampling of MNIST / CIFAR-10).
"""
from __future__ import annotations

import math

import numpy as np

from .base import FigureParams, Table, derive_seed, settings
from .style import color, label, new_figure, points, styled

NAME = "fig08"
TITLE = "Angle through depth for fixed pairs of real whitened images (theory lines, Monte Carlo points)"
PAPER = ("ACML 2019 Fig. 8: angle vs L = 0..10 for fixed input pairs, MNIST at 0.93 and 1.96 rad, "
         "CIFAR-10 at 1.31 and 1.83 rad, MLP / ResNet / ResNet+BN")
CLAIM = ("on real data pairs, as on synthetic ones, the MLP shrinks the angle fastest, the ResNet slower and "
         "the ResNet+BN slowest; finite networks on the actual pair follow the infinite-width map at the "
         "pair's angle")
DATA_SOURCE = ("scikit-learn's bundled 8x8 digits, classes 0 and 1, PCA-whitened (MNIST's stand-in); MNIST / "
               "CIFAR-10 from data_dir when present; the exact source is recorded per run")
GENERIC = True
#: reads MNIST / CIFAR-10 files from --data-dir (the command line refuses --data-dir without such a figure)
DATA_DIR = True
FULL = {"depth": 10, "mnist_angles": [0.93, 1.96], "cifar10_angles": [1.31, 1.83], "min_width": 784,
        "seeds": 256, "classes": [0, 1], "n_train": 1000, "n_test": 1000, "data_seed": 0}
QUICK = {"seeds": 64}
COLUMNS = {"dataset": "data set of the pair (digits, mnist or cifar10)",
           "target_angle": "the paper's angle for this pair (rad)",
           "theta0": "achieved angle of the picked pair (rad)",
           "index_a": "row of the first image in the whitened test split", "index_b": "row of the second",
           "class_a": "original class of the first image", "class_b": "original class of the second",
           "dim": "whitened input dimension D", "width": "simulated width N = max(D, min_width)",
           "architecture": "architecture name", "l": "depth (blocks applied)",
           "theta_theory": "exact infinite-width angle from theta0 (rad)",
           "theta_mc": "paper's angle: arccos of seed-averaged inner products (rad)",
           "theta_mc_se": "jackknife standard error of theta_mc over seeds",
           "theta_single_mean": "mean over seeds of single-network angles",
           "theta_single_sd": "sd over seeds of single-network angles"}


def data_plan(data_dir) -> tuple[list, list]:
    """([(dataset, angles key)], notes): which data sets to draw given ``data_dir``.

    A data set counts as present when any of its files is there; a present but broken data set
    raises (it is not silently replaced)."""
    from ..numeric.data import datasets_in

    notes = []
    plan = []
    found = datasets_in(data_dir)
    if "mnist" in found:
        plan.append(("mnist", "mnist_angles"))
    else:
        plan.append(("digits", "mnist_angles"))
        notes.append("MNIST files not found in data_dir (or no data_dir): scikit-learn digits stand in for MNIST")
    if "cifar10" in found:
        plan.append(("cifar10", "cifar10_angles"))
    else:
        notes.append("CIFAR-10 binary batches not found in data_dir (or no data_dir): CIFAR-10 panels skipped")
    return plan, notes


def _embed(x: np.ndarray, width: int) -> np.ndarray:
    """Rows of dimension D as rows of dimension width >= D: sqrt(width / D) (x, 0)."""
    d = x.shape[1]
    if width == d:
        return x
    out = np.zeros((x.shape[0], width))
    out[:, :d] = x * math.sqrt(width / d)
    return out


def compute(params: FigureParams) -> Table:
    from ..numeric import given_inputs, pair_statistics, simulate, spawn_generators
    from ..numeric.data import pick_pair
    from ..numeric.study import cached_dataset
    from ..theory.evaluate import maps_for_depth

    s = settings(params, FULL, QUICK)
    archs = params.architectures()
    depth, seeds = int(s["depth"]), int(s["seeds"])
    plan, notes = data_plan(params.data_dir)
    rows, seed_map, pairs, sources = [], {}, [], {}
    for dataset, key in plan:
        data = cached_dataset(dataset, params.data_dir, s["classes"], int(s["n_train"]), int(s["n_test"]),
                              int(s["data_seed"]))
        sources[dataset] = data.source
        width = max(data.dim, int(s["min_width"]))
        for target in s[key]:
            i, j, theta0 = pick_pair(data.x_test, float(target))
            pair = {"dataset": dataset, "target_angle": float(target), "theta0": theta0, "index_a": i, "index_b": j,
                    "class_a": int(data.classes[data.y_test[i]]), "class_b": int(data.classes[data.y_test[j]]),
                    "dim": int(data.dim), "width": int(width)}
            pairs.append(pair)
            x = _embed(data.x_test[[i, j]], width)
            for arch in archs:
                ls, theta, _ = maps_for_depth(arch, depth).iterate(theta0, depth)
                seed = derive_seed(params.seed, NAME, dataset, float(target), arch)
                seed_map[f"{dataset}/{target:g}/{arch}"] = seed
                rngs = spawn_generators(seed, seeds)
                traj = simulate(arch, given_inputs(x, seeds), depth, width, rngs, sampler="gram", seed=seed)
                st = pair_statistics(traj)
                for k, l in enumerate(ls):
                    rows.append({**pair, "architecture": arch, "l": int(l), "theta_theory": float(theta[k, 0]),
                                 "theta_mc": float(st.theta_mc[k]), "theta_mc_se": float(st.theta_mc_se[k]),
                                 "theta_single_mean": float(st.theta_single_mean[k]),
                                 "theta_single_sd": float(st.theta_single_sd[k])})
    source = "; ".join(f"{k}: {v}" for k, v in sources.items())
    return Table.from_rows(rows, list(COLUMNS),
                           {"settings": s, "seeds": seed_map, "columns": COLUMNS, "data_source": source,
                            "pairs": pairs, "notes": notes, "architectures": list(archs)})


@styled
def plot(table: Table):
    s = table.metadata["settings"]
    datasets = table.unique("dataset")
    ncols = max(len(table.where(dataset=d).unique("target_angle")) for d in datasets)
    fig, axes = new_figure(3.6 * ncols + 0.6, 3.5 * len(datasets) + 0.3, len(datasets), ncols)
    markers = ["o", "s", "^"]
    names = {"digits": "digits (MNIST stand-in)", "mnist": "MNIST", "cifar10": "CIFAR-10"}
    for r, dataset in enumerate(datasets):
        sub = table.where(dataset=dataset)
        targets = sub.unique("target_angle")
        for c in range(ncols):
            ax = axes[r, c]
            if c >= len(targets):
                ax.set_visible(False)
                continue
            t = sub.where(target_angle=targets[c])
            theta0 = t.column("theta0")[0]
            for k, arch in enumerate(t.unique("architecture")):
                a = t.where(architecture=arch)
                ls = a.column("l")
                ax.plot(ls, a.column("theta_theory"), color=color(arch), label=f"{label(arch)} theory", zorder=2)
                points(ax, ls, a.column("theta_mc"), se=a.column("theta_mc_se"), color=color(arch),
                       marker=markers[k % 3], label=f"{label(arch)} simulation")
            ax.set_ylim(0, theta0 * 1.08)
            ax.set_xlim(-0.3, s["depth"] + 0.3)
            ax.set_xticks(range(0, int(s["depth"]) + 1, 1 if s["depth"] <= 12 else max(1, int(s["depth"]) // 10)))
            ca, cb = int(t.column("class_a")[0]), int(t.column("class_b")[0])
            ax.set_title(f"{names.get(dataset, dataset)}: pair at {theta0:.3f} rad\n(target {targets[c]:g}; "
                         f"classes {ca} and {cb}; D = {int(t.column('dim')[0])}, N = {int(t.column('width')[0])})",
                         fontsize=8.5)
            ax.set_xlabel("depth L (blocks)")
            if c == 0:
                ax.set_ylabel("angle θ$^L$ (rad)")
            if r == 0 and c == 0:
                ax.legend(loc="lower left", ncol=1, fontsize=7)
    fig.suptitle(f"fixed pairs of whitened test images; simulation: {s['seeds']} seeds (±1 SE), Gram sampler",
                 fontsize=9)
    return fig
