"""Numeric evaluation of the derived maps: numpy (vectorised), math (scalar loops) and
mpmath (any precision), stable down to tiny angles.

Why not just lambdify arccos C(theta)?  Near theta = 0, C = 1 - theta^2/2 + ... and
float64 loses every digit of 1 - C below theta ~ 1e-8.  Instead the map is evaluated
as D = 1 - C(theta; l):

* for theta < theta_star from the Taylor series of D in theta (SymPy, to high order,
  coefficients exact functions of l), which has no cancellation;
* above theta_star from the direct expression, whose cancellation costs at most a
  factor ~ 2 / theta_star^2 in relative error;

and then theta' = 2 asin(sqrt(D / 2)) (D <= 1) or acos(1 - D) (D > 1), both well
conditioned.  theta_star is chosen from the series itself: the largest angle at which
the last kept term is below 1e-18 of the first at every sampled block index.  The
mpmath path evaluates the direct expression with enough guard digits instead.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ..errors import AnglefishError
from ..validation import check_angles, recorded_depths
from .activations import THETA
from .architectures import Architecture, get_architecture
from .blocks import BLOCK_INDEX, DEPTH
from .cache import memoize
from .recursion import M, derive_maps

SERIES_ORDER = 16
_SAMPLE_BLOCKS = (0, 1, 2, 3, 5, 10, 100, 10**4, 10**6)
_RELATIVE_TRUNCATION = 1e-18


def _theta_from_d_numpy(d):
    d = np.clip(d, 0.0, 2.0)
    small = d <= 1.0
    with np.errstate(invalid="ignore"):
        a = 2.0 * np.arcsin(np.sqrt(np.where(small, d, 0.0) / 2.0))
        b = np.arccos(1.0 - np.where(small, 1.0, d))
    return np.where(small, a, b)


def _theta_from_d_scalar(d):
    if d <= 1.0:
        return 2.0 * math.asin(math.sqrt(max(d, 0.0) / 2.0))
    return math.acos(max(-1.0, 1.0 - d))


@dataclass(frozen=True)
class NumericMaps:
    """Compiled, stable numeric versions of an architecture's angle and norm maps.

    ``one_minus_cos(theta, l)`` is D = 1 - cos theta_{l+1}; ``step(theta, l)`` is theta_{l+1}.
    Depth is 0-based; ``l`` is the index of the block being applied.
    """

    architecture: str
    theta_star: float
    depends_on_block_index: bool
    _series_np: object
    _direct_np: object
    _series_math: object
    _direct_math: object
    _direct_mp: object
    _log_q: object
    _log_ratio: object

    # -- numpy, vectorised over theta (and l) --------------------------------------
    def one_minus_cos(self, theta, l=0):
        theta = np.asarray(theta, dtype=float)
        l = np.asarray(l, dtype=float)
        with np.errstate(all="ignore"):
            series = self._series_np(theta, l)
            direct = self._direct_np(theta, l)
        return np.where(theta < self.theta_star, series, direct)

    def step(self, theta, l=0):
        """theta_{l+1} for theta_l = ``theta`` (numpy, vectorised)."""
        return _theta_from_d_numpy(self.one_minus_cos(theta, l))

    # -- python floats, for long scalar iterations ----------------------------------
    def step_scalar(self, theta: float, l: int) -> float:
        if theta < self.theta_star:
            d = self._series_math(theta, l)
        else:
            d = self._direct_math(theta, l)
        return _theta_from_d_scalar(d)

    def _scalar_trajectory(self, th, depth, ls, chunk, progress, done, total):
        """One trajectory in a tight pure-Python loop (about 1-3 microseconds a step)."""
        asin, sqrt, acos = math.asin, math.sqrt, math.acos
        series, direct, star = self._series_math, self._direct_math, self.theta_star
        rows = np.empty(len(ls))
        marks = ls.tolist() + [depth + 1]
        row, next_mark = 0, marks[0]
        for start in range(0, depth + 1, chunk):
            for l in range(start, min(start + chunk, depth + 1)):
                if l == next_mark:
                    rows[row] = th
                    row += 1
                    next_mark = marks[row]
                if l == depth:
                    break
                d = series(th, l) if th < star else direct(th, l)
                th = 2.0 * asin(sqrt(d * 0.5)) if d <= 1.0 else acos(max(-1.0, 1.0 - d))
            if progress is not None:
                progress(done + min(start + chunk, depth), total)
        return rows

    # -- mpmath, any precision --------------------------------------------------------
    def step_mp(self, theta, l=0, dps: int = 50):
        """theta_{l+1} in mpmath at ``dps`` significant digits (guard digits added for tiny theta)."""
        theta = mpmath.mpf(theta)
        guard = 10 + (int(-2 * mpmath.log10(theta)) if 0 < theta < 1 else 0)
        with mpmath.workdps(dps + guard):
            d = self._direct_mp(theta, mpmath.mpf(l))
            if d <= 1:
                out = 2 * mpmath.asin(mpmath.sqrt(d / 2))
            else:
                out = mpmath.acos(1 - d)
        with mpmath.workdps(dps):
            return +out

    # -- norms ---------------------------------------------------------------------------
    def log_q(self, l):
        """log of the per-unit second moment q_l of an input at the population norm (q_0 = 1)."""
        l = np.asarray(l, dtype=float)
        if self._log_q is not None:
            return np.broadcast_to(np.asarray(self._log_q(l), dtype=float), l.shape).copy()
        raise AnglefishError(f"{self.architecture}: no closed form for log q_l; use iterate()")

    def log_norm_ratio(self, l):
        """log(q_{l+1} / q_l), the one-block growth of the squared norm at block l."""
        if self._log_ratio is None:
            raise AnglefishError(f"{self.architecture}: the norm map is not a fixed ratio")
        l = np.asarray(l, dtype=float)
        return np.broadcast_to(np.asarray(self._log_ratio(l), dtype=float), l.shape).copy()

    # -- iteration ---------------------------------------------------------------------
    def iterate(self, theta0, depth: int, every: int = 1, progress=None, at=None):
        """theta_l and log q_l for l = 0..depth (every ``every``-th row, always including depth).

        ``at``: record exactly these depths (and ``depth``) instead of every ``every``-th.

        Returns (ls, theta, log_q) with theta of shape (len(ls),) + shape(theta0).
        A scalar Python loop is used for a handful of starting angles (fastest), numpy
        otherwise.  ``progress(done, total)`` is called now and then if given.
        """
        depth, theta0, ls = _iteration_plan(theta0, depth, every, at)
        out = np.empty((len(ls), theta0.size))
        flat = theta0.ravel()
        chunk = max(1000, depth // 100)
        if flat.size <= 8:
            done = 0
            for j, t0 in enumerate(flat):
                out[:, j] = self._scalar_trajectory(float(t0), depth, ls, chunk, progress, done,
                                                    flat.size * depth)
                done += depth
        else:
            keep = set(ls.tolist())
            th, row = flat.copy(), 0
            for l in range(depth + 1):
                if l in keep:
                    out[row] = th
                    row += 1
                if l < depth:
                    th = self.step(th, l)
                if progress is not None and l % chunk == 0:
                    progress(l, depth)
        theta = out.reshape((len(ls),) + theta0.shape)
        if self._log_q is not None:
            log_q = self.log_q(ls)
        else:  # accumulate the log of the one-block norm ratio
            inc = self.log_norm_ratio(np.arange(depth))
            log_q = np.concatenate([[0.0], np.cumsum(inc)])[ls]
        return ls, theta, log_q


def _iteration_plan(theta0, depth, every, at):
    """Validated (depth, theta0 as a 1-d float array, sorted depths to record) of an iterate call:
    every ``every``-th depth, or the depths ``at``; the last depth is always recorded."""
    depth, ls = recorded_depths(depth, every, at)
    theta0 = check_angles(np.atleast_1d(np.asarray(theta0, dtype=float)))
    return depth, theta0, ls


def _separate_block_index(D: sp.Expr) -> list:
    """Write D(theta, l) = sum_b w_b(l) T_b(theta) with w_b from a partial-fraction basis in l.

    Each T_b is then free of l, so its series has numeric coefficients and costs a few
    multiplications per step.  Falls back to [(1, D)] when D does not separate.
    """
    if BLOCK_INDEX not in D.free_symbols:
        return [(sp.Integer(1), D)]
    groups: dict = {}
    for term in sp.Add.make_args(sp.expand(D)):
        l_part, t_part = term.as_independent(THETA, as_Add=False)
        if BLOCK_INDEX in t_part.free_symbols:
            return [(sp.Integer(1), D)]
        for piece in sp.Add.make_args(sp.apart(sp.together(l_part), BLOCK_INDEX)):
            const, basis = piece.as_independent(BLOCK_INDEX, as_Add=False)
            groups[basis] = groups.get(basis, 0) + const * t_part
    return [(basis, sp.simplify(part)) for basis, part in groups.items()]


def _series_terms(expr: sp.Expr) -> list:
    """Nonzero (power, coefficient) pairs of the Taylor series of ``expr`` at theta = 0."""
    series = sp.series(expr, THETA, 0, SERIES_ORDER).removeO()
    poly = sp.Poly(sp.expand(series), THETA)
    return sorted(((m[0], sp.simplify(c)) for m, c in poly.terms() if c != 0), key=lambda t: t[0])


def _choose_theta_star(coeffs: list, has_l: bool) -> float:
    """Largest theta at which the last kept series term is < 1e-18 of the first."""
    (k0, c0), (kn, cn) = coeffs[0], coeffs[-1]
    best = 1.0
    for l in (_SAMPLE_BLOCKS if has_l else (0,)):
        a0 = abs(float(c0.subs(BLOCK_INDEX, l)))
        an = abs(float(cn.subs(BLOCK_INDEX, l)))
        if an == 0:
            continue
        best = min(best, (_RELATIVE_TRUNCATION * a0 / an) ** (1.0 / (kn - k0)))
    return best


def maps_for_depth(arch: Architecture | str, depth: int):
    """numeric_maps(arch), with the total depth fixed when the maps depend on it (e.g. a
    branch scaled by 1/sqrt(L)); one compilation per depth only in that case."""
    arch = get_architecture(arch)
    if DEPTH in derive_maps(arch).angle_cos.free_symbols or DEPTH in derive_maps(arch).population_map.free_symbols:
        return numeric_maps(arch, int(depth))
    return numeric_maps(arch)


def _has_opaque_kernel(expr: sp.Expr) -> bool:
    """Does ``expr`` contain a function SymPy cannot expand in series with numeric
    coefficients (a kernel evaluated by quadrature, ``K_tanh(q_a, q_b, q_ab)``)?"""
    from sympy.core.function import AppliedUndef

    return bool(expr.atoms(AppliedUndef))


def numeric_maps(arch: Architecture | str, depth: int | None = None) -> NumericMaps:
    """Compile the stable numeric maps of ``arch`` (``depth`` fixes L where a map uses it)."""
    return _numeric_maps(get_architecture(arch), depth)


@memoize
def _numeric_maps(arch: Architecture, depth: int | None) -> NumericMaps:
    exprs = _numeric_map_exprs(arch, depth)
    if exprs is None:
        # nested activations (arccos inside the map), no closed population moment, or a
        # kernel evaluated by quadrature (an opaque function, e.g. tanh behind a population
        # BN): the high-order series is out of SymPy's reach; carry the gap q - q_ab block
        # by block where the activations allow it (stable at every angle), else evaluate
        # directly
        from .pairmaps import supported

        if supported(arch.block):
            return StablePairMaps(arch, depth)
        return PopulationNumericMaps.build(arch, derive_maps(arch), depth)
    theta_star, has_l, horner, D, log_q_expr, log_ratio_expr = exprs
    args = (THETA, BLOCK_INDEX)
    series_np = sp.lambdify(args, horner, "numpy")
    direct_np = sp.lambdify(args, D, "numpy")
    series_math = sp.lambdify(args, horner, "math")
    direct_math = sp.lambdify(args, D, "math")
    direct_mp = sp.lambdify(args, D, "mpmath")
    log_q = None if log_q_expr is None else sp.lambdify(BLOCK_INDEX, log_q_expr, "numpy")
    log_ratio = None if log_ratio_expr is None else sp.lambdify(BLOCK_INDEX, log_ratio_expr, "numpy")
    return NumericMaps(arch.name, float(theta_star), has_l, series_np, direct_np, series_math,
                       direct_math, direct_mp, log_q, log_ratio)


@memoize(disk=True)
def _numeric_map_exprs(arch: Architecture, depth: int | None):
    """The SymPy stage of :func:`numeric_maps` (kept on disk, see theory/cache.py): (theta*, whether
    the map depends on l, the Horner form of the series of 1 - C, 1 - C, log q_l, log of the norm
    ratio), or None where the series is out of SymPy's reach."""
    maps = derive_maps(arch)
    C = maps.angle_cos
    if DEPTH in C.free_symbols:
        if depth is None:
            raise AnglefishError(f"{arch.name}: the maps depend on the depth L; give the depth")
        C = C.subs(DEPTH, depth)
    if C.has(sp.acos) or M in C.free_symbols or maps.population is None or _has_opaque_kernel(C):
        return None
    D = sp.expand(1 - C)
    if sp.simplify(D.subs(THETA, 0)) != 0:
        raise AnglefishError(f"{arch.name}: theta = 0 is not a fixed point of the angle map")
    has_l = BLOCK_INDEX in D.free_symbols
    groups = _separate_block_index(D)
    series_parts, theta_star = [], 1.0
    for weight, part in groups:
        terms = _series_terms(part)
        if not terms:
            continue
        theta_star = min(theta_star, _choose_theta_star(terms, BLOCK_INDEX in part.free_symbols))
        series_parts.append(weight * sp.horner(sp.Add(*(c * THETA**k for k, c in terms)), wrt=THETA))
    horner = sp.Add(*series_parts)
    D = sp.Add(*(weight * part for weight, part in groups))
    log_q = log_ratio = None
    if maps.log_q is not None:
        log_q = maps.log_q.subs(DEPTH, depth) if depth is not None else maps.log_q
    if maps.norm_ratio is not None:
        ratio = maps.norm_ratio.subs(DEPTH, depth) if depth is not None else maps.norm_ratio
        log_ratio = sp.log(ratio)
    return float(theta_star), has_l, horner, D, log_q, log_ratio


