"""Large-depth laws of the angle, derived from the exact one-block map.

Method (all SymPy, nothing typed in):

1. Series of the angle map at theta -> 0:  theta_{l+1} = s theta_l - c_k(l) theta_l^k + ...
   obtained from D = 1 - C(theta; l) = theta^2 E(theta; l) as theta' = 2 asin(theta sqrt(E/2)).
2. Slope s = lim theta'/theta.  0 < s < 1: geometric decay theta_l ~ K(theta0) s^l.
3. s = 1: the first nonzero correction c_k(l) gives, for y = theta^(1-k),
   the difference equation y_{l+1} = y_l + (k-1) c_k(l) + o(1), solved exactly by a
   partial-fraction sum (polygamma / harmonic numbers):
   y_l = theta0^(1-k) + (k-1) sum_{j<l} c_k(j).  Then theta_l = y_l^(-1/(k-1)).
   Its growth in l decides the class: a power of l (power law) or log l (logarithmic).

The law ``theta_l`` keeps theta0 through y_0 = theta0^(1-k): law / iterate -> 1 as
l -> infinity because the neglected terms of the difference equation sum to o(y_l).
``leading`` drops everything but the dominant term; for logarithmic laws
``corrected`` keeps the next (constant) term of the expansion of y_l.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from ..errors import AnglefishError
from .activations import THETA
from .architectures import Architecture, get_architecture
from .blocks import BLOCK_INDEX, DEPTH
from .cache import disk_cached, memoize, register_clearer
from .recursion import M, derive_maps

#: starting angle of an iteration
THETA0 = sp.Symbol("theta0", positive=True)
#: continuous, positive stand-in for the depth when taking limits l -> oo
_LC = sp.Symbol("l", positive=True)
_J = sp.Symbol("j", integer=True, nonnegative=True)

#: starting angles at which the laws are checked against the iterated exact map
CHECK_THETA0 = (0.1, 0.5, 1.5, 3.0)
#: depths at which the remaining error is reported
CHECK_DEPTHS = (10, 10**2, 10**3, 10**4, 10**5, 10**6)

#: the constant of a geometric law, lim theta_l / s^l; depends on the whole trajectory
KOENIGS = sp.Function("K")


@dataclass(frozen=True)
class DepthLaw:
    """The large-depth law of theta_l for one architecture.

    law_class: 'exponential', 'super-exponential', 'power', 'logarithmic',
        'not decaying' or 'unclassified'.
    theta_l: law in ``l`` and ``theta0`` (exact in the limit: law / iterate -> 1).
    leading: the dominant term alone.
    corrected: leading term plus the next correction (logarithmic laws), else None.
    exponent: theta_l ~ l^exponent for power laws, else None.
    rate: s for geometric laws, else None.
    angle_series: theta_{l+1} as a series in theta_l (SymPy, O-term removed).
    difference_equation: the solved equation, in words and symbols.
    """

    architecture: str
    slope_at_zero: sp.Expr
    angle_series: sp.Expr
    law_class: str
    theta_l: sp.Expr | None
    leading: sp.Expr | None
    corrected: sp.Expr | None = None
    exponent: sp.Expr | None = None
    rate: sp.Expr | None = None
    difference_equation: str = ""
    note: str = ""
    fixed_point: float | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        s = lambda e: None if e is None else sp.sstr(e)
        series = (sp.sstr(self.angle_series, order="rev-lex") + " + O(theta**4)"
                  if self.angle_series != 0 else None)
        extra = {k: v for k, v in self.extra.items() if not callable(v)}
        return {"theta_l": s(self.theta_l), "class": self.law_class, "leading": s(self.leading),
                "corrected": s(self.corrected), "exponent": s(self.exponent), "rate": s(self.rate),
                "series": series, "fixed_point": self.fixed_point,
                "difference_equation": self.difference_equation, "note": self.note, **extra}


def sum_over_blocks(c: sp.Expr, l: sp.Symbol = BLOCK_INDEX) -> sp.Expr:
    """sum_{j=0}^{l-1} c(j) for c rational in the block index, in closed form.

    Partial fractions in j; polynomial parts by ``summation``; each a / (j + b)^p by
    sum_{j<l} (j+b)^(-p) = (-1)^p (polygamma(p-1, b) - polygamma(p-1, l+b)) / (p-1)!
    (harmonic numbers when p = 1 and b is a positive integer).
    """
    cj = sp.together(c.subs(BLOCK_INDEX, _J))
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.apart(cj, _J) if _J in cj.free_symbols else cj):
        const, rest = term.as_independent(_J, as_Add=False)
        if rest.is_polynomial(_J):
            total += const * sp.summation(rest, (_J, 0, l - 1))
            continue
        base, exp = rest.as_base_exp()
        poly = sp.Poly(base, _J) if base.is_polynomial(_J) else None
        if poly is None or poly.degree() != 1 or not (exp.is_integer and exp < 0):
            value = sp.summation(term, (_J, 0, l - 1))
            if value.has(sp.Sum):
                raise AnglefishError(f"cannot sum {term} over blocks in closed form")
            total += value
            continue
        a1, a0 = poly.all_coeffs()
        p = -exp
        const = const / a1**p
        b = sp.nsimplify(a0 / a1)
        if p == 1 and b.is_integer and b >= 1:
            total += const * (sp.harmonic(l + b - 1) - sp.harmonic(b - 1))
        else:
            total += const * (-1) ** p * (sp.polygamma(p - 1, b) - sp.polygamma(p - 1, l + b)) / sp.factorial(p - 1)
    return sp.simplify(total)


def angle_series(angle_cos: sp.Expr, order: int = 4) -> sp.Expr:
    """theta_{l+1} as a Taylor series in theta_l to O(theta^order), from cos theta_{l+1} = C.

    With D = 1 - C = theta^2 (e_0 + e_1 theta + ...), theta' = 2 asin(theta sqrt(E/2)); the
    series of that composition is taken once with symbolic e_k and then filled in, which
    is much faster than expanding the composition with l-dependent coefficients.
    """
    angle_cos = _replace_nested_angles(angle_cos, order + 2)
    out = _arccos_series(angle_cos, order)
    return sp.Add(*(sp.simplify(out.coeff(THETA, k)) * THETA**k for k in range(1, order)))


def _arccos_series(c: sp.Expr, order: int) -> sp.Expr:
    """arccos(c(theta)) to O(theta^order) for c(0) = 1, via 1 - c = theta^2 E and 2 asin(theta sqrt(E/2))."""
    raw = sp.expand(sp.series(sp.expand(1 - c), THETA, 0, order + 2).removeO())
    low = [sp.simplify(raw.coeff(THETA, k)) for k in (0, 1)]
    if any(v != 0 for v in low):
        raise AnglefishError("theta = 0 is not a smooth fixed point of the angle map")
    e = [sp.simplify(raw.coeff(THETA, k + 2)) for k in range(order - 1)]
    if e[0] == 0:
        raise AnglefishError("the angle map is flat at theta = 0 (1 - cos theta' = O(theta^3))")
    return sp.expand(_generic_angle_series(order - 1).subs(dict(zip(_E_SYMBOLS, e))))


def _replace_nested_angles(expr: sp.Expr, order: int) -> sp.Expr:
    """Replace every arccos(...) inside a map (nested activations) by its series, innermost
    first; SymPy's own series of such compositions takes minutes."""
    while expr.has(sp.acos):
        innermost = [a for a in expr.atoms(sp.acos) if not a.args[0].has(sp.acos)]
        expr = expr.xreplace({a: _arccos_series(a.args[0], order) for a in innermost})
    return expr


