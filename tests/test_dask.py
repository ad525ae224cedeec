"""Issue 17: `anglefish sweep` and the Dask executor (--scheduler).

Default suite: the sweep spec's validation, a tiny in-process sweep (CSV and manifest), the refusals
(--out with files, an unreachable scheduler, no Dask installed).  Marked slow: a real cluster on
127.0.0.1 (`dask scheduler` and two `dask worker` processes with PYTHONPATH set to this checkout) runs a
sweep and a verify subset and gives byte-identical CSV / identical results to the in-process run, also
when one worker is killed (SIGKILL) during the run.  Marked heavy: the whole `verify --quick`.
"""
import csv
import io
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

from anglefish.cli import main
from anglefish.errors import AnglefishError
from anglefish.sweep import COLUMNS, check_spec, run_sweep, to_csv

ROOT = pathlib.Path(__file__).resolve().parents[1]
TINY = {"quantities": ["angles", "fisher", "lr"], "architectures": ["mlp"], "depths": [2], "widths": [16],
        "theta0s": [1.0], "seeds": [0], "networks": 4, "samples": 4, "steps": 5}


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


# ----------------------------------------------------------------------------- the spec
@pytest.mark.parametrize("change, message", [
    ({"colour": 1}, "unknown key 'colour'"),
    ({"depths": []}, "depths must be a non-empty list"),
    ({"depths": [0]}, "depths must hold integers >= 1, got 0"),
    ({"widths": [16, 16]}, "widths lists a value twice"),
    ({"theta0s": [4.0]}, r"theta0s must hold angles in \[0, pi\]"),
    ({"networks": 1}, "networks must be an integer >= 2, got 1"),
    ({"seeds": [True]}, "seeds must hold integers >= 0, got True"),
    ({"quantities": ["speed"]}, "unknown quantity 'speed'"),
    ({"architectures": ["no-such-net"]}, "sweep spec: architectures: .*no-such-net"),
])
def test_spec_errors_name_the_bad_key_or_value(change, message):
    with pytest.raises(AnglefishError, match=message):
        check_spec({**TINY, **change})


def test_spec_defaults_and_theta0s_only_for_angles():
    spec = check_spec({k: v for k, v in TINY.items() if k not in ("seeds", "networks", "theta0s")}
                      | {"quantities": ["fisher"]})
    assert spec["seeds"] == [0] and spec["networks"] == 16
    with pytest.raises(AnglefishError, match="'theta0s' is required"):
        check_spec({k: v for k, v in TINY.items() if k != "theta0s"})


def test_a_tiny_sweep_writes_a_tidy_csv_and_a_manifest(tmp_path, capsys):
    """fisher and lr only (the angles rows need the O(1/N) SymPy derivation, seconds: the slow test)."""
    tiny = {**TINY, "quantities": ["fisher", "lr"]}
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(tiny))
    toml = tmp_path / "spec.toml"
    toml.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in tiny.items()))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "a"), "--workers", "1", "--quiet"]) == 0
    assert main(["sweep", str(toml), "--out", str(tmp_path / "b"), "--workers", "1", "--quiet", "--json"]) == 0
    capsys.readouterr()
    text = (tmp_path / "a" / "sweep.csv").read_text()
    assert text == (tmp_path / "b" / "sweep.csv").read_text()  # TOML and JSON specs: the same table
    assert text.splitlines()[0].split(",") == list(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["quantity"], r["statistic"]) for r in rows] == [
        ("fisher", "lambda_max"), ("fisher", "mean_eigenvalue"), ("lr", "eta_monotone"), ("lr", "eta_divergence")]
    for r in rows[:3]:  # a theory value and a Monte Carlo value with its standard error
        assert float(r["theory"]) > 0 and float(r["mc"]) > 0 and float(r["se"]) >= 0
        assert r["theory_limit"].startswith("N = inf")
    assert rows[3]["theory"] == "" and rows[3]["theory_limit"] == "no theory"
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["spec"] == check_spec(tiny) and manifest["seeds"] == [0] and manifest["units"] == 2
    assert manifest["executor"]["kind"] == "InProcess" and "started_utc" in manifest


def test_sweep_refusals(tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**TINY, "depths": [-1]}))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "depths must hold integers >= 1, got -1" in _error(capsys)
    spec.write_text("{not json")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "not valid JSON" in _error(capsys)
    spec.write_text(json.dumps(TINY))
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "mine.txt").write_text("keep")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    assert "holds files" in _error(capsys)
    assert not (tmp_path / "o" / "sweep.csv").exists()


# ----------------------------------------------------------------------------- refusals of --scheduler
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_line_and_exit_2_within_seconds(capsys):
    pytest.importorskip("distributed")
    start = time.perf_counter()
    code = main(["fisher", "mlp", "--depth", "2", "--width", "8", "--seeds", "2", "--quiet",
                 "--scheduler", f"tcp://127.0.0.1:{_free_port()}"])
    took = time.perf_counter() - start
    assert code == 2 and "cannot reach the Dask scheduler" in _error(capsys)
    assert took < 10, took  # the connection timeout is 3 s


