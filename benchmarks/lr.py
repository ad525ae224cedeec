"""Benchmark the learning-rate search of `anglefish lr` (anglefish.numeric.training.learning_rate_thresholds).

1. The command of issue 14, `anglefish lr resnet --depth 5 --width 512 --samples 32 --seed 3` (default
   --inits 4, --workers: the cores), as a fresh process: wall time on the machine as it is, and while one
   extra process keeps one core busy (a Python busy loop); the ratio of the two.
2. On that problem (4 initialisations drawn once), CPU time of three searches in this process with BLAS
   on one thread: the search before issue 14 (every grid ratio and every one of the 15 interior points of
   both brackets, float64, every run for all its steps: ``_thresholds_exhaustive``), the float64 search
   with runs that stop once their answer is known (``_thresholds`` with float64 everywhere), and the
   search as it runs now (rise runs in guarded float32, divergence bisection in float32); their
   thresholds and non_monotone counts, and the network-steps of each phase of the current search; then
   the CPU time of one network-step in float64 and in float32, measured here, and what the search's
   network-steps would cost if every one of them ran in float32: a floor for any search that trains
   as much (issue 14's 5 s target for the command is below it).
3. On many smaller problems (mlp / resnet / resnet-bn, several depths, widths, T, seeds): the current
   search against the float64 search and the exhaustive one (thresholds and non_monotone counts), and
   the largest float32-vs-float64 loss deviation measured over the decided steps of the rise runs, as a
   fraction of the bound the guard assumes (training._loss_bound).

    python benchmarks/lr.py            # all three (about 8 min of CPU on the 2-core VM)
    python benchmarks/lr.py --quick    # part 2 at N = 128 without the exhaustive search, part 3 on 4 problems
    python benchmarks/lr.py --no-cli   # without part 1
    python benchmarks/lr.py --no-before  # part 2 without the exhaustive search
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np

from anglefish.numeric import training
from anglefish.numeric.network import one_blas_thread

SETTINGS = dict(steps=50, targets="teacher", bn=None, refine=15, divergence_factor=1e3, progress=None)
COMMAND = ["lr", "resnet", "--depth", "5", "--width", "512", "--samples", "32", "--seed", "3"]
FLOAT64 = dict(divergence_dtype=np.float64, rise_dtype=np.float64)
PROBLEMS = [("mlp", 3, 64, 16, 1), ("resnet", 2, 64, 16, 2), ("resnet-bn", 3, 64, 16, 3), ("mlp", 10, 64, 32, 4),
            ("resnet", 5, 128, 32, 5), ("resnet-bn", 5, 128, 32, 6), ("mlp", 5, 128, 64, 7),
            ("resnet", 10, 128, 16, 8), ("resnet-bn", 8, 96, 64, 9), ("mlp", 2, 256, 32, 10),
            ("resnet", 3, 256, 32, 11), ("resnet-bn", 2, 256, 16, 12)]


def search(fn, problem, seed, **extra):
    """(CPU seconds, result): CPU time of this process, steadier than wall time on a shared machine
    (BLAS is pinned to one thread, as `anglefish lr` does)."""
    s = SETTINGS
    t = time.process_time()
    out = fn(*problem, seed, s["steps"], s["targets"], s["bn"], s["refine"], s["divergence_factor"], s["progress"],
             **extra)
    return time.process_time() - t, out["per_init"]


def fmt(values):
    return "[" + ", ".join("None" if v is None else f"{v:.4f}" for v in values) + "]"


KEYS = ("ratio_monotone", "ratio_divergence", "non_monotone_monotone", "non_monotone_divergence")


def same(a, b) -> bool:
    return all(a[k] == b[k] for k in KEYS)


def cli_time(busy: bool) -> float:
    """Wall seconds of the issue's command as a fresh process (optionally beside a busy loop)."""
    env = dict(os.environ)
    loop = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        if loop is not None:
            time.sleep(0.5)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "anglefish", *COMMAND], env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t
    finally:
        if loop is not None:
            loop.kill()
            loop.wait()


