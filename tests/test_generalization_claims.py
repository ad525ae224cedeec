"""The resnet2-gap-smaller claims: schema, vocabulary, and verdicts that follow from their evidence."""
from __future__ import annotations

import json

import pytest

from anglefish.verify.generalization_claims import (VERDICTS, Z, _claim, classify, generalization_claims, judge)

KEYS = {"id", "source", "statement", "verdict", "reason", "condition", "counterexample", "true_law",
        "primary_reading", "readings", "evidence", "quantity", "method"}


def _row(depth, z_resnet1, z_mlp, mean=-1.0, margin=0.0):
    return {"depth": depth, "usable": True,
            "vs": {"resnet1": {"mean": mean if z_resnet1 < 0 else -mean, "se": 0.1, "z": z_resnet1, "margin": margin},
                   "mlp": {"mean": mean if z_mlp < 0 else -mean, "se": 0.1, "z": z_mlp, "margin": margin}}}


def test_classify_uses_z_and_the_equivalence_margin():
    assert classify({"mean": -1.0, "z": -Z - 0.1}) == "smaller"
    assert classify({"mean": 1.0, "z": Z + 0.1}) == "larger"
    assert classify({"mean": -1.0, "z": -Z + 0.1}) == "equal"
    assert classify({"mean": -1e-6, "z": -50.0, "margin": 1e-4}) == "equal"  # negligible, however precise
    assert classify({"mean": float("nan"), "z": float("nan")}) == "unknown"


def test_judge_rule():
    assert judge([_row(1, -5, -5), _row(2, -4, -6)])["verdict"] == "holds"
    assert judge([_row(1, 5, -5), _row(2, 4, 6)])["verdict"] == "fails"
    assert judge([_row(1, 0.5, -1), _row(2, 1, 0)])["verdict"] == "not checkable"
    assert judge([_row(1, 0.5, -1), _row(2, 1, 0)], equal_by_theory=True)["verdict"] == "fails"
    mixed = judge([_row(1, -5, -5), _row(2, 5, -5)])
    assert mixed["verdict"] == "holds only if" and mixed["condition"] == "depth L in [1]"
    assert mixed["counterexample"]["depth"] == 2 and mixed["counterexample"]["resnet1"]["class"] == "larger"
    assert judge([{**_row(1, -5, -5), "usable": False}])["verdict"] == "not checkable"


def _reading(verdict, name):
    return {"reading": name, "quantity": "q", "model": "linear", "regime": "r", "verdict": verdict,
            "condition": None, "counterexample": None, "evidence": {}}


@pytest.mark.parametrize("primary", [v for v in VERDICTS if v != "holds"])
def test_headline_verdict_is_the_primary_readings_alone(primary):
    """Other readings that hold never promote the headline: a primary that does not hold cannot come out 'holds'."""
    readings = [_reading(primary, "primary")] + [_reading("holds", f"other {i}") for i in range(3)]
    claim = _claim("x", "statement", readings, "method")
    assert claim["verdict"] == primary and claim["primary_reading"]["reading"] == "primary"


@pytest.fixture(scope="module")
def quick_claims():
    return generalization_claims(quick=True, seed=0)


def test_claims_schema_and_vocabulary(quick_claims):
    assert [c["id"] for c in quick_claims] == ["resnet2-gap-smaller", "resnet2-gap-smaller-linear",
                                               "resnet2-gap-smaller-relu"]
    for c in quick_claims:
        assert set(c) == KEYS
        assert c["verdict"] in VERDICTS and all(r["verdict"] in VERDICTS for r in c["readings"])
        assert c["verdict"] == c["readings"][0]["verdict"]
        assert {k: c["readings"][0][k] for k in ("reading", "quantity", "model", "regime")} == c["primary_reading"]
        assert "\n" not in c["reason"] and c["reason"].endswith(".")
        if c["verdict"] == "holds only if":
            assert c["condition"] and c["counterexample"]
        json.dumps(c, allow_nan=True)  # plain data


def test_each_reading_verdict_follows_from_its_per_depth_evidence(quick_claims):
    for c in quick_claims:
        for r in c["readings"]:
            rows = r["evidence"].get(r["evidence"].get("judged_on", "per_depth"))
            if rows is None:
                continue
            equal = r["reading"].startswith("linear, trained to convergence, n >= d")
            assert judge([dict(row) for row in rows], equal_by_theory=equal)["verdict"] == r["verdict"], r["reading"]


def test_bound_readings_are_judged_on_their_laws(quick_claims):
    """1/(mu n) orders by kappa1 (ResNet2 smallest at every depth: holds); the full bound by q_L (MLP
    smallest, ResNet1 = ResNet2 at infinite width: fails)."""
    rows = {r["reading"]: r for r in quick_claims[1]["readings"]}
    mu = rows["linear, PL constant alone: 1/(mu n) (teacher)"]
    full = rows["linear, full stability bound 2 Lip^2/(mu (n-1)) (teacher)"]
    assert mu["evidence"]["judged_on"] == full["evidence"]["judged_on"] == "per_depth_theory"
    assert mu["verdict"] == "holds" and full["verdict"] == "fails"
    assert "measured_verdict" in mu["evidence"]


def test_linear_primary_reading_at_a_global_minimum(quick_claims):
    """At a global minimum with n >= d the exact gaps of the three linear networks are equal; so the
    primary reading cannot hold, and wherever GD converged the measured differences are negligible."""
    primary = quick_claims[1]["readings"][0]
    rows = primary["evidence"]["per_depth"]
    assert all(r["exact_max_abs_difference"] < 1e-12 for r in rows)
    assert primary["verdict"] in ("fails", "not checkable")
    assert any(r["usable"] for r in rows)  # depth 1 converges within the quick budget
    assert quick_claims[0]["verdict"] == primary["verdict"]
