"""Benchmark the exact Gram sampler against the dense simulator and against numpy's raw
normal-generation throughput.  Prints ratios measured in this one run.

(a) dense / Gram wall time for the same statistics (pair angle at every depth):
    N = 1024, L = 100, S = 16, B = 2.                             target >= 300x
(b) Gram sampler time / time numpy needs just to generate the normals the sampler draws
    (same generators, same dtype, same count, into one reused array): N = 4096, L = 1000, S = 100,
    B = 2; CPU time of this process, best of --repeat alternating runs.
                                                                  target <= 1.5x (float64)

    python benchmarks/samplers.py            # both, about a minute
    python benchmarks/samplers.py --quick    # smaller sizes, a few seconds
    python benchmarks/samplers.py --part b   # only (b)
"""
import argparse
import time

import numpy as np

from anglefish.numeric import pair_batch, pair_statistics, simulate, spawn_generators


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def cpu_timed(fn):
    """(CPU seconds of this process, result): steadier than wall time on a shared machine (every
    part runs on one thread: simulate pins BLAS to one)."""
    t = time.process_time()
    out = fn()
    return time.process_time() - t, out


def run_sampler(arch, n, depth, s, sampler, dtype=np.float64):
    rngs = spawn_generators(1, s)
    x = pair_batch(1.0, n, 2, rngs, dtype=dtype)
    return pair_statistics(simulate(arch, x, depth, n, rngs, sampler=sampler, dtype=dtype))


def normals_floor(count_per_seed, n_calls, s, dtype):
    """Time to draw the same normals with the same per-seed generators, call by call."""
    rngs = spawn_generators(1, s)
    buf = np.empty((s, count_per_seed), dtype=dtype)

    def draw():
        for _ in range(n_calls):
            for k, g in enumerate(rngs):
                g.standard_normal(out=buf[k], dtype=dtype)
    return cpu_timed(draw)[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sizes (not the targets' sizes)")
    ap.add_argument("--part", choices=("a", "b", "all"), default="all", help="which comparison to run")
    ap.add_argument("--dtypes", default="float64,float32", help="dtypes of (b), comma-separated")
    ap.add_argument("--repeat", type=int, default=2, help="(b): best of this many alternating runs")
    args = ap.parse_args()
    n_a, l_a, s_a = (256, 20, 8) if args.quick else (1024, 100, 16)
    n_b, l_b, s_b = (1024, 100, 20) if args.quick else (4096, 1000, 100)

    run_sampler("mlp", 64, 2, 2, "gram")  # warm up (lambdify, caches)
    if args.part in ("a", "all"):
        part_a(n_a, l_a, s_a)
    if args.part in ("b", "all"):
        part_b(n_b, l_b, s_b, [np.dtype(d).type for d in args.dtypes.split(",")], args.repeat)


def part_a(n_a, l_a, s_a):
    print(f"(a) dense vs Gram, same statistics: N={n_a}, L={l_a}, S={s_a}, B=2")
    for arch in ("mlp", "resnet", "resnet-bn"):
        t_gram, g = timed(lambda: run_sampler(arch, n_a, l_a, s_a, "gram"))
        t_dense, d = timed(lambda: run_sampler(arch, n_a, l_a, s_a, "dense"))
        print(f"    {arch:<10} gram {t_gram:8.3f} s   dense {t_dense:8.2f} s   ratio {t_dense / t_gram:7.0f}x"
              f"   (theta_L gram {g.theta_mc[-1]:.4f} +- {g.theta_mc_se[-1]:.4f},"
              f" dense {d.theta_mc[-1]:.4f} +- {d.theta_mc_se[-1]:.4f})")


def part_b(n_b, l_b, s_b, dtypes, repeat):
    print(f"(b) Gram sampler vs numpy's normal generation: N={n_b}, L={l_b}, S={s_b}, B=2 "
          f"(CPU seconds, best of {repeat} alternating runs)")
    for dtype in dtypes:
        for arch, draws_per_block in (("mlp", 1), ("resnet", 1), ("resnet-bn", 1)):
            t_gram = floor = float("inf")
            for _ in range(repeat):  # alternate, so that a change of the machine's load hits both
                t_gram = min(t_gram, cpu_timed(lambda: run_sampler(arch, n_b, l_b, s_b, "gram", dtype))[0])
                floor = min(floor, normals_floor(n_b * 2, l_b * draws_per_block, s_b, dtype))
            print(f"    {arch:<10} {np.dtype(dtype).name:<8} sampler {t_gram:7.2f} s   normals alone "
                  f"{floor:7.2f} s   sampler / floor {t_gram / floor:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