_E_SYMBOLS = sp.symbols("e0:8", positive=True)


@memoize(disk=True)
def _generic_angle_series(n: int) -> sp.Expr:
    E = sum(_E_SYMBOLS[k] * THETA**k for k in range(n))
    return sp.expand(sp.series(2 * sp.asin(THETA * sp.sqrt(E / 2)), THETA, 0, n + 1).removeO())


def _leading_growth(S: sp.Expr):
    """Classify the growth of S(l) as l -> oo: ('power', p, A) with S ~ A l^p,
    ('logarithmic', None, B) with S ~ B log l, or ('bounded', None, S(oo))."""
    Sc = sp.simplify(S.subs(BLOCK_INDEX, _LC).rewrite(sp.digamma))
    limit = sp.limit(Sc, _LC, sp.oo)
    if limit.is_finite:
        return "bounded", None, limit
    p = sp.limit(sp.log(Sc) / sp.log(_LC), _LC, sp.oo)
    if p.is_positive and p.is_finite:
        return "power", p, sp.limit(Sc / _LC**p, _LC, sp.oo)
    B = sp.limit(Sc / sp.log(_LC), _LC, sp.oo)
    if B.is_finite and B.is_positive:
        return "logarithmic", None, B
    return "unknown", None, None


def _constant_term(S: sp.Expr, B: sp.Expr) -> sp.Expr:
    """The constant K in S(l) = B log l + K + o(1)."""
    Sc = sp.simplify(S.subs(BLOCK_INDEX, _LC).rewrite(sp.digamma))
    return sp.simplify(sp.limit(Sc - B * sp.log(_LC), _LC, sp.oo))


