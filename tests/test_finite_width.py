"""The finite-width (O(1/N)) theory: its ingredients checked independently of its derivation.

Fourth Gaussian moments of ReLU-type activations (polar integrals) against mpmath quadrature;
derivatives of the kernel map against finite differences and Price's theorem; the per-block
rules against exactly solvable cases (linear networks: Wishart; the ReLU MLP's norm: 5L/N);
the N = inf part against the infinite-width maps; bad input.  All deterministic.
"""
import math

import mpmath
import numpy as np
import pytest
import sympy as sp

from anglefish.errors import AnglefishError
from anglefish.theory.activations import ERF, LINEAR, RELU, THETA, leaky_relu, polar_expectation
from anglefish.theory.architectures import Architecture
from anglefish.theory.blocks import Act, Dense, Residual, Serial
from anglefish.theory.evaluate import maps_for_depth
from anglefish.theory.finite_width import (STATE_SYMBOLS, HomogeneousMoments, describe, finite_width_maps,
                                           finite_width_theory, gaussian_moments, iterate_moments,
                                           piecewise_moment, wishart)

LEAKY = leaky_relu(sp.Rational(1, 5))


# ------------------------------------------------------------------ fourth moments
def _truncated_power(r, a):
    """I_r(a) = int_{-a}^inf (a + t)^r phi(t) dt = E[(a + Z)^r ; a + Z > 0], by the recurrence
    I_r = a I_{r-1} + (r - 1) I_{r-2} (integration by parts), I_0 = Phi(a), I_1 = a Phi(a) + phi(a)."""
    prev, cur = mpmath.ncdf(a), a * mpmath.ncdf(a) + mpmath.npdf(a)
    if r == 0:
        return prev
    for k in range(2, r + 1):
        prev, cur = cur, a * cur + (k - 1) * prev
    return cur


def _moment_by_quadrature(slopes, p, r, theta):
    """E[phi(u)^p phi(v)^r] for standard (u, v) with correlation c = cos theta: the conditional
    moment of v | u = x ~ N(c x, s^2) in closed form (truncated normal), then mpmath.quad over x.
    Independent of the polar-coordinate derivation under test."""
    a_pos, a_neg = (mpmath.mpf(float(x)) for x in slopes)
    c, s = mpmath.cos(theta), mpmath.sin(theta)

    def phi(x):
        return a_pos * x if x > 0 else a_neg * x

    def inner(x):  # E[phi(v)^r | u = x]
        mu = c * x / s
        return s**r * (a_pos**r * _truncated_power(r, mu) + (-a_neg) ** r * _truncated_power(r, -mu))

    return mpmath.quad(lambda x: phi(x) ** p * inner(x) * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])


@pytest.mark.parametrize("act,slopes", [(RELU, (1, 0)), pytest.param(LEAKY, (1, 0.2), marks=pytest.mark.slow)])
@pytest.mark.parametrize("p,r", [(2, 2), (3, 1), (4, 0), (1, 1)])
@pytest.mark.parametrize("theta", [0.3, 1.2, 2.6])
def test_fourth_moments_match_quadrature(act, slopes, p, r, theta):
    mpmath.mp.dps = 20
    closed = float(piecewise_moment(act, p, r).subs(THETA, theta))
    assert closed == pytest.approx(float(_moment_by_quadrature(slopes, p, r, theta)), rel=1e-9, abs=1e-12)


@pytest.mark.slow
def test_mixed_degree_radial_factor_and_known_values():
    d = polar_expectation(1, 0, 3, 1, 0, 1)
    r = sp.Symbol("r", positive=True)
    assert d.degree == (3, 1)
    assert sp.simplify(d.radial - sp.integrate(r**5 * sp.exp(-r**2 / 2), (r, 0, sp.oo)) / (2 * sp.pi)) == 0
    # theta = 0: E relu(u)^4 = 3/2; theta = pi: u = -v, the product vanishes
    assert sp.simplify(piecewise_moment(RELU, 2, 2).subs(THETA, 0)) == sp.Rational(3, 2)
    assert sp.simplify(piecewise_moment(RELU, 3, 1).subs(THETA, sp.pi)) == 0
    assert piecewise_moment(RELU, 4, 0) == sp.Rational(3, 2)


