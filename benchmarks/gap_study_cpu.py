"""CPU time and outputs of every unit of verify --full's generalization study (its 90 gap_cell units).

    PYTHONPATH=<package dir> python benchmarks/gap_study_cpu.py save OUT.pkl   # run them, keep CPU and results
    python benchmarks/gap_study_cpu.py compare OLD.pkl NEW.pkl                  # CPU totals, byte comparison

Each unit (:func:`anglefish.verify.generalization_claims.generalization_claim_units` with quick=False,
seed 0: the teacher study's 60 cells and the digits study's 30) runs in this one process, one after the
other, on one BLAS thread (as the units run in the pool); CPU = time.process_time of the unit.  'compare'
prints the total and per-kind CPU of both files and checks every result byte for byte
(benchmarks/step_identity.py's rules).  Write OLD.pkl with PYTHONPATH pointing at the old package
(e.g. ``git archive b8c8c25 anglefish | tar -x -C /tmp/af_before``), NEW.pkl with this checkout.
"""
from __future__ import annotations

import pickle
import sys
import time
from collections import defaultdict
from pathlib import Path


def save(path: str) -> None:
    import json

    from anglefish.numeric.network import one_blas_thread
    from anglefish.units import _resolve
    from anglefish.verify.generalization_claims import generalization_claim_units

    records = []
    with one_blas_thread():
        for u in generalization_claim_units(quick=False, seed=0):
            fn = _resolve(u.function)
            t = time.process_time()
            result = fn(**json.loads(u.payload())["kwargs"])
            records.append((u.payload(), time.process_time() - t, result))
    with open(path, "wb") as fh:
        pickle.dump(records, fh)
    print(f"{len(records)} units, {sum(r[1] for r in records):.1f} s CPU -> {path}")


def compare(old_path: str, new_path: str) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from step_identity import differences

    old, new = (pickle.load(open(p, "rb")) for p in (old_path, new_path))
    if [r[0] for r in old] != [r[0] for r in new]:
        print("the two files hold different units")
        return 1
    by_kind = defaultdict(lambda: [0.0, 0.0])
    diffs = []
    for (payload, t_old, r_old), (_, t_new, r_new) in zip(old, new):
        key = f"{r_old['activation']} {r_old['kind']}"
        by_kind[key][0] += t_old
        by_kind[key][1] += t_new
        diffs += [f"{payload}: {d}" for d in differences(r_old, r_new)]
    total_old, total_new = sum(r[1] for r in old), sum(r[1] for r in new)
    print(f"{len(old)} units: old {total_old:.1f} s CPU, new {total_new:.1f} s CPU, new/old {total_new / total_old:.3f}")
    for key, (a, b) in sorted(by_kind.items()):
        print(f"  {key:16s} old {a:6.1f} s  new {b:6.1f} s  new/old {b / a:.3f}")
    print("results:", "IDENTICAL (every unit, byte for byte)" if not diffs else f"{len(diffs)} differences")
    for d in diffs[:20]:
        print("  ", d)
    return 1 if diffs else 0


if __name__ == "__main__":
    if sys.argv[1] == "save":
        save(sys.argv[2])
    else:
        sys.exit(compare(sys.argv[2], sys.argv[3]))
