"""Table 1 of the ACML paper: the assumption and the verdicts are computed, and the
verdict rules can return every outcome."""
import math

import numpy as np
import pytest
import sympy as sp

from anglefish.theory.asymptotics import THETA0, depth_law
from anglefish.theory.evaluate import numeric_maps
from anglefish.verify.table1 import (A, L, TABLE1, Table1Row, assumption_check, classify_formula, judge,
                                     table1, table1_verdict)


def test_assumption_fails_because_the_ratio_tends_to_one():
    check = assumption_check()
    assert check["holds"] is False
    assert check["limit_at_0"] == "1" and check["value_at_pi"] == "1/2"
    # independent numeric look: arccos psi(theta)/theta at theta = 1e-6 is 1 - O(1e-6)
    assert abs(numeric_maps("mlp").step_scalar(1e-6, 0) / 1e-6 - 1) < 1e-6


def test_claimed_formulas_are_classified_by_their_limits():
    assert classify_formula(A**L * THETA0, 0.5)[0] == "exponential"
    assert classify_formula(2 * THETA0 / (L + 2), 0.5) == ("power", -1)
    assert classify_formula(THETA0 / sp.log(L), 0.5)[0] == "logarithmic"


def test_paper_rows_get_the_verdicts_the_derived_laws_imply():
    from anglefish.verify.verdicts import validate

    verdicts = {row["architecture"]: row["verdict"] for row in table1()}
    assert verdicts == {"mlp": "fails", "resnet": "holds only if", "resnet-bn": "holds with another rate"}
    for row in table1():
        validate(row, row["architecture"])
        assert row["assumption_holds"] is False
        assert row["evidence"]["derived_class"] in ("power", "logarithmic")
    resnet = table1_verdict("resnet")
    # the counterexample is the worst point of the grid: one block from theta0 = pi
    assert resnet["counterexample"]["L"] == 1 and resnet["counterexample"]["theta0"] == pytest.approx(math.pi)
    assert resnet["counterexample"]["theta_L"] == pytest.approx(2 * math.pi / 3, rel=1e-12)
    assert resnet["counterexample"]["bound"] == pytest.approx(0.75 * math.pi, rel=1e-12)
    assert "2.72" in resnet["condition"]
    readings = {r["reading"]: r for r in resnet["readings"]}
    per_theta0 = readings["the inequality with a = a(theta0)"]
    assert per_theta0["verdict"] == "holds only if"
    assert 1.78 < per_theta0["evidence"]["threshold_theta0_by_depth"]["1"] < 1.81
    bn = table1_verdict("resnet-bn")
    assert bn["evidence"]["bound_check"]["violations"] == 0 and "log" in bn["true_law"]


def test_resnet_bound_is_violated_only_at_the_first_blocks_for_large_angles():
    """Independent check: one ResNet block from theta0 = pi gives 2 pi / 3 < (3/4) pi."""
    theta1 = numeric_maps("resnet").step_scalar(math.pi, 0)
    assert theta1 == __import__("pytest").approx(2 * math.pi / 3, rel=1e-12)
    bound = table1_verdict("resnet")["evidence"]["bound_check"]
    assert bound["violations"] > 0 and bound["largest_violating_depth"] <= 3


def test_verdict_rules_can_say_holds_and_fails():
    law = depth_law("mlp")
    assumption = assumption_check()
    exact = Table1Row("mlp", "theta_L ~= 3 pi/L", 3 * sp.pi / L, "approximately", "power")
    assert judge(exact, law, assumption)["verdict"] == "holds"
    # a lower bound that decays more slowly than the truth must fail
    too_high = Table1Row("mlp", "theta_L >~ theta0/log(L+2)", THETA0 / sp.log(L + 2), "lower bound", "log")
    assert judge(too_high, law, assumption)["verdict"] == "fails"
    # a valid bound of the right form holds
    valid = Table1Row("mlp", "theta_L >~ theta0/(L+1)/4", THETA0 / (L + 1) / 4, "lower bound", "power")
    out = judge(valid, law, assumption)
    assert out["readings"][0]["evidence"]["violations"] == 0 and out["verdict"] == "holds"
    # a valid bound whose class decays faster than the truth: the bound holds, the rate is another
    faster = Table1Row("mlp", "theta_L >~ theta0 2^-L", THETA0 * 2 ** (-L), "lower bound", "exponential")
    out = judge(faster, law, assumption)
    assert out["verdict"] == "holds with another rate" and "3*pi/L" in out["true_law"]


def test_architectures_outside_the_table_say_so():
    from anglefish.theory import Architecture, Dense, ReLU, Residual

    arch = Architecture("test-resnet-half", Residual(Dense(2), ReLU(), Dense(sp.Rational(1, 2))))
    out = table1_verdict(arch)
    assert out["verdict"] == "not in Table 1" and out["assumption_holds"] is False


def test_rows_cover_the_three_architectures():
    assert [row.architecture for row in TABLE1] == ["mlp", "resnet", "resnet-bn"]
    assert np.isfinite(float(table1_verdict("resnet-bn")["evidence"]["bound_check"]["min_ratio_iterate_over_claim"]))