def test_scheduler_flag_errors(monkeypatch, capsys):
    assert main(["fisher", "mlp", "--depth", "2", "--scheduler", "localhost"]) == 2
    assert "--scheduler must be tcp://HOST:PORT" in _error(capsys)
    assert main(["fisher", "mlp", "--depth", "2", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "exclude each other" in _error(capsys)  # refused before any connection
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    assert main(["fisher", "mlp", "--depth", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "pip install 'anglefish[dask]'" in _error(capsys)


# ----------------------------------------------------------------------------- a real cluster
def cluster(workers: int = 2):
    """A scheduler and ``workers`` nanny-less one-thread workers on 127.0.0.1 importing this checkout."""
    pytest.importorskip("distributed")
    from anglefish.dask_executor import local_cluster

    return local_cluster(workers, pythonpath=str(ROOT))


SPEC = {"quantities": ["angles", "fisher"], "architectures": ["mlp", "resnet"], "depths": [3, 6],
        "widths": [32, 64], "theta0s": [0.5, 1.5], "seeds": [0, 1], "networks": 6, "samples": 4}


def _on_cluster(address, spec, progress=None) -> tuple:
    from anglefish import units
    from anglefish.dask_executor import use_scheduler

    use_scheduler(address)
    try:
        return run_sweep(spec, progress=progress)
    finally:
        units.set_scheduler(None)


@pytest.mark.slow
def test_a_sweep_and_a_verify_subset_on_a_cluster_match_the_local_run_also_when_a_worker_dies():
    from test_units import _same

    from anglefish.units import run_units
    from anglefish.verify.work import fisher_unit, mc_unit

    spec = check_spec(SPEC)
    local_rows, _ = run_sweep(spec, workers=1)
    assert len(local_rows) == 2 * 32 + 2 * 16  # angles: 2 statistics x 32 cells; fisher: 2 x 16
    for r in local_rows[:64]:  # angles: N = inf theory, and the O(1/N) theory at this width or why not
        assert r["theory_limit"] == "N = inf (exact map)" and r["se"] > 0
        assert r["theory_finite_width_limit"].startswith(f"N = {r['width']},")
        assert (r["theory_finite_width"] is None) == ("finite-width theory not valid" in r["note"])
    assert sum(r["theory_finite_width"] is not None for r in local_rows[:64]) >= 60
    subset = [mc_unit(a, d, t, 64, 16, 7, "contracts", a, d, t) for a in ("mlp", "resnet-bn") for d, t in
              ((1, 0.4), (5, 1.0))] + [fisher_unit("resnet", 2, 32, 8, 4, 7)]
    local_subset = run_units(subset, workers=1)
    with cluster(2) as (address, workers):
        rows, manifest = _on_cluster(address, spec)
        assert manifest["executor"] == {"kind": "DaskExecutor", "workers": 2, "scheduler": address}
        assert to_csv(rows) == to_csv(local_rows)  # byte-identical CSV

        from anglefish.dask_executor import DaskExecutor
        _same(run_units(subset, executor=DaskExecutor(address)), local_subset)

        killed = []

        def kill_one(done, total):  # one worker dies (SIGKILL) with most units still to run
            if done >= 3 and not killed:
                os.kill(workers[0].pid, signal.SIGKILL)
                killed.append(total - done)

        rows, _ = _on_cluster(address, {**spec, "seeds": [2, 3]}, progress=kill_one)
        assert killed and killed[0] > 10 and workers[0].wait(timeout=10) == -signal.SIGKILL
    local_rows, _ = run_sweep({**spec, "seeds": [2, 3]}, workers=1)
    assert to_csv(rows) == to_csv(local_rows)


@pytest.mark.slow
def test_ctrl_c_cancels_the_cluster_units_and_writes_nothing(tmp_path):
    distributed = pytest.importorskip("distributed")
    spec = tmp_path / "big.json"  # minutes of work: still running when Ctrl-C comes
    spec.write_text(json.dumps({**SPEC, "depths": [40, 80], "widths": [1024, 2048], "networks": 64}))
    with cluster(2) as (address, _):
        p = subprocess.Popen([sys.executable, "-m", "anglefish", "sweep", str(spec), "--out", str(tmp_path / "o"),
                              "--quiet", "--scheduler", address], env={**os.environ, "PYTHONPATH": str(ROOT)},
                             stderr=subprocess.PIPE, text=True)
        time.sleep(8)
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=30)[1]
        assert p.returncode == 130 and err.strip() == "anglefish: interrupted"
        assert not (tmp_path / "o").exists()
        with distributed.Client(address, timeout=10) as client:  # the run's futures were cancelled
            deadline = time.time() + 10
            while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) and time.time() < deadline:
                time.sleep(0.2)
            assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0


@pytest.mark.slow
@pytest.mark.heavy
def test_verify_quick_on_a_cluster_gives_the_local_report(tmp_path):
    """`verify --quick --scheduler` and `verify --quick --workers 2`: the same report.json apart from
    the run times (and the same report.md apart from the seconds it states)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*extra):
        out = tmp_path / "-".join(extra).replace("/", "_").replace(":", "_")
        subprocess.run([sys.executable, "-m", "anglefish", "verify", "--quick", "--quiet", "--report", str(out),
                        *extra], env=env, check=False, capture_output=True)
        report = json.loads((out / "report.json").read_text())
        report.pop("elapsed_s")
        report["calibration"].pop("elapsed_s")
        for model in report["calibration"]["families"]["angle"].get("models", {}).values():
            model.pop("simulation_s")  # the tolerance models' simulation wall time
        return report

    local = run("--workers", "2")
    with cluster(2) as (address, _):
        remote = run("--scheduler", address)
    assert remote == local
