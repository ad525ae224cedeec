"""CPU time of full-batch gradient descent through the finite-network interpreter, old code against new.

    python benchmarks/step_cpu.py OLD_PACKAGE_DIR [repeats]

OLD_PACKAGE_DIR: a directory holding an ``anglefish`` package of the old code (e.g. made by
``git archive b8c8c25 anglefish | tar -x -C /tmp/af_before``); the new code is this checkout.  Each
problem runs in a fresh subprocess per code version (old and new alternating, ``repeats`` times,
default 1), on one BLAS thread (as the units run), after a warm-up call; CPU = time.process_time of
the timed call.  Problems: the profiled gap_cell (relu resnet2, depth 10, n 64, full settings: 16
networks of width 16, 2 x 1000 steps), a linear mlp cell at depth 1, n 8, and an lr_point-like search
(learning_rate_thresholds('resnet', 4, 128, 32, inits=2, seed=0)).  Prints the load (uptime) beside.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

PROBLEMS = {
    "gap_cell relu resnet2 L10 n64": ("G.gap_cell(s, 0, 'relu', 'resnet2', 1, 8)",
                                      "G.gap_cell(s, 0, 'relu', 'resnet2', 10, 64)"),
    "gap_cell linear mlp L1 n8": ("G.gap_cell(s, 0, 'linear', 'mlp', 1, 8)",
                                  "G.gap_cell(s, 0, 'linear', 'mlp', 1, 8)"),
    "lr resnet L4 N128 T32 inits2": ("T.learning_rate_thresholds('resnet', 2, 16, 8, inits=1, seed=0)",
                                     "T.learning_rate_thresholds('resnet', 4, 128, 32, inits=2, seed=0)"),
}

SCRIPT = """
import time
from anglefish.numeric import generalization as G, training as T
from anglefish.numeric.network import one_blas_thread
s = G._settings(False, {{}})
with one_blas_thread():
    {warm}
    t = time.process_time()
    {run}
    print(time.process_time() - t)
"""


def cpu(package_dir: str, warm: str, run: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(package_dir))
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(warm=warm, run=run)], env=env, check=True,
                         capture_output=True, text=True, cwd="/tmp").stdout
    return float(out.strip().splitlines()[-1])


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main(argv) -> None:
    old = argv[1]
    repeats = int(argv[2]) if len(argv) > 2 else 1
    print("load before:", load())
    for name, (warm, run) in PROBLEMS.items():
        olds, news = [], []
        for _ in range(repeats):
            olds.append(cpu(old, warm, run))
            news.append(cpu(str(HERE), warm, run))
        o, n = min(olds), min(news)
        print(f"{name:32s} old {o:7.2f} s CPU  new {n:7.2f} s CPU  new/old {n / o:.3f}  "
              f"(min of {repeats}; all old {[round(v, 2) for v in olds]}, new {[round(v, 2) for v in news]})")
    print("load after:", load())


if __name__ == "__main__":
    main(sys.argv)