def depth_law(arch: Architecture | str) -> DepthLaw:
    """Derive the large-depth law of theta_l for ``arch`` (see the module docstring)."""
    return _depth_law(get_architecture(arch))


@memoize(disk=True)
def _depth_law(arch: Architecture) -> DepthLaw:
    maps = derive_maps(arch)
    C = maps.angle_cos
    if M in C.free_symbols or maps.population is None:
        return fixed_point_law(arch)
    if DEPTH in C.free_symbols:
        return depth_limit_law(arch)
    series = angle_series(maps.angle_cos_raw if maps.angle_cos_raw is not None else C, order=4)
    coeff = {k: sp.simplify(series.coeff(THETA, k)) for k in range(1, 4)}
    s = coeff[1]
    l = BLOCK_INDEX
    common = dict(architecture=arch.name, slope_at_zero=s, angle_series=series)
    if l in s.free_symbols:
        return DepthLaw(**common, law_class="unclassified", theta_l=None, leading=None,
                        note="the slope at theta = 0 depends on the block index; not analysed yet")
    if s == 0:
        return DepthLaw(**common, law_class="super-exponential", theta_l=None, leading=None,
                        note="theta' = o(theta): faster than any geometric decay")
    if s.is_positive and (s < 1) == sp.true:
        law = KOENIGS(THETA0) * s**l
        return DepthLaw(**common, law_class="exponential", theta_l=law, leading=law, rate=s,
                        difference_equation=f"theta_(l+1) = {s} theta_l + O(theta_l^2)",
                        note="K(theta0) = lim theta_l / s^l depends on the whole trajectory")
    if s != 1:
        return DepthLaw(**common, law_class="not decaying", theta_l=None, leading=None,
                        note=f"slope {s} > 1 at theta = 0: small angles grow")
    k = next((k for k in (2, 3) if coeff[k] != 0), None)
    if k is None:
        return DepthLaw(**common, law_class="unclassified", theta_l=None, leading=None,
                        note="theta' = theta + O(theta^4): higher orders not analysed")
    c = sp.simplify(-coeff[k])
    if sp.limit(c.subs(l, _LC) * _LC, _LC, sp.oo) <= 0 if l in c.free_symbols else c <= 0:
        return DepthLaw(**common, law_class="not decaying", theta_l=None, leading=None,
                        note=f"theta' = theta + {sp.sstr(-c)} theta^{k}: theta = 0 does not attract")
    S = sum_over_blocks(c)
    y_l = THETA0 ** (1 - k) + (k - 1) * S
    law = sp.simplify(y_l ** sp.Rational(-1, k - 1))
    eq = (f"y_(l+1) = y_l + {sp.sstr((k - 1) * c)} for y = theta^{1 - k} "
          f"(from theta_(l+1) = theta_l - ({sp.sstr(c)}) theta_l^{k} + ...)")
    kind, p, A = _leading_growth(S)
    if kind == "power":
        leading = sp.simplify(((k - 1) * A * l**p) ** sp.Rational(-1, k - 1))
        return DepthLaw(**common, law_class="power", theta_l=law, leading=leading,
                        exponent=sp.simplify(-p / (k - 1)), difference_equation=eq)
    if kind == "logarithmic":
        leading = sp.simplify(((k - 1) * A * sp.log(l)) ** sp.Rational(-1, k - 1))
        K = _constant_term(S, A)
        corrected = ((k - 1) * (A * sp.log(l) + K) + THETA0 ** (1 - k)) ** sp.Rational(-1, k - 1)
        return DepthLaw(**common, law_class="logarithmic", theta_l=law, leading=leading,
                        corrected=corrected, difference_equation=eq,
                        note="convergence of leading/iterate to 1 is only logarithmic; "
                             "'corrected' adds the constant term of y_l")
    if kind == "bounded":
        return DepthLaw(**common, law_class="not decaying", theta_l=law, leading=None,
                        difference_equation=eq, note="the corrections sum to a finite value: "
                        "theta_l tends to a positive limit")
    return DepthLaw(**common, law_class="unclassified", theta_l=law, leading=None, difference_equation=eq)