class PopulationNumericMaps:
    """Numeric maps evaluated directly: used when the population moment m_l has no closed
    form (e.g. tanh, GELU; m_{l+1} = G(m_l) is then iterated in float64 alongside the
    angle) and when the map nests activations (arccos inside cos theta' = C(theta; m)).

    Precision: 1 - C is formed by subtraction, so the relative error of a step is about
    eps / theta^2 for small theta (1e-16 at theta ~ 1, 1e-8 at theta ~ 1e-4), and kernels
    evaluated by quadrature add their own error (see QuadratureActivation).  The
    same interface as :class:`NumericMaps`.
    """

    theta_star = 0.0

    def __init__(self, name, g_math, d_math, d_mp, log_population, depends_on_block_index):
        self.architecture = name
        self._g = g_math
        self._d = d_math
        self._d_mp = d_mp
        self._log_population = log_population  # closed form of log m_l, or None
        self.depends_on_block_index = depends_on_block_index
        self._m = [1.0]

    @classmethod
    def build(cls, arch, maps, depth):
        subs = {DEPTH: depth} if depth is not None else {}
        C = maps.angle_cos.subs(subs)
        G = maps.population_map.subs(subs)
        log_population = None
        if maps.population is not None:  # closed form: substitute it, and carry log m_l exactly
            C = C.subs(M, maps.population)
            log_population = sp.lambdify(BLOCK_INDEX, maps.log_q.subs(subs), "math")
        if C.free_symbols - {THETA, M, BLOCK_INDEX}:
            raise AnglefishError(f"{arch.name}: the maps depend on {C.free_symbols - {THETA, M, BLOCK_INDEX}}")
        D = 1 - C
        args = (THETA, M, BLOCK_INDEX)
        g = sp.lambdify((M, BLOCK_INDEX), G, "math")
        return cls(arch.name, g, sp.lambdify(args, D, "math"), sp.lambdify(args, D, "mpmath"), log_population,
                   BLOCK_INDEX in C.free_symbols or BLOCK_INDEX in G.free_symbols)

    def population(self, l: int) -> float:
        """m_l, the population second moment after l blocks (m_0 = 1); with a closed form the
        maps do not use it (it is substituted symbolically) and 1.0 is returned."""
        if self._log_population is not None:
            return 1.0
        while len(self._m) <= l:
            k = len(self._m) - 1
            m = float(self._g(self._m[-1], k))
            if not math.isfinite(m) or m <= 0:
                raise AnglefishError(f"{self.architecture}: the population moment left (0, inf) at block {k + 1}")
            self._m.append(m)
        return self._m[l]

    def one_minus_cos(self, theta, l=0):
        theta = np.asarray(theta, dtype=float)
        f = np.vectorize(lambda t, k: float(self._d(float(t), self.population(int(k)), int(k))))
        return f(theta, np.broadcast_to(np.asarray(l), theta.shape))

    def step(self, theta, l=0):
        return _theta_from_d_numpy(self.one_minus_cos(theta, l))

    def step_scalar(self, theta: float, l: int) -> float:
        return _theta_from_d_scalar(float(self._d(theta, self.population(l), l)))

    def step_mp(self, theta, l=0, dps: int = 50):
        theta = mpmath.mpf(theta)
        with mpmath.workdps(dps + 10):
            d = self._d_mp(theta, mpmath.mpf(self.population(l)), mpmath.mpf(l))
            out = 2 * mpmath.asin(mpmath.sqrt(d / 2)) if d <= 1 else mpmath.acos(1 - d)
        with mpmath.workdps(dps):
            return +out

    def log_q(self, l):
        l = np.asarray(l)
        if self._log_population is not None:
            return np.vectorize(lambda k: float(self._log_population(int(k))))(l).astype(float)
        return np.vectorize(lambda k: math.log(self.population(int(k))))(l).astype(float)

    def iterate(self, theta0, depth: int, every: int = 1, progress=None, at=None):
        depth, theta0, ls = _iteration_plan(theta0, depth, every, at)
        self.population(depth)
        out = np.empty((len(ls), theta0.size))
        th = theta0.ravel().copy()
        keep = {int(l): i for i, l in enumerate(ls)}
        for l in range(depth + 1):
            if l in keep:
                out[keep[l]] = th
            if l < depth:
                m = self.population(l)
                th = np.array([_theta_from_d_scalar(float(self._d(t, m, l))) for t in th])
            if progress is not None and l % 1000 == 0:
                progress(l, depth)
        return ls, out.reshape((len(ls),) + theta0.shape), self.log_q(ls)


