"""Benchmark: lambda_max of the empirical FIM through the T x T NTK Gram, never the P x P matrix.

Width N = 1024, depth L = 10, T = 256 inputs, one seed, float64, for mlp, resnet and resnet-bn
(population BN).  Prints the wall time of each (target <= 10 s on a 2-core machine; the time
includes drawing the inputs and all weights), lambda_max, and the size of the P x P FIM that
the Gram route avoids (P and P^2 x 8 bytes).

    python benchmarks/fisher.py
    python benchmarks/fisher.py --width 512 --depth 5 --samples 128   # other sizes
"""
import argparse
import time

from anglefish.numeric.fisher import fisher_spectrum


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024:
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--depth", type=int, default=10)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--archs", default="mlp,resnet,resnet-bn")
    ap.add_argument("--target", type=float, default=10.0, help="seconds per architecture")
    args = ap.parse_args()
    print(f"width {args.width}, depth {args.depth}, T = {args.samples}, 1 seed, float64")
    worst = 0.0
    for name in args.archs.split(","):
        t0 = time.perf_counter()
        out = fisher_spectrum(name, args.depth, args.width, args.samples, seeds=1, seed=args.seed)
        dt = time.perf_counter() - t0
        worst = max(worst, dt)
        p = out["n_params"]
        print(f"{name:10s} lambda_max = {out['lambda_max']:.6g}   m_lambda = {out['mean_eigenvalue']:.4g}   "
              f"{dt:6.2f} s   P = {p:,}; P x P float64 FIM avoided: {human_bytes(8.0 * p * p)} "
              f"({8.0 * p * p:.3g} bytes)")
    verdict = "met" if worst <= args.target else "NOT met"
    print(f"slowest {worst:.2f} s; target <= {args.target:g} s per architecture: {verdict}")


if __name__ == "__main__":
    main()