def deviation(arch, depth, width, samples, seed, inits=2):
    """Largest |L32_k / L64_k - 1| as a fraction of the guard's stated bound (training._loss_bound at L32_k)
    over the steps of the rise runs of the search's rise grid and a bracket around r = 1, up to the float64
    run's first rise, while its loss counts (>= CONVERGED x L_0): float32 and float64 runs of the same
    networks and learning rates.  Below 1: the bound held on every such step."""
    arch_, params, x, y = training._draw_problem(arch, depth, width, samples, seed, "teacher", None, np.float64, inits)
    lam = np.linalg.eigvalsh(training.ntk_gram(arch_, params, x) / samples)[:, -1]
    ratios = np.concatenate([np.asarray(training.THRESHOLD_GRID)[:5], np.exp(np.linspace(np.log(0.7), np.log(1.41), 9))])
    nets = np.repeat(np.arange(inits), len(ratios))
    etas = 2 * np.tile(ratios, inits) / lam[nets]
    steps = SETTINGS["steps"]
    worst = 0.0
    for j in range(len(nets)):  # one run at a time: gradient_descent stops all its runs at an overflow
        a, b = (training.gradient_descent(training._cast(params, nets[[j]], dt), x[nets[[j]]].astype(dt),
                                          y[nets[[j]]], etas[j], steps, stop_on_rise=True)[:, 0]
                for dt in (np.float64, np.float32))
        ok = np.isfinite(a) & np.isfinite(b) & (a >= training.CONVERGED * a[0])
        worst = max(worst, float(np.max(np.abs(b[ok] / a[ok] - 1) / training._loss_bound(b[ok], b[0]))))
    return worst


def step_seconds(problem, dtype, runs: int = 8, steps: int = 10) -> float:
    """CPU seconds of one network-step (forward, backward, update) of ``problem``'s networks in ``dtype``:
    ``runs`` runs at a learning rate far below the threshold (no rise, no convergence: every run takes
    every step), timed in this process with BLAS on one thread."""
    arch, params, x, y = problem[:4]
    nets = np.arange(runs) % params.seeds
    count = {}
    with one_blas_thread():
        training._decide(params, x, y, nets[:1], np.array([1e-6]), 1, "rise", 1e3, dtype)  # warm-up
        t = time.process_time()
        training._decide(params, x, y, nets, np.full(runs, 1e-6), steps, "rise", 1e3, dtype, stats=count)
        return (time.process_time() - t) / count["steps"]


