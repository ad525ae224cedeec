"""Large-depth laws of the NTK order parameters and of the Fisher spectrum: kappa1 from its closed
form, kappa2 from the angle law and two series at theta = 0, then lambda_max / N, N m_lambda and
eta_max as growth laws base^L L^p (log L)^s (:class:`~.asymptotics.GrowthLaw`).  Every law carries
its accuracy at finite depth (:mod:`.accuracy`).  Convention: :mod:`anglefish.theory.ntk`."""
from __future__ import annotations

from dataclasses import dataclass

import mpmath
import sympy as sp

from ..errors import AnglefishError
from .activations import THETA
from .architectures import Architecture, get_architecture
from .asymptotics import _LAW_X as _X
from .asymptotics import ZERO_GROWTH, GrowthLaw, depth_law, leading_scale, sum_leading
from .blocks import BLOCK_INDEX, DEPTH
from .cache import memoize
from .ntk import DEFAULT_DPS, SAMPLES, ntk_recursion, parse_params

_LC = sp.Symbol("L", positive=True)

@dataclass(frozen=True)
class _PairAsymptotics:
    """The ingredients of the large-L law of the pair (kappa2)."""

    angle_law: sp.Expr  # Lambda(l): theta_l ~ Lambda(l)
    angle_class: str
    c: sp.Expr  # theta_{l+1} = theta_l - c(l) theta_l^2 + ...
    a: sp.Expr  # B(theta, l)/B0(l) = 1 - a(l) theta + ...
    nu: sp.Expr  # a / c (constant)
    local_limit: sp.Expr  # lim_{theta->0} Tc(theta, l)/Tc0(l)


@memoize(disk=True)
def _pair_asymptotics(arch: Architecture) -> _PairAsymptotics:
    rec = ntk_recursion(arch)
    if rec.backward_factor_pair is None:
        raise AnglefishError(f"{arch.name}: the population moment has no closed form; no depth law")
    law = depth_law(arch)
    if law.law_class not in ("power", "logarithmic"):
        raise AnglefishError(f"{arch.name}: the angle law is '{law.law_class}'; the kappa2 law is "
                             "derived only for angles that decay like a power or a logarithm")
    c = sp.simplify(-law.angle_series.coeff(THETA, 2))
    ratio = sp.simplify(rec.backward_factor_pair / rec.backward_factor_single)
    ser = sp.expand(sp.series(ratio, THETA, 0, 2).removeO())
    if sp.simplify(ser.coeff(THETA, 0) - 1) != 0:
        raise AnglefishError(f"{arch.name}: the pair's backward factor does not tend to the single one")
    a = sp.simplify(-ser.coeff(THETA, 1))
    nu = sp.simplify(a / c)
    if BLOCK_INDEX in nu.free_symbols or not (nu.is_positive):
        raise AnglefishError(f"{arch.name}: a(l)/c(l) = {sp.sstr(nu)} is not a positive constant; "
                             "no kappa2 law derived")
    local = sp.simplify(sp.limit(rec.contribution_pair / rec.contribution_single, THETA, 0))
    if local != 1:
        raise AnglefishError(f"{arch.name}: the pair's block share does not tend to the single one")
    return _PairAsymptotics(law.leading, law.law_class, c, a, nu, local)