#: the limit angle theta_inf(theta0) of a depth-scaled architecture (solution of an ODE)
LIMIT_ANGLE = sp.Function("theta_inf")


def depth_limit_law(arch) -> DepthLaw:
    """Law of theta_L for maps that depend on the total depth L (e.g. a residual branch
    scaled by 1/sqrt(L)).

    Expanding the one-block map in 1/L, cos theta' = cos theta + g(theta)/L + O(1/L^2) with
    g = lim_{L->oo} L (C - cos theta) (SymPy).  With t = l/L the L blocks become the ODE
    d cos(theta)/dt = g(theta) on t in [0, 1], so theta_L -> theta_inf(theta0), the ODE's
    value at t = 1 (solved numerically, scipy solve_ivp, rtol 1e-12): the angle at the
    output tends to a depth-independent limit instead of decaying.
    """
    from scipy.integrate import solve_ivp

    arch = get_architecture(arch)
    C = derive_maps(arch).angle_cos
    if BLOCK_INDEX in C.free_symbols:
        return DepthLaw(architecture=arch.name, slope_at_zero=sp.nan, angle_series=sp.Integer(0),
                        law_class="unclassified", theta_l=None, leading=None,
                        note="the map depends on both the block index and the depth; not analysed")
    Lc = sp.Symbol("L", positive=True)
    Cc = C.subs(DEPTH, Lc)
    g = sp.simplify(sp.limit(Lc * (Cc - sp.cos(THETA)), Lc, sp.oo))
    if g == 0 or g.has(sp.oo, sp.zoo, sp.nan):
        return DepthLaw(architecture=arch.name, slope_at_zero=sp.nan, angle_series=sp.Integer(0),
                        law_class="unclassified", theta_l=None, leading=None,
                        note=f"the map's 1/L term is {g}; not analysed")
    rhs = sp.lambdify(THETA, -g / sp.sin(THETA), "math")

    def limit_angle(theta0: float) -> float:
        if theta0 <= 0:
            return 0.0
        sol = solve_ivp(lambda t, y: [rhs(y[0])], (0.0, 1.0), [theta0], rtol=1e-12, atol=1e-14)
        return float(sol.y[0, -1])

    values = {t0: limit_angle(t0) for t0 in CHECK_THETA0}
    law = LIMIT_ANGLE(THETA0)
    return DepthLaw(architecture=arch.name, slope_at_zero=sp.nan, angle_series=sp.Integer(0),
                    law_class="depth-independent limit", theta_l=law, leading=law,
                    difference_equation=f"d cos(theta)/dt = {sp.sstr(g)}, t = l/L in [0, 1]",
                    note="theta_L -> theta_inf(theta0) as L -> oo (errors O(1/L)); theta_inf solves the ODE",
                    extra={"theta_inf": {str(k): v for k, v in values.items()}, "limit_angle": limit_angle})