def floor(problem, stats: dict) -> None:
    """What the current search's network-steps cost at the measured speed of one network-step, and the
    least CPU any search with as many network-steps could take (all of them in float32)."""
    inits = problem[1].seeds
    s64, s32 = step_seconds(problem, np.float64), step_seconds(problem, np.float32)
    wide = sum(v for k, v in stats.items() if k in ("divergence grid",) or k.endswith("float64 again"))
    total = sum(v for k, v in stats.items() if k != "rise reruns")
    print(f"    one network-step: {s64 * 1e3:.1f} ms in float64, {s32 * 1e3:.1f} ms in float32 (CPU, one BLAS thread)")
    print(f"    these {total} network-steps ({wide} in float64): about {(wide * s64 + (total - wide) * s32) / inits:.1f} s "
          f"of CPU per initialisation at those speeds; all in float32 they would still take "
          f"{total * s32 / inits:.1f} s per initialisation, {total * s32 / 2:.1f} s of wall time for {inits} "
          f"initialisations on 2 workers")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="width 128, no exhaustive search, 4 small problems")
    ap.add_argument("--no-cli", action="store_true", help="skip timing the command")
    ap.add_argument("--no-before", action="store_true", help="part 2 without the exhaustive search (4 min of CPU)")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    if not args.no_cli:
        idle = cli_time(False)
        busy = cli_time(True)
        print(f"`anglefish {' '.join(COMMAND)}` (4 initialisations, default workers): {idle:.1f} s wall; "
              f"{busy:.1f} s while another process keeps one core busy (ratio {busy / idle:.2f}); "
              f"load average now {os.getloadavg()[0]:.2f}")

    width = 128 if args.quick else 512
    with one_blas_thread():
        problem = training._draw_problem("resnet", 5, width, 32, 3, "teacher", None, np.float64, 4)
        stats = {}
        t_new, new = search(training._thresholds, problem, 3, stats=stats)
        t_64, wide = search(training._thresholds, problem, 3, **FLOAT64)
        skip = args.quick or args.no_before
        t_old, old = (None, None) if skip else search(training._thresholds_exhaustive, problem, 3)
    print(f"resnet L=5 N={width} T=32 inits=4 seed=3 steps=50, CPU seconds in this process (one BLAS thread):")
    if old is not None:
        print(f"    exhaustive float64 (before issue 14) {t_old:.2f} s  ({t_old / t_new:.2f}x now)")
    print(f"    float64, runs stop once answered     {t_64:.2f} s  ({t_64 / t_new:.2f}x now)")
    print(f"    now (guarded float32 rise runs)      {t_new:.2f} s")
    for key in KEYS:
        ref = old if old is not None else wide
        ok = new[key] == wide[key] and ref[key] == new[key]
        print(f"    {key:<24} now {fmt(new[key])}  float64 {fmt(wide[key])}"
              + (f"  exhaustive {fmt(old[key])}" if old is not None else "") + f"  {'same' if ok else 'DIFFERENT'}")
    print("    network-steps of the current search (4 initialisations): "
          + ", ".join(f"{k} {v}" for k, v in stats.items()))
    floor(problem, stats)

    problems = PROBLEMS[:4] if args.quick else PROBLEMS
    print("the current search against the float64 search and the exhaustive search (thresholds, non_monotone):")
    agree, agree_monotone, worst = 0, 0, 0.0
    for arch, depth, n, t, seed in problems:
        with one_blas_thread():
            drawn = training._draw_problem(arch, depth, n, t, seed, "teacher", None, np.float64, 4)
            stats = {}
            t_new, new = search(training._thresholds, drawn, seed, stats=stats)
            t_64, wide = search(training._thresholds, drawn, seed, **FLOAT64)
            t_old, old = search(training._thresholds_exhaustive, drawn, seed)
            c = deviation(arch, depth, n, t, seed)
        ok = same(new, wide) and same(new, old)
        mono = all(new[k] == wide[k] == old[k] for k in ("ratio_monotone", "non_monotone_monotone"))
        agree += ok
        agree_monotone += mono
        worst = max(worst, c)
        print(f"    {arch:<9} L={depth:<2} N={n:<4} T={t:<3} seed {seed:<2}: monotone {fmt(new['ratio_monotone'])} "
              f"divergence {fmt(new['ratio_divergence'])}  {'same' if ok else 'DIFFERENT'}"
              + ("" if ok else f" (monotone {'same' if mono else 'DIFFERENT'}; divergence float64 "
                                f"{fmt(wide['ratio_divergence'])}, exhaustive {fmt(old['ratio_divergence'])})")
              + f"; CPU now {t_new:.2f} s, "
              f"float64 {t_64:.2f} s, exhaustive {t_old:.2f} s; float64 re-runs {stats['rise reruns']}; "
              f"float32 deviation {c:.3f} of the bound")
    print(f"    {agree} of {len(problems)} problems give the same thresholds and non_monotone counts in all three, "
          f"{agree_monotone} the same monotone thresholds and counts; "
          f"largest float32-vs-float64 loss deviation on the decided steps: {worst:.3f} of the guard's bound "
          f"({training.RISE_GUARD_REL:g} + {training.RISE_GUARD:g} u32 sqrt(L0/L))")


if __name__ == "__main__":
    main()
