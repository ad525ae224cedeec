"""Bit-identity check of the finite-network interpreter's outputs across a code change.

    python benchmarks/step_identity.py save FILE      # record the outputs of the code on PYTHONPATH
    python benchmarks/step_identity.py compare FILE   # recompute and compare with FILE, byte for byte

What it records (all float64 unless said): gap_cell units of the generalization study (linear and relu;
mlp, resnet1, resnet2; depths 1, 4, 10; n = 8 and 64) with the steps cut to 60 (checkpoints 0, 10, 30,
60), two cells at the full settings (1000 steps); learning_rate_thresholds (resnet-bn, L = 3, N = 64,
T = 16, 2 initialisations; and mlp L = 2, N = 32, T = 8 in float32); monotone_threshold (resnet,
L = 2, N = 32, T = 16, 20 steps); fisher_spectrum (dense and projected samplers; resnet-bn and mlp);
the dense angle simulator (pair_trajectory, sampler 'dense', resnet and resnet-bn).

Comparison: every array must have the same dtype, shape and BYTES (so -0.0 against +0.0 and the nan
positions count); every float must be identical (nan matches nan); everything else ==.  The 'before'
file of the change that introduced this script was written from commit b8c8c25.
"""
from __future__ import annotations

import pickle
import sys
import time

import numpy as np


def _cells():
    for act in ("linear", "relu"):
        for kind in ("mlp", "resnet1", "resnet2"):
            for depth in (1, 4, 10):
                for n in (8, 64):
                    yield act, kind, depth, n


def outputs() -> dict:
    from anglefish.numeric import generalization as G
    from anglefish.numeric import training
    from anglefish.numeric.angles import pair_trajectory
    from anglefish.numeric.fisher import fisher_spectrum
    from anglefish.numeric.network import one_blas_thread

    out = {}
    short = G._settings(False, {"steps": 60, "checkpoints": [0, 10, 30, 60], "n_test": 200})
    full = G._settings(False, {})
    with one_blas_thread():
        for act, kind, depth, n in _cells():
            out[f"gap_cell short {act} {kind} L{depth} n{n}"] = G.gap_cell(short, 0, act, kind, depth, n)
        out["gap_cell full relu resnet2 L4 n64"] = G.gap_cell(full, 0, "relu", "resnet2", 4, 64)
        out["gap_cell full linear mlp L1 n8"] = G.gap_cell(full, 0, "linear", "mlp", 1, 8)
        out["monotone_threshold resnet"] = training.monotone_threshold("resnet", 2, 32, 16, seed=0, steps=20)
        out["monotone_threshold resnet-bn batch"] = training.monotone_threshold("resnet-bn", 2, 16, 8, seed=1,
                                                                                steps=10, bn="batch")
        for sampler in ("dense", "projected"):
            out[f"fisher {sampler} resnet-bn"] = fisher_spectrum("resnet-bn", 3, 32, 8, 3, sampler=sampler, seed=2)
            out[f"fisher {sampler} mlp layer:0"] = fisher_spectrum("mlp", 2, 24, 6, 2, subset="layer:0",
                                                                   sampler=sampler, seed=1)
        for arch in ("resnet", "resnet-bn", "mlp"):
            t = pair_trajectory(arch, 6, 1.0, 32, 4, batch=4, sampler="dense", seed=3)
            out[f"dense angles {arch}"] = {"pair_gram": t.pair_gram, "log_scale": t.log_scale, "dims": t.dims}
    # learning_rate_thresholds runs its own one-thread context (threshold_block)
    out["lr resnet-bn"] = training.learning_rate_thresholds("resnet-bn", 3, 64, 16, inits=2, seed=0)
    out["lr mlp float32"] = training.learning_rate_thresholds("mlp", 2, 32, 8, inits=2, seed=1, dtype=np.float32)
    return out


def differences(a, b, path="") -> list:
    """Paths at which a and b differ (arrays by dtype, shape and bytes; floats bit for bit)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in differences(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f"{path}: lengths {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype or a.shape != b.shape:
            return [f"{path}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"]
        if a.dtype == object:
            return [d for i, (x, y) in enumerate(zip(a.ravel(), b.ravel())) for d in differences(x, y, f"{path}[{i}]")]
        return [] if a.tobytes() == b.tobytes() else [f"{path}: array bytes differ"]
    if isinstance(a, (float, np.floating)) and isinstance(b, (float, np.floating)):
        same = np.asarray(a).tobytes() == np.asarray(b).tobytes() and type(a) is type(b)
        return [] if same else [f"{path}: {a!r} != {b!r}"]
    if hasattr(a, "__dict__") and type(a) is type(b) and not isinstance(a, type):
        return differences(vars(a), vars(b), path)
    return [] if (type(a) is type(b) and a == b) else [f"{path}: {a!r} != {b!r}"]


def main(argv) -> int:
    mode, path = argv[1], argv[2]
    t = time.process_time()
    out = outputs()
    cpu = time.process_time() - t
    if mode == "save":
        with open(path, "wb") as fh:
            pickle.dump(out, fh)
        print(f"saved {len(out)} results to {path} ({cpu:.1f} s CPU)")
        return 0
    with open(path, "rb") as fh:
        before = pickle.load(fh)
    diffs = differences(before, out)
    print(f"compared {len(out)} results ({cpu:.1f} s CPU): {'IDENTICAL' if not diffs else f'{len(diffs)} differences'}")
    for d in diffs[:40]:
        print("  ", d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
