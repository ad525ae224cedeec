"""Benchmark: the empirical FIM through the T x T NTK Gram, with and without weight matrices.

Three parts, each printed with the machine load (``os.getloadavg``) beside it, since timings on a
shared machine are noisy:

* ``target`` (issue 14): the command ``anglefish fisher mlp --depth 10 --width 16384 --samples 64
  --seeds 4`` run as a child process (``python -m anglefish ... --json --quiet``, so it includes
  start-up, the width-N/2 networks of the s_lambda check and the bounds); prints its wall time and
  peak resident memory (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``, the child's peak).
  Targets: <= 30 s and <= 2 GB.  Then, in this process, the time of the sampling alone
  (``fisher_spectrum`` with the projected sampler) and its peak of numpy allocations
  (``tracemalloc``; numpy reports its buffers to it).
* ``ratio``: dense time / projected time for the same networks' statistics (``fisher_spectrum``,
  one BLAS thread for both, measured one after the other in this process) at N = 2048, L = 20,
  T = 16 and 64, 2 seeds each: how much drawing every weight matrix costs.
* ``archs``: lambda_max for width 1024, depth 10, T = 256, one seed, for mlp, resnet and
  resnet-bn (default sampler), with the size of the P x P matrix the Gram route avoids.

    python benchmarks/fisher.py                       # all three
    python benchmarks/fisher.py --only ratio --ratio-width 1024
"""
import argparse
import os
import resource
import subprocess
import sys
import time
import tracemalloc

from anglefish.numeric.fisher import fisher_spectrum
from anglefish.numeric.network import one_blas_thread

TARGET_ARGS = ["mlp", "--depth", "10", "--width", "16384", "--samples", "64", "--seeds", "4"]
TARGET_SECONDS, TARGET_BYTES = 30.0, 2 * 2**30


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"


def load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def target():
    cmd = [sys.executable, "-m", "anglefish", "fisher", *TARGET_ARGS, "--json", "--quiet"]
    print(f"[target] anglefish fisher {' '.join(TARGET_ARGS)}   ({load()})")
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode:
        print(done.stderr.strip())
        raise SystemExit(f"the command failed with exit status {done.returncode}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kB on Linux
    ok = wall <= TARGET_SECONDS and peak <= TARGET_BYTES
    print(f"  whole command: {wall:.2f} s wall, peak RSS {human_bytes(peak)}   (targets <= {TARGET_SECONDS:g} s, "
          f"<= {human_bytes(TARGET_BYTES)}: {'met' if ok else 'NOT met'})")
    args = dict(zip(TARGET_ARGS[1::2], TARGET_ARGS[2::2]))
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fisher_spectrum(TARGET_ARGS[0], int(args["--depth"]), int(args["--width"]), int(args["--samples"]),
                          int(args["--seeds"]))
    dt = time.perf_counter() - t0
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    p = out["n_params"]
    print(f"  sampling alone (fisher_spectrum, projected): {dt:.2f} s, peak numpy allocations {human_bytes(traced)}; "
          f"the dense sampler would draw {p:,} normals per network, {human_bytes(8.0 * p)} of weights "
          f"({human_bytes(8.0 * p / int(args['--depth']))} per block at a time)   ({load()})")
    return ok


def ratio(width: int, depth: int, samples_list, seeds: int):
    for samples in samples_list:
        times = {}
        with one_blas_thread():
            for sampler in ("dense", "projected"):
                t0 = time.perf_counter()
                out = fisher_spectrum("mlp", depth, width, samples, seeds, seed=1, sampler=sampler)
                times[sampler] = time.perf_counter() - t0
                times[sampler + "_lmax"] = out["lambda_max"]
        print(f"[ratio] mlp N = {width}, L = {depth}, T = {samples}, {seeds} seeds: dense {times['dense']:.2f} s, "
              f"projected {times['projected']:.2f} s, dense/projected = {times['dense'] / times['projected']:.1f}x "
              f"(lambda_max {times['dense_lmax']:.5g} vs {times['projected_lmax']:.5g}: independent samples)   "
              f"({load()})")


def archs(width: int, depth: int, samples: int, seed: int):
    print(f"[archs] width {width}, depth {depth}, T = {samples}, 1 seed, float64, projected sampler")
    for name in ("mlp", "resnet", "resnet-bn"):
        t0 = time.perf_counter()
        out = fisher_spectrum(name, depth, width, samples, seeds=1, seed=seed)
        dt = time.perf_counter() - t0
        p = out["n_params"]
        print(f"  {name:10s} lambda_max = {out['lambda_max']:.6g}   m_lambda = {out['mean_eigenvalue']:.4g}   "
              f"{dt:6.2f} s   P = {p:,}; P x P float64 FIM avoided: {human_bytes(8.0 * p * p)}   ({load()})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("target", "ratio", "archs"), default=None)
    ap.add_argument("--ratio-width", type=int, default=2048)
    ap.add_argument("--ratio-depth", type=int, default=20)
    ap.add_argument("--ratio-samples", default="16,64", help="comma-separated T values")
    ap.add_argument("--ratio-seeds", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ok = True
    if args.only in (None, "target"):
        ok = target()
    if args.only in (None, "ratio"):
        ratio(args.ratio_width, args.ratio_depth, [int(t) for t in args.ratio_samples.split(",")], args.ratio_seeds)
    if args.only in (None, "archs"):
        archs(1024, 10, 256, args.seed)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
