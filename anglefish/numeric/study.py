"""The distance-ratio training study of ACML 2019 (Figs. 11-12 and the training claims): every
architecture trained at every depth for several seeds, r and test error before and after, with
the summaries the figures and claims share.  The classifier itself: :mod:`.classify`."""
from __future__ import annotations

import copy
import math
import zlib
from collections import OrderedDict

import numpy as np

from ..errors import AnglefishError
from ..theory.architectures import get_architecture
from ..validation import check_int
from .classify import HEAD, SGDSettings, distance_ratio, evaluate, train_classifier
from .statistics import pearson_with_ci, spearman_with_ci

#: default settings of the distance-ratio study of Figs. 11-12 (and the training claims);
#: the figures use these dicts as their FULL / QUICK settings so that all share one run.
STUDY_FULL = {"dataset": "digits", "classes": [0, 1], "n_train": 1000, "n_test": 1000, "depths": list(range(1, 11)),
              "seeds": 8, "learning_rate": 0.05, "batch_size": 20, "epochs": 30, "head_init_std": 0.0,
              "head_input": "population", "bn": None, "data_seed": 0}
STUDY_QUICK = {"seeds": 3}

_STUDY_CACHE: "OrderedDict[tuple, dict]" = OrderedDict()
_STUDY_CACHE_SIZE = 8
_DATA_CACHE: "OrderedDict[tuple, object]" = OrderedDict()


def cached_dataset(name: str = "digits", data_dir=None, classes=(0, 1), n_train: int = 1000, n_test: int = 1000,
                   seed: int = 0):
    """:func:`anglefish.numeric.data.load_dataset`, remembered per arguments (a few kept)."""
    from .data import load_dataset

    key = (name, None if data_dir is None or name == "digits" else str(data_dir), tuple(int(c) for c in classes),
           int(n_train), int(n_test), int(seed))
    if key not in _DATA_CACHE:
        _DATA_CACHE[key] = load_dataset(name, data_dir=data_dir, classes=tuple(classes), n_train=n_train,
                                        n_test=n_test, seed=seed)
        while len(_DATA_CACHE) > 4:
            _DATA_CACHE.popitem(last=False)
    return _DATA_CACHE[key]


def study_seed(seed: int, arch: str, depth: int) -> int:
    """The master seed of one (architecture, depth) of the study, from the study's seed."""
    words = [int(seed), zlib.crc32(b"distance-ratio-study"), zlib.crc32(arch.encode()), int(depth)]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint32)[0])


def _study_settings(architectures, seed: int, overrides: dict) -> tuple:
    """(architectures, settings, depths, seeds, SGD settings) of a study, validated."""
    unknown = set(overrides) - set(STUDY_FULL)
    if unknown:
        raise AnglefishError(f"unknown study setting(s): {', '.join(sorted(unknown))}; known: "
                             f"{', '.join(sorted(STUDY_FULL))}")
    s = {**STUDY_FULL, **overrides}
    s = {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.items()}
    archs = tuple(get_architecture(a).name for a in architectures)
    depths = [check_int(d, "depth", 1) for d in s["depths"]]
    if not depths:
        raise AnglefishError("depths must list at least one depth")
    seeds = check_int(s["seeds"], "seeds", 1)
    check_int(seed, "seed", 0)
    sgd = SGDSettings(float(s["learning_rate"]), int(s["batch_size"]), int(s["epochs"]), float(s["head_init_std"]),
                      s["head_input"], s["bn"])
    return archs, s, depths, seeds, sgd


