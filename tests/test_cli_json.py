"""Every command's --json is strict JSON (no NaN, no Infinity), and the encoder behind it.

Deterministic checks; no statistics, so no false-alarm rate to state.
"""
import math

import numpy as np
import pytest

from anglefish.cli import main
from anglefish.jsonout import Missing, dumps, strict_loads
from anglefish.numeric.angles import FINITE_KEYS


def run_json(capsys, *argv):
    code = main(list(argv) + ["--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return strict_loads(out)


# ------------------------------------------------------------------------------ the encoder
def test_non_finite_numbers_become_null_with_a_note():
    data = {"a": float("nan"), "b": np.float64("inf"), "c": Missing("one seed has no standard error"),
            "d": np.arange(3), "e": [1.0, float("nan")], "f": np.int64(7), "g": {"h": -math.inf},
            "c_note": "kept: the caller's own note"}
    out = strict_loads(dumps(data))
    assert out["a"] is None and "not a number" in out["a_note"]
    assert out["b"] is None and "overflows" in out["b_note"]
    assert out["c"] is None and out["c_note"] == "kept: the caller's own note"
    assert out["d"] == [0, 1, 2] and out["f"] == 7
    assert out["e"] == [1.0, None] and "1 entries are null" in out["e_note"]
    assert out["g"] == {"h": None, "h_note": "overflows float64 (-inf)"}
    assert strict_loads(dumps({"x": Missing("why")}))["x_note"] == "why"


def test_strict_loads_rejects_what_python_json_accepts():
    with pytest.raises(ValueError):
        strict_loads('{"a": NaN}')
    with pytest.raises(ValueError):
        strict_loads("[Infinity]")


# ------------------------------------------------------------------------------ every command
def test_list_derive_angles_json_are_strict(capsys):
    assert {"architectures", "blocks", "activations"} <= set(run_json(capsys, "list"))
    d = run_json(capsys, "derive", "resnet-bn[tanh]", "--quiet")
    assert d["slope_at_zero"] is None and d["slope_at_zero_note"]  # a quadrature kernel: no closed number
    assert d["asymptotic"]["class"]
    assert run_json(capsys, "derive", "mlp", "--max-depth", "100", "--quiet")["slope_at_zero"] == 1.0
    a = run_json(capsys, "angles", "mlp", "--depth", "3", "--theta0", "1", "--theory-only")
    assert [r["l"] for r in a["rows"]] == [0, 1, 2, 3]


def test_angles_json_turns_dead_networks_into_null_with_the_reason(capsys):
    """Deep narrow ReLU MLPs: networks switch off (all 8 units at zero) or their norms spread
    beyond float64; the numbers that stop being finite are null and say why."""
    a = run_json(capsys, "angles", "mlp", "--depth", "2000", "--width", "8", "--theta0", "1", "--seeds", "4",
                 "--every", "1000", "--quiet")
    notes = [k for r in a["rows"] for k in r if k.endswith("_note")]
    assert notes, "expected undefined numbers at depth 2000, width 8 (seed 0)"
    for r in a["rows"]:
        for k in r:
            if k.endswith("_note"):  # finite-width columns: where the O(1/N) expansion is not valid (L/N = 250)
                assert r[k[:-5]] is None and ("finite-width" in r[k] if k[:-5] in FINITE_KEYS else "networks" in r[k])


def test_batch_bn_angles_say_why_there_is_no_theory(capsys):
    a = run_json(capsys, "angles", "resnet-bn", "--depth", "2", "--theta0", "1", "--width", "32", "--seeds", "4",
                 "--bn", "batch", "--batch", "8", "--quiet")
    assert a["rows"][-1]["theta_theory"] is None and "batch-statistics BN" in a["theory_note"]


def test_fisher_json_is_strict_and_carries_log10_beyond_float64(capsys):
    f = run_json(capsys, "fisher", "resnet", "--depth", "1100", "--width", "8", "--samples", "2", "--seeds", "2",
                 "--quiet")
    assert f["theory"]["lambda_max"] is None and "float64" in f["theory"]["lambda_max_note"]
    assert f["theory"]["lambda_max_log10"] > 300
    assert math.isfinite(f["mc"]["lambda_max_se"])  # formed without squaring 1e294
    small = run_json(capsys, "fisher", "mlp", "--depth", "2", "--width", "16", "--samples", "4", "--seeds", "2",
                     "--quiet")
    assert small["theory"]["lambda_max"] > 0 and small["mc"]["lambda_max_se"] >= 0


def test_lr_json_is_strict(capsys):
    r = run_json(capsys, "lr", "mlp", "--depth", "1", "--width", "16", "--samples", "8", "--steps", "3",
                 "--inits", "2", "--quiet")
    assert r["summary"]["lambda_max"]["mean"] > 0 and r["theory_eta"] > 0
    for name in ("monotone", "divergence"):  # a threshold not found is null with a note, never NaN
        for value, note in zip(r["per_init"][f"eta_{name}"], [None] * r["inits"]):
            assert value is None or value > 0


def test_figures_json_lists_what_it_wrote(capsys, tmp_path):
    listing = run_json(capsys, "figures", "--list")
    assert any(f["name"] == "fig08" and f["reads_data_dir"] for f in listing["figures"])
    out = run_json(capsys, "figures", "--only", "fig02", "--quick", "--format", "png", "--out", str(tmp_path),
                   "--quiet")
    assert [f["name"] for f in out["figures"]] == ["fig02"]
    assert {p.rsplit("/", 1)[-1] for p in out["figures"][0]["files"]} == {"fig02.png", "fig02.csv", "manifest.json"}


def test_claims_and_verify_json_go_through_the_strict_encoder(capsys, tmp_path, monkeypatch):
    """The plumbing of the two slow commands, with their library calls replaced by small results
    holding the values Python's json would write as NaN/Infinity (the real runs: test below, slow)."""
    import anglefish.verify.claims as claims
    import anglefish.verify.report as report

    row = {"id": "x", "source": "s", "statement": "t", "verdict": "holds", "evidence": {"se": float("nan")}}
    monkeypatch.setattr(claims, "evaluate_claims", lambda settings=None, progress=None: [row])
    c = run_json(capsys, "claims", "--quiet")
    assert set(c["vocabulary"]) >= {"holds", "fails"}
    assert c["claims"][0]["evidence"]["se"] is None and c["claims"][0]["evidence"]["se_note"]

    fake = {"checks": [{"id": "c", "architecture": "mlp", "passed": True, "applicable": True,
                        "statistic": np.float64(0.1), "tolerance": float("inf")}],
            "claims": [row], "passed": True, "elapsed_s": 1.0,
            "calibration": {"power": 1.0, "caught": 1, "mutants": [1], "false_alarms": 0, "checks_run": 1}}
    monkeypatch.setattr(report, "run_verification", lambda mode, seed=0, progress=None, workers=None: fake)
    monkeypatch.setattr(report, "markdown", lambda r: "# report\n")
    v = run_json(capsys, "verify", "--report", str(tmp_path / "rep"), "--quiet")
    assert v["checks"][0]["tolerance"] is None and v["checks"][0]["statistic"] == 0.1


@pytest.mark.slow
def test_real_claims_and_verify_json_are_strict(capsys, tmp_path):
    assert len(run_json(capsys, "claims", "--quiet")["claims"]) > 10
    assert run_json(capsys, "verify", "--quick", "--report", str(tmp_path), "--quiet")["checks"]
