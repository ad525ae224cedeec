"""Issue 16's output: ``anglefish fisher`` (moments, named bounds, checks; text and JSON),
``derive ARCH --fisher`` (the symbolic s_lambda and bounds) and the claims' bounds-only lines.

Deterministic checks (no false alarms): the JSON shape; every network obeys its own sample bounds,
so their seed means bracket the mean lambda_max exactly; the text prints the JSON's numbers; the
bounds-only verdicts of the Fisher claims are tested with the claims (tests/test_ntk_theory.py).
Statistical checks (the seeds are fixed, so each outcome is deterministic):
``theory_bounds_bracket_mean`` holds each theory bound on E lambda_max to the measured mean within
z SE, one-sided at alpha/2 (alpha = 1e-3 per check), and ``s_lambda_vs_dense`` /
``concentration_vs_dense`` compare the derived s_lambda with the width-extrapolated measurement
(the tolerance model, alpha = 1e-3 per check).
"""
import pytest

from anglefish.cli import main
from anglefish.jsonout import strict_loads

BOUND_NAMES = {"s_over_m", "sqrt_P_s", "trace", "rayleigh_uniform", "max_diagonal", "gershgorin"}
MOMENTS = ("m_lambda", "s_lambda", "lambda_max")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def fisher_json(capsys, *argv):
    return strict_loads(run(capsys, "fisher", *argv, "--json", "--quiet"))


def test_fisher_json_has_moments_and_named_bounds_side_by_side(capsys):
    f = fisher_json(capsys, "resnet-bn", "--depth", "3", "--width", "32", "--samples", "8", "--seeds", "8")
    for key in MOMENTS:
        assert f["theory"][key] > 0 and f["mc"][key] > 0 and f["mc"][f"{key}_se"] >= 0
    assert f["sampler"] == "projected" and f["theory_limit"].startswith("N -> oo")
    bounds = f["bounds"]
    assert {k.rsplit("_", 1)[0] for k in bounds if k.endswith("_sample")} == BOUND_NAMES
    assert {k.rsplit("_", 1)[0] for k in bounds if k.endswith("_theory")} >= BOUND_NAMES | {"jensen"}
    for key, b in bounds.items():
        assert b["kind"] in ("lower", "upper") and b["from"] == key.rsplit("_", 1)[1]
        assert isinstance(b["value"], float) and "lambda_max" in b["inequality"], (key, b)
    # every network obeys its own bounds (deterministic), so their means bracket the mean lambda_max
    for key, b in bounds.items():
        if b["from"] == "sample":
            assert (b["value"] <= f["mc"]["lambda_max"]) == (b["kind"] == "lower"), (key, b, f["mc"])
    # the theory bounds are the derived moments put into the inequalities
    th = f["theory"]
    assert bounds["trace_theory"]["value"] == pytest.approx(f["n_params"] * th["m_lambda"], rel=1e-12)
    assert bounds["s_over_m_theory"]["value"] == pytest.approx(th["s_lambda"] / th["m_lambda"], rel=1e-12)
    assert bounds["sqrt_P_s_theory"]["value"] == pytest.approx((f["n_params"] * th["s_lambda"]) ** 0.5, rel=1e-12)
    assert bounds["rayleigh_uniform_theory"]["value"] == pytest.approx(th["lambda_max"], rel=1e-12)
    status = {c["id"]: c["status"] for c in f["checks"]}
    assert status["sample_bounds_each_network"] == "passed"
    assert status["theory_bounds_bracket_mean"] == "passed"
    assert status["s_lambda_vs_dense"] == "passed" and status["concentration_vs_dense"] == "passed"


def test_fisher_text_prints_the_json_numbers(capsys):
    argv = ("mlp", "--depth", "2", "--width", "16", "--samples", "8", "--seeds", "8", "--params", "first")
    f = fisher_json(capsys, *argv)
    text = run(capsys, "fisher", *argv, "--quiet")
    rows = {}
    for line in text.splitlines():
        if line.strip():
            rows.setdefault(line.split()[0], line)
    for key in ("m_lambda", "s_lambda", "lambda_max"):
        assert f"{f['mc'][key]:.6g}" in rows[key] and f"{f['theory'][key]:.6g}" in rows[key]
    for key, b in f["bounds"].items():
        name = key.rsplit("_", 1)[0]
        line = next(x for x in text.splitlines() if x.split()[1:2] == [name])
        assert f"{b['value']:.6g}" in line and b["inequality"] in line
    assert "bulk edge (kappa2 = 0)" in text and f"{f['edge']['model']:.6g}" in text  # the MLP's first block
    for c in f["checks"]:
        assert f"{c['status']:<7}"[:7].strip() in text and c["id"] in text


def test_derive_fisher_shows_symbolic_s_lambda_and_bounds(capsys):
    d = strict_loads(run(capsys, "derive", "mlp", "--fisher", "--max-depth", "10", "--json", "--quiet"))
    f = d["fisher"]
    assert "kappa_2" in f["s_lambda"] and "T" in f["s_lambda"] and "L" in f["in_L"]["s_lambda"]
    assert set(f["bounds"]) >= BOUND_NAMES
    assert all(b["kind"] in ("lower", "upper") and b["expression"] and b["inequality"] for b in f["bounds"].values())
    assert f["bounds_law"]["follows_from_bounds"] is True
    text = run(capsys, "derive", "mlp", "--fisher", "--max-depth", "10", "--quiet")
    assert f["s_lambda"] in text and all(b["inequality"] in text for b in f["bounds"].values())
    assert "from the bounds alone" in text


DONE_WHEN = [(arch, depth) for arch in ("mlp", "resnet", "resnet-bn") for depth in (1, 2, 5, 10)]


@pytest.mark.slow
@pytest.mark.parametrize("arch,depth", DONE_WHEN, ids=[f"{a}-L{d}" for a, d in DONE_WHEN])
def test_theory_bounds_bracket_the_measured_lambda_max(capsys, arch, depth):
    """Issue 16, done when: N = 512, T = 32, 16 networks, all weights."""
    f = fisher_json(capsys, arch, "--depth", str(depth), "--width", "512", "--samples", "32", "--seeds", "16")
    status = {c["id"]: c["status"] for c in f["checks"]}
    assert status == {"sample_bounds_each_network": "passed", "theory_bounds_bracket_mean": "passed",
                      "s_lambda_vs_dense": "passed", "concentration_vs_dense": "passed",
                      "s_lambda_finite_width": "not run"}, status
    for b in f["bounds"].values():
        if b["from"] == "theory" and b["applies_to"] == "E lambda_max":
            assert b["mc_consistent"] is True


@pytest.mark.slow
def test_first_block_edge_model_explains_lambda_max(capsys):
    """Issue 16, done when: the modelled bulk edge within 10% of the measured lambda_max (the
    issue's accuracy target for the reduced model; the measured mean's own SE is about 3%)."""
    f = fisher_json(capsys, "mlp", "--depth", "4", "--width", "128", "--samples", "64", "--params", "first")
    e = f["edge"]
    assert f["theory"]["lambda_max"] < 0.6 * f["mc"]["lambda_max"]  # the N -> oo value does not explain it
    assert abs(e["model_over_mc"] - 1) < 0.10, e
    assert e["mc_lambda_max_se"] < 0.05 * e["mc_lambda_max"]
