"""How good the large-depth Fisher laws are at the depths people use.

Every law of :func:`anglefish.theory.fisher_laws.fisher_law` is held against the exact infinite-width
recursion at L = 10, 100, 1000, 10^4 (and deeper in the tests): ``exact / law``.

The exact values, fast and for every depth at once
----------------------------------------------------
With one input (or two orthogonal inputs) at the population norm q_l, block l's backward factor B_l
and its share per unit of incoming backward moment Tc_l (``ntk_recursion``: backward_factor_single /
_pair, contribution_single / _pair), the kernel of a network of depth L is

    kappa(L) = q_L c_L + S(L),    S(L) = sum_{l<L} Tc_l prod_{j=l+1}^{L-1} B_j,   S(L+1) = B_L S(L) + Tc_L,

(c_L = 1 for one input, cos theta_L for the pair), a forward-only recursion: one pass gives every
depth.  Dividing by q_{L+1} keeps the numbers O(1) even where q grows like 2^L:
s(L) = S(L)/q_L obeys s(L+1) = a_L s(L) + t_L with a_l = B_l q_l/q_{l+1}, t_l = Tc_l/q_{l+1}
(SymPy simplifies both from the block list), and the pair's angles theta_l come from the stable
numeric maps (:mod:`.evaluate`).  Block K's share at depth L is t_K prod_{j=K+1}^{L-1} a_j (times q_L).
Values are returned as natural logs (no overflow for the ResNet at 10^4 blocks).

Corrected forms
---------------
* kappa1 has an exact closed form in L (harmonic numbers for ResNet+BN): it is printed, and its
  two-term expansion at L -> oo (SymPy series) is the corrected law.
* When the angle decays only logarithmically (population BN: theta_l ~ 3 pi/log l), every leading
  law that involves kappa2 converges like 1/log L, and not monotonically (ResNet+BN: kappa2 exact/law
  1.253, 1.268, 1.269, 1.260, 1.247 at L = 10^2 .. 10^6; the law is right, its convergence is slow,
  because the angle itself is still ~0.5 rad at 10^6 blocks and the small-angle expansions behind
  the leading law are poor there).  Its corrected form is the *continuum law*: the sums over blocks
  replaced by integrals, with the angle given by the derived corrected angle law (asymptotics:
  1/theta_l = log-term + constant + 1/theta0, theta0 = pi/2) and the exact per-block maps
  (no small-angle expansion):
      kappa2(L) ~ q_L cos theta(L) + int_{-1/2}^{L-1/2} Tc(theta(l), l) R(l) dl,
      log R(l) = int_{l+1/2}^{L-1/2} log B(theta(l'), l') dl'.
  Its remaining error is what the constant of the angle law misses of the early blocks; it is
  reported next to the leading law's and shrinks with depth.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from ..errors import AnglefishError
from .activations import THETA
from .architectures import Architecture, get_architecture
from .blocks import BLOCK_INDEX, DEPTH

#: depths at which every law's accuracy is reported
ACCURACY_DEPTHS = (10, 100, 1000, 10**4)
#: a leading law counts as converged at a depth when exact/law is within this of 1
CONVERGED_WITHIN = 0.02

_L = sp.Symbol("L", positive=True)


@dataclass(frozen=True)
class _Normalised:
    """Compiled per-block maps divided by the population growth (module docstring)."""

    log_q: object  # l -> log q_l (numpy)
    a_single: object  # l -> B0_l q_l / q_(l+1)
    t_single: object  # l -> Tc0_l / q_(l+1)
    a_pair: object  # (theta, l) -> B_l q_l / q_(l+1)
    t_pair: object  # (theta, l) -> Tc_l / q_(l+1)
    pair_B: object  # (theta, l) -> B_l (float), for the continuum law
    pair_T: object  # (theta, l) -> Tc_l (float)
    pop: object  # l -> q_l (float)


def _vectorised(fn, *shapes):
    def f(*args):
        out = fn(*args)
        return np.broadcast_to(np.asarray(out, dtype=float), np.broadcast_shapes(*(np.shape(a) for a in args))).copy()
    return f


@lru_cache(maxsize=None)
def _normalised(arch: Architecture) -> _Normalised:
    from .ntk import ntk_recursion

    rec = ntk_recursion(arch)
    if rec.population is None or rec.backward_factor_pair is None:
        raise AnglefishError(f"{arch.name}: the population moment has no closed form; no fast exact series")
    exprs = (rec.population, rec.backward_factor_single, rec.contribution_single, rec.backward_factor_pair,
             rec.contribution_pair)
    if any(DEPTH in sp.sympify(e).free_symbols for e in exprs):
        raise AnglefishError(f"{arch.name}: the maps depend on the depth L; no single series over depths")
    l = BLOCK_INDEX
    pop = rec.population
    ratio = sp.simplify(pop / pop.subs(l, l + 1))
    next_pop = pop.subs(l, l + 1)
    a1 = sp.simplify(rec.backward_factor_single * ratio)
    t1 = sp.simplify(rec.contribution_single / next_pop)
    a2 = sp.simplify(rec.backward_factor_pair * ratio)
    t2 = sp.simplify(rec.contribution_pair / next_pop)
    log_q = sp.expand_log(sp.log(pop), force=True)
    num = lambda e, args: _vectorised(sp.lambdify(args, e, "numpy"))
    return _Normalised(num(log_q, (l,)), num(a1, (l,)), num(t1, (l,)), num(a2, (THETA, l)), num(t2, (THETA, l)),
                       sp.lambdify((THETA, l), rec.backward_factor_pair, "math"),
                       sp.lambdify((THETA, l), rec.contribution_pair, "math"),
                       sp.lambdify(l, pop, "math"))


def _angles(arch: Architecture, depth: int) -> np.ndarray:
    """theta_l, l = 0 .. depth, of two orthogonal inputs (the stable numeric map)."""
    from .evaluate import numeric_maps

    _, theta, _ = numeric_maps(arch).iterate(math.pi / 2, depth)
    return theta[:, 0]


def exact_series(arch: Architecture | str, depths=ACCURACY_DEPTHS, block: int | None = 0) -> dict:
    """log of the exact infinite-width kappa1, kappa2 (all weights) and of block ``block``'s and the
    last block's shares, at each depth of ``depths``: {L: {"kappa1", "kappa2", "block1", "block2",
    "last1", "last2", "log_q", "cos_theta"}} (natural logs; kappa2 and the pair shares may be None
    where they are not positive)."""
    arch = get_architecture(arch)
    depths = sorted(int(d) for d in depths)
    if depths[0] < 1:
        raise AnglefishError("depths must be >= 1")
    maps = _normalised(arch)
    top = depths[-1]
    theta = _angles(arch, top)
    ls = np.arange(top, dtype=float)
    a1, t1 = maps.a_single(ls), maps.t_single(ls)
    a2, t2 = maps.a_pair(theta[:-1], ls), maps.t_pair(theta[:-1], ls)
    log_q = maps.log_q(np.arange(top + 1, dtype=float))
    out = {}
    s1 = s2 = 0.0
    blk1 = blk2 = None
    wanted = set(depths)
    for L in range(1, top + 1):
        l = L - 1
        s1 = a1[l] * s1 + t1[l]
        s2 = a2[l] * s2 + t2[l]
        if block is not None:
            if l == block:
                blk1, blk2 = t1[l], t2[l]
            elif l > block:
                blk1, blk2 = blk1 * a1[l], blk2 * a2[l]
        if L in wanted:
            c = math.cos(theta[L])
            lq = float(log_q[L])
            logs = lambda v: (lq + math.log(v)) if v is not None and v > 0 else None
            out[L] = {"log_q": lq, "cos_theta": c, "kappa1": logs(1.0 + s1), "kappa2": logs(c + s2),
                      "block1": logs(blk1) if block is not None and L > block else None,
                      "block2": logs(blk2) if block is not None and L > block else None,
                      "last1": logs(t1[l]), "last2": logs(t2[l])}
    return out


# ----------------------------------------------------------------- corrected forms
def _two_term(expr: sp.Expr) -> sp.Expr | None:
    """Leading term plus the next one of a closed form as L -> oo (None if SymPy cannot tell)."""
    from .asymptotics import leading_scale

    try:
        first = leading_scale(expr).leading()
        rest = sp.simplify(expr - first)
        if rest == 0:
            return first
        second = leading_scale(rest).leading()
    except (AnglefishError, ValueError, TypeError, NotImplementedError):
        return None
    return sp.simplify(first + second)


@lru_cache(maxsize=None)
def _angle_law_corrected(arch: Architecture):
    """theta(l) of the derived *corrected* logarithmic angle law at theta0 = pi/2 (mpmath callable),
    or None when the angle law is not logarithmic."""
    from .asymptotics import THETA0, depth_law

    law = depth_law(arch)
    if law.law_class != "logarithmic" or law.corrected is None:
        return None
    expr = law.corrected.subs(THETA0, sp.pi / 2)
    return sp.lambdify(BLOCK_INDEX, expr, "math")


def continuum_kappa2(arch: Architecture | str, depth: int) -> float | None:
    """The continuum law of kappa2 (module docstring) at ``depth``, or None when the angle law is not
    logarithmic (the leading law then converges like log L / L and needs no correction).  Integrals
    by scipy's adaptive quadrature on log-spaced pieces (relative accuracy ~1e-8)."""
    from scipy.integrate import quad

    arch = get_architecture(arch)
    theta = _angle_law_corrected(arch)
    if theta is None:
        return None
    maps = _normalised(arch)
    L = int(depth)
    upper = L - 0.5

    def th(l):
        # the law is for large l; below l = 1 take its value at 1 (the first blocks weigh little)
        return min(math.pi / 2, theta(max(l, 1.0)))

    def log_b(l):
        return math.log(maps.pair_B(th(l), l))

    # breakpoints: -1/2, then log-spaced up to L - 1/2; cumulative int of log B from each to the top
    points = np.unique(np.concatenate([[-0.5], np.geomspace(0.5, upper, 60), [upper]]))
    points = points[(points >= -0.5) & (points <= upper)]
    pieces = [quad(log_b, a, b, limit=200)[0] for a, b in zip(points[:-1], points[1:])]
    tail = np.concatenate([np.cumsum(pieces[::-1])[::-1], [0.0]])  # tail[i] = int_{points[i]}^{upper}

    def log_r(l):
        x = l + 0.5
        if x >= upper:
            return 0.0
        i = int(np.searchsorted(points, x, side="right")) - 1
        return tail[i + 1] + quad(log_b, x, points[i + 1], limit=200)[0]

    body = sum(quad(lambda l: maps.pair_T(th(l), l) * math.exp(log_r(l)), a, b, limit=200)[0]
               for a, b in zip(points[:-1], points[1:]))
    return float(maps.pop(L) * math.cos(th(L)) + body)


