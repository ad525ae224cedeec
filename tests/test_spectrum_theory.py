"""The derived moments, bounds, input-driven terms, backward fluctuations and bulk edge of
anglefish.theory.spectrum, against independent routes (deterministic: no false alarms).

Independent routes used here: the eigenvalues of the infinite-width Gram computed by numpy
(for s_lambda and every bound), the NTK trajectories of anglefish.theory.ntk.kappa_numeric (for
the selection kernel), and short hand derivations stated in the docstrings (ReLU, L = 1).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from anglefish.errors import AnglefishError
from anglefish.numeric.spectrum import sample_bounds
from anglefish.theory.ntk import SAMPLES, WIDTH, fisher_theory, kappa_numeric
from anglefish.theory.spectrum import (KAPPA1, KAPPA2, NPARAMS, backward_fluctuations, bounds_law, bulk_edge,
                                       derivative_moments, first_block_kappa2_vanishes, input_driven_terms,
                                       selection_kernel, spectrum_law, spectrum_symbolic, spectrum_symbolic_text,
                                       spectrum_theory)

ARCHS = ["mlp", "resnet", "resnet-bn", "resnet2", "resnet-scaled", "preact-resnet", "mlp-bn"]


@pytest.mark.parametrize("arch", ARCHS)
def test_selection_kernel_reproduces_the_ntk_trajectory(arch):
    """The generic-state iteration of this module and ntk.kappa_numeric are separate code paths
    over the same block maps; at (1,1,1) and (1,1,0) they must agree for every selection."""
    depth = 3
    traj = kappa_numeric(arch, depth)
    for params, (kind, k) in (("all", ("all", None)), ("layer:first", ("block", 0)), ("layer:1", ("block", 1)),
                              ("layer:last", ("block", 2)), ("layer:readout", ("readout", None))):
        k1, k2 = traj.kappas(kind, k)
        assert float(selection_kernel(arch, depth, params, 1, 1, 1)) == pytest.approx(float(k1), rel=1e-12)
        assert float(selection_kernel(arch, depth, params, 1, 1, 0)) == pytest.approx(float(k2), rel=1e-12, abs=1e-14)


def test_symbolic_s_lambda_is_the_sum_of_squared_eigenvalues():
    """s_lambda = sum lambda^2 / P with the eigenvalues of K/T found by SymPy for T = 2..4."""
    sym = spectrum_symbolic("mlp", "all")
    N, T = WIDTH, SAMPLES
    for t in (2, 3, 4):
        k = N * ((KAPPA1 - KAPPA2) * sp.eye(t) + KAPPA2 * sp.ones(t, t)) / t
        eig = k.eigenvals()
        s = sum(v**2 * mult for v, mult in eig.items()) / NPARAMS
        m = sum(v * mult for v, mult in eig.items()) / NPARAMS
        assert sp.simplify(sym["s_lambda"].subs(T, t) - s) == 0
        assert sp.simplify(sym["m_lambda"].subs(T, t) - m) == 0
    assert sp.simplify(sym["concentration"] - sym["s_lambda"] / (NPARAMS * sym["m_lambda"] ** 2)) == 0
    # MLP closed forms: P = L N^2 + N, kappa1 = L/2 + 1 (derived in ntk), kappa2 stays a symbol
    assert sp.simplify(sym["P"] - (sp.Symbol("L", integer=True, positive=True) * N**2 + N)) == 0
    assert sym["kappa2_closed"] is None and KAPPA2 in sym["in_L"]["s_lambda"].free_symbols
    first = spectrum_symbolic("mlp", "first")
    assert first["kappa2_closed"] == 0 and first["in_L"]["s_lambda"] == sp.Rational(1, 4) / T


@pytest.mark.parametrize("arch,depth,params", [("mlp", 4, "all"), ("resnet", 3, "layer:last"),
                                               ("resnet-bn", 5, "layer:first"), ("mlp", 2, "layer:readout")])
def test_theory_numbers_and_bounds_equal_those_of_the_infinite_width_gram(arch, depth, params):
    """Every moment and bound evaluated from the kappas equals the same quantity computed by
    numpy (numeric/spectrum.py's sample code) on the T x T matrix N[(k1 - k2) I + k2 11^T]."""
    width, samples = 64, 12
    th = spectrum_theory(arch, depth, width, samples, params, input_terms=False)
    ft = fisher_theory(arch, depth, width, samples, params)
    assert th["kappa1"] == pytest.approx(ft["kappa1"], rel=1e-14) and th["n_params"] == ft["n_params"]
    k1, k2 = th["kappa1"], th["kappa2"]
    gram = width * ((k1 - k2) * np.eye(samples) + k2 * np.ones((samples, samples)))
    eig = np.linalg.eigvalsh(gram / samples)
    assert th["lambda_max"] == pytest.approx(eig[-1], rel=1e-12) == pytest.approx(ft["lambda_max"], rel=1e-12)
    assert th["m_lambda"] == pytest.approx(eig.sum() / th["n_params"], rel=1e-12)
    assert th["s_lambda"] == pytest.approx((eig**2).sum() / th["n_params"], rel=1e-12)
    sampled = sample_bounds(gram[None], th["n_params"])
    bounds = {b.name: b for b in th["bounds"]}
    for name, values in sampled.items():
        assert bounds[name].value == pytest.approx(values[0], rel=1e-12), name
    assert bounds["jensen"].value == pytest.approx(eig[-1], rel=1e-12)  # without input terms
    for b in th["bounds"]:  # the bounds hold on the infinite-width matrix itself
        assert (b.value <= eig[-1] * (1 + 1e-12)) if b.kind == "lower" else (b.value >= eig[-1] * (1 - 1e-12))


def test_kappa2_mutant_moves_only_what_depends_on_kappa2():
    a = spectrum_theory("resnet-bn", 3, 64, 16, input_terms=False)
    b = spectrum_theory("resnet-bn", 3, 64, 16, kappa2_scale=1.05, input_terms=False)
    assert b["kappa2"] == pytest.approx(1.05 * a["kappa2"]) and b["kappa1"] == a["kappa1"]
    assert b["m_lambda"] == a["m_lambda"] and b["s_lambda"] > a["s_lambda"]


def test_input_driven_terms_of_the_relu_first_block_at_depth_one():
    """Hand derivation (L = 1, MLP, block 0): K_st = sum_i v_i^2 relu'(u_is) relu'(u_it) x_s . x_t,
    E[relu'(u) relu'(v)] = (pi - theta)/(2 pi) with cos theta = rho, so kappa(rho) = rho (pi - acos rho)/(2 pi):
    kappa'(0) = 1/4, kappa''(0)/2 = 1/(2 pi); ReLU is homogeneous, so h''(1) = 0 and h'(1) = kappa1 = 1/2."""
    t = input_driven_terms("mlp", 1, "layer:first")
    assert t["kappa_prime"] == pytest.approx(0.25, abs=1e-10)
    assert t["offdiag_shift"] == pytest.approx(1 / (2 * math.pi), abs=1e-8)
    assert t["diag_shift"] == pytest.approx(0.0, abs=1e-8) and t["norm_slope"] == pytest.approx(0.5, abs=1e-10)
    assert first_block_kappa2_vanishes("mlp") and not first_block_kappa2_vanishes("resnet")


def test_backward_fluctuations_of_the_relu_mlp():
    """Hand derivation (per block, ReLU, z Gaussian): V = 3 E[relu'^4]/E[relu'^2]^2 - 1 = 3 (1/2)/(1/4) - 1 = 5
    (Hanin-Nica's 5/N per layer); at L = 1 the readout gives r = 1 and E[relu'(u)^2 relu'(v)^2] = 1/4 at
    orthogonal inputs, so C = (1/4)(1 + 2)/(1/4) - 1 = 2 and the per-input spread is 3/N."""
    one = backward_fluctuations("mlp", 1)
    assert one["V"] == pytest.approx([5.0]) and one["C"] == pytest.approx([2.0])
    assert one["input_specific"] == pytest.approx(3.0) and one["diag_relative_variance_times_N"] == pytest.approx(7.0)
    four = backward_fluctuations("mlp", 4)
    assert four["V"] == pytest.approx([5.0] * 4)
    assert all(0 < c < 5 for c in four["C"]) and list(four["C"]) == sorted(four["C"])  # r grows towards the top
    # BN before the ReLU is a fixed scaling: the same fluctuations
    assert backward_fluctuations("mlp-bn", 4)["C"] == pytest.approx(four["C"], rel=1e-9)


def test_derivative_moments_quadrature_against_piecewise():
    """The Gauss-Hermite route (used for smooth activations) against the exact piecewise route, on
    leaky ReLU's phi'^2 expectations (the quadrature of a step converges slowly: 2% tolerance)."""
    from anglefish.theory.activations import PiecewiseLinear, make_activation

    exact = derivative_moments(PiecewiseLinear("lk", 1, sp.Rational(1, 2)), 1.3, 0.4)
    x = sp.Symbol("x", real=True)
    smooth = make_activation("lk_smooth", sp.Piecewise((x, x > 0), (x / 2, True)))
    approx = derivative_moments(smooth, 1.3, 0.4)
    assert approx == pytest.approx(exact, rel=2e-2)
    e2, e4, e22 = derivative_moments(make_activation("erf_test", sp.erf(x)), 0.7, 0.0)
    assert e22 == pytest.approx(e2**2, rel=1e-10)  # independent at c = 0


def test_bulk_edge_formula_and_refusals():
    """At L = 1 (p2 = 1/4, p1 = 1/2): edge = (N/T)[1/2 + (1/4)((1 + sqrt c)^2 - 1)], below the
    naive kappa1 (1 + sqrt c)^2 N/T because the two inputs' backward signals are only half correlated."""
    e = bulk_edge("mlp", 1, 128, 32)
    c = 0.25
    assert e["edge"] == pytest.approx(128 / 32 * (0.5 + 0.25 * ((1 + c**0.5) ** 2 - 1)), rel=1e-9)
    assert e["infinite_width"] < e["edge"] < e["naive_mp"]
    assert e["sigma_d2"] == pytest.approx(3 / 128)
    with pytest.raises(AnglefishError, match="kappa2"):
        bulk_edge("resnet", 2, 64, 16)  # the ResNet's first block has kappa2 > 0
    with pytest.raises(AnglefishError, match="MLP-type"):
        bulk_edge("resnet[erf]", 2, 64, 16)  # kappa2 = 0 (odd activation) but a residual block
    with pytest.raises(AnglefishError, match="first block"):
        bulk_edge("mlp[erf]", 2, 64, 16, params="all")


def test_s_lambda_laws():
    """MLP first block: kappa1 = 1/2, kappa2 = 0, one weight matrix: s_lambda -> 1/(4T), concentration 1/T.
    ResNet all weights: exponential like kappa1^2 (4^L)."""
    law = spectrum_law("mlp", "layer:first")
    assert law["class"] == "constant" and sp.simplify(sp.sympify(law["leading"], locals={"T": SAMPLES})
                                                      - 1 / (4 * SAMPLES)) == 0
    assert law["concentration"]["leading"] == "1/T"
    assert spectrum_law("resnet", "all")["class"] == "exponential"
    # the bounds alone fix the depth class of lambda_max / N: N kappa1 / T <= lambda_max <= N kappa1
    b = bounds_law("mlp", "first")
    assert b["follows_from_bounds"] and b["class"] == "constant" and b["upper"] == "1/2" and b["lower"] == "1/(2*T)"
    text = spectrum_symbolic_text("mlp", "first")
    assert text["in_L"]["s_lambda"] == "1/(4*T)" and text["bounds"]["trace"]["kind"] == "upper"


def test_bad_input():
    with pytest.raises(AnglefishError):
        spectrum_theory("mlp", 3, 64, 8, params="layer:3")
    with pytest.raises(AnglefishError):
        spectrum_theory("mlp", 3, 64, 8, params="bogus:")
    with pytest.raises(AnglefishError):
        spectrum_theory("no-such-arch", 3, 64, 8)
    with pytest.raises(AnglefishError):
        backward_fluctuations("mlp", 3, "all")
    assert spectrum_theory("mlp", 3, 64, 8, "first", input_terms=False)["kappa2"] == 0
