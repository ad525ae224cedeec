"""anglefish verify / claims: the report, the exit codes, the refusal to overwrite, calibration."""
import json

import pytest

from anglefish.cli import main
from anglefish.verify.calibration import calibrate, mutants
from anglefish.verify.claims import VERDICTS, Settings, claims, evaluate_claims


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    """The report of ``anglefish verify --quick``: CI's main job has just written one (its
    directory in ANGLEFISH_QUICK_REPORT, and CI stops if that run failed), so CI runs verify
    --quick once; elsewhere it is run here."""
    import os
    import pathlib

    given = os.environ.get("ANGLEFISH_QUICK_REPORT")
    if given and (pathlib.Path(given) / "report.json").exists():
        return 0, pathlib.Path(given)
    out = tmp_path_factory.mktemp("report")
    code = main(["verify", "--quick", "--report", str(out), "--quiet"])
    return code, out


@pytest.mark.slow
def test_verify_quick_passes_and_writes_both_files(quick_report):
    code, out = quick_report
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    for key in ("checks", "claims", "calibration", "seed", "versions", "elapsed_s"):
        assert key in report
    for check in report["checks"]:
        assert set(check) >= {"id", "architecture", "passed", "statistic", "tolerance", "false_alarm_rate"}
    for claim in report["claims"]:
        assert set(claim) >= {"id", "source", "statement", "verdict", "evidence", "primary_reading", "readings"}
        assert claim["verdict"] in VERDICTS and "another reading" not in claim["verdict"]
    assert set(report["calibration"]) >= {"power", "false_alarm_rate", "mutants"}
    text = (out / "report.md").read_text()
    assert "## Published claims" in text and "## Calibration" in text
    assert "verify --calibrate 210" in text  # where the false-alarm rate per check is measured