@memoize(disk=True)
def _kappa_laws(arch: Architecture, kind: str, k: int | None):
    """(kappa1 closed form, kappa1 Scale, kappa2 Scale or None, derivation steps)."""
    rec = ntk_recursion(arch)
    if rec.block_term_single is None or rec.kappa1 is None:
        raise AnglefishError(f"{arch.name}: kappa1 has no closed form in L (population moment or "
                             "block sum not solved); no depth law")
    l, L = BLOCK_INDEX, DEPTH
    T1 = rec.block_term_single
    qL = sp.simplify(rec.population.subs(l, L))
    steps = [
        f"forward (one input, q^0 = 1): q_l = {sp.sstr(rec.population)}",
        f"backward (one input): p_in = B0(l) p_out with B0(l) = {sp.sstr(rec.backward_factor_single)}; "
        f"p^l = prod_(j=l)^(L-1) B0(j) = {sp.sstr(rec.backward_single)}",
        f"block l's share of kappa1: T1(l, L) = Tc0(l) p^(l+1) = {sp.sstr(rec.contribution_single)} * "
        f"p^(l+1) = {sp.sstr(T1)}",
    ]
    if kind == "all":
        kappa1 = rec.kappa1
        what = "kappa1 = q^L + sum_(l<L) T1(l, L)"
    elif kind == "readout":
        kappa1, what = qL, "readout: kappa1 = q^L"
    elif kind == "last":
        kappa1, what = sp.simplify(T1.subs(l, L - 1)), "last block (K = L-1): kappa1 = T1(L-1, L)"
    else:
        kappa1, what = sp.simplify(T1.subs(l, k)), f"block K = {k} held fixed: kappa1 = T1({k}, L)"
    s1 = leading_scale(kappa1)
    steps.append(f"{what} = {sp.sstr(kappa1)}  ~  {sp.sstr(s1.leading())}")
    if kind == "all" and rec.kappa2 is not None:
        s2 = leading_scale(rec.kappa2)
        steps.append(f"kappa2 in closed form: {sp.sstr(rec.kappa2)}  ~  {sp.sstr(s2.leading())}")
        return kappa1, s1, s2, steps
    try:
        pa = _pair_asymptotics(arch)
    except AnglefishError as err:
        steps.append(f"kappa2: no large-L law derived ({err})")
        return kappa1, s1, None, steps
    steps += [
        f"angle (orthogonal inputs): theta_(l+1) = theta_l - c(l) theta_l^2 + ..., c(l) = {sp.sstr(pa.c)}; "
        f"theta_l ~ {sp.sstr(pa.angle_law)} ({pa.angle_class}, from depth_law)",
        f"pair backward: B(theta, l)/B0(l) = 1 - a(l) theta + O(theta^2), a(l) = {sp.sstr(pa.a)}; "
        f"nu = a/c = {sp.sstr(pa.nu)}, so prod_(j=l+1)^(L-1) B/B0 = C_l (theta_L/theta_(l+1))^nu "
        "with C_l -> 1 as l -> oo (the O(theta^2) remainders are summable)",
        "pair block share: Tc(theta, l)/Tc0(l) -> 1 as theta -> 0, so block l's share of kappa2 is "
        "T2(l, L) = T1(l, L) (theta_L/theta_l)^nu (1 + o(1)) for large l",
    ]
    Lam = lambda v: pa.angle_law.subs(l, v)
    if kind == "all":
        summand = leading_scale(T1.subs(L, _LC).subs(l, _X) * Lam(_X) ** (-pa.nu), _X)
        total = sum_leading(summand)
        if total is None:
            steps.append("kappa2: the sum over blocks converges, so its law depends on the first blocks "
                         "(where theta is not small); no law derived")
            return kappa1, s1, None, steps
        s2 = leading_scale((qL.subs(L, _LC) + Lam(_LC) ** pa.nu * total).subs(_LC, L))
        steps.append(
            f"kappa2 = q^L cos theta_L + sum_l T2(l, L) ~ q^L + Lambda(L)^nu sum_l T1(l, L) Lambda(l)^(-nu); "
            f"the summand ~ {sp.sstr(summand.leading(l))}, the sum ~ {sp.sstr(total.subs(_LC, L))} "
            f"(a divergent sum is dominated by large l, where the approximations hold); "
            f"kappa2 ~ {sp.sstr(s2.leading())}")
    elif kind in ("readout", "last"):
        s2 = s1
        steps.append("kappa2 = kappa1 (1 + o(1)): the pair's share at the readout / last block differs "
                     "from the single input's by a factor that tends to 1 as theta_L -> 0")
    else:
        head = None  # Tc(theta_K, K) at the exact input angle is known in closed form for K = 0
        if k == 0:
            head = sp.simplify(rec.contribution_pair.subs(l, 0).subs(THETA, sp.pi / 2))
        if head == 0:
            s2 = ZERO_GROWTH
            steps.append("kappa2 = 0 exactly: block 0's weights see the orthogonal inputs (Tc(pi/2, 0) = 0)")
        else:
            ck = sp.Symbol(f"C_{k}", positive=True)
            s2 = leading_scale(ck * kappa1 * Lam(L) ** pa.nu)
            steps.append(f"kappa2 = Tc(theta_{k}, {k}) p^({k}+1)_pair ~ C_{k} T1({k}, L) theta_L^nu = "
                         f"{sp.sstr(s2.leading())} with a trajectory constant C_{k} > 0")
    return kappa1, s1, s2, steps


