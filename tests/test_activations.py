"""The Gaussian kernels are derived, not typed in: check them against closed forms
from the literature (typed here, in the test, as the reference) and against direct
numerical integration of the bivariate Gaussian."""
import mpmath
import pytest
import sympy as sp

from anglefish.theory.activations import LINEAR, RELU, THETA, angle_of, leaky_relu

qa, qb = sp.symbols("q_a q_b", positive=True)


def cho_saul_degree1(theta):
    """Cho & Saul (2009) arc-cosine kernel of degree 1, normalised: E relu(u) relu(v) / sqrt(qa qb)."""
    return (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)) / (2 * sp.pi)


def test_relu_kernel_equals_arc_cosine_closed_form():
    derived = RELU.derivation().unit_kernel
    assert sp.simplify(derived - cho_saul_degree1(THETA)) == 0


def test_relu_derivation_steps_are_the_polar_integrals():
    d = RELU.derivation()
    assert sp.simplify(d.radial - 1 / sp.pi) == 0  # int r^3 e^{-r^2/2} dr / 2pi = 2 / 2pi
    assert sp.simplify(d.radial * d.angular - d.unit_kernel) == 0


def test_relu_derivative_kernel_is_cho_saul_degree0():
    derived = RELU.derivative_derivation().unit_kernel
    assert sp.simplify(derived - (sp.pi - THETA) / (2 * sp.pi)) == 0


def test_relu_kernel_with_variances_and_diagonal():
    k = RELU.kernel(qa, qb, sp.sqrt(qa * qb) * sp.cos(THETA))
    assert sp.simplify(k - sp.sqrt(qa * qb) * cho_saul_degree1(THETA)) == 0
    assert sp.simplify(RELU.kernel(qa, qa, qa) - qa / 2) == 0  # E relu(u)^2 = q/2


def test_linear_kernel_is_the_covariance():
    qab = sp.sqrt(qa * qb) * sp.cos(THETA)
    assert sp.simplify(LINEAR.kernel(qa, qb, qab) - qab) == 0
    assert LINEAR.is_odd and not RELU.is_odd


def _conditional_moments(c, x):
    s = mpmath.sqrt(1 - c * c)
    mu = c * x
    return mu, s, mpmath.ncdf(mu / s), mpmath.npdf(mu / s)


def _leaky_kernel_by_quadrature(alpha, c):
    """E phi(u) phi(v), phi(x) = x (x > 0), alpha x (x < 0), for standard (u, v) with correlation c.

    Conditions on u = x: v | x ~ N(c x, 1 - c^2), whose truncated first moments are
    elementary; the outer integral over x is done numerically (mpmath.quad), split at
    the kink of phi.  Independent of the polar-coordinate derivation under test.
    """
    def integrand(x):
        mu, s, cdf, pdf = _conditional_moments(c, x)
        positive_part = mu * cdf + s * pdf  # E[v 1{v>0} | x]
        inner = positive_part + alpha * (mu - positive_part)
        phi_x = x if x > 0 else alpha * x
        return phi_x * inner * mpmath.npdf(x)
    return mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf])


def _leaky_derivative_kernel_by_quadrature(alpha, c):
    def integrand(x):
        _, _, cdf, _ = _conditional_moments(c, x)
        dphi_x = 1 if x > 0 else alpha
        return dphi_x * (cdf + alpha * (1 - cdf)) * mpmath.npdf(x)
    return mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf])


@pytest.mark.parametrize("alpha", [sp.Rational(1, 10), sp.Rational(-1, 2), sp.Integer(0)])
@pytest.mark.parametrize("theta", [0.3, 1.7, 2.9])
def test_piecewise_linear_kernels_match_quadrature(alpha, theta):
    act = leaky_relu(alpha)
    c = mpmath.cos(theta)
    derived = float(act.derivation().unit_kernel.subs(THETA, theta))
    assert derived == pytest.approx(float(_leaky_kernel_by_quadrature(float(alpha), c)), rel=1e-10)
    derived_d = float(act.derivative_derivation().unit_kernel.subs(THETA, theta))
    assert derived_d == pytest.approx(float(_leaky_derivative_kernel_by_quadrature(float(alpha), c)), rel=1e-10)


def test_angle_of_recognises_cosine():
    assert angle_of(sp.cos(THETA)) == THETA
    x = sp.Symbol("x")
    assert angle_of(x) == sp.acos(x)


@pytest.mark.parametrize("slopes", [(1, 0), (sp.Rational(3, 2), 0), (1, sp.Rational(1, 10)), (1, 1)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_piecewise_linear_numpy_derivative_is_the_slope_of_each_side(slopes, dtype):
    """numpy_dphi: slope_pos where z > 0, slope_neg elsewhere (z = 0 and nan included), in z's dtype."""
    import numpy as np

    from anglefish.theory.activations import PiecewiseLinear

    act = PiecewiseLinear("test-slopes", *slopes)
    z = np.array([[-2.0, -0.0, 0.0, 1e-300, 3.0, np.nan]], dtype=dtype)
    expected = np.where(z > 0, float(slopes[0]), float(slopes[1])).astype(dtype)
    got = act.numpy_dphi()(z)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, expected)
