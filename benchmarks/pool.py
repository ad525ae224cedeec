"""Benchmark: the local process pool (anglefish.units) -- wall times of the same runs at K workers.

In one run, each command a fresh process (`python -m anglefish ...`, as a user runs it):

1. `verify --quick --workers 1` and `verify --quick --workers 2`: wall times, the speed-up ratio
   K=1 / K=2, and whether the two report.json files agree apart from the elapsed time and the
   number of workers (they must: a unit's numbers do not depend on K);
2. `verify --full --workers 2` (skip with --no-full; target <= 180 s on 2 cores, issue 14), with the
   CPU time of the command and its workers beside the wall time; with --figures also `figures` (full)
   at --workers 2.

The machine's load (os.getloadavg, 1 min) is printed before and after every command: on a shared
machine the times are noisy, the ratio of two runs made back to back less so.

    python benchmarks/pool.py              # quick at K=1 and 2, then full at K=2
    python benchmarks/pool.py --no-full    # the ratio only (about 2-4 minutes)
    python benchmarks/pool.py --figures    # also the full figures at K=2
"""
import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

VOLATILE = ("elapsed_s", "simulation_s", "workers")


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def run(args: list, label: str) -> float:
    """Wall seconds of `python -m anglefish ARGS` (a fresh process); exits if it fails."""
    before = load()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "anglefish", *args, "--quiet"], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    if done.returncode not in (0, 1):  # verify exits 1 when a check fails: still a timing
        sys.exit(f"{label} failed ({done.returncode}): {done.stderr.strip()}")
    print(f"{label:<34} {seconds:8.1f} s wall, {cpu:7.1f} s CPU   (load average 1 min: {before} before, "
          f"{load()} after)", flush=True)
    return seconds


def _strip(value):
    """The report without its timings and worker count, at every level."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def report(path: pathlib.Path) -> dict:
    return _strip(json.loads((path / "report.json").read_text()))


def differences(a, b, path="") -> list:
    """Where two stripped reports differ (paths), at most a few."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{path}/{k}")][:5]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")][:5]
    return [] if a == b else [path]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-full", action="store_true", help="skip verify --full")
    ap.add_argument("--figures", action="store_true", help="also time the full figures at --workers 2")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import anglefish

    print(f"cores available: {len(os.sched_getaffinity(0))}; anglefish from "
          f"{pathlib.Path(anglefish.__file__).parent}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        times = {}
        for k in (1, 2):
            times[k] = run(["verify", "--quick", "--workers", str(k), "--seed", str(args.seed),
                            "--report", str(tmp / f"quick{k}")], f"verify --quick --workers {k}")
        diff = differences(report(tmp / "quick1"), report(tmp / "quick2"))
        same = not diff
        print(f"speed-up K=2 over K=1 (verify --quick): {times[1] / times[2]:.2f}x; "
              f"reports identical apart from {', '.join(VOLATILE)} (at every level): "
              f"{'yes' if same else 'NO: ' + ', '.join(diff)}", flush=True)
        if not args.no_full:
            full = run(["verify", "--full", "--workers", "2", "--seed", str(args.seed), "--report",
                        str(tmp / "full")], "verify --full --workers 2")
            print(f"verify --full --workers 2: {full:.0f} s, target <= 180 s on 2 cores: "
                  f"{'met' if full <= 180 else 'NOT met'} (at the load shown)", flush=True)
        if args.figures:
            run(["figures", "--workers", "2", "--format", "png", "--out", str(tmp / "figures")],
                "figures (full) --workers 2")
    if not same:
        sys.exit("the reports of --workers 1 and 2 differ")


if __name__ == "__main__":
    main()
