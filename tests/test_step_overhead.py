"""The shortcuts of the gradient-descent loop give the numbers of the long way, bit for bit.

Exact checks (the same floating-point operations): no tolerance.  The whole-study evidence (every
unit of verify --full's generalization study, and lr / Fisher / simulator results, byte for byte
against the code before the shortcuts) is benchmarks/step_identity.py and benchmarks/gap_study_cpu.py.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from anglefish.numeric import generalization as G
from anglefish.numeric.fisher import init_params, ntk_gram
from anglefish.numeric.training import gradient_descent
from anglefish.theory.activations import PiecewiseLinear, get_activation
from anglefish.theory.blocks import BLOCK_INDEX, DEPTH, block_value


def _special(dtype):
    x = np.random.default_rng(0).standard_normal((3, 5, 7)).astype(dtype)
    x[0, 0, :6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1e-310 if dtype == np.float64 else 1e-40]
    return x


def _bits(a):
    return np.asarray(a).tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("slopes", [(1, 1), (2, 2), (1, 0), (sp.Rational(1, 2), 0), (1, sp.Rational(1, 100))])
def test_piecewise_linear_numpy_rules_are_the_forms_before_the_shortcuts(dtype, slopes):
    act = PiecewiseLinear("test_pl", *slopes)
    a_pos, a_neg = (float(s) for s in slopes)
    x = _special(dtype)
    g = np.random.default_rng(1).standard_normal((3, 2, 5, 7)).astype(dtype)
    t = x.dtype.type
    with np.errstate(invalid="ignore"):
        if a_neg == 0:  # the forms before the shortcuts (b8c8c25)
            phi = np.maximum(x, 0) * t(a_pos)
            dphi = (x > 0).astype(x.dtype) * t(a_pos)
        else:
            phi = np.where(x > 0, x * t(a_pos), x * t(a_neg))
            dphi = np.where(x > 0, t(a_pos), t(a_neg))
    assert _bits(act.numpy_phi()(x)) == _bits(phi)
    assert _bits(act.numpy_dphi()(x)) == _bits(dphi)
    assert _bits(act.numpy_vjp()(x, g)) == _bits(g * dphi[:, None])
    assert act.numpy_phi()(x) is not x  # a new array, as np.where gave
    assert act.numpy_phi() is act.numpy_phi()  # made once


def test_generic_vjp_is_g_times_dphi():
    tanh = get_activation("tanh")
    x, g = _special(np.float64)[:, :, 1:], np.ones((3, 2, 5, 6))
    assert _bits(tanh.numpy_vjp()(x, g)) == _bits(g * tanh.numpy_dphi()(x)[:, None])


def test_block_value_remembers_the_value_it_computes():
    expr = 1 / sp.sqrt(DEPTH) + BLOCK_INDEX
    assert block_value(expr, 2, 9) == float(expr.subs({BLOCK_INDEX: 2, DEPTH: 9})) == block_value(expr, 2, 9)
    assert block_value(sp.Rational(1, 3), 0, 1) == 1 / 3


def _problem(kind="mlp", activation="relu", depth=4, n=8):
    task = G.make_task("teacher", 6, n, 3, seed=5, n_test=40)
    arch = G.gap_architecture(kind, activation)
    params = init_params(arch, depth, 6, 6, [G._generator(5, 1, 1, 0, depth, s) for s in range(3)])
    x, y = task["x"], task["y"]
    eta = 1.0 / np.linalg.eigvalsh(ntk_gram(arch, params, x) / n)[:, -1]
    return task, params, x, y, eta


def test_stop_above_stops_at_the_first_loss_above_the_ceiling():
    _, params, x, y, eta = _problem()
    full = gradient_descent(params.copy(), x, y, 4 * eta, 30)
    ceiling = full[0] * 1.5
    over = np.nonzero(np.any(full > ceiling, axis=1))[0]
    assert over.size, "the test needs a run whose loss rises above 1.5 L_0"
    cut = gradient_descent(params.copy(), x, y, 4 * eta, 30, stop_above=ceiling)
    k = over[0]
    assert _bits(cut[:k + 1]) == _bits(full[:k + 1]) and np.all(np.isnan(cut[k + 1:]))


@pytest.mark.parametrize("factor, ok", [(0.25, True), (1.0, False)])
def test_a_run_given_up_is_one_that_was_not_ok_and_an_ok_run_is_unchanged(factor, ok):
    task, params, x, y, eta = _problem()
    kept = G._train(params.copy(), x, y, factor * eta, [0, 5, 20], task, False)
    given_up = G._train(params.copy(), x, y, factor * eta, [0, 5, 20], task, False, give_up=True)
    assert kept["ok"] is ok and given_up["ok"] is ok
    if ok:
        for key in ("gap_at", "train_at", "test", "per_point", "finite"):
            assert _bits(given_up[key]) == _bits(kept[key])
    else:
        assert set(given_up) == {"ok"}  # stopped at the first loss above L_0