# ------------------------------------------------------------------ F, J, H, C
def _numeric(matrix, S):
    s = sp.symbols("s0:3", positive=True)
    return np.array(sp.Matrix(matrix).subs(dict(zip(s, S))).evalf(), dtype=float)


def _fd_check(moments, S, h=1e-5):
    s = sp.Matrix(sp.symbols("s0:3", positive=True))
    F, J, H = moments.derivatives(s)
    f = sp.lambdify(list(s), list(F), "mpmath")
    j = _numeric(J, S)
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        fd = (np.array(f(*(S + e)), dtype=float) - np.array(f(*(S - e)), dtype=float)) / (2 * h)
        np.testing.assert_allclose(j[:, k], fd, rtol=1e-6, atol=1e-8)
    for i in range(3):
        hi = _numeric(H[i], S)
        jrow = sp.lambdify(list(s), list(J.row(i)), "mpmath")
        for k in range(3):
            e = np.zeros(3)
            e[k] = h
            fd = (np.array(jrow(*(S + e)), dtype=float) - np.array(jrow(*(S - e)), dtype=float)) / (2 * h)
            np.testing.assert_allclose(hi[:, k], fd, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("S", [(1.0, 1.0, 0.4), (2.0, 0.7, -0.5), (1.3, 1.1, 1.1)])
def test_relu_jacobian_and_hessian_are_the_derivatives_of_F(S):
    _fd_check(gaussian_moments(RELU), np.array(S))


def test_relu_jacobian_is_prices_theorem():
    """dF_ab / dS_ab = E[phi'(u) phi'(v)], the degree-0 arc-cosine kernel (pi - theta)/(2 pi)."""
    s = sp.Matrix(sp.symbols("s0:3", positive=True))
    J = gaussian_moments(RELU).derivatives(s)[1]
    S = (1.7, 0.9, 0.6)
    theta = math.acos(S[2] / math.sqrt(S[0] * S[1]))
    assert _numeric(J, S)[2, 2] == pytest.approx((math.pi - theta) / (2 * math.pi), rel=1e-12)


@pytest.mark.slow
def test_linear_activation_covariance_is_wishart():
    """phi(x) = x: F = S, J = I, H = 0 and C = W(S) (the Wishart covariance)."""
    s = sp.Matrix(sp.symbols("s0:3", positive=True))
    m = gaussian_moments(LINEAR)
    F, J, H = m.derivatives(s)
    S = (1.4, 0.8, 0.3)
    np.testing.assert_allclose(_numeric(F, S), np.array(S)[:, None], rtol=1e-12)
    np.testing.assert_allclose(_numeric(J, S), np.eye(3), atol=1e-12)
    assert all(np.allclose(_numeric(h, S), 0) for h in H)
    np.testing.assert_allclose(_numeric(m.C(s), S), _numeric(wishart(s), S), rtol=1e-12)


@pytest.mark.slow
def test_erf_quadrature_moments_match_the_closed_kernel_and_prices_theorem():
    """erf by Gauss-Hermite: F equals the closed-form kernel; J and H equal its derivatives."""
    m = gaussian_moments(ERF)
    S = (0.9, 1.6, 0.5)
    s = sp.symbols("s0:3", positive=True)
    closed = sp.Matrix([ERF.kernel(s[0], s[0], s[0]), ERF.kernel(s[1], s[1], s[1]), ERF.kernel(*s)])
    F, J, H = (np.asarray(x) for x in m._numeric(*S)[:3])
    sub = dict(zip(s, S))
    np.testing.assert_allclose(F, np.array(closed.subs(sub).evalf(), dtype=float).ravel(), rtol=1e-9)
    jac = closed.jacobian(sp.Matrix(s))
    np.testing.assert_allclose(J, np.array(jac.subs(sub).evalf(), dtype=float), rtol=1e-7, atol=1e-10)
    for i in range(3):
        hess = sp.hessian(closed[i], s)
        np.testing.assert_allclose(H[i], np.array(hess.subs(sub).evalf(), dtype=float), rtol=1e-6, atol=1e-9)


@pytest.mark.slow
def test_erf_fourth_moments_match_a_trapezoid_rule():
    """C of erf (Gauss-Hermite) against a fine trapezoid rule on [-10, 10]^2 (spectrally accurate
    for smooth, fast-decaying integrands; a different quadrature from the one under test)."""
    from scipy.special import erf

    m = gaussian_moments(ERF)
    S = (0.9, 1.6, 0.5)
    C = m._numeric(*S)[3]
    x = np.linspace(-10, 10, 2001)
    w = np.full_like(x, x[1] - x[0])
    w[[0, -1]] /= 2
    w *= np.exp(-x**2 / 2) / math.sqrt(2 * math.pi)
    ww = np.outer(w, w)
    sa, sb = math.sqrt(S[0]), math.sqrt(S[1])
    c = S[2] / (sa * sb)
    u = erf(sa * x[:, None] + 0 * x[None, :])
    v = erf(sb * (c * x[:, None] + math.sqrt(1 - c * c) * x[None, :]))

    def expect(f):
        return float(np.sum(ww * f))

    F = [expect(u**2), expect(v**2), expect(u * v)]
    assert C[2, 2] == pytest.approx(expect(u**2 * v**2) - F[2] ** 2, rel=1e-8)
    assert C[0, 2] == pytest.approx(expect(u**3 * v) - F[0] * F[2], rel=1e-8)
    assert C[1, 2] == pytest.approx(expect(u * v**3) - F[1] * F[2], rel=1e-8)
    assert C[0, 0] == pytest.approx(expect(u**4) - F[0] ** 2, rel=1e-8)
    assert C[0, 1] == pytest.approx(expect(u**2 * v**2) - F[0] * F[1], rel=1e-8)


# ------------------------------------------------------------------ block rules, exact cases
def test_deep_linear_network_is_a_wishart_random_walk():
    """h' = W h, W ~ N(0, 1/N): E K-hat is exact (dK = 0) and N Cov grows by W(K) per layer."""
    arch = Architecture("linear-net-test", Serial(Dense(1)))
    eq = finite_width_maps(arch).equations
    K = sp.Matrix(STATE_SYMBOLS[:3])
    V = finite_width_maps(arch).state.V
    assert all(sp.simplify(eq[f"dK_{c}'"] - s) == 0 for c, s in zip(("aa", "bb", "ab"), STATE_SYMBOLS[3:6]))
    from anglefish.theory.finite_width import symbolic_state

    assert sp.simplify(V - symbolic_state().V - wishart(K)) == sp.zeros(3, 3)


def test_relu_mlp_norm_is_exact_in_mean_and_log_variance_grows_like_5_L_over_N():
    """ReLU with He weights: E ||h||^2 is the infinite-width value at every width (dK_aa = 0);
    N Var(K-hat_aa)/K_aa^2 = 5 per layer at first order (REFERENCE section 4: fluctuations of
    log ||h||^2 grow like 5 sum 1/n_l)."""
    ls, K, dK, V, _ = iterate_moments("mlp", 20, 1.0)
    assert np.allclose(dK[:, 0], 0, atol=1e-12)
    np.testing.assert_allclose(V[:, 0, 0] / K[:, 0] ** 2, 5.0 * ls, rtol=1e-12)


def test_single_dense_residual_matches_the_direct_computation():
    """h' = h + W h (W ~ N(0, v/N)), from a deterministic input: K-hat' = K + X + K_z with
    N Cov = W(K + vK) - W(K) and no mean shift."""
    v = sp.Rational(1, 2)
    arch = Architecture("res-dense-test", Residual(Dense(v)))
    st = finite_width_maps(arch).first
    K = sp.Matrix(STATE_SYMBOLS[:3])
    assert sp.simplify(st.K - (1 + v) * K) == sp.zeros(3, 1)
    assert sp.simplify(st.V - (wishart((1 + v) * K) - wishart(K))) == sp.zeros(3, 3)


@pytest.mark.parametrize("arch", ["mlp", "resnet-bn"] + [
    pytest.param(a, marks=pytest.mark.slow) for a in ("resnet", "resnet2", "resnet-scaled", "mlp-bn")])
def test_infinite_width_part_is_the_kernel_map(arch):
    depth, theta0 = 12, 1.1
    out = finite_width_theory(arch, depth, 256, theta0, at=list(range(depth + 1)))
    ls, theta, log_q = maps_for_depth(arch, depth).iterate(theta0, depth)
    np.testing.assert_allclose([r["theta_theory"] for r in out["rows"]], theta[:, 0], rtol=1e-9, atol=1e-12)
    # from l = 1: the closed-form population moment of mlp-bn (m_l = 1/2) is also reported at l = 0
    # by the infinite-width evaluator, where the input has q = 1 (a quirk of that evaluator)
    np.testing.assert_allclose([r["log_q_theory"] for r in out["rows"]][1:], log_q[1:], rtol=1e-9, atol=1e-9)
    assert out["rows"][0]["log_q_theory"] == 0.0


def test_the_correction_vanishes_like_one_over_width():
    a = finite_width_theory("resnet", 10, 1000, 1.0)
    b = finite_width_theory("resnet", 10, 2000, 1.0)
    da = a["theta_theory_finite"] - a["theta_theory"]
    db = b["theta_theory_finite"] - b["theta_theory"]
    assert da > 0 and db == pytest.approx(da / 2, rel=0.01)
    assert b["single_sd_theory"] == pytest.approx(a["single_sd_theory"] / math.sqrt(2), rel=1e-9)


def test_identical_and_opposite_inputs():
    same = finite_width_theory("resnet", 8, 128, 0.0)
    assert same["valid"] and same["theta_theory_finite"] == 0.0 and same["single_sd_theory"] == 0.0
    # q-hat is then one input's second moment: its log-variance is that input's, N Var K_aa / K_aa^2
    _, K, _, V, _ = iterate_moments("resnet", 8, 1.0, at=[8])
    assert same["log_q_sd_theory"] ** 2 == pytest.approx(V[-1, 0, 0] / K[-1, 0] ** 2 / 128, rel=1e-12)
    opposite = finite_width_theory("mlp", 3, 512, math.pi)
    assert opposite["valid"] and math.isfinite(opposite["theta_theory_finite"])


def test_too_deep_for_the_width_is_refused_with_a_reason():
    out = finite_width_theory("mlp", 64, 32, 1.2)
    assert out["valid"] is False and "sd/theta" in out["reason"]
    assert out["theta_theory_finite"] is None and out["single_sd_theory"] is None
    assert out["theta_theory"] is not None  # the N = inf value is always given


@pytest.mark.parametrize("call,match", [
    (lambda: finite_width_theory("mlp", -1, 128, 1.0), "depth"),
    (lambda: finite_width_theory("mlp", 3, 1, 1.0), "width"),
    (lambda: finite_width_theory("mlp", 3, 128, 4.0), "theta0"),
    (lambda: finite_width_theory("nope", 3, 128, 1.0), "unknown architecture"),
    (lambda: finite_width_theory("preact-resnet", 3, 128, 1.0), "not conditionally Gaussian"),
    (lambda: finite_width_maps(Architecture("bn-batch-test", [Dense(2), __import__(
        "anglefish.theory.blocks", fromlist=["BatchNorm"]).BatchNorm("batch"), Act(RELU)])), "batch"),
    (lambda: finite_width_maps(Architecture("double-act-test", [Dense(2), Act(RELU), Act(RELU)])),
     "not conditionally Gaussian"),
])
def test_bad_input_raises_one_line_errors(call, match):
    with pytest.raises(AnglefishError, match=match):
        call()


def test_homogeneous_moments_are_cached_per_activation():
    assert gaussian_moments(RELU) is gaussian_moments(RELU)
    assert isinstance(gaussian_moments(RELU), HomogeneousMoments)


def test_describe_names_one_rule_per_block():
    lines = describe("resnet")
    assert any(line.strip().startswith("Dense(2): defer") for line in lines)
    assert any("ReLU(): S = c K" in line for line in lines)
    assert any("W(K + c G) - W(K)" in line for line in lines)


def test_resnet_norm_carried_in_logs_past_float64_overflow():
    """ResNet: q doubles per block, V grows like 4^L (4^600 ~ 1e361 overflows float64); the
    evaluator rescales the state and carries the log."""
    out = finite_width_theory("resnet", 600, 10**6, 1.0)
    assert out["valid"]
    assert out["log_q_theory"] == pytest.approx(600 * math.log(2), rel=1e-12)
    assert math.isfinite(out["log_q_sd_theory"]) and 0 < out["log_q_sd_theory"] < 1