# ----------------------------------------------------------------- accuracy of the laws
def _log_value(leading: str, depth: int, samples: int):
    """log of a law (a fisher_law 'leading' string in L and T) at a depth; None if not positive."""
    from .ntk import SAMPLES

    expr = sp.sympify(leading, locals={"L": DEPTH, "T": SAMPLES}).subs({DEPTH: depth, SAMPLES: samples})
    if expr.free_symbols:
        return None
    with mpmath.workdps(30):
        v = mpmath.mpf(sp.N(expr, 30)._to_mpmath(mpmath.mp.prec))
        return float(mpmath.log(v)) if v > 0 else None


def _ratio(log_exact, log_law):
    if log_exact is None or log_law is None:
        return None
    return float(math.exp(log_exact - log_law))


def _lam_log(k1, k2, samples):
    """log of (kappa1 + (T-1) kappa2)/T from logs (kappa2 may be None: then None)."""
    if k1 is None or k2 is None:
        return None
    return float(np.logaddexp(k1, math.log(samples - 1) + k2) - math.log(samples)) if samples > 1 else k1


def law_accuracy(arch: Architecture | str, params: str = "all", depths=ACCURACY_DEPTHS, samples: int = 8,
                 law: dict | None = None) -> dict:
    """exact / law for each law of ``fisher_law(arch, params)`` at ``depths`` (T = ``samples`` for
    lambda_max and eta_max), the convergence verdict of each (converged within 2% at the deepest
    depth, or logarithmically slow with its corrected form and that form's remaining error), and the
    exact finite-L closed form of kappa1 where one exists."""
    from .asymptotics import depth_law
    from .fisher_laws import fisher_law
    from .ntk import ntk_recursion, parse_params

    arch = get_architecture(arch)
    law = law if law is not None else fisher_law(arch, params)
    kind, k = parse_params(params)
    depths = sorted(int(d) for d in depths)
    try:
        series = exact_series(arch, depths, block=k if kind in ("block", "first") else 0)
    except AnglefishError as err:
        return {"available": False, "reason": str(err)}
    rec = ntk_recursion(arch)
    slow = depth_law(arch).law_class == "logarithmic"
    n_w = rec.weight_matrices

    def exact_logs(L):
        e = series[L]
        if kind == "all":
            k1, k2 = e["kappa1"], e["kappa2"]
        elif kind == "readout":
            k1, k2 = e["log_q"], e["log_q"] + math.log(e["cos_theta"]) if e["cos_theta"] > 0 else None
        elif kind == "last":
            k1, k2 = e["last1"], e["last2"]
        else:
            k1, k2 = e["block1"], e["block2"]
        lam = _lam_log(k1, k2, samples)
        if kind == "all":
            mean = None if k1 is None else k1 - math.log(n_w * L)
        elif kind == "readout":
            mean = k1
        else:
            mean = None if k1 is None else k1 - math.log(n_w)
        eta = None if lam is None else math.log(2.0) - lam
        return {"kappa1": k1, "kappa2": k2, "lambda_max": lam, "mean_eigenvalue": mean, "eta_max": eta}

    entries = {"kappa1": law["kappa1"], "kappa2": law["kappa2"], "lambda_max": law,
               "mean_eigenvalue": law["mean_eigenvalue"], "eta_max": law["eta_max"]}
    exact = {L: exact_logs(L) for L in depths}
    for L in depths:  # the lambda_max law assumes 0 <= kappa2 <= kappa1 (K is a Gram matrix)
        k1, k2 = exact[L]["kappa1"], exact[L]["kappa2"]
        if k1 is not None and k2 is not None and k2 > k1 + 1e-12:
            raise AnglefishError(f"{arch.name}: kappa2 > kappa1 at L = {L}; the lambda_max law assumes "
                                 "0 <= kappa2 <= kappa1")
    out = {"depths": depths, "samples_T": samples, "params": params, "laws": {}}
    for name, entry in entries.items():
        leading = entry.get("leading")
        ratios = {str(L): (_ratio(exact[L][name], _log_value(leading, L, samples)) if leading else None)
                  for L in depths}
        last = ratios[str(depths[-1])]
        uses_log = leading is not None and "log" in leading
        if last is None:
            status = "no law derived" if not leading else "not evaluated"
        elif abs(last - 1) <= CONVERGED_WITHIN:
            status = f"converged: within {100 * CONVERGED_WITHIN:g}% at L = {depths[-1]}"
        elif slow or uses_log:
            status = "logarithmically slow: exact/law - 1 shrinks like 1/log L"
        else:
            status = f"not within {100 * CONVERGED_WITHIN:g}% at L = {depths[-1]}"
        out["laws"][name] = {"leading": leading, "exact_over_leading": ratios, "convergence": status}
    # kappa1: the exact closed form and its two-term expansion
    closed = None
    if kind == "all":
        closed = rec.kappa1
    elif kind in ("block", "first") and rec.block_term_single is not None:
        closed = sp.simplify(rec.block_term_single.subs(BLOCK_INDEX, k))
    elif kind == "last" and rec.block_term_single is not None:
        closed = sp.simplify(rec.block_term_single.subs(BLOCK_INDEX, DEPTH - 1))
    elif kind == "readout":
        closed = sp.simplify(rec.population.subs(BLOCK_INDEX, DEPTH)) if rec.population is not None else None
    k1 = out["laws"]["kappa1"]
    k1["closed_form"] = None if closed is None else sp.sstr(closed)
    if closed is not None:
        two = _two_term(closed)
        if two is not None and sp.simplify(two - sp.sympify(law["kappa1"]["leading"], locals={"L": DEPTH})) != 0:
            k1["corrected"] = sp.sstr(two)
            k1["exact_over_corrected"] = {str(L): _ratio(exact[L]["kappa1"], _log_value(sp.sstr(two), L, samples))
                                         for L in depths}
            # N m_lambda is kappa1 over a known count of weights: the same correction, the same ratios
            mean = out["laws"]["mean_eigenvalue"]
            mean["corrected"] = f"kappa1 corrected ({k1['corrected']}) over the weight count, as the leading law"
            mean["exact_over_corrected"] = dict(k1["exact_over_corrected"])
    # kappa2, lambda_max, eta_max: the continuum law when the angle decays logarithmically
    if kind == "all" and slow:
        cont = {L: continuum_kappa2(arch, L) for L in depths}
        log_k2c = {L: (math.log(v) if v is not None and v > 0 else None) for L, v in cont.items()}
        k2 = out["laws"]["kappa2"]
        k2["corrected"] = ("continuum law: q_L cos theta(L) + int Tc(theta(l), l) R(l) dl, theta(l) the "
                           "corrected angle law at theta0 = pi/2 (module anglefish.theory.accuracy)")
        k2["corrected_values"] = {str(L): (None if v is None else float(v)) for L, v in cont.items()}
        k2["exact_over_corrected"] = {str(L): _ratio(exact[L]["kappa2"], log_k2c[L]) for L in depths}
        corr1 = {L: _log_value(k1["corrected"], L, samples) if "corrected" in k1 else exact[L]["kappa1"]
                 for L in depths}
        lam_c = {L: _lam_log(corr1[L], log_k2c[L], samples) for L in depths}
        out["laws"]["lambda_max"]["corrected"] = "(kappa1 corrected + (T - 1) kappa2 continuum) / T"
        out["laws"]["lambda_max"]["exact_over_corrected"] = {
            str(L): _ratio(exact[L]["lambda_max"], lam_c[L]) for L in depths}
        out["laws"]["eta_max"]["corrected"] = "2 / lambda_max corrected"
        out["laws"]["eta_max"]["exact_over_corrected"] = {
            str(L): (None if lam_c[L] is None or exact[L]["eta_max"] is None else
                     float(math.exp(exact[L]["eta_max"] - (math.log(2.0) - lam_c[L])))) for L in depths}
    out["note"] = ("exact = the infinite-width recursion iterated to each depth (theory.accuracy.exact_series); "
                   "leading laws without log L converge like (log L)/L, laws with log L (or built on a "
                   "logarithmic angle law) like 1/log L")
    return out


__all__ = ["ACCURACY_DEPTHS", "CONVERGED_WITHIN", "continuum_kappa2", "exact_series", "law_accuracy"]
