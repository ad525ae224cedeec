"""Stable numeric evaluation of the derived maps (numpy, math, mpmath)."""
import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, strategies as st

from anglefish.errors import AnglefishError
from anglefish.theory.asymptotics import CHECK_DEPTHS, CHECK_THETA0, checkpoints
from anglefish.theory.evaluate import numeric_maps

PAPER = ["mlp", "resnet", "resnet-bn"]

tiny_to_one = st.floats(min_value=-12, max_value=0).map(lambda e: 10.0**e)
up_to_pi = st.floats(min_value=1e-12, max_value=math.pi)
angles = st.one_of(tiny_to_one, up_to_pi, st.just(math.pi), st.just(1e-12))


@pytest.mark.parametrize("arch", PAPER)
@given(theta=angles, l=st.one_of(st.integers(0, 20), st.integers(0, 10**6)))
def test_one_block_map_matches_mpmath_to_1e_12(arch, theta, l):
    nm = numeric_maps(arch)
    reference = nm.step_mp(theta, l, dps=50)
    for value in (float(nm.step(theta, l)), nm.step_scalar(theta, l)):
        assert abs(mpmath.mpf(value) / reference - 1) <= 1e-12


@pytest.mark.parametrize("arch", PAPER)
def test_naive_float_evaluation_would_fail_here(arch):
    """The tiny-angle regime is real: arccos of the lambdified cosine map loses everything."""
    import sympy as sp

    from anglefish.theory import derive_maps
    from anglefish.theory.activations import THETA
    from anglefish.theory.blocks import BLOCK_INDEX

    naive = sp.lambdify((THETA, BLOCK_INDEX), sp.acos(derive_maps(arch).angle_cos), "numpy")
    theta = 1e-9
    assert float(naive(theta, 0)) == 0.0 or abs(float(naive(theta, 0)) / theta - 1) > 1e-3
    assert abs(float(numeric_maps(arch).step(theta, 0)) / theta - 1) < 1e-6


@pytest.mark.parametrize("arch", PAPER)
def test_iteration_keeps_relative_precision(arch):
    """float64 iteration against mpmath iteration at 30 digits over 3000 blocks."""
    nm = numeric_maps(arch)
    theta0 = [1e-6, 0.5, 3.0]
    depth = 3000
    ls, theta, _ = nm.iterate(theta0, depth, at=[depth])
    for j, t0 in enumerate(theta0):
        ref = mpmath.mpf(t0)
        for l in range(depth):
            ref = nm.step_mp(ref, l, dps=30)
        assert abs(mpmath.mpf(theta[-1, j]) / ref - 1) < 1e-11


@pytest.mark.slow
@pytest.mark.parametrize("arch", PAPER)
def test_iterating_to_a_million_blocks_is_finite_and_monotone(arch):
    theta = checkpoints(arch, CHECK_THETA0, CHECK_DEPTHS)
    assert np.all(np.isfinite(theta)) and np.all(theta > 0)
    assert np.all(np.diff(theta, axis=0) < 0)  # angles keep shrinking


def test_log_q_is_carried_without_overflow():
    nm = numeric_maps("resnet")
    ls, _, log_q = nm.iterate(0.5, 10**6, every=10**5)
    assert np.all(np.isfinite(log_q))
    # the closed form and the accumulated one-block ratios agree (a float64 cumulative sum
    # of 10^6 terms carries ~1e-11 relative rounding, hence rtol 1e-9)
    accumulated = np.concatenate([[0.0], np.cumsum(nm.log_norm_ratio(np.arange(10**6)))])[ls]
    assert np.allclose(log_q, accumulated, rtol=1e-9)
    assert log_q[-1] == pytest.approx(1e6 * math.log(2), rel=1e-12)


def test_resnet_bn_log_q_matches_accumulated_ratios():
    nm = numeric_maps("resnet-bn")
    ls, _, log_q = nm.iterate(0.5, 1000, every=100)
    accumulated = np.concatenate([[0.0], np.cumsum(nm.log_norm_ratio(np.arange(1000)))])[ls]
    assert np.allclose(log_q, accumulated, rtol=1e-12, atol=1e-13)


def test_numpy_and_scalar_paths_agree():
    nm = numeric_maps("resnet-bn")
    many = np.linspace(0.01, 3.1, 12)  # > 8 angles: the numpy path
    _, a, _ = nm.iterate(many, 500)
    _, b, _ = nm.iterate(many[:4], 500)  # <= 8 angles: the scalar path
    assert np.allclose(a[:, :4], b, rtol=1e-12)


def test_iterate_rows_and_bad_input():
    nm = numeric_maps("mlp")
    ls, theta, log_q = nm.iterate(1.0, 10, every=4)
    assert ls.tolist() == [0, 4, 8, 10] and theta.shape == (4, 1) and np.all(log_q == 0)
    for bad in (dict(theta0=4.0, depth=3), dict(theta0=-0.1, depth=3), dict(theta0=float("nan"), depth=3),
                dict(theta0=1.0, depth=-1), dict(theta0=1.0, depth=2.5)):
        with pytest.raises(AnglefishError):
            nm.iterate(bad["theta0"], bad["depth"])
    with pytest.raises(AnglefishError):
        nm.iterate(1.0, 5, every=0)


def test_zero_angle_is_a_fixed_point():
    for arch in PAPER:
        assert numeric_maps(arch).step_scalar(0.0, 3) == 0.0


@pytest.mark.parametrize("name,kind", [("mlp", "NumericMaps"), ("resnet2", "StablePairMaps"),
                                       ("resnet2[erf]", "PopulationNumericMaps")])
def test_every_evaluator_refuses_recorded_depths_outside_the_run(name, kind):
    from anglefish.theory.evaluate import maps_for_depth

    maps = maps_for_depth(name, 5)
    assert type(maps).__name__ == kind
    ls, theta, _ = maps.iterate(1.0, 5, at=[0, 2])
    assert list(ls) == [0, 2, 5] and theta.shape[0] == 3
    for bad in ([6], [-1]):
        with pytest.raises(AnglefishError, match="recorded depths"):
            maps.iterate(1.0, 5, at=bad)