class StablePairMaps(PopulationNumericMaps):
    """Numeric maps by the stable pair interpreter (:mod:`.pairmaps`): relative precision
    ~1e-15 per block at every angle, for architectures whose activations are positively
    homogeneous.  q_l and m_l are carried in log scale; the same interface."""

    def __init__(self, arch, depth=None):
        from .pairmaps import pair_step

        self.architecture = arch.name
        self._arch = arch
        self._depth = depth if depth is not None else 0
        self._pair_step = pair_step
        self.depends_on_block_index = any(
            getattr(b, "variance", sp.Integer(0)).free_symbols or getattr(b, "alpha", sp.Integer(0)).free_symbols
            or type(b).__name__ == "BatchNorm" for b in arch.block.walk())
        maps = derive_maps(arch)
        self._log_population = (sp.lambdify(BLOCK_INDEX, maps.log_q.subs(DEPTH, self._depth), "math")
                                if maps.log_q is not None else None)
        self._d_mp = None
        self._m = [1.0]
        self._log_m = [0.0]

    def _log_pop(self, l: int) -> float:
        while len(self._log_m) <= l:
            k = len(self._log_m) - 1
            _, _, lm = self._pair_step(self._arch.block, np.ones(1), np.zeros(1), self._log_m[-1], k, self._depth)
            self._log_m.append(float(lm))
        return self._log_m[l]

    def population(self, l: int) -> float:
        return math.exp(self._log_pop(l))

    def _advance(self, theta, l):
        """One block from angle(s) ``theta`` at block l (pair at the population norm)."""
        theta = np.asarray(theta, dtype=float)
        q = np.ones_like(theta)
        d = 2 * np.sin(theta / 2) ** 2
        q1, d1, _ = self._pair_step(self._arch.block, q, d, self._log_pop(l), l, self._depth)
        return 2 * np.arcsin(np.sqrt(np.clip(d1 / (2 * q1), 0, 1)))

    def one_minus_cos(self, theta, l=0):
        return 2 * np.sin(self.step(theta, l) / 2) ** 2

    def step(self, theta, l=0):
        theta = np.asarray(theta, dtype=float)
        if np.ndim(l) == 0:
            return self._advance(theta, int(l))
        return np.vectorize(lambda t, k: float(self._advance(t, int(k))))(theta, l)

    def step_scalar(self, theta: float, l: int) -> float:
        return float(self._advance(theta, l))

    def step_mp(self, theta, l=0, dps: int = 50):
        raise AnglefishError(f"{self.architecture}: no mpmath evaluation of nested maps; use step()")

    def log_q(self, l):
        l = np.asarray(l)
        if self._log_population is not None:
            return np.vectorize(lambda k: float(self._log_population(int(k))))(l).astype(float)
        return np.vectorize(lambda k: self._log_pop(int(k)))(l).astype(float)

    def iterate(self, theta0, depth: int, every: int = 1, progress=None, at=None):
        depth, theta0, ls = _iteration_plan(theta0, depth, every, at)
        out = np.empty((len(ls), theta0.size))
        keep = {int(l): i for i, l in enumerate(ls)}
        # carry (q, d) in log-free form, renormalised each block (angles are scale-free)
        th = theta0.ravel().copy()
        step = self._pair_step
        block = self._arch.block
        for l in range(depth + 1):
            if l in keep:
                out[keep[l]] = th
            if l < depth:
                q1, d1, _ = step(block, np.ones_like(th), 2 * np.sin(th / 2) ** 2, self._log_pop(l), l, self._depth)
                th = 2 * np.arcsin(np.sqrt(np.clip(d1 / (2 * q1), 0, 1)))
            if progress is not None and l % 1000 == 0:
                progress(l, depth)
        return ls, out.reshape((len(ls),) + theta0.shape), self.log_q(ls)