def fixed_point_law(arch) -> DepthLaw:
    """Large-depth law when the population moment has no closed form (non-homogeneous
    activations such as tanh, erf, GELU).

    1. m* = lim m_l of the population recursion, iterated in float64.
    2. With m = m*, the slope at theta = 0, s^2 = lim (1 - C(theta; m*)) / (1 - cos theta)
       (Richardson over two small angles).  s < 1: the ordered phase, theta_l -> 0 like
       K s^l.  s > 1: theta = 0 repels and the angle converges to the fixed point theta* of
       theta' = arccos C(theta; m*) (bracketed on a grid, refined by brentq); the rate is
       r = d theta'/d theta at theta* (central difference): |theta_l - theta*| ~ K r^l.
    """
    from scipy.optimize import brentq

    from .evaluate import numeric_maps

    arch = get_architecture(arch)
    nm = numeric_maps(arch)
    common = dict(architecture=arch.name, angle_series=sp.Integer(0))
    m_prev, m_star, converged = 1.0, None, False
    for l in range(1, 5001):
        m = nm.population(l)
        if abs(m - m_prev) <= 1e-14 * max(1.0, abs(m)):
            m_star, converged = m, True
            break
        m_prev = m
    if not converged:
        last = nm.population(5000)
        return DepthLaw(**common, slope_at_zero=sp.nan, law_class="unclassified", theta_l=None, leading=None,
                        note=f"the population second moment does not settle (m_5000 = {last:.3g}); "
                             "the angle map keeps changing with depth")
    if m_star < 1e-10 or m_star > 1e10:
        return DepthLaw(**common, slope_at_zero=sp.nan, law_class="not decaying", theta_l=None, leading=None,
                        note=f"the population second moment runs to {'0' if m_star < 1 else 'infinity'} "
                             f"(m ~ {m_star:.3g} after {l} blocks); near 0 a smooth activation acts linearly, "
                             "so the angle freezes at a value that depends on theta0",
                        extra={"population_limit": m_star})
    d = nm._d
    # steps at the fixed population moment (the block index enters only through m here)
    step = lambda t: _theta_from_d(float(d(t, m_star, 10**6)))
    s2 = [(float(d(h, m_star, 10**6)) / (1 - math.cos(h))) for h in (2e-2, 1e-2)]
    slope2 = 2 * s2[1] - s2[0]  # Richardson: error O(h^2) -> O(h^4)
    slope = math.sqrt(max(slope2, 0.0))
    extra = {"population_fixed_point": m_star, "chi_1": slope2}
    if slope < 1 - 1e-6:
        law = KOENIGS(THETA0) * sp.Float(slope, 12) ** BLOCK_INDEX
        return DepthLaw(**common, slope_at_zero=sp.Float(slope, 12), law_class="exponential", theta_l=law,
                        leading=law, rate=sp.Float(slope, 12),
                        difference_equation=f"theta_(l+1) = {slope:.6g} theta_l + O(theta_l^2) at m* = {m_star:.6g}",
                        note=f"ordered phase: chi_1 = {slope2:.6g} < 1, angles shrink geometrically to 0",
                        fixed_point=0.0, extra=extra)
    if slope > 1 + 1e-6:
        grid = np.linspace(1e-3, math.pi, 400)
        f = np.array([step(t) - t for t in grid])
        sign = np.nonzero(np.diff(np.sign(f)) < 0)[0]
        if not len(sign):
            return DepthLaw(**common, slope_at_zero=sp.Float(slope, 12), law_class="not decaying",
                            theta_l=None, leading=None, note="theta = 0 repels and no other fixed point was found",
                            extra=extra)
        k = sign[0]
        theta_star = brentq(lambda t: step(t) - t, grid[k], grid[k + 1], xtol=1e-14)
        h = 1e-5
        rate = (step(theta_star + h) - step(theta_star - h)) / (2 * h)
        law = sp.Float(theta_star, 15) + KOENIGS(THETA0) * sp.Float(rate, 12) ** BLOCK_INDEX
        return DepthLaw(**common, slope_at_zero=sp.Float(slope, 12), law_class="converges to a fixed angle",
                        theta_l=law, leading=sp.Float(theta_star, 15), rate=sp.Float(rate, 12),
                        difference_equation=f"theta* = arccos C(theta*; m*), m* = {m_star:.6g}",
                        note=f"chaotic phase: chi_1 = {slope2:.6g} > 1; theta_l -> theta* = {theta_star:.10g} "
                             f"geometrically with rate {rate:.6g}",
                        fixed_point=theta_star, extra=extra)
    return DepthLaw(**common, slope_at_zero=sp.Integer(1), law_class="unclassified", theta_l=None, leading=None,
                    note="critical (chi_1 = 1 within 1e-6): the power law at criticality is not derived here",
                    extra=extra)


