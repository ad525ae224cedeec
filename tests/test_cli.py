"""The command line: JSON contracts, CSV, and one-line errors with exit status 2."""
import json
import subprocess
import sys

import pytest
import sympy as sp

from anglefish.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_json_names_the_paper_architectures(capsys):
    code, out, _ = run(capsys, "list", "--json")
    data = json.loads(out)
    assert code == 0
    assert {"mlp", "resnet", "resnet-bn"} <= {a["name"] for a in data["architectures"]}
    assert {"Dense", "Act", "Residual", "BatchNorm"} <= {b["name"] for b in data["blocks"]}


def test_list_text(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "resnet-bn" in out and "BatchNorm" in out


@pytest.mark.parametrize("arch", ["mlp", "resnet", "resnet-bn"])
def test_derive_json_contract(capsys, arch):
    code, out, _ = run(capsys, "derive", arch, "--json", "--latex", "--max-depth", "1000", "--quiet")
    assert code == 0
    data = json.loads(out)
    for key in ("architecture", "norm_map", "angle_map", "slope_at_zero", "asymptotic", "table1", "latex"):
        assert key in data
    assert data["architecture"] == arch
    assert isinstance(data["slope_at_zero"], float) and data["slope_at_zero"] == 1.0
    asym = data["asymptotic"]
    law = sp.sympify(asym["theta_l"], locals={"l": sp.Symbol("l"), "theta0": sp.Symbol("theta0")})
    assert law.free_symbols <= {sp.Symbol("l"), sp.Symbol("theta0")}
    assert asym["class"] in ("power", "logarithmic")
    assert set(asym["error_at"]) == {"10", "100", "1000"}
    assert all(isinstance(v, float) for v in asym["error_at"].values())
    assert isinstance(data["table1"]["assumption_holds"], bool)
    assert isinstance(data["table1"]["verdict"], str)


def test_derive_text(capsys):
    code, out, _ = run(capsys, "derive", "resnet", "--max-depth", "100", "--quiet")
    assert code == 0 and "6*pi/l" in out and "Table 1" in out


def test_angles_json_rows(capsys):
    code, out, _ = run(capsys, "angles", "resnet", "--depth", "10", "--theta0", "0.5", "--theory-only",
                       "--every", "4", "--json")
    data = json.loads(out)
    assert code == 0 and data["architecture"] == "resnet" and data["depth"] == 10 and data["theta0"] == 0.5
    assert [r["l"] for r in data["rows"]] == [0, 4, 8, 10]
    assert set(data["rows"][0]) == {"l", "theta_theory", "log_q_theory"}
    assert data["rows"][-1]["log_q_theory"] == pytest.approx(10 * 0.6931471805599453)


def test_angles_csv(capsys):
    code, out, _ = run(capsys, "angles", "mlp", "--depth", "3", "--theta0", "1", "--theory-only", "--csv")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0] == "l,theta_theory,log_q_theory" and len(lines) == 5


def test_angles_monte_carlo_json(capsys):
    code, out, _ = run(capsys, "angles", "resnet-bn", "--depth", "4", "--theta0", "1.0", "--width", "64",
                       "--seeds", "8", "--every", "2", "--json", "--quiet")
    data = json.loads(out)
    assert code == 0 and data["sampler"] == "gram" and data["bn"] == "population" and data["batch"] == 2
    row = data["rows"][-1]
    for key in ("theta_theory", "log_q_theory", "theta_mc", "theta_mc_se", "theta_single_mean",
                "theta_single_sd", "log_q_mc"):
        assert isinstance(row[key], float)
    assert [r["l"] for r in data["rows"]] == [0, 2, 4]


