"""Benchmark `anglefish figures`: the wall time of the whole run (every figure, full settings unless
--quick) as a user runs it (`python -m anglefish figures --workers K`, a fresh process), with

* the CPU time of the whole process tree (the command and its pool workers; sampled from /proc every
  0.2 s, so a process that lives less than that is missed: a lower bound, Linux only);
* per figure, from its manifest.json: ``compute`` (the seconds its units of work ran, summed over
  workers, plus assembling the table; wall seconds of the workers, so inflated on a busy machine) and
  ``plot`` (drawing, in the main process, while the pool runs the other figures' units);
* wall - CPU / workers: the seconds lost to imperfect packing, start-up and the drawing after the last unit
  (with the CPU a lower bound, an upper bound on them; meaningful only on an otherwise quiet machine);
* the machine's load average before and after (os.getloadavg): on a shared machine wall times are noisy,
  CPU times less so.  Issue 14's target: the full run <= 3 min on 2 cores.

    python benchmarks/figures.py                 # full, --workers 2
    python benchmarks/figures.py --quick         # quick mode (seconds)
    python benchmarks/figures.py --only figF2,figF3 --workers 1
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")


def load() -> str:
    return "load average %.2f %.2f %.2f" % os.getloadavg()


def session_cpu(session: int, seen: dict) -> None:
    """Update ``seen`` (pid -> CPU seconds so far) with every live process of ``session``."""
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[3]) == session:  # field 6 of stat: the session id
            seen[stat.parent.name] = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="quick mode instead of the full settings")
    ap.add_argument("--workers", type=int, default=2, help="--workers of the run (default 2)")
    ap.add_argument("--only", default=None, help="comma-separated figures (default: all)")
    ap.add_argument("--out", default=None, help="keep the figures in this directory (default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or tmp
        cmd = [sys.executable, "-m", "anglefish", "figures", "--out", out, "--workers", str(args.workers), "--quiet",
               "--force"]
        cmd += ["--quick"] * args.quick + (["--only", args.only] if args.only else [])
        print(" ".join(cmd[1:]).replace(out, "TMP"))
        print(f"before: {load()}")
        seen: dict = {}
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, start_new_session=True)
        while proc.poll() is None:
            session_cpu(proc.pid, seen)
            time.sleep(0.2)
        wall = time.perf_counter() - start
        if proc.returncode:
            sys.exit(f"anglefish figures failed (exit status {proc.returncode})")
        print(f"after:  {load()}")
        rows = []
        for manifest in sorted(pathlib.Path(out).glob("*/manifest.json")):
            seconds = json.loads(manifest.read_text())["elapsed_seconds"]
            rows.append((manifest.parent.name, seconds.get("compute", 0.0), seconds.get("plot", 0.0)))
    print(f"{'figure':<8} {'compute s':>10} {'plot s':>8}")
    for name, compute, plot in sorted(rows, key=lambda r: -r[1]):
        print(f"{name:<8} {compute:10.1f} {plot:8.1f}")
    print(f"{'sum':<8} {sum(r[1] for r in rows):10.1f} {sum(r[2] for r in rows):8.1f}")
    mode = "quick" if args.quick else "full"
    print(f"anglefish figures ({mode}, {len(rows)} figures, --workers {args.workers}): {wall:.1f} s wall, "
          f"{sum(seen.values()):.1f} s CPU (process tree, sampled); wall - CPU / workers = "
          f"{wall - sum(seen.values()) / args.workers:.1f} s")


if __name__ == "__main__":
    main()
