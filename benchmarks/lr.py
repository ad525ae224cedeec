"""Benchmark the learning-rate search of `anglefish lr` (anglefish.numeric.training.learning_rate_thresholds):
the search before issue 14 (every grid ratio, then every one of the 15 interior points of both brackets,
all in float64, every run for all its steps: ``_thresholds_exhaustive``) against the current one
(every bracket point for the monotone threshold, bisection for divergence in float32, runs that stop
once their answer is known: ``_thresholds``), on the same drawn problem in one run.  Prints both
times, their ratio, and both searches' thresholds; then, on several smaller problems, the thresholds
of the divergence bisection in float32 and in float64.

    python benchmarks/lr.py            # the README's configuration: resnet, L = 5, N = 512, T = 32, seed 3
    python benchmarks/lr.py --quick    # N = 128 (seconds)
"""
import argparse
import time

import numpy as np

from anglefish.numeric import training
from anglefish.numeric.network import one_blas_thread

SETTINGS = dict(steps=50, targets="teacher", bn=None, refine=15, divergence_factor=1e3, progress=None)


def search(fn, problem, seed, **extra):
    """(CPU seconds, per-initialisation results): CPU time of this process, steadier than wall time on
    a shared machine (BLAS is pinned to one thread, as `anglefish lr` does)."""
    s = SETTINGS
    t = time.process_time()
    out = fn(*problem, seed, s["steps"], s["targets"], s["bn"], s["refine"], s["divergence_factor"], s["progress"],
             **extra)
    return time.process_time() - t, out["per_init"]


def fmt(values):
    return "[" + ", ".join("None" if v is None else f"{v:.4f}" for v in values) + "]"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="width 128 instead of 512")
    args = ap.parse_args()
    width = 128 if args.quick else 512
    with one_blas_thread():
        problem = training._draw_problem("resnet", 5, width, 32, 3, "teacher", None, np.float64, 4)
        t_old, old = search(training._thresholds_exhaustive, problem, 3)
        t_new, new = search(training._thresholds, problem, 3)
    print(f"resnet L=5 N={width} T=32 inits=4 seed=3 steps=50: before {t_old:.2f} s, now {t_new:.2f} s "
          f"(CPU), ratio {t_old / t_new:.2f}x")
    for key in ("ratio_monotone", "ratio_divergence"):
        same = "same" if old[key] == new[key] else "DIFFERENT"
        print(f"    {key:<17} before {fmt(old[key])}  now {fmt(new[key])}  {same}")

    print("divergence bisection, float32 vs float64 (ratio_divergence per initialisation):")
    units = [("mlp", 3, 128, 32, 1), ("resnet", 5, 128, 32, 2), ("resnet-bn", 3, 128, 32, 3),
             ("resnet", 10, 256, 32, 4), ("mlp", 5, 256, 64, 5), ("resnet-bn", 5, 256, 64, 6)]
    agree = 0
    for arch, depth, n, t, seed in units:
        with one_blas_thread():
            problem = training._draw_problem(arch, depth, n, t, seed, "teacher", None, np.float64, 4)
            t32, r32 = search(training._thresholds, problem, seed, divergence_dtype=np.float32)
            t64, r64 = search(training._thresholds, problem, seed, divergence_dtype=np.float64)
        same = r32["ratio_divergence"] == r64["ratio_divergence"]
        agree += same
        print(f"    {arch:<9} L={depth:<2} N={n:<4} T={t:<3} seed {seed}: float32 {fmt(r32['ratio_divergence'])} "
              f"({t32:.2f} s)  float64 {fmt(r64['ratio_divergence'])} ({t64:.2f} s)  {'same' if same else 'DIFFERENT'}")
    print(f"    {agree} of {len(units)} problems give the same thresholds in float32 and float64")


if __name__ == "__main__":
    main()