def test_angles_prints_the_finite_width_theory_and_explains_the_bias(capsys):
    """MLP, L = 30, N = 256, theta0 = 1.2, 256 seeds (seed 0): theta_mc sits ~8 SE above the N -> oo
    theory and within its tolerance of the O(1/N) theory, so the warning explains the gap.  The
    columns are labelled with their limits in the text and in the JSON (``theory_limits``)."""
    argv = ["angles", "mlp", "--depth", "30", "--theta0", "1.2", "--width", "256", "--seeds", "256",
            "--every", "10", "--quiet"]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "N -> oo" in out and "O(1/N) finite-width theory at N = 256" in out
    assert "theta_finite" in out.splitlines()[2]
    assert "# warning: theta_mc differs from the infinite-width theory" in out and "finite-width bias" in out
    code, out, err = run(capsys, *argv, "--json")
    data = json.loads(out)
    row = data["rows"][-1]
    assert code == 0 and "finite-width bias" in data["finite_width_warning"] and "finite-width bias" in err
    for key in ("theta_theory_finite", "single_mean_theory", "single_sd_theory"):
        assert isinstance(row[key], float) and key in data["theory_limits"]
    assert row["theta_theory"] < row["theta_theory_finite"]  # the O(1/N) shift is upward for the MLP
    assert abs(row["theta_mc"] - row["theta_theory_finite"]) < abs(row["theta_mc"] - row["theta_theory"])


def test_finite_width_warning_kinds():
    """Deterministic rows: the bias explained, nothing to say, neither theory agrees."""
    from anglefish.numeric.angles import finite_width_warning

    def row(mc, inf=0.5, fin=0.55, se=0.005, l=8):
        return {"l": l, "theta_theory": inf, "theta_theory_finite": fin, "theta_mc": mc, "theta_mc_se": se}

    assert "finite-width bias" in finite_width_warning([row(0.552)], 256)
    assert finite_width_warning([row(0.501, fin=0.502)], 256) is None  # the shift is below the SE
    assert finite_width_warning([row(0.552, fin=None)], 256) is None  # no valid finite-width theory
    assert "misses both" in finite_width_warning([row(0.552), row(0.7, l=16)], 256)


def test_derive_finite_width(capsys):
    code, out, _ = run(capsys, "derive", "resnet", "--finite-width", "--max-depth", "100", "--quiet")
    assert code == 0 and "O(1/N) moment closure" in out and "K_ab' =" in out and "dK_aa' = 2*dK_aa" in out
    assert "theta_finite" in out and "Residual(Dense(2), ReLU(), Dense(1))" in out
    code, out, _ = run(capsys, "derive", "preact-resnet", "--finite-width", "--max-depth", "100", "--json", "--quiet")
    fw = json.loads(out)["finite_width"]
    assert code == 0 and fw["derived"] is False and "not conditionally Gaussian" in fw["reason"]


def test_angles_monte_carlo_batch_bn_and_dense(capsys):
    code, out, _ = run(capsys, "angles", "resnet-bn", "--depth", "2", "--theta0", "1.0", "--width", "32",
                       "--seeds", "4", "--bn", "batch", "--batch", "8", "--sampler", "dense", "--csv", "--quiet")
    lines = out.strip().splitlines()
    assert code == 0 and lines[0].startswith("l,theta_theory") and lines[-1].split(",")[1] == ""


def test_angles_monte_carlo_is_reproducible(capsys):
    argv = ["angles", "resnet", "--depth", "3", "--theta0", "0.7", "--width", "32", "--seeds", "4",
            "--seed", "5", "--json", "--quiet"]
    first = run(capsys, *argv)[1]
    assert run(capsys, *argv)[1] == first


