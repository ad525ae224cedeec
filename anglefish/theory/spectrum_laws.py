"""Large-L laws of the Fisher spectrum's moments and bounds (from the growth laws of kappa1 and
kappa2, :mod:`anglefish.theory.fisher_laws`); the conventions are those of :mod:`.spectrum`."""
from __future__ import annotations

import sympy as sp

from .architectures import get_architecture
from .asymptotics import GrowthLaw, leading_scale
from .blocks import DEPTH
from .fisher_laws import fisher_law
from .ntk import SAMPLES, parse_params
from .spectrum import (
    KAPPA1,
    KAPPA2,
    NPARAMS,
    _n_weight,
    normalise_selection,
    spectrum_symbolic,
)


def _scale_of(entry: dict | None) -> GrowthLaw | None:
    if not entry or entry.get("scale") is None:
        return None
    loc = {"L": DEPTH, "T": SAMPLES}
    d = entry["scale"]
    return GrowthLaw(*(sp.sympify(d[key], locals=loc) for key in ("base", "power", "log_power", "coefficient")))


def _square(s: GrowthLaw) -> GrowthLaw:
    return GrowthLaw(sp.simplify(s.base**2), 2 * s.power, 2 * s.log_power, sp.simplify(s.coefficient**2))


def spectrum_law(arch, params: str = "all") -> dict:
    """The large-L law of s_lambda (N -> oo first) and of the concentration s / (P m^2).

    s_lambda = [kappa1^2 + (T-1) kappa2^2] / (T n_W L) (all weights; P = n_W L N^2 + N),
    / (T n_W) (one block), and N [kappa1^2 + (T-1) kappa2^2] / T for the readout; the laws of
    kappa1, kappa2 are those of :func:`anglefish.theory.ntk.fisher_law`."""
    arch = get_architecture(arch)
    params = normalise_selection(params)
    kind, k = parse_params(params)
    law = fisher_law(arch, params)
    s1, s2 = _scale_of(law["kappa1"]), _scale_of(law["kappa2"])
    T = SAMPLES
    sq1 = _square(s1)
    steps = [f"kappa1 ~ {sp.sstr(s1.leading())}, kappa2 ~ " +
             (sp.sstr(s2.leading()) if s2 is not None else "not derived")]
    if s2 is None:
        c = sp.Symbol("c_T", positive=True)
        q = GrowthLaw(sq1.base, sq1.power, sq1.log_power, c)
        steps.append(f"kappa1^2 + (T-1) kappa2^2: 0 <= kappa2 <= kappa1 gives c_T between "
                     f"{sp.sstr(sq1.coefficient)} and {sp.sstr(T * sq1.coefficient)}")
    elif s2.coefficient == 0 or s1.compare(s2) > 0:
        q = sq1
        steps.append("kappa2 = o(kappa1): kappa1^2 + (T-1) kappa2^2 ~ kappa1^2 (at fixed T)")
    else:
        q = GrowthLaw(sq1.base, sq1.power, sq1.log_power,
                  sp.factor(sp.simplify(sq1.coefficient + (T - 1) * s2.coefficient**2)))
        steps.append("kappa1, kappa2 of the same order: kappa1^2 + (T-1) kappa2^2 ~ "
                     f"{sp.sstr(q.leading())}")
    n_w = _n_weight(arch)
    if kind == "all":
        s = GrowthLaw(q.base, q.power - 1, q.log_power, sp.simplify(q.coefficient / (T * n_w)))
        what = "s_lambda (N -> oo; P = n_W L N^2 + N)"
    elif kind == "readout":
        s = GrowthLaw(q.base, q.power, q.log_power, sp.simplify(q.coefficient / T))
        what = "s_lambda / N (readout: P = N)"
    else:
        s = GrowthLaw(q.base, q.power, q.log_power, sp.simplify(q.coefficient / (T * n_w)))
        what = f"s_lambda (N -> oo; P = {n_w} N^2)"
    steps.append(f"{what} ~ {sp.sstr(s.leading())}")
    conc = leading_scale(q.leading() / (T * s1.leading() ** 2)) if not q.leading().has(sp.Symbol("c_T")) else None
    return {"architecture": arch.name, "params": params, "quantity": what, "class": s.law_class,
            "leading": sp.sstr(s.leading()), "scale": s.as_dict(),
            "concentration": None if conc is None else {"class": conc.law_class, "leading": sp.sstr(conc.leading())},
            "steps": steps}


