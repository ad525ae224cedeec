"""Large-depth laws: derived symbolically, held against the iterated exact map."""
import math

import numpy as np
import pytest
import sympy as sp

from anglefish.theory.asymptotics import (CHECK_DEPTHS, CHECK_THETA0, THETA0, angle_series, checkpoints,
                                          depth_law, law_errors, sum_over_blocks)
from anglefish.theory.activations import THETA
from anglefish.theory.blocks import BLOCK_INDEX as l
from anglefish.theory.recursion import derive_maps


@pytest.mark.parametrize("c", [1 / (l + 3), 1 / (2 * l + 1) ** 2, 1 / (l + sp.Rational(1, 2)), l, 1 / ((l + 1) * (l + 2)),
                               sp.Rational(1, 7), 1 / (3 * sp.pi * (l + 3))])
def test_sum_over_blocks_matches_explicit_sums(c):
    closed = sum_over_blocks(c)
    for n in (1, 2, 7, 40):
        explicit = sum(c.subs(l, j) for j in range(n)) if c.has(l) else c * n
        assert float(closed.subs(l, n)) == pytest.approx(float(explicit), rel=1e-12)


def test_angle_series_of_mlp_matches_direct_expansion():
    C = derive_maps("mlp").angle_cos
    direct = sp.series(sp.acos(C), THETA, 0, 4).removeO()
    assert sp.simplify(angle_series(C, 4) - direct) == 0


@pytest.mark.parametrize("arch", ["mlp", "resnet", "resnet-bn"])
def test_law_solves_its_difference_equation(arch):
    law = depth_law(arch)
    y = 1 / law.theta_l  # the derived equations are in y = 1/theta (k = 2)
    c = -law.angle_series.coeff(THETA, 2)
    assert sp.simplify(sp.expand_func(y.subs(l, l + 1) - y - c)) == 0
    assert sp.simplify(law.theta_l.subs(l, 0) - THETA0) == 0


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["mlp", "resnet"])
def test_power_laws_within_two_percent_at_a_million_blocks(arch):
    law = depth_law(arch)
    assert law.law_class == "power" and law.exponent == -1
    errors = law_errors(arch)
    for form in ("theta_l", "leading"):
        at_million = errors[form][10**6]
        assert len(at_million) == len(CHECK_THETA0)
        assert max(abs(e) for e in at_million) < 0.02
        # law / iterate -> 1: the error keeps shrinking with depth
        maxima = [max(abs(e) for e in errors[form][d]) for d in CHECK_DEPTHS[1:]]
        assert all(b < a for a, b in zip(maxima, maxima[1:]))


def test_mlp_angle_times_depth_tends_to_three_pi_independently_of_the_law():
    """Independent of the symbolic pipeline: L * theta_L from the iterate approaches 3 pi."""
    theta = checkpoints("mlp", CHECK_THETA0, CHECK_DEPTHS)
    scaled = theta[-1] * 1e6 / (3 * math.pi)
    assert np.all(np.abs(scaled - 1) < 1e-3)


def test_resnet_bn_is_logarithmic_and_its_correction_helps():
    law = depth_law("resnet-bn")
    assert law.law_class == "logarithmic"
    assert sp.simplify(law.leading - 3 * sp.pi / sp.log(l)) == 0
    errors = law_errors("resnet-bn")
    for d in (10**4, 10**5, 10**6):
        for lead, corr in zip(errors["leading"][d], errors["corrected"][d]):
            assert abs(corr) < abs(lead)
    # the leading law is exact only in the limit: its error falls with log l
    lead = [max(abs(e) for e in errors["leading"][d]) for d in CHECK_DEPTHS]
    assert all(b < a for a, b in zip(lead, lead[1:]))


def test_resnet_bn_log_law_independently_of_the_law():
    """theta_l * log l / (3 pi) drifts towards 1 along the iterate (slowly, as a log law does)."""
    theta = checkpoints("resnet-bn", CHECK_THETA0, CHECK_DEPTHS)
    y = 1 / theta  # y_l ~ log(l) / (3 pi) + const: the slope in log l is 1/(3 pi)
    slope = (y[-1] - y[-2]) / (math.log(CHECK_DEPTHS[-1]) - math.log(CHECK_DEPTHS[-2]))
    assert np.all(np.abs(slope * 3 * math.pi - 1) < 0.05)


def test_slope_at_zero_is_one_for_the_paper_architectures():
    for arch in ("mlp", "resnet", "resnet-bn"):
        assert depth_law(arch).slope_at_zero == 1
