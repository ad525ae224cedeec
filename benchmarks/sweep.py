"""Wall time of one sweep on every executor, measured in one run (issue 17).

The same sweep (default: 64 angles units; or --spec FILE) runs

  (1) in this process, one unit after the other;
  (2) on the local process pool with 2 workers;
  (3) on a local Dask cluster with 1 worker, and (4) with 2 workers (``dask scheduler`` and
      ``dask worker --nthreads 1`` processes on 127.0.0.1, started here);

and prints each wall time, the ratios to (1), the speed-up of 2 Dask workers over 1, and the
scheduling overhead per unit on Dask: (wall time with 1 worker - sum of the units' own run times) /
units, also as a fraction of a 1-second unit (target <= 5%).  The CSVs of all four are compared
byte for byte (they must be identical).  Each executor is warmed up first (small units of every
architecture, so that every worker process has derived the SymPy maps: a start-up cost per process).

    python benchmarks/sweep.py             # 64 units of 0.3 - 1.5 s; several minutes
    python benchmarks/sweep.py --quick     # 16 small units
"""
import argparse
import os
import pathlib
import sys
import time

from anglefish import units
from anglefish.dask_executor import DaskExecutor, local_cluster
from anglefish.sweep import check_spec, load_spec, sweep_units, to_csv

ROOT = pathlib.Path(__file__).resolve().parents[1]
SPEC = {"quantities": ["angles"], "architectures": ["mlp", "resnet"], "depths": [50, 100], "widths": [1024, 2048],
        "theta0s": [0.5, 1.5], "seeds": [0, 1, 2, 3], "networks": 128}  # units of about 0.3 - 1.5 s
QUICK = {**SPEC, "depths": [5], "widths": [64, 128], "seeds": [0, 1], "networks": 16}


def warm_up(spec) -> dict:
    """Small units of every architecture (other seeds), so that each worker has derived the maps
    before the timed run (SymPy derivations are a per-process start-up cost, not per unit)."""
    return {**spec, "depths": [2], "widths": [16], "networks": 2, "seeds": [1000 + s for s in range(4)]}


def run(spec, **how):
    """(wall seconds, CSV text, sum of the units' own seconds) of one sweep, after a warm-up."""
    units.run_units(sweep_units(warm_up(spec)), **how)
    us = sweep_units(spec)
    took: dict = {}
    t = time.perf_counter()
    results = units.run_units(us, seconds=took, **how)
    wall = time.perf_counter() - t
    return wall, to_csv([r for result in results for r in result]), sum(took.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--spec", default=None, help="a sweep spec file instead of the built-in one")
    args = ap.parse_args()
    spec = load_spec(args.spec) if args.spec else check_spec(QUICK if args.quick else SPEC)
    n = len(sweep_units(spec))
    print(f"sweep of {n} units; load before: {os.getloadavg()[0]:.2f} (1-min average), "
          f"{units.available_workers()} cores", flush=True)
    rows = {}
    rows["in-process"] = run(spec, workers=1)
    rows["local pool, 2 workers"] = run(spec, workers=2)
    for k in (1, 2):
        with local_cluster(k, pythonpath=str(ROOT)) as (address, _):
            rows[f"dask, {k} worker{'s' if k > 1 else ''}"] = run(spec, executor=DaskExecutor(address))
    base = rows["in-process"][0]
    for name, (wall, _, inside) in rows.items():
        print(f"  {name:<24} {wall:8.2f} s   ratio to in-process {wall / base:5.2f}   "
              f"units' own time {inside:8.2f} s", flush=True)
    one, two = rows["dask, 1 worker"], rows["dask, 2 workers"]
    overhead = (one[0] - one[2]) / n
    print(f"  speed-up of 2 Dask workers over 1: {one[0] / two[0]:.2f}x")
    print(f"  Dask scheduling overhead per unit (1 worker): {1000 * overhead:.1f} ms = "
          f"{100 * overhead:.1f}% of a 1-second unit (target <= 5%)")
    same = len({csv for _, csv, _ in rows.values()}) == 1
    print(f"  CSVs identical on all four executors: {same}; load after: {os.getloadavg()[0]:.2f}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