def _law_dict(scale: GrowthLaw, what: str) -> dict:
    return {"quantity": what, "class": scale.law_class, "leading": sp.sstr(scale.leading()),
            "scale": scale.as_dict()}


@memoize(disk=True)
def _fisher_law(arch: Architecture, params: str) -> dict:
    kind, k = parse_params(params)
    if kind == "first":
        kind, k = "block", 0
    rec = ntk_recursion(arch)
    kappa1, s1, s2, steps = _kappa_laws(arch, kind, k)
    steps = list(steps)
    T = SAMPLES
    if s2 is not None and s1.compare(s2) < 0:
        raise AnglefishError(f"{arch.name}: kappa2 grows faster than kappa1, impossible for a Gram matrix")
    if s2 is None:
        c = sp.Symbol("c_T", positive=True)
        lam = GrowthLaw(s1.base, s1.power, s1.log_power, c)
        how = (f"without a kappa2 law only the class is known; c_T lies between {sp.sstr(s1.coefficient / T)} "
               f"and {sp.sstr(s1.coefficient)}")
    elif s2.coefficient == 0 or s1.compare(s2) > 0:
        lam = GrowthLaw(s1.base, s1.power, s1.log_power, sp.simplify(s1.coefficient / T))
        how = "kappa2 = o(kappa1), so lambda_max/N ~ kappa1/T"
    else:
        coeff = sp.factor(sp.simplify(s1.coefficient / T + (T - 1) / T * s2.coefficient))
        lam = GrowthLaw(s1.base, s1.power, s1.log_power, coeff)
        how = "kappa1 and kappa2 have the same order, so lambda_max/N ~ (lead kappa1 + (T-1) lead kappa2)/T"
    steps.append(f"lambda_max/N = kappa1/T + (T-1)/T kappa2 (orthogonal inputs, kappa2 >= 0); {how}: "
                 f"{sp.sstr(lam.leading())}")
    steps.append("class without the kappa2 law: 0 <= kappa2 <= kappa1 (K is a Gram matrix, so "
                 "kappa2 <= kappa1; kappa2 >= 0 is checked at the accuracy depths), hence "
                 "kappa1/T <= lambda_max/N <= kappa1 and lambda_max/N has the class of kappa1 "
                 f"({s1.law_class}) for every fixed T")
    n_w = rec.weight_matrices
    if kind == "all":
        mean = GrowthLaw(s1.base, s1.power - 1, s1.log_power, sp.simplify(s1.coefficient / n_w))
        mean_q = "N * m_lambda (N -> oo; P = L n_W N^2 + N)"
        steps.append(f"m_lambda = N kappa1 / P with P = {n_w} L N^2 + N: N m_lambda -> kappa1 / ({n_w} L) ~ "
                     f"{sp.sstr(mean.leading())}")
    elif kind == "readout":
        mean = s1
        mean_q = "m_lambda (P = N: the readout block's mean eigenvalue is kappa1 = q^L, not O(1/N))"
        steps.append(f"readout block: P = N, m_lambda = kappa1 = q^L ~ {sp.sstr(mean.leading())}")
    else:
        mean = GrowthLaw(s1.base, s1.power, s1.log_power, sp.simplify(s1.coefficient / n_w))
        mean_q = f"N * m_lambda (P = {n_w} N^2)"
        steps.append(f"one block: P = {n_w} N^2, N m_lambda = kappa1 / {n_w} ~ {sp.sstr(mean.leading())}")
    eta = GrowthLaw(sp.simplify(1 / lam.base), -lam.power, -lam.log_power, sp.simplify(2 / lam.coefficient))
    steps.append(f"eta_max = 2 / lambda_max: N eta_max ~ {sp.sstr(eta.leading())}")
    reading = {"all": "all weights", "readout": "the readout v only",
               "last": "the weights of the last block, K = L - 1, as L grows",
               "block": f"the weights of block K = {k}, held fixed as L grows"}[kind]
    return {
        "architecture": arch.name, "params": params, "reading": reading,
        "quantity": "lambda_max / N (N -> oo, T inputs)",
        "class": lam.law_class, "leading": sp.sstr(lam.leading()), "scale": lam.as_dict(),
        "kappa1": {**_law_dict(s1, "kappa1"), "closed_form": sp.sstr(kappa1)},
        "kappa2": {**(_law_dict(s2, "kappa2") if s2 is not None else
                      {"quantity": "kappa2", "class": "not derived", "leading": None, "scale": None}),
                   "closed_form": None, "note": rec.kappa2_note},
        "mean_eigenvalue": _law_dict(mean, mean_q),
        "eta_max": _law_dict(eta, "N * eta_max"),
        "steps": steps,
        "bounds": "kappa1/T <= lambda_max/N <= kappa1",
    }


