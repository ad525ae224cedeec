"""`anglefish list` wall time (issue 14: <= 0.5 s) and what the CLI costs to import, in one run.

Prints the median (and min, max) wall and user+sys CPU time of ``python -m anglefish list`` over
--runs fresh interpreters, the same for ``python -c pass`` (the interpreter's own start, the floor),
the import time of ``anglefish.cli`` (``python -X importtime``: its cumulative microseconds) and
whether SymPy was imported.  The load average is printed beside: on a busy 2-core machine the wall
time grows with the load while the CPU time does not.

    python benchmarks/cli.py [--runs 9]
"""
from __future__ import annotations

import argparse
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def timed(argv: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + sys of the child) seconds of ``runs`` fresh runs of ``argv``."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, env=_env(), stdout=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def import_time_s(module: str) -> tuple[float, bool]:
    """Cumulative import time of ``module`` (``-X importtime``) and whether SymPy came with it."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], env=_env(),
                         capture_output=True, text=True, check=True).stderr
    us = [int(m.group(1)) for m in re.finditer(rf"\|\s*(\d+) \| {re.escape(module)}\s*$", err, re.M)]
    return us[-1] / 1e6, bool(re.search(r"\| sympy\s*$", err, re.M))


def line(label: str, walls: list[float], cpus: list[float]) -> str:
    return (f"{label:<28} wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}, max {max(walls):.3f}); "
            f"cpu median {statistics.median(cpus):.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}; {args.runs} runs each")
    floor = timed([sys.executable, "-c", "pass"], args.runs)
    listed = timed([sys.executable, "-m", "anglefish", "list"], args.runs)
    helped = timed([sys.executable, "-m", "anglefish", "fisher", "--help"], args.runs)
    print(line("python -c pass", *floor))
    print(line("anglefish list", *listed))
    print(line("anglefish fisher --help", *helped))
    imp, sympy = import_time_s("anglefish.cli")
    print(f"import anglefish.cli: {imp:.3f} s; SymPy imported: {'yes' if sympy else 'no'}")
    ok = statistics.median(listed[0]) <= 0.5
    print(f"anglefish list median wall {statistics.median(listed[0]):.3f} s: "
          f"{'meets' if ok else 'misses'} the 0.5 s target; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
