"""Gaussian moments of activations to fourth order, for the finite-width theory
(:mod:`anglefish.theory.finite_width`): F, its Jacobian J and Hessian H, and C (N times the
conditional covariance of the empirical second moments) for a centred Gaussian pair.  Closed forms
for positively homogeneous piecewise-linear activations (polar integrals); a 2-d trapezoid rule with
Price's theorem for smooth ones.  Each activation type names its moments in its own rule
``Activation.finite_width_moments()``."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy as sp

from ..errors import AnglefishError
from .activations import (
    THETA,
    Activation,
    PiecewiseLinear,
    QuadratureActivation,
    polar_expectation,
)
from .cache import memoize

_S = sp.symbols("s_aa s_bb s_ab", positive=True)  # placeholders for a covariance (derivatives)

class GaussianMoments:
    """F, its Jacobian J and Hessian H, and C (N x the conditional covariance) of an
    activation for a centred Gaussian pair with covariance S = (S_aa, S_bb, S_ab)."""

    def population(self, m):  # E phi(u)^2 for Var u = m
        return self.F((m, m, m))[0]

    def F(self, S) -> sp.Matrix:  # pragma: no cover - interface
        raise NotImplementedError

    def derivatives(self, S):  # pragma: no cover - interface
        """(F, J, H): H[i] is the 3 x 3 Hessian of F_i."""
        raise NotImplementedError

    def C(self, S) -> sp.Matrix:  # pragma: no cover - interface
        raise NotImplementedError


def _angle(S):
    return sp.acos(S[2] / sp.sqrt(S[0] * S[1]))


@lru_cache(maxsize=None)
def piecewise_moment(activation: PiecewiseLinear, p: int, r: int) -> sp.Expr:
    """E[phi(u)^p phi(v)^r] at unit variances, a function of THETA (polar integrals)."""
    a, b = activation.slope_pos, activation.slope_neg
    if r == 0:
        return polar_expectation(a**p, b**p, p, 1, 1, 0).unit_kernel
    return polar_expectation(a**p, b**p, p, a**r, b**r, r).unit_kernel


@lru_cache(maxsize=None)
def _unit_kernel_derivatives(activation: PiecewiseLinear):
    """u(theta), du/dc, d^2u/dc^2 of the unit kernel, c = cos theta (expressions in THETA)."""
    u0 = activation.derivation().unit_kernel
    u1 = sp.simplify(sp.diff(u0, THETA) / (-sp.sin(THETA)))
    u2 = sp.simplify(sp.diff(u1, THETA) / (-sp.sin(THETA)))
    return u0, u1, u2


class HomogeneousMoments(GaussianMoments):
    """Closed forms for a positively homogeneous piecewise-linear phi (degree 1).

    F_ab = sqrt(S_aa S_bb) u(c), c = S_ab / sqrt(S_aa S_bb), u the derived unit kernel; its
    derivatives by the chain rule with du/dc and d^2u/dc^2 (for ReLU (pi - theta)/2pi and
    1/(2 pi sin theta)).  The fourth moments are q-powers times the polar integrals
    E[phi(u)^2 phi(v)^2], E[phi(u)^3 phi(v)], E[phi(u)^4] at unit variances.
    """

    def __init__(self, activation: PiecewiseLinear):
        self.activation = activation
        self.u = _unit_kernel_derivatives(activation)
        self.j0 = self.u[0].subs(THETA, 0)

    def F(self, S):
        return sp.Matrix([self.j0 * S[0], self.j0 * S[1],
                          sp.sqrt(S[0] * S[1]) * self.u[0].subs(THETA, _angle(S))])

    def derivatives(self, S):
        p = sp.Matrix(_S)
        s = sp.sqrt(p[0] * p[1])
        c = p[2] / s
        u0, u1, u2 = (sp.Symbol(f"_u{k}") for k in range(3))
        grad = [sp.diff(s, x) * u0 + s * u1 * sp.diff(c, x) for x in p]
        hess = sp.zeros(3, 3)
        for j, xj in enumerate(p):
            for k, xk in enumerate(p):
                hess[j, k] = (sp.diff(s, xj, xk) * u0 + (sp.diff(s, xj) * sp.diff(c, xk)
                              + sp.diff(s, xk) * sp.diff(c, xj)) * u1
                              + s * u2 * sp.diff(c, xj) * sp.diff(c, xk) + s * u1 * sp.diff(c, xj, xk))
        theta = _angle(S)
        sub = {u0: self.u[0].subs(THETA, theta), u1: self.u[1].subs(THETA, theta),
               u2: self.u[2].subs(THETA, theta)}
        sub.update(dict(zip(p, S)))
        J = sp.Matrix([[self.j0, 0, 0], [0, self.j0, 0], [g.subs(sub, simultaneous=True) for g in grad]])
        H = [sp.zeros(3, 3), sp.zeros(3, 3), hess.subs(sub, simultaneous=True)]
        return self.F(S), J, H

    def C(self, S):
        theta = _angle(S)
        e22 = piecewise_moment(self.activation, 2, 2)
        e31 = piecewise_moment(self.activation, 3, 1)
        e40 = piecewise_moment(self.activation, 4, 0)
        sa, sb = sp.sqrt(S[0]), sp.sqrt(S[1])
        f = self.F(S)
        m22 = S[0] * S[1] * e22.subs(THETA, theta)
        m31 = sa**3 * sb * e31.subs(THETA, theta)
        m13 = sa * sb**3 * e31.subs(THETA, theta)  # exchange symmetry of (u, v) at unit variances
        m4a, m4b = S[0] ** 2 * e40, S[1] ** 2 * e40
        return sp.Matrix([[m4a - f[0] ** 2, m22 - f[0] * f[1], m31 - f[0] * f[2]],
                          [m22 - f[0] * f[1], m4b - f[1] ** 2, m13 - f[1] * f[2]],
                          [m31 - f[0] * f[2], m13 - f[1] * f[2], m22 - f[2] ** 2]])


#: grid spacing, in units of the activation's argument, of the finite-width moments of smooth activations
FW_GRID_SPACING = 0.2
#: largest grid (points per dimension); beyond it the moments are reported as not resolved
FW_GRID_MAX = 1601
#: largest relative change of an entry between the grid and its every-other-point subgrid
FW_GRID_TOLERANCE = 1e-7


class QuadratureMoments(GaussianMoments):
    """Smooth activations: every entry of F, J, H and C by a 2-d trapezoid rule in standard
    normal coordinates, derivatives by Price's theorem (derivatives of phi and phi^2 by SymPy).

    The fourth derivatives of phi that the curvature H needs vary on the activation's own
    scale (~1 in its argument), so the grid spacing is FW_GRID_SPACING in the argument, i.e.
    FW_GRID_SPACING / sqrt(max S) in standard normal coordinates on [-8, 8]^2 (a Gauss-Hermite
    rule of fixed size misses them once S grows: with 120 nodes the erf curvature is off by a
    factor 4 at S = 8).  The trapezoid rule is spectrally accurate for these smooth, Gaussian-
    decaying integrands; its error is estimated by the every-other-point subgrid, and entries
    whose estimate exceeds FW_GRID_TOLERANCE (relative to the largest entry of their kind) or
    that need more than FW_GRID_MAX points per dimension are NaN, which the predictions report
    as not resolved.  The entries enter the symbolic maps as opaque functions
    FW_<name>_<entry>(S_aa, S_bb, S_ab) that lambdify to the quadrature; one pass per distinct S
    is cached.
    """

    def __init__(self, activation: Activation):
        x = sp.Symbol("x", real=True)
        phi = activation.phi(x)
        if any(isinstance(f, sp.core.function.AppliedUndef) for f in phi.atoms(sp.Function)):
            raise AnglefishError(
                f"activation '{activation.name}': the finite-width theory needs phi as a SymPy "
                "expression (its derivatives enter through Price's theorem)")
        self.activation = activation
        self.name = activation.name
        d_phi = [sp.lambdify(x, sp.diff(phi, x, k), ["scipy", "numpy"]) for k in range(5)]
        d_phi2 = [sp.lambdify(x, sp.diff(phi**2, x, k), ["scipy", "numpy"]) for k in range(5)]
        self._d = (d_phi, d_phi2)
        self._numeric = lru_cache(maxsize=4096)(self._all)
        self._functions = {}

    def _all(self, saa, sbb, sab):
        n = int(math.ceil(16 * math.sqrt(max(saa, sbb, 1e-12)) / FW_GRID_SPACING)) | 1
        fine, coarse = self._grid_moments(saa, sbb, sab, min(max(n, 201), FW_GRID_MAX))
        out = [fine[0]]  # F: phi and phi^2 only, resolved on every grid used here
        for a, b in zip(fine[1:], coarse[1:]):
            scale = max(float(np.max(np.abs(a))), 1e-300)
            bad = (np.abs(a - b) > FW_GRID_TOLERANCE * scale) | (n > FW_GRID_MAX)
            out.append(np.where(bad, np.nan, a))
        return tuple(out)

    def _grid_moments(self, saa, sbb, sab, n):
        """(F, J, H, C) on the n x n trapezoid grid and on its every-other-point subgrid."""
        z = np.linspace(-8.0, 8.0, n)
        w = np.exp(-z**2 / 2) / math.sqrt(2 * math.pi) * (z[1] - z[0])
        c = max(-1.0, min(1.0, sab / math.sqrt(saa * sbb)))
        s = math.sqrt(max(0.0, 1.0 - c * c))
        u = math.sqrt(saa) * z
        v = math.sqrt(sbb) * (c * z[:, None] + s * z[None, :])
        results = []
        for step in (1, 2):
            ww = np.outer(w[::step], w[::step]) * step * step
            uu, vv = u[::step, None], v[::step, ::step]
            results.append(self._moments_from(lambda f, g: float(np.sum(ww * _call(f, uu) * _call(g, vv)))))
        return results

    def _moments_from(self, e):
        d_phi, d_phi2 = self._d
        one = _ONE
        F = np.array([e(d_phi2[0], one), e(one, d_phi2[0]), e(d_phi[0], d_phi[0])])
        J = np.zeros((3, 3))
        J[0, 0] = 0.5 * e(d_phi2[2], one)
        J[1, 1] = 0.5 * e(one, d_phi2[2])
        J[2] = [0.5 * e(d_phi[2], d_phi[0]), 0.5 * e(d_phi[0], d_phi[2]), e(d_phi[1], d_phi[1])]
        H = np.zeros((3, 3, 3))
        H[0, 0, 0] = 0.25 * e(d_phi2[4], one)
        H[1, 1, 1] = 0.25 * e(one, d_phi2[4])
        # Price: d^(i+j+k) / dS_aa^i dS_bb^j dS_ab^k E[phi(u) phi(v)] = 2^-(i+j) E[phi^(2i+k) phi^(2j+k)]
        order = {0: (1, 0, 0), 1: (0, 1, 0), 2: (0, 0, 1)}
        for j in range(3):
            for k in range(j, 3):
                i_, j_, k_ = (a + b for a, b in zip(order[j], order[k]))
                val = 2.0 ** -(i_ + j_) * e(d_phi[2 * i_ + k_], d_phi[2 * j_ + k_])
                H[2, j, k] = H[2, k, j] = val
        p2 = lambda x: d_phi[0](x) ** 2  # noqa: E731
        p3 = lambda x: d_phi[0](x) ** 3  # noqa: E731
        p4 = lambda x: d_phi[0](x) ** 4  # noqa: E731
        m22, m31, m13 = e(p2, p2), e(p3, d_phi[0]), e(d_phi[0], p3)
        m4a, m4b = e(p4, one), e(one, p4)
        C = np.array([[m4a - F[0] ** 2, m22 - F[0] * F[1], m31 - F[0] * F[2]],
                      [m22 - F[0] * F[1], m4b - F[1] ** 2, m13 - F[1] * F[2]],
                      [m31 - F[0] * F[2], m13 - F[1] * F[2], m22 - F[2] ** 2]])
        return F, J, H, C

    def _entry(self, key, index):
        """The opaque SymPy function of one entry; F's derivatives are J's entries and J's are
        H's (so that SymPy's chain rule works through them, e.g. for a residual's Jacobian)."""
        name = f"FW_{self.name}_{key}_{'_'.join(map(str, index))}"
        if name not in self._functions:
            numeric = self._numeric
            which = {"F": 0, "J": 1, "H": 2, "C": 3}[key]
            derivative = {"F": "J", "J": "H"}.get(key)
            entry = self._entry

            def imp(a, b, c, which=which, index=index):
                return float(numeric(float(a), float(b), float(c))[which][index])

            def fdiff(self, argindex=1, derivative=derivative, index=index):
                if derivative is None:
                    raise sp.ArgumentIndexError(self, argindex)
                return entry(derivative, index + (argindex - 1,))(*self.args)

            self._functions[name] = type(name, (sp.Function,), {"_imp_": staticmethod(imp), "fdiff": fdiff,
                                                                 "nargs": 3})
        return self._functions[name]

    def F(self, S):
        return sp.Matrix([self._entry("F", (i,))(*S) for i in range(3)])

    def derivatives(self, S):
        J = sp.Matrix(3, 3, lambda i, j: self._entry("J", (i, j))(*S))
        H = [sp.Matrix(3, 3, lambda j, k: self._entry("H", (i, j, k))(*S)) for i in range(3)]
        return self.F(S), J, H

    def C(self, S):
        return sp.Matrix(3, 3, lambda i, j: self._entry("C", (i, j))(*S))


def _ONE(x):
    return np.ones_like(x)


def _call(f, x):
    out = f(x)
    return np.broadcast_to(out, x.shape) if np.ndim(out) < 2 else out


def gaussian_moments(activation: Activation) -> GaussianMoments:
    """The finite-width moments (F, J, H, C) of an activation: its own rule
    ``Activation.finite_width_moments()``."""
    return activation.finite_width_moments()


@memoize
def homogeneous_moments(activation):
    return HomogeneousMoments(activation)


@memoize
def quadrature_moments(activation):
    if isinstance(activation, QuadratureActivation) and activation.expr is None:
        raise AnglefishError(
            f"activation '{activation.name}': the finite-width theory needs phi as a SymPy "
            "expression (its derivatives enter through Price's theorem), not a Python function")
    return QuadratureMoments(activation)