def test_verify_refuses_foreign_files_before_any_work(tmp_path, capsys):
    foreign = tmp_path / "report.md"
    foreign.write_text("my notes\n")
    assert main(["verify", "--report", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err and foreign.read_text() == "my notes\n"
    assert not (tmp_path / "report.json").exists()  # nothing written


@pytest.mark.slow
def test_claims_are_unique_and_all_get_a_verdict(capsys):
    ids = [c.id for c in claims()]
    assert len(ids) == len(set(ids))
    rows = evaluate_claims(Settings(width=256, seeds=64))
    assert {r["verdict"] for r in rows} <= set(VERDICTS)
    verdicts = {r["id"]: r["verdict"] for r in rows}
    assert verdicts["acml-cor8-assumption"] == "fails"
    assert verdicts["acml-thm6-angle"] == "holds"
    assert main(["claims", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert len(printed["claims"]) == len(ids) and set(printed["vocabulary"]) == set(VERDICTS)
    for claim in printed["claims"]:
        assert claim["verdict"] in VERDICTS and "another reading" not in json.dumps(claim)
        assert claim["primary_reading"]["reading"] == claim["readings"][0]["reading"]


def test_mutants_cover_coefficients_psi_and_bn():
    names = [m.name for m in mutants("resnet-bn")]
    assert any("coefficient" in n for n in names) and any("psi" in n for n in names)
    assert "BN (l+3) replaced by (l+2)" in names
    assert len(mutants("mlp")) >= 6


def test_calibration_counts_caught_mutants_and_false_alarms():
    cal = calibrate(architectures=("resnet",), width=512, seeds=128, repeats=1)
    d = cal.as_dict()
    assert d["checks_run"] == 8 and 0 <= d["false_alarm_rate"] <= 1
    assert d["caught"] >= 1  # a 2% error in the norm ratio is visible at depth 10 and 30
    norm_rows = [m for m in d["mutants"] if m["mutant"].startswith("norm ratio")]
    assert all(m["caught"] for m in norm_rows)


@pytest.mark.parametrize("argv", [["verify", "--seed", "-1"], ["verify", "--quick", "--full"], ["claims", "--seed", "x"]])
def test_verify_bad_input(argv, capsys):
    assert main(argv) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.slow
def test_readme_verdict_table_matches_the_computed_verdicts(quick_report):
    """The README's 'What anglefish finds' table must say what verify computes."""
    import pathlib
    import re

    _, out = quick_report
    verdicts = {c["id"]: c["verdict"] for c in json.loads((out / "report.json").read_text())["claims"]}
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = re.findall(r"^\| (`[^|]+`)[^|]*\| [^|]+ \| ([^|]+) \|$", readme, flags=re.M)
    assert len(rows) >= 10
    for ids, verdict in rows:
        for claim_id in re.findall(r"`([^`]+)`", ids):
            assert verdicts[claim_id] == verdict.strip(), claim_id


def test_readme_vocabulary_is_the_toolkits():
    import pathlib
    import re

    from anglefish.verify.verdicts import MEANING

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    rows = dict(re.findall(r"^\| ([a-z][a-z ]+) \| (.+) \|$", readme, flags=re.M))
    assert {k: rows.get(k) for k in MEANING} == MEANING


@pytest.mark.slow
def test_verify_calibrate_writes_only_the_calibration(tmp_path):
    """`verify --calibrate R`: R batteries of 12 configurations with 2 checks each, written as
    calibration.json/.md; the counts in the files are the run's."""
    import subprocess
    import sys

    out = tmp_path / "cal"
    done = subprocess.run([sys.executable, "-m", "anglefish", "verify", "--calibrate", "1", "--report", str(out),
                           "--quiet", "--workers", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["calibration.json", "calibration.md"]
    report = json.loads((out / "calibration.json").read_text())
    cal = report["calibration"]
    assert cal["checks_run"] == 24 and cal["settings"]["repeats"] == 1
    assert f"{cal['false_alarms']} false alarms in {cal['checks_run']} checks" in done.stdout
    assert f"{cal['false_alarms']} of {cal['checks_run']} checks" in (out / "calibration.md").read_text()


def test_full_mode_calibration_is_small_and_its_report_points_to_the_rate_run():
    """verify --full judges every mutant on the first battery with a few repeats; the false-alarm
    rate (>= 5000 checks) is `verify --calibrate RATE_REPEATS`, which report.md names."""
    from anglefish.verify.report import FULL, RATE_REPEATS, _rate_pointer

    assert 1 <= FULL.calibration_repeats < RATE_REPEATS and 24 * RATE_REPEATS >= 5000
    line = _rate_pointer({"checks_run": 120, "settings": {"repeats": 5}})
    assert "120 checks (5 repeats" in line and f"verify --calibrate {RATE_REPEATS}" in line


def test_full_mode_series_run_at_their_stated_depths():
    """--full's learning-rate series run at FULL_SIMULATION.rate_depths; its generalization studies are
    figG1's (numeric.generalization FULL / QUICK: one run serves the claims and the figure)."""
    from anglefish.numeric.generalization import FULL as GAP_FULL
    from anglefish.numeric.generalization import QUICK as GAP_QUICK
    from anglefish.paper_figures import figg1
    from anglefish.verify.fisher_claims import FULL_SIMULATION, QUICK_SIMULATION, simulation_units
    from anglefish.verify.generalization_claims import generalization_claim_units

    lr = [u.kwargs["depth"] for u in simulation_units(FULL_SIMULATION) if u.function.endswith(":lr_point")]
    assert sorted(set(lr)) == sorted(FULL_SIMULATION.rate_depths) and len(lr) == 3 * len(FULL_SIMULATION.rate_depths)
    assert QUICK_SIMULATION.rate_depths == QUICK_SIMULATION.depths
    for quick, expected in ((False, GAP_FULL), (True, GAP_QUICK)):
        assert {u.kwargs["depth"] for u in generalization_claim_units(quick=quick)} == set(expected["depths"])
    assert "depths 1, 2, 4, 6, 10," in figg1.__doc__ and GAP_FULL["depths"] == [1, 2, 4, 6, 10]