def _theta_from_d(d: float) -> float:
    if d <= 1.0:
        return 2.0 * math.asin(math.sqrt(max(d, 0.0) / 2.0))
    return math.acos(max(-1.0, 1.0 - d))


def law_errors(arch: Architecture | str, depths=CHECK_DEPTHS, theta0s=CHECK_THETA0, progress=None) -> dict:
    """Relative error (law - iterate) / iterate of each law form at each depth and theta0.

    Returns {form: {depth: [error per theta0]}} for the forms 'theta_l', 'leading' and
    (where present) 'corrected'; the iterate is the exact map in float64.
    """
    law = depth_law(arch)
    depths = sorted(int(d) for d in depths)
    if law.law_class == "depth-independent limit":
        return _depth_limit_errors(arch, law, [d for d in depths if d <= 10**4], theta0s)
    if law.law_class == "converges to a fixed angle":
        # directly evaluated (possibly quadrature) maps cost ~1 ms a step: check to depth 300
        near = [d for d in (10, 30, 100, 300) if d <= max(depths)]
        theta = checkpoints(arch, tuple(theta0s), tuple(near), progress)
        return {"leading": {d: [float(law.fixed_point / theta[i, j] - 1) for j in range(len(theta0s))]
                            for i, d in enumerate(near)}}
    forms = {name: expr for name, expr in
             (("theta_l", law.theta_l), ("leading", law.leading), ("corrected", law.corrected))
             if expr is not None and not expr.has(KOENIGS)}
    if not forms or not depths:
        return {}
    theta = checkpoints(arch, tuple(theta0s), tuple(depths), progress)
    out = {}
    for name, expr in forms.items():
        f = sp.lambdify((BLOCK_INDEX, THETA0), expr, "mpmath")
        table = {}
        for i, d in enumerate(depths):
            table[d] = [float(f(d, t0) / theta[i, j] - 1) for j, t0 in enumerate(theta0s)]
        out[name] = table
    return out


def _depth_limit_errors(arch, law, depths, theta0s) -> dict:
    """theta_L of the network of total depth L against theta_inf(theta0), for each L."""
    from .evaluate import maps_for_depth

    f = law.extra["limit_angle"]
    limits = [f(t0) for t0 in theta0s]
    table = {}
    for d in depths:
        _, theta, _ = maps_for_depth(arch, d).iterate(np.array(theta0s, dtype=float), d, at=[d])
        table[d] = [float(lim / theta[-1, j] - 1) for j, lim in enumerate(limits)]
    return {"theta_l": table}


_CHECKPOINTS: dict = {}
register_clearer(_CHECKPOINTS.clear)


def checkpoints(arch, theta0s: tuple, depths: tuple, progress=None) -> np.ndarray:
    """theta at ``depths`` (rows) from each of ``theta0s`` (columns), by iterating the exact
    map in float64.  Cached per process and Architecture, and on disk (theory/cache.py): the
    10^6-step runs take about a second per angle."""
    from .evaluate import numeric_maps

    arch = get_architecture(arch)
    theta0s, depths = tuple(float(t) for t in theta0s), tuple(int(d) for d in depths)
    key = (arch, theta0s, depths)
    if key not in _CHECKPOINTS:
        def compute():
            ls, theta, _ = numeric_maps(arch).iterate(np.array(theta0s, dtype=float), max(depths),
                                                      at=depths, progress=progress)
            return theta[np.searchsorted(ls, depths)].tolist()

        _CHECKPOINTS[key] = np.array(disk_cached("anglefish.theory.asymptotics.checkpoints", key, compute),
                                     dtype=float)
    return _CHECKPOINTS[key]


# ----------------------------------------------------------------- growth laws of order parameters in L
#: continuous stand-ins for the block index and the depth when taking limits of growth laws
_LAW_X = sp.Symbol("x", positive=True)
_LAW_L = sp.Symbol("L", positive=True)