def spectrum_symbolic_text(arch, params: str = "all", law: bool = False) -> dict:
    """JSON-ready strings of :func:`spectrum_symbolic` (for ``derive --fisher``): the moments in
    the order parameters and in L (closed forms substituted where they exist), each bound with its
    inequality and kind; with ``law`` also :func:`spectrum_law` and :func:`bounds_law`."""
    sym = spectrum_symbolic(arch, params)
    out = {"architecture": sym["architecture"], "params": sym["params"], "P": sp.sstr(sym["P"]),
           "m_lambda": sp.sstr(sym["m_lambda"]), "s_lambda": sp.sstr(sym["s_lambda"]),
           "s_lambda_finite_width": sp.sstr(sym["s_lambda_finite"]), "lambda_max": sp.sstr(sym["lambda_max"]),
           "concentration": sp.sstr(sym["concentration"]),
           "in_L": {k: sp.sstr(v) for k, v in sym["in_L"].items()},
           "kappa1_closed": None if sym["kappa1_closed"] is None else sp.sstr(sym["kappa1_closed"]),
           "kappa2_closed": None if sym["kappa2_closed"] is None else sp.sstr(sym["kappa2_closed"]),
           "bounds": {name: {"expression": sp.sstr(e), "inequality": ineq, "kind": kind}
                      for name, (e, ineq, kind) in sym["bounds"].items()},
           "symbols": "kappa_1, kappa_2: K_tt/N, K_st/N as N -> oo; P: number of weights in the selection; "
                      "omega_1, omega_2: E K_tt^2 = N^2 kappa_1^2 + N omega_1, E K_st^2 = N^2 kappa_2^2 + N omega_2"}
    if law:
        out["law"] = spectrum_law(arch, params)
        out["bounds_law"] = bounds_law(arch, params)
    return out


def bounds_law(arch, params: str = "all") -> dict:
    """What the bounds alone say about the depth law of lambda_max / N (N -> oo): the lower bound
    max_t K_tt / T = N kappa1 / T and the upper bound tr F = N kappa1 have the depth law of kappa1,
    so lambda_max / N has the class of kappa1 for every T -- without kappa2, i.e. without the pair
    kernel or its (harder) large-L law.  The factor between the bounds is T, independent of L."""
    arch = get_architecture(arch)
    params = normalise_selection(params)
    law = fisher_law(arch, params)
    s1 = _scale_of(law["kappa1"])
    T = SAMPLES
    lower = GrowthLaw(s1.base, s1.power, s1.log_power, sp.simplify(s1.coefficient / T))
    return {"architecture": arch.name, "params": params, "quantity": "lambda_max / N (N -> oo, T inputs)",
            "lower": sp.sstr(lower.leading()), "upper": sp.sstr(s1.leading()), "class": s1.law_class,
            "lambda_max_class": law["class"], "follows_from_bounds": s1.law_class == law["class"],
            "reason": "N kappa1 / T = max_t K_tt / T <= lambda_max <= tr F = N kappa1; both bounds have kappa1's law"}


__all__ = ["Bound", "INEQUALITIES", "bounds_law", "spectrum_symbolic_text", "KAPPA1", "KAPPA2", "NPARAMS", "OMEGA1", "OMEGA2", "SELECTIONS",
           "backward_fluctuations", "bulk_edge", "derivative_moments", "first_block_kappa2_vanishes",
           "input_driven_terms", "normalise_selection", "selection", "selection_kernel", "selection_subset", "spectrum_law",
           "spectrum_symbolic", "spectrum_theory", "theory_bounds"]


__all__ = ["bounds_law", "spectrum_law", "spectrum_symbolic_text"]