def fisher_law(arch: Architecture | str, params: str = "all") -> dict:
    """The large-L law of lambda_max / N (and of kappa1, kappa2, m_lambda, eta_max).

    ``params``: 'all'; 'layer:first' (block 0), 'layer:K' (block K held fixed as L grows);
    'layer:last' (block L-1, moving with L); 'layer:readout' (v).  Keys: ``class``
    ('constant', 'logarithmic', 'linear', 'L log L', 'power', 'exponential', 'decaying', ...),
    ``leading`` (SymPy string in L and T = number of inputs), ``scale`` (base^L L^power
    (log L)^log_power times coefficient), the laws of ``kappa1``, ``kappa2``,
    ``mean_eigenvalue`` and ``eta_max``, and the derivation ``steps``.
    """
    arch = get_architecture(arch)
    parse_params(params)
    return _fisher_law_with_accuracy(arch, params)


@memoize(disk=True)
def _fisher_law_with_accuracy(arch: Architecture, params: str) -> dict:
    from .accuracy import law_accuracy

    law = _fisher_law(arch, params)
    return {**law, "accuracy": law_accuracy(arch, params, law=law)}


def law_value(law_entry: dict, depth: int, samples: int | None = None, dps: int = DEFAULT_DPS):
    """A law's leading expression (a ``fisher_law`` entry) at a depth (and T), as an mpmath
    number (no float overflow for exponential laws)."""
    expr = sp.sympify(law_entry["leading"], locals={"L": DEPTH, "T": SAMPLES})
    sub = {DEPTH: depth}
    if samples is not None:
        sub[SAMPLES] = samples
    value = expr.subs(sub)
    if value.free_symbols:
        raise AnglefishError(f"the law {law_entry['leading']} has free symbols "
                             f"{sorted(map(str, value.free_symbols))} at L = {depth}")
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(value, dps)._to_mpmath(mpmath.mp.prec))


__all__ = ["fisher_law", "law_value"]