@dataclass(frozen=True)
class GrowthLaw:
    """f(L) ~ coefficient * base^L * L^power * (log L)^log_power as L -> oo."""

    base: sp.Expr
    power: sp.Expr
    log_power: sp.Expr
    coefficient: sp.Expr

    def leading(self, var=DEPTH) -> sp.Expr:
        return self.coefficient * self.base**var * var**self.power * sp.log(var) ** self.log_power

    @property
    def law_class(self) -> str:
        b, p, s = self.base, self.power, self.log_power
        if self.coefficient == 0:
            return "zero"
        if (b > 1) == sp.true:
            return "exponential"
        if (b < 1) == sp.true:
            return "exponentially decaying"
        if p == 0 and s == 0:
            return "constant"
        if p == 0:
            return "logarithmic" if (s > 0) == sp.true else "logarithmic decay"
        if p == 1 and s == 0:
            return "linear"
        if p == 1 and s == 1:
            return "L log L"
        return "power" if (p > 0) == sp.true else "power decay"

    def grows(self) -> bool:
        return bool((self.base > 1) == sp.true or (self.base == 1 and ((self.power > 0) == sp.true or (
            self.power == 0 and (self.log_power > 0) == sp.true))))

    def compare(self, other: "GrowthLaw") -> int:
        """-1, 0, 1 as self grows slower than, like, faster than ``other`` (coefficients aside)."""
        for a, b in ((sp.log(self.base), sp.log(other.base)), (self.power, other.power),
                     (self.log_power, other.log_power)):
            d = sp.simplify(a - b)
            if d != 0:
                return 1 if (d > 0) == sp.true else -1
        return 0

    def as_dict(self) -> dict:
        return {"base": sp.sstr(self.base), "power": sp.sstr(self.power),
                "log_power": sp.sstr(self.log_power), "coefficient": sp.sstr(self.coefficient)}


ZERO_GROWTH = GrowthLaw(sp.Integer(1), sp.Integer(0), sp.Integer(0), sp.Integer(0))


def leading_scale(expr: sp.Expr, var: sp.Symbol = DEPTH) -> "GrowthLaw":
    """The leading behaviour of a positive expression as ``var`` -> oo, by successive limits:
    base = exp(lim log f / x), power = lim log(f / base^x) / log x, log_power likewise with
    log log x, coefficient = the remaining limit (other symbols are parameters)."""
    expr = sp.sympify(expr)
    if expr == 0:
        return ZERO_GROWTH
    f = expr.subs(var, _LAW_X).rewrite(sp.digamma)
    lim = lambda e: sp.limit(e, _LAW_X, sp.oo)
    rate = sp.simplify(lim(sp.log(f) / _LAW_X))
    g = sp.simplify(f * sp.exp(-rate * _LAW_X))
    power = sp.simplify(lim(sp.log(g) / sp.log(_LAW_X)))
    h = sp.simplify(g / _LAW_X**power)
    log_power = sp.simplify(lim(sp.log(h) / sp.log(sp.log(_LAW_X))))
    coefficient = sp.simplify(lim(h / sp.log(_LAW_X) ** log_power))
    for v in (rate, power, log_power, coefficient):
        if not (v.is_finite and v.is_real):
            raise AnglefishError(f"cannot find the leading behaviour of {sp.sstr(expr)} as {var} -> oo")
    return GrowthLaw(sp.simplify(sp.exp(rate)), power, log_power, coefficient)


def sum_leading(summand: GrowthLaw, upper: sp.Expr = _LAW_L):
    """Leading behaviour of sum_{x<upper} c b^x x^p (log x)^s (c may depend on ``upper``) as a
    SymPy expression in ``upper``; None if the sum converges (its value then depends on the
    first terms, where the leading form does not apply)."""
    c, b, p, s = summand.coefficient, summand.base, summand.power, summand.log_power
    if (b > 1) == sp.true:  # geometric: dominated by the last terms, sum_{x<upper} b^x ~ b^upper/(b-1)
        return c * b**upper * upper**p * sp.log(upper) ** s / (b - 1)
    if b != 1:
        return None
    if (p > -1) == sp.true:
        return c * upper ** (p + 1) * sp.log(upper) ** s / (p + 1)
    if p == -1 and (s > -1) == sp.true:
        return c * sp.log(upper) ** (s + 1) / (s + 1)
    return None


