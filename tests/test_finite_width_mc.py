"""The finite-width (O(1/N)) theory against Monte Carlo on finite networks (exact Gram sampler).

Tolerance model: |theta_theory_finite - theta_mc| <= z * SE + ALLOWANCE * (L/N)^2, SE the
jackknife standard error over seeds, ALLOWANCE the measured size of the O(1/N^2) remainder
(see ALLOWANCE).  Each check states its false-alarm rate.  The fast checks run in the default
suite; the issue's full grid, the width-doubling ratios and the property-based test over the
registry are marked slow (`pytest -m slow tests/test_finite_width_mc.py`); the grid prints its
table with `PYTHONPATH=. python tests/finite_width_mc.py grid`.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, event, given, settings, strategies as st

from anglefish.errors import AnglefishError
from anglefish.theory.architectures import architectures
from anglefish.theory.finite_width import finite_width_theory
from finite_width_mc import grid_rows, pair_mc

#: The O(1/N^2) remainder of theta_theory_finite, in radians per (L/N)^2.  Measured with
#: 2^18 - 2^22 seeds on master seeds disjoint from the tests' (tests/finite_width_mc.py
#: 'ratio' and 'points'): |error| / (L/N)^2 = 0.18, 0.22, 0.26 (MLP, theta0 = 1.2, L = 16,
#: N = 64, 128, 256), 0.17 (MLP, theta0 = 0.5, N = 1024, L = 128), 0.03-0.18 (ResNet,
#: L/N = 1/8); largest 0.26 +- 0.03, rounded up to 0.3.  It grows slowly with N at fixed L
#: (the remainder falls like N^-1.7 between N = 64 and 256 at L = 16, its next term being
#: about -1.5 L/N of it), so it is a tolerance for L/N <= 1/4 and N <= 1024, not a law.
ALLOWANCE = 0.3


def allowance(depth, width):
    return ALLOWANCE * (depth / width) ** 2


# ------------------------------------------------------------------ fast checks
@pytest.mark.parametrize("arch", ["mlp", "resnet"])
def test_finite_width_theory_explains_the_bias_the_infinite_width_theory_misses(arch):
    """L/N = 1/4 (N = 64, L = 16), theta0 = 1.2, 1024 seeds: the infinite-width theory misses
    by more than 5 SE (measured: MLP 24 SE, ResNet 9 SE), the finite-width theory is within
    4 SE + allowance (false-alarm rate 6e-5 per check, two-sided normal)."""
    mc = pair_mc(arch, 16, 1.2, 64, 1024, seed=20240, at=[16])
    th = finite_width_theory(arch, 16, 64, 1.2)
    se = mc.theta_se[-1]
    assert th["valid"], th["reason"]
    assert abs(th["theta_theory"] - mc.theta[-1]) > 5 * se
    assert abs(th["theta_theory_finite"] - mc.theta[-1]) <= 4 * se + allowance(16, 64)


@pytest.mark.parametrize("arch", ["mlp", pytest.param("resnet", marks=pytest.mark.slow),
                                  pytest.param("resnet-bn", marks=pytest.mark.slow)])
def test_single_network_spread_and_log_norm(arch):
    """N = 128, L = 16, theta0 = 1.2, 1024 seeds: single-network angle sd within 10% (measured
    theory/MC: 1.02 MLP, 1.03 ResNet, 1.00 ResNet+BN with 2^14 seeds; the sample sd's own SE is
    ~2.3%, so a correct theory fails with probability < 1e-3); mean of the single-network angle
    and of log q-hat, and sd of log q-hat, within 4 SE (+ the same O((L/N)^2) allowance for the
    angle; 6e-5 per check)."""
    mc = pair_mc(arch, 16, 1.2, 128, 1024, seed=20241, at=[16])
    th = finite_width_theory(arch, 16, 128, 1.2)
    assert abs(th["single_sd_theory"] / mc.single_sd[-1] - 1) <= 0.10
    se_single = mc.single_sd[-1] / math.sqrt(mc.seeds)
    assert abs(th["single_mean_theory"] - mc.single_mean[-1]) <= 4 * se_single + allowance(16, 128)
    assert abs(th["log_q_mean_theory"] - mc.log_q_mean[-1]) <= 4 * mc.log_q_mean_se[-1]
    se_sd = mc.log_q_sd[-1] / math.sqrt(2 * (mc.seeds - 1))  # normal-theory SE of a sample sd
    assert abs(th["log_q_sd_theory"] - mc.log_q_sd[-1]) <= 4 * se_sd


def test_a_wrong_correction_is_caught():
    """Power: a theory with the O(1/N) shift of E K-hat halved (as if half the fluctuation
    were missing) fails the same check at N = 128, L = 16, 4096 seeds (MLP: it misses by
    0.036 rad against a tolerance of 0.017, SE 0.003: power 1 - 1e-9; the correct theory's
    false-alarm rate 6e-5)."""
    mc = pair_mc("mlp", 16, 1.2, 128, 4096, seed=20242, at=[16])
    th = finite_width_theory("mlp", 16, 128, 1.2)
    half = finite_width_theory("mlp", 16, 256, 1.2)  # dK / N with N doubled: half the shift
    tol = 4 * mc.theta_se[-1] + allowance(16, 128)
    assert abs(th["theta_theory_finite"] - mc.theta[-1]) <= tol
    assert abs(half["theta_theory_finite"] - mc.theta[-1]) > tol


# ------------------------------------------------------------------ the grid
@pytest.mark.slow
@pytest.mark.heavy
def test_grid_finite_width_theory_against_monte_carlo():
    """mlp, resnet, resnet-bn x theta0 in {0.5, 1.2} x N in {128, ..., 1024} x L in {4, ..., N/8},
    1024 seeds (108 points; a few minutes).  The table: `python tests/finite_width_mc.py grid`.

    * every point is valid (sd/theta <= 0.5; measured at most 0.31);
    * every point within 4.5 SE + allowance (false-alarm rate 7e-6 per point, 8e-4 over the
      grid) and at most 2 points beyond 3 SE + allowance (each 2.7e-3; P(>= 3 of 108) = 3e-3
      for independent points; measured: 1, z = 3.2 after the allowance);
    * the single-network angle sd within 10% at every point (measured 0.957-1.084);
    * the infinite-width theory misses by more than 5 SE at every MLP and ResNet point with
      L >= 64 (measured 7.2-23.6 SE).  At L/N >= 1/16 with smaller L it does not always
      (MLP 14 of 16 points, ResNet 8 of 16, ResNet+BN 0 of 16): a finding, see the report.
    """
    rows = grid_rows(seeds=1024, seed=1)
    valid = [r for r in rows if r["valid"]]
    assert len(valid) == len(rows), [r for r in rows if not r["valid"]]
    z = np.array([(abs(r["theory_finite"] - r["mc"]) - allowance(r["L"], r["N"])) / r["se"] for r in valid])
    assert np.all(z <= 4.5), [r for r, zz in zip(valid, z) if zz > 4.5]
    assert np.sum(z > 3) <= 2
    for r in valid:
        assert abs(r["single_sd_theory"] / r["single_sd_mc"] - 1) <= 0.10, r
    for r in rows:
        if r["arch"] in ("mlp", "resnet") and r["L"] >= 64:
            assert abs(r["theory_inf"] - r["mc"]) > 5 * r["se"], r


# ------------------------------------------------------------------ width doubling
@pytest.mark.slow
@pytest.mark.heavy
@pytest.mark.parametrize("arch,theta0,depth,widths,seeds", [
    ("mlp", 1.2, 16, (64, 128), 2**20),
    ("resnet", 1.2, 16, (64, 128), 2**20),
])
def test_error_falls_faster_than_one_over_width(arch, theta0, depth, widths, seeds):
    """Per doubling of N at fixed depth (L = 16, N = 64 -> 128, 2^20 seeds, a few minutes each):
    the infinite-width error falls by 1.6-2.4 (an O(1/N) bias; measured 1.79 MLP, 1.86 ResNet),
    the finite-width error by more than 2.5 (measured on other seeds: 3.27 +- 0.21 MLP,
    4.8 +- 0.9 ResNet; MLP 128 -> 256: 3.35 +- 0.4).  The threshold is 2.5, not the issue's 3:
    the point estimates exceed 3, but their standard errors do not resolve 3 at a usable
    false-alarm rate; 2.5 lies 4.1 (MLP) and 3.4 (ResNet) SE of log(ratio) below the measured
    ratios (false alarm 2e-5 and 3e-4) and well above the ~2 of an uncorrected O(1/N) error."""
    err_inf, err_fin, se = [], [], []
    for width in widths:
        mc = pair_mc(arch, depth, theta0, width, seeds, seed=31 * width + 7, at=[depth])
        th = finite_width_theory(arch, depth, width, theta0)
        err_inf.append(th["theta_theory"] - mc.theta[-1])
        err_fin.append(th["theta_theory_finite"] - mc.theta[-1])
        se.append(mc.theta_se[-1])
    for k in range(len(widths) - 1):
        assert 1.6 <= err_inf[k] / err_inf[k + 1] <= 2.4
        ratio = abs(err_fin[k]) / abs(err_fin[k + 1])
        assert ratio > 2.5, (widths[k], err_fin[k], err_fin[k + 1], se[k], se[k + 1])


# ------------------------------------------------------------------ property-based
def _registry_names():
    return sorted(architectures())


@pytest.mark.slow
@given(arch=st.sampled_from(_registry_names()), depth=st.integers(1, 24),
       width=st.sampled_from([64, 128, 256, 512]), theta0=st.floats(0.1, 3.0), seed=st.integers(0, 2**31))
def test_property_finite_width_theory_against_monte_carlo(arch, depth, width, theta0, seed):
    """Any registered architecture, depth, width, angle and seed (the numpy seed is the drawn
    integer, so a failing draw replays): where the theory applies and says it is valid, the
    seed-averaged angle is within 4.5 SE + allowance (false-alarm 7e-6 per example, 3e-4 over
    the ci profile's 40) and the single-network sd within 10% + 4 SE of the sample sd.  Where it
    does not apply it refuses with a one-line AnglefishError (preact-resnet: an activation reads
    the residual stream)."""
    assume(depth <= width // 4)
    try:
        th = finite_width_theory(arch, depth, width, theta0)
    except AnglefishError as exc:
        assert "not conditionally Gaussian" in str(exc) and arch == "preact-resnet"
        event("refused: preact-resnet")
        return
    assume(th["valid"])
    event(f"checked against Monte Carlo: {arch}")
    mc = pair_mc(arch, depth, theta0, width, 512, seed=seed, at=[depth])
    assert abs(th["theta_theory_finite"] - mc.theta[-1]) <= 4.5 * mc.theta_se[-1] + allowance(depth, width)
    assert abs(th["single_sd_theory"] / mc.single_sd[-1] - 1) <= 0.10 + 4 * mc.single_sd_se[-1] / mc.single_sd[-1]


@settings(max_examples=6)
@given(arch=st.sampled_from(["mlp", "resnet", "resnet-bn"]),
       depth=st.integers(1, 8), theta0=st.floats(0.2, 2.9), seed=st.integers(0, 2**31))
def test_property_fast(arch, depth, theta0, seed):
    """A small default-suite version (the paper's three architectures, width 128, 256 seeds,
    depth <= 8; 6 examples):
    the same check, false-alarm 7e-6 per example."""
    th = finite_width_theory(arch, depth, 128, theta0)
    assert th["valid"], th["reason"]
    mc = pair_mc(arch, depth, theta0, 128, 256, seed=seed, at=[depth])
    assert abs(th["theta_theory_finite"] - mc.theta[-1]) <= 4.5 * mc.theta_se[-1] + allowance(depth, 128)