def study_cell(arch: str, depth: int, seed: int, settings: dict, data_dir=None) -> list:
    """The rows of one (architecture, depth) of the study with master ``seed`` (a unit of work): its
    ``settings['seeds']`` networks, net k from generator k of ``spawn_generators(study_seed(seed, arch,
    depth), seeds)``, trained and evaluated before and after."""
    _, s, _, seeds, sgd = _study_settings((arch,), seed, settings)
    data = cached_dataset(s["dataset"], data_dir, s["classes"], int(s["n_train"]), int(s["n_test"]),
                          int(s["data_seed"]))
    run = train_classifier(arch, data.x_train, data.y_train, depth, seeds, study_seed(seed, arch, depth), sgd)
    before = evaluate(run.initial, data.x_test, data.y_test, data.x_train, data.y_train)
    after = evaluate(run.trained, data.x_test, data.y_test, data.x_train, data.y_train)
    return [{"architecture": arch, "depth": depth, "seed_index": k,
             "ratio_before": float(before["ratio"][k]), "ratio_after": float(after["ratio"][k]),
             "bound_before": float(before["bound"][k]), "bound_after": float(after["bound"][k]),
             "error_before": float(before["test_error"][k]), "error_after": float(after["test_error"][k]),
             "train_loss_before": float(before["train_loss"][k]), "train_loss_after": float(after["train_loss"][k]),
             "final_epoch_loss": float(run.epoch_loss[-1, k]) if len(run.epoch_loss) else None}
            for k in range(seeds)]


def study_units(architectures=("mlp", "resnet", "resnet-bn"), seed: int = 0, data_dir=None, **overrides) -> list:
    """The study's units of work, one :func:`study_cell` per (architecture, depth), in row order."""
    from ..units import COST_PER_SECOND, arch_name, unit

    archs, s, depths, seeds, sgd = _study_settings(architectures, seed, overrides)
    if s["dataset"] == "digits":
        data_dir = None
    cost = COST_PER_SECOND * seeds * sgd.epochs * int(s["n_train"]) / 5e5  # ~ CPU seconds (measured at 5374084)
    return [unit(study_cell, arch=arch_name(a), depth=d, seed=int(seed), settings=s,
                 data_dir=None if data_dir is None else str(data_dir), cost=cost * (1 + 0.1 * d))
            for a in archs for d in depths]


def distance_ratio_study(architectures=("mlp", "resnet", "resnet-bn"), seed: int = 0, data_dir=None,
                         progress=None, workers: int | None = 1, **overrides) -> dict:
    """Train every architecture at every depth for several seeds; r and test error before/after.

    Settings: :data:`STUDY_FULL` updated by ``overrides`` (same keys).  Net (arch, L, s) uses
    generator s of ``spawn_generators(study_seed(seed, arch, L), seeds)``.  Results are cached
    per (architectures, settings, seed, data_dir): the figures and the claims that ask for the
    same study share one computation.  The (architecture, depth) cells are units of work
    (:func:`study_units`) run on ``workers`` processes; the numbers do not depend on it.  Returns a
    dict with 'rows' (one per net: architecture,
    depth, seed_index, ratio_before/after, bound_before/after, error_before/after,
    train_loss_before/after, final_epoch_loss), 'settings', 'seeds' (per arch/depth),
    'dataset' (name, source, dim, sizes, notes, and ratio_inputs: r of the whitened test inputs
    themselves, depth 0) and 'elapsed_seconds'.

    Time on 2 cores (digits, D = 50, 180 training images, 30 epochs of 9 steps): quick (3
    seeds) about 7.5 s, full (8 seeds) about 17 s; it grows roughly linearly with the number of
    seeds, the epochs and the training set, and like N^2 per step in the width N = D (MNIST and
    CIFAR-10 with 1000 training images and D ~ 700-1000 take minutes).
    """
    import time

    from ..units import run_units

    archs, s, depths, seeds, sgd = _study_settings(architectures, seed, overrides)
    if s["dataset"] == "digits":
        data_dir = None  # bundled: the directory plays no part (and must not split the cache)
    key = (archs, repr(sorted(s.items())), int(seed), None if data_dir is None else str(data_dir))
    if key in _STUDY_CACHE:
        _STUDY_CACHE.move_to_end(key)
        return copy.deepcopy(_STUDY_CACHE[key])
    start = time.perf_counter()
    data = cached_dataset(s["dataset"], data_dir, s["classes"], int(s["n_train"]), int(s["n_test"]),
                          int(s["data_seed"]))
    cells = run_units(study_units(archs, seed, data_dir, **overrides), workers, progress)
    rows = [row for cell in cells for row in cell]
    seed_map = {f"{arch}/L{depth}": study_seed(seed, arch, depth) for arch in archs for depth in depths}
    result = {"rows": rows, "settings": s, "sgd": sgd.as_dict(), "head": HEAD, "seeds": seed_map,
              "dataset": {"name": data.name, "source": data.source, "dim": data.dim, "classes": list(data.classes),
                          "n_train": int(len(data.y_train)), "n_test": int(len(data.y_test)),
                          "ratio_inputs": float(distance_ratio(data.x_test, data.y_test)),
                          "notes": list(data.notes)},
              "architectures": list(archs), "elapsed_seconds": time.perf_counter() - start}
    _STUDY_CACHE[key] = result
    while len(_STUDY_CACHE) > _STUDY_CACHE_SIZE:
        _STUDY_CACHE.popitem(last=False)
    return copy.deepcopy(result)


