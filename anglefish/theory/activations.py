"""Activations and their Gaussian kernels, derived with SymPy.

For an activation phi and a centred Gaussian pair (u, v) with variances q_a, q_b
and covariance q_ab, the *Gaussian kernel* is E[phi(u) phi(v)] and the *derivative
kernel* is E[phi'(u) phi'(v)].  Nothing here types a closed form in: the kernel of a
piecewise-linear, positively homogeneous activation is obtained from the bivariate
Gaussian integral in polar coordinates,

    u = sqrt(q_a) r cos t,   v = sqrt(q_b) r cos(t - theta),   cos theta = q_ab / sqrt(q_a q_b),

with (r, t) the polar coordinates of a standard 2-d Gaussian (density r exp(-r^2/2) / 2 pi).
Homogeneity phi(rho x) = rho^d phi(x) for rho > 0 splits the integral into a radial
factor int r^(2d+1) exp(-r^2/2) dr / 2 pi and an angular integral of
phi(cos t) phi(cos(t - theta)) over the four arcs on which the signs of cos t and
cos(t - theta) are constant.  ``tests/test_activations.py`` shows the result for ReLU
equals the arc-cosine kernel of Cho & Saul (2009).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ..errors import AnglefishError
from .cache import clear_caches, memoize

#: The angle between the two inputs of a kernel map; always taken in [0, pi].
THETA = sp.Symbol("theta", nonnegative=True)
_T = sp.Symbol("t", real=True)
_R = sp.Symbol("r", nonnegative=True)
_X = sp.Symbol("x", real=True)


def angle_of(c: sp.Expr) -> sp.Expr:
    """arccos(c) in [0, pi], recognising c = cos(THETA) so that acos(cos theta) = theta."""
    c = sp.cancel(sp.together(c))
    if isinstance(c, sp.cos) and c.args[0] == THETA:
        return THETA
    return sp.acos(c)


@dataclass(frozen=True)
class KernelDerivation:
    """The steps of one derived Gaussian expectation E[f(u) g(v)] (for tests and docs)."""

    radial: sp.Expr  # int_0^oo r^(2d+1) e^{-r^2/2} dr / (2 pi)
    angular: sp.Expr  # int over the circle of f(cos t) g(cos(t - theta)) dt, theta in [0, pi]
    unit_kernel: sp.Expr  # radial * angular: the kernel at unit variances, a function of THETA
    degree: int | tuple  # f(u) g(v) has degrees (d, d) in (sqrt q_a, sqrt q_b); (d_f, d_g) if they differ


def _polar_expectation(pos_f, neg_f, pos_g, neg_g, degree: int) -> KernelDerivation:
    """E[f(u) g(v)] at unit variances and angle THETA for f(x) = c(sign x) x^degree.

    ``pos_f``/``neg_f`` are the coefficients of f on x > 0 / x < 0 (likewise g).
    """
    return polar_expectation(pos_f, neg_f, degree, pos_g, neg_g, degree)


@memoize(disk=True)
def polar_expectation(pos_f, neg_f, degree_f: int, pos_g, neg_g, degree_g: int) -> KernelDerivation:
    """E[f(u) g(v)] at unit variances and angle THETA for f(x) = c_f(sign x) x^degree_f and
    g(x) = c_g(sign x) x^degree_g, homogeneous of possibly different degrees.

    ``pos_f``/``neg_f`` are the coefficients c_f(+1)/c_f(-1) (likewise g); degree 0 with
    both coefficients 1 is the constant 1.  Radial factor int r^(d_f+d_g+1) e^{-r^2/2} dr / 2pi,
    angular factor int f(cos t) g(cos(t - theta)) dt over the circle.  With variances q_a, q_b
    the expectation is q_a^(d_f/2) q_b^(d_g/2) times ``unit_kernel``.  (Used for the fourth
    moments E[phi(u)^2 phi(v)^2], E[phi(u)^3 phi(v)], E[phi(u)^4] of the finite-width theory.)
    """
    pos_f, neg_f, pos_g, neg_g = (sp.sympify(c) for c in (pos_f, neg_f, pos_g, neg_g))
    total = degree_f + degree_g
    radial = sp.integrate(_R ** (total + 1) * sp.exp(-_R**2 / 2), (_R, 0, sp.oo)) / (2 * sp.pi)
    # For theta in [0, pi] these break points are in increasing order; on each arc the
    # signs of cos t and cos(t - theta) are constant.
    cuts = [-sp.pi / 2, THETA - sp.pi / 2, sp.pi / 2, THETA + sp.pi / 2, 3 * sp.pi / 2]
    angular = sp.Integer(0)
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        mid = (lo + hi) / 2
        # sign of cos at the midpoint of the arc, evaluated for a generic theta in (0, pi)
        probe = {THETA: sp.Rational(1, 3)}
        s1 = sp.sign(sp.cos(mid).subs(probe).evalf())
        s2 = sp.sign(sp.cos(mid - THETA).subs(probe).evalf())
        cf = pos_f if s1 > 0 else neg_f
        cg = pos_g if s2 > 0 else neg_g
        if cf == 0 or cg == 0:
            continue
        integrand = cf * cg * sp.cos(_T) ** degree_f * sp.cos(_T - THETA) ** degree_g
        angular += sp.integrate(integrand, (_T, lo, hi))
    angular = sp.simplify(angular)
    unit = sp.simplify(radial * angular)
    degree = degree_f if degree_f == degree_g else (degree_f, degree_g)
    return KernelDerivation(radial=radial, angular=angular, unit_kernel=unit, degree=degree)


@dataclass(frozen=True)
class Activation:
    """Base class: an elementwise nonlinearity phi with a Gaussian kernel.

    Subclasses implement :meth:`phi` (a SymPy expression in a real symbol),
    :meth:`kernel` and :meth:`derivative_kernel` on (q_a, q_b, q_ab).
    """

    name: str

    def phi(self, x: sp.Symbol) -> sp.Expr:  # pragma: no cover - interface
        raise NotImplementedError

    def kernel(self, qa, qb, qab) -> sp.Expr:  # pragma: no cover - interface
        raise NotImplementedError

    def derivative_kernel(self, qa, qb, qab) -> sp.Expr:  # pragma: no cover - interface
        raise NotImplementedError

    @property
    def is_odd(self) -> bool:
        """phi(-x) = -phi(x): then phi of a symmetric variable has zero mean."""
        return sp.simplify(self.phi(_X) + self.phi(-_X)) == 0

    # ---- numeric rules (numpy), used by the samplers and the dense network
    #: positively homogeneous of degree 1: phi(c x) = c phi(x) for c > 0
    homogeneous = False

    def numpy_phi(self):
        """phi elementwise for numpy arrays (generic: the SymPy expression, lambdified)."""
        return _numpy_functions(self)[0]

    def numpy_dphi(self):
        """phi' elementwise for numpy arrays (generic: SymPy's derivative of phi, lambdified)."""
        return _numpy_functions(self)[1]

    def numpy_vjp(self):
        """(z, g) -> g * phi'(z)[:, None]: a cotangent g (S, R, N, T) pulled back through phi at its
        input z (S, N, T) (generic: :meth:`numpy_dphi`, made once per activation)."""
        def make():
            dphi = self.numpy_dphi()
            return lambda z, g: g * dphi(z)[:, None]
        return numpy_rule(self, "vjp", make)

    def finite_width_moments(self):
        """The Gaussian moments to fourth order the finite-width theory needs (F, J, H, C;
        :mod:`anglefish.theory.finite_width_moments`): generic activations by quadrature, where phi
        is a SymPy expression."""
        from .finite_width_moments import quadrature_moments

        return quadrature_moments(self)

    def log_second_moment(self, log_m: float) -> float:
        """log E phi(u)^2 for u ~ N(0, exp(log_m)): the population moment after the activation (nan if
        the activation has no Gaussian kernel, so that a later population BN refuses)."""
        if not math.isfinite(log_m):
            return math.nan
        try:
            return _log_diagonal_kernel(self)(log_m)
        except (NotImplementedError, TypeError, ValueError):
            return math.nan


@dataclass(frozen=True)
class PiecewiseLinear(Activation):
    """phi(x) = slope_pos * x for x > 0 and slope_neg * x for x < 0 (ReLU, leaky ReLU, linear)."""

    slope_pos: sp.Expr = sp.Integer(1)
    slope_neg: sp.Expr = sp.Integer(0)

    def __post_init__(self):
        object.__setattr__(self, "slope_pos", sp.sympify(self.slope_pos))
        object.__setattr__(self, "slope_neg", sp.sympify(self.slope_neg))

    def phi(self, x):
        return sp.Piecewise((self.slope_pos * x, x > 0), (self.slope_neg * x, True))

    def derivation(self) -> KernelDerivation:
        return _piecewise_derivation(self.slope_pos, self.slope_neg, 1)

    def derivative_derivation(self) -> KernelDerivation:
        return _piecewise_derivation(self.slope_pos, self.slope_neg, 0)

    @property
    def is_odd(self) -> bool:
        return sp.simplify(self.slope_pos - self.slope_neg) == 0

    @property
    def homogeneity(self) -> int:
        return 1

    homogeneous = True

    def finite_width_moments(self):
        """Closed forms from the polar integrals (:class:`~.finite_width_moments.HomogeneousMoments`)."""
        from .finite_width_moments import homogeneous_moments

        return homogeneous_moments(self)

    def numpy_phi(self):
        return numpy_rule(self, "phi", self._make_phi)

    def numpy_dphi(self):
        return numpy_rule(self, "dphi", self._make_dphi)

    def numpy_vjp(self):
        return numpy_rule(self, "vjp", self._make_vjp)

    def _make_phi(self):
        a_pos, a_neg = float(self.slope_pos), float(self.slope_neg)
        if a_neg == 0.0:
            def phi(x):
                out = np.maximum(x, 0)
                return out * out.dtype.type(a_pos) if a_pos != 1.0 else out
        elif a_pos == a_neg:  # np.where(x > 0, a x, a x) is a x element for element (nan, -0 included)
            def phi(x):
                return x * x.dtype.type(a_pos) if a_pos != 1.0 else x.copy()
        else:
            def phi(x):
                return np.where(x > 0, x * x.dtype.type(a_pos), x * x.dtype.type(a_neg))
        return phi

    def _make_dphi(self):
        a_pos, a_neg = float(self.slope_pos), float(self.slope_neg)
        if a_neg == 0.0:
            def dphi(z):  # at z == 0 exactly (probability 0) the slope on the negative side
                # the mask cast to z's dtype: the same numbers as np.where(z > 0, a_pos, 0), ~10x faster
                out = (z > 0).astype(z.dtype)
                return out * z.dtype.type(a_pos) if a_pos != 1.0 else out
        else:
            def dphi(z):
                t = z.dtype.type
                return np.where(z > 0, t(a_pos), t(a_neg))
        return dphi

    def _make_vjp(self):
        a_pos, a_neg = float(self.slope_pos), float(self.slope_neg)
        dphi = self.numpy_dphi()
        if a_pos == a_neg:  # g times the constant slope (g x 1 is g: a copy)
            def vjp(z, g):
                if a_pos == 1.0 and g.dtype == z.dtype:
                    return g.copy()
                return g * z.dtype.type(a_pos)
        else:
            def vjp(z, g):
                return g * dphi(z)[:, None]
        return vjp

    def kernel(self, qa, qb, qab):
        unit = self.derivation().unit_kernel
        return sp.sqrt(qa) * sp.sqrt(qb) * unit.subs(THETA, angle_of(qab / (sp.sqrt(qa) * sp.sqrt(qb))))

    def derivative_kernel(self, qa, qb, qab):
        unit = self.derivative_derivation().unit_kernel
        return unit.subs(THETA, angle_of(qab / (sp.sqrt(qa) * sp.sqrt(qb))))


@lru_cache(maxsize=None)
def _piecewise_derivation(pos, neg, degree) -> KernelDerivation:
    return _polar_expectation(pos, neg, pos, neg, degree)


# ---------------------------------------------------------------- registry
_ACTIVATIONS: dict[str, Activation] = {}


def register_activation(activation: Activation, *, replace: bool = False) -> Activation:
    """Make ``activation`` available by name (``anglefish list`` shows it)."""
    if not isinstance(activation, Activation):
        raise AnglefishError(f"register_activation needs an Activation, got {type(activation).__name__}")
    if activation.name in _ACTIVATIONS and not replace:
        raise AnglefishError(f"activation '{activation.name}' is already registered (pass replace=True)")
    _ACTIVATIONS[activation.name] = activation
    clear_caches()
    return activation


def get_activation(name: str) -> Activation:
    try:
        return _ACTIVATIONS[name]
    except KeyError:
        known = ", ".join(sorted(_ACTIVATIONS))
        raise AnglefishError(f"unknown activation '{name}'; registered: {known}") from None


def activations() -> dict[str, Activation]:
    return dict(_ACTIVATIONS)


RELU = register_activation(PiecewiseLinear("relu", 1, 0))
LINEAR = register_activation(PiecewiseLinear("linear", 1, 1))


def leaky_relu(alpha) -> PiecewiseLinear:
    """Leaky ReLU with negative slope ``alpha`` (not registered; register it if you name it)."""
    return PiecewiseLinear(f"leaky_relu({alpha})", 1, alpha)


# ---------------------------------------------------------------- smooth activations
@dataclass(frozen=True)
class Erf(Activation):
    """phi(x) = erf(x).  Its kernels have closed forms (Williams 1997, via Price's theorem):

    E[erf(u) erf(v)]   = (2/pi) asin(2 q_ab / sqrt((1 + 2 q_a)(1 + 2 q_b)))
    E[erf'(u) erf'(v)] = (4/pi) / sqrt((1 + 2 q_a)(1 + 2 q_b) - 4 q_ab^2)

    They are taken from the literature and checked against quadrature in the tests.
    """

    def phi(self, x):
        return sp.erf(x)

    def kernel(self, qa, qb, qab):
        return 2 / sp.pi * sp.asin(2 * qab / sp.sqrt((1 + 2 * qa) * (1 + 2 * qb)))

    def derivative_kernel(self, qa, qb, qab):
        return 4 / sp.pi / sp.sqrt((1 + 2 * qa) * (1 + 2 * qb) - 4 * qab**2)

    @property
    def is_odd(self) -> bool:
        return True

    def numpy_phi(self):
        from scipy.special import erf

        return erf

    def numpy_dphi(self):
        c = 2 / math.sqrt(math.pi)
        return lambda z: (c * np.exp(-z * z)).astype(z.dtype, copy=False)


#: Gauss-Hermite nodes per dimension for kernels without a closed form
QUADRATURE_NODES = 200


def _gauss_hermite(n):
    import numpy as np

    x, w = np.polynomial.hermite_e.hermegauss(n)
    return x, w / math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class QuadratureActivation(Activation):
    """An activation whose Gaussian kernels are evaluated by 2-d Gauss-Hermite quadrature.

    ``expr`` is phi as a SymPy expression in the symbol ``x`` (its derivative is taken by
    SymPy), or ``function``/``derivative`` are Python callables on numpy arrays.  The kernels
    enter the symbolic maps as opaque SymPy functions ``K_<name>(q_a, q_b, q_ab)`` that
    lambdify and evalf to the quadrature.  Accuracy (tests): relative error <= 1e-8 against
    mpmath for second moments up to 5 for tanh and GELU with the default 200 x 200 nodes.
    """

    expr: sp.Expr | None = None
    function: object = None
    derivative: object = None
    nodes: int = QUADRATURE_NODES

    def __post_init__(self):
        if self.expr is None and self.function is None:
            raise AnglefishError(f"activation '{self.name}' needs a SymPy expression or a function")

    def phi(self, x):
        if self.expr is not None:
            return self.expr.subs(_X, x)
        return sp.Function(f"phi_{self.name}")(x)

    def numpy_phi(self):
        return self.numeric()[0]

    def numpy_dphi(self):
        def make():
            d = self.numeric()[1]
            return lambda z: np.asarray(d(z), dtype=z.dtype)
        return numpy_rule(self, "dphi", make)

    def numeric(self):
        """(phi, phi') as numpy callables (lambdified once per activation)."""
        return numpy_rule(self, "numeric", self._make_numeric)

    def _make_numeric(self):
        if self.expr is not None:
            f = sp.lambdify(_X, self.expr, ["scipy", "numpy"])
            d = sp.lambdify(_X, sp.diff(self.expr, _X), ["scipy", "numpy"])
            return f, d
        f = self.function
        d = self.derivative or (lambda x, h=1e-6: (f(x + h) - f(x - h)) / (2 * h))
        return f, d

    @property
    def is_odd(self) -> bool:
        if self.expr is not None:
            return sp.simplify(self.expr + self.expr.subs(_X, -_X)) == 0
        import numpy as np

        probe = np.linspace(0.1, 3, 7)
        f = self.function
        return bool(np.allclose(f(probe), -f(-probe)))

    def _expectation(self, which):
        """Numeric E[g(u) g(v)] for g = phi (which=0) or phi' (which=1) by Gauss-Hermite."""
        import numpy as np

        g = self.numeric()[which]
        z, w = _gauss_hermite(self.nodes)
        ww = np.outer(w, w)

        def value(qa, qb, qab):
            qa, qb, qab = float(qa), float(qb), float(qab)
            if qa <= 0 or qb <= 0:
                return float(g(np.zeros(1))[0] ** 2)
            c = max(-1.0, min(1.0, qab / math.sqrt(qa * qb)))
            s = math.sqrt(max(0.0, 1 - c * c))
            u = math.sqrt(qa) * z[:, None]
            v = math.sqrt(qb) * (c * z[:, None] + s * z[None, :])
            return float(np.sum(ww * g(u) * g(v)))
        return value

    def kernel(self, qa, qb, qab):
        return _implemented(f"K_{self.name}", self._expectation(0))(qa, qb, qab)

    def derivative_kernel(self, qa, qb, qab):
        return _implemented(f"Kdot_{self.name}", self._expectation(1))(qa, qb, qab)


_IMPLEMENTED: dict = {}


def _implemented(name, fn):
    from sympy.utilities.lambdify import implemented_function

    if name not in _IMPLEMENTED:
        _IMPLEMENTED[name] = implemented_function(sp.Function(name), fn)
    return _IMPLEMENTED[name]


def make_activation(name: str, phi, derivative=None) -> Activation:
    """An activation from a SymPy expression in x (or a string SymPy parses) or a Python function.

    Piecewise-linear positively homogeneous expressions (e.g. Max(x, 0), Piecewise) get the
    exact polar-integral derivation; erf gets its closed form; anything else is evaluated
    by Gauss-Hermite quadrature (see :class:`QuadratureActivation`).
    """
    if callable(phi) and not isinstance(phi, sp.Basic):
        return QuadratureActivation(name, function=phi, derivative=derivative)
    try:
        expr = sp.sympify(phi, locals={"x": _X})
    except (sp.SympifyError, TypeError):
        raise AnglefishError(f"activation '{name}': cannot read {phi!r} as a SymPy expression in x") from None
    expr = expr.subs(sp.Symbol("x"), _X)
    if expr.free_symbols - {_X}:
        raise AnglefishError(f"activation '{name}': phi may only depend on x, got {expr}")
    if expr == sp.erf(_X):
        return Erf(name)
    slopes = _piecewise_linear_slopes(expr)
    if slopes is not None:
        return PiecewiseLinear(name, *slopes)
    return QuadratureActivation(name, expr=expr)


def _piecewise_linear_slopes(expr):
    """(a+, a-) if expr equals a+ x for x > 0 and a- x for x < 0, else None."""
    pos = sp.Symbol("p", positive=True)
    try:
        a_pos = sp.simplify(expr.subs(_X, pos) / pos)
        a_neg = sp.simplify(expr.subs(_X, -pos) / (-pos))
    except (TypeError, ValueError):
        return None
    if a_pos.free_symbols or a_neg.free_symbols:
        return None
    return a_pos, a_neg


@memoize(maxsize=1024)
def _numpy_rules(activation: Activation) -> dict:
    """{rule name: numpy function} of ``activation``, filled by :func:`numpy_rule` (one table per
    activation object, emptied with every other derivation cache on registration)."""
    return {}


def numpy_rule(activation: Activation, name: str, make):
    """The numpy function ``name`` of ``activation``, made by ``make()`` on first use and kept (the
    float conversions of SymPy slopes and lambdification then happen once, not on every pass)."""
    rules = _numpy_rules(activation)
    fn = rules.get(name)
    if fn is None:
        fn = rules[name] = make()
    return fn


def _numpy_functions(activation: Activation):
    """(phi, phi') of the generic path: SymPy expression and derivative, lambdified (scipy for erf)."""
    return _numpy_cache(activation)


@memoize
def _numpy_cache(activation: Activation):
    phi = activation.phi(_X)
    f = sp.lambdify(_X, phi, ["scipy", "numpy"])
    d = sp.lambdify(_X, sp.diff(phi, _X), ["scipy", "numpy"])

    def dphi(z):
        return np.broadcast_to(np.asarray(d(z), dtype=z.dtype), z.shape)
    return f, dphi


@memoize
def _log_diagonal_kernel(activation: Activation):
    """log E phi(u)^2 as a function of log Var u (for the population moment)."""
    if isinstance(activation, PiecewiseLinear):  # E phi(u)^2 = m x (the unit kernel at theta = 0)
        log_k1 = math.log(float(activation.derivation().unit_kernel.subs(THETA, 0)))
        return lambda log_m: log_m + log_k1
    m = sp.Symbol("m", positive=True)
    k = sp.simplify(activation.kernel(m, m, m))
    f = sp.lambdify(m, k, "math")
    return lambda log_m: math.log(f(math.exp(log_m)))


ERF = register_activation(Erf("erf"))
TANH = register_activation(QuadratureActivation("tanh", expr=sp.tanh(_X)))
GELU = register_activation(QuadratureActivation("gelu", expr=_X * (1 + sp.erf(_X / sp.sqrt(2))) / 2))
LEAKY_RELU = register_activation(PiecewiseLinear("leaky_relu", 1, sp.Rational(1, 100)))