BAD = [  # (what, argv, the word the one line must contain: the flag to change)
    ("unknown architecture", ["angles", "nope", "--depth", "3", "--theta0", "1", "--theory-only"], "ARCH"),
    ("negative depth", ["angles", "mlp", "--depth", "-3", "--theta0", "1", "--theory-only"], "--depth"),
    ("non-integer depth", ["angles", "mlp", "--depth", "2.5", "--theta0", "1", "--theory-only"], "--depth"),
    ("text for depth", ["angles", "mlp", "--depth", "ten", "--theta0", "1", "--theory-only"], "--depth"),
    ("theta0 above pi", ["angles", "mlp", "--depth", "3", "--theta0", "3.2", "--theory-only"], "--theta0"),
    ("theta0 below 0", ["angles", "mlp", "--depth", "3", "--theta0", "-0.1", "--theory-only"], "--theta0"),
    ("theta0 nan", ["angles", "mlp", "--depth", "3", "--theta0", "nan", "--theory-only"], "--theta0"),
    ("text for theta0", ["angles", "mlp", "--depth", "3", "--theta0", "wide", "--theory-only"], "--theta0"),
    ("every zero", ["angles", "mlp", "--depth", "3", "--theta0", "1", "--theory-only", "--every", "0"], "--every"),
    ("derive unknown", ["derive", "nope"], "ARCH"),
    ("unknown command", ["frobnicate"], "frobnicate"),
    ("missing depth", ["angles", "mlp", "--theta0", "1", "--theory-only"], "--depth"),
    ("one seed", ["angles", "mlp", "--depth", "2", "--theta0", "1", "--seeds", "1"], "--seeds"),
    ("width zero", ["angles", "mlp", "--depth", "2", "--theta0", "1", "--width", "0"], "--width"),
    ("batch one", ["angles", "resnet-bn", "--depth", "2", "--theta0", "1", "--bn", "batch", "--batch", "1"],
     "--batch must be"),
    ("batch above width", ["angles", "resnet-bn", "--depth", "2", "--theta0", "1", "--bn", "batch", "--width", "8"],
     "--batch"),
    ("unknown sampler", ["angles", "mlp", "--depth", "2", "--theta0", "1", "--sampler", "exact"], "--sampler"),
    ("unknown bn", ["angles", "mlp", "--depth", "2", "--theta0", "1", "--bn", "layer"], "--bn"),
    ("negative seed", ["angles", "mlp", "--depth", "2", "--theta0", "1", "--seed", "-1"], "--seed"),
    ("unknown activation", ["angles", "mlp", "--activation", "nope", "--depth", "2", "--theta0", "1"], "--activation"),
]


@pytest.mark.parametrize("what,argv,word", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_2_nothing_written(capsys, what, argv, word):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("anglefish: error:")
    assert "Traceback" not in err and "anglefish: error: anglefish" not in err
    assert word in err, err


def test_console_script_is_installed_and_reports_errors():
    """The entry point the README documents works in a fresh process."""
    ok = subprocess.run([sys.executable, "-m", "anglefish", "angles", "mlp", "--depth", "2", "--theta0", "0.5",
                         "--theory-only", "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["rows"][-1]["l"] == 2
    bad = subprocess.run([sys.executable, "-m", "anglefish", "angles", "mlp", "--depth", "-1", "--theta0",
                          "0.5", "--theory-only"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1


def test_plugins_from_entry_points_are_loaded(monkeypatch, capsys):
    """An installed package's 'anglefish.plugins' entry point registers an architecture."""
    import importlib.metadata as md

    from anglefish.theory import Architecture, Dense, ReLU, register_architecture

    class FakeEntryPoint:
        name = "demo"

        def load(self):
            return lambda: register_architecture(Architecture("plugin-mlp", (Dense(2), ReLU())), replace=True)

    def fake_entry_points(group=None):
        return [FakeEntryPoint()] if group == "anglefish.plugins" else []

    monkeypatch.setattr(md, "entry_points", fake_entry_points)
    assert main(["angles", "plugin-mlp", "--depth", "2", "--theta0", "1", "--theory-only", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["architecture"] == "plugin-mlp"

    class BrokenEntryPoint(FakeEntryPoint):
        def load(self):
            raise ImportError("no module named demo")

    monkeypatch.setattr(md, "entry_points", lambda group=None: [BrokenEntryPoint()])
    assert main(["list"]) == 2
    assert "plugin 'demo' failed to load" in capsys.readouterr().err


def test_arch_file_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("raise RuntimeError('oops')\n")
    assert main(["list", "--arch-file", str(bad)]) == 2
    assert main(["list", "--arch-file", str(tmp_path / "missing.py")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("anglefish: error:") for e in err)