def summarize_study(result: dict) -> list:
    """Per (architecture, depth): number of nets and mean, sd, SE (sd / sqrt(n)) of every
    per-net quantity of :func:`distance_ratio_study` present in its rows (sd and SE are nan for
    one net)."""
    quantities = ("ratio_before", "ratio_after", "error_before", "error_after", "train_loss_before",
                  "train_loss_after")
    out = []
    present = [q for q in quantities if result["rows"] and q in result["rows"][0]]
    for arch in result["architectures"]:
        for depth in result["settings"]["depths"]:
            nets = [r for r in result["rows"] if r["architecture"] == arch and r["depth"] == depth]
            row = {"architecture": arch, "depth": int(depth), "nets": len(nets)}
            for q in present:
                v = np.array([r[q] for r in nets], dtype=np.float64)
                sd = float(v.std(ddof=1)) if len(v) > 1 else math.nan
                row.update({f"{q}_mean": float(v.mean()), f"{q}_sd": sd, f"{q}_se": sd / math.sqrt(len(v))})
            out.append(row)
    return out


def correlation_summary(result: dict, level: float = 0.95) -> list:
    """Test error after training against the distance ratio after training, four readings:
    Pearson over all nets (the primary one); Spearman over all nets; Pearson within depth
    (both quantities minus their mean at each depth, i.e. the partial correlation given depth,
    interval with ``controls`` = number of depths - 1), which asks whether the relation holds
    beyond "deeper nets have lower r and higher error"; and Pearson over the paper-like subset
    (depths <= 3, first seed of each: 9 nets for the three architectures).
    Each: dict(subset, method, n, r, lo, hi, level, defined)."""
    rows = result["rows"]
    x = np.array([r["ratio_after"] for r in rows])
    y = np.array([r["error_after"] for r in rows])
    depth = np.array([r["depth"] for r in rows])
    xc, yc = x.astype(float).copy(), y.astype(float).copy()
    for d in np.unique(depth):
        m = depth == d
        xc[m] -= x[m].mean()
        yc[m] -= y[m].mean()
    paper = [r for r in rows if r["depth"] <= 3 and r["seed_index"] == 0]
    px = np.array([r["ratio_after"] for r in paper])
    py = np.array([r["error_after"] for r in paper])
    return [{"subset": "all nets", "method": "pearson", **pearson_with_ci(x, y, level)},
            {"subset": "all nets", "method": "spearman", **spearman_with_ci(x, y, level)},
            {"subset": "all nets, within depth", "method": "pearson",
             **pearson_with_ci(xc, yc, level, controls=len(np.unique(depth)) - 1)},
            {"subset": "depths <= 3, first seed", "method": "pearson", **pearson_with_ci(px, py, level)}]


__all__ = ["STUDY_FULL", "STUDY_QUICK", "cached_dataset", "correlation_summary", "distance_ratio_study", "study_cell",
           "study_seed", "study_units", "summarize_study"]
