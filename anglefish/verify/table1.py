"""Corollary 8 / Table 1 of Furusho & Ikeda (ACML 2019), adjudicated.

The paper assumes arccos psi(theta) ~ a theta with a constant 0 < a < 1 near 0 and
states, for the angle after L blocks:

    MLP        theta_L  ~=  a^L theta0              ("exponential decrease")
    ResNet     theta_L  >~  ((1 + a)/2)^L theta0    ("sub-exponential")
    ResNet+BN  theta_L  >~  2 theta0 / (L + 2)       ("reciprocal")

Here the claimed formulas are data (facts from the paper); everything they are held
against is computed: the assumption is tested on the derived ReLU map, each claimed
formula is classified by its own limit, and compared with the derived depth law
(``theory.asymptotics``) and with the iterated exact map on a grid of (L, theta0).

Rules (vocabulary of :mod:`anglefish.verify.verdicts`).  The primary reading of a row is the
printed formula read literally: "~=" as the law of theta_L (its decay class must be the derived
one); ">~" as the inequality theta_L >= bound for every depth L >= 1 and every theta0 in (0, pi]
together with the paper's word for the decrease.  For the constant a, the most favourable
admissible value is used: the smallest a with arccos psi(theta) >= a theta on (0, pi] (a = 1/2),
which makes a lower bound weakest.

* "~=" row: ``holds`` if the derived class (and rate) is the claimed one, else ``fails``.
* ">~" row: any violation on the grid makes it ``holds only if`` (the condition is the region of
  the grid where it holds, the counterexample the worst violating point) when the bound holds
  at large depth, and ``fails`` when it is violated at the largest depths checked; with no
  violation it ``holds`` if the derived decay has the claimed class, ``holds with another rate``
  (the true law given) if the truth decays more slowly than the claimed class, and ``fails``
  otherwise.
* Other readings, reported beside the primary one and never promoted: the inequality with the
  effective a(theta0) = arccos psi(theta0)/theta0 of the starting angle, and the printed formula
  read as the law of theta_L.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ..theory.activations import THETA
from ..theory.architectures import Architecture, get_architecture
from ..theory.asymptotics import THETA0, depth_law
from ..theory.blocks import BLOCK_INDEX, Dense, ReLU, Serial
from ..theory.evaluate import numeric_maps
from ..theory.recursion import derive_maps
from .verdicts import Reading, claim_result

A = sp.Symbol("a", positive=True)
L = sp.Symbol("L", positive=True)

SOURCE = "Furusho & Ikeda, ACML 2019, Corollary 8 / Table 1"
#: starting angles and depth range on which the claimed bounds are checked
BOUND_THETA0 = tuple(np.linspace(0.05, np.pi, 24).tolist())
BOUND_MAX_DEPTH = 10_000

# The block whose map is the paper's arccos psi: one He-initialised ReLU layer.
_PSI_BLOCK = Architecture("acml-relu-layer", Serial(Dense(2), ReLU()), description="arccos psi")


@dataclass(frozen=True)
class Table1Row:
    architecture: str
    statement: str
    claimed_law: sp.Expr  # in L, theta0 and a
    relation: str  # "approximately" or "lower bound"
    paper_word: str


TABLE1 = (
    Table1Row("mlp", "theta_L ~= a^L theta0 (exponential decrease)", A**L * THETA0,
              "approximately", "exponential"),
    Table1Row("resnet", "theta_L >~ ((1+a)/2)^L theta0 (sub-exponential)", ((1 + A) / 2) ** L * THETA0,
              "lower bound", "sub-exponential"),
    Table1Row("resnet-bn", "theta_L >~ 2 theta0/(L+2) (reciprocal)", 2 * THETA0 / (L + 2),
              "lower bound", "reciprocal"),
)
_ROWS = {row.architecture: row for row in TABLE1}

_DECAY_RANK = {"super-exponential": 0, "exponential": 1, "power": 2, "logarithmic": 3, "not decaying": 4}


@lru_cache(maxsize=None)
def assumption_check() -> dict:
    """Test 'arccos psi(theta) ~ a theta with a constant 0 < a < 1 near 0' symbolically."""
    C = derive_maps(_PSI_BLOCK).angle_cos
    ratio = sp.acos(C) / THETA
    at_zero = sp.limit(ratio, THETA, 0, "+")
    at_pi = sp.simplify(ratio.subs(THETA, sp.pi))
    grid = np.linspace(1e-6, np.pi, 20001)
    values = numeric_maps(_PSI_BLOCK).step(grid) / grid
    monotone = bool(np.all(np.diff(values) <= 1e-15))
    holds = bool(sp.And(at_zero > 0, at_zero < 1))
    return {
        "statement": "arccos psi(theta) ~ a*theta with a constant 0 < a < 1 near theta = 0",
        "holds": holds,
        "limit_at_0": sp.sstr(at_zero),
        "value_at_pi": sp.sstr(at_pi),
        "ratio_decreasing_on_grid": monotone,
        "admissible_a": [float(at_pi), float(at_zero)],
        "note": (f"arccos psi(theta)/theta -> {at_zero} as theta -> 0 and equals {at_pi} at theta = pi"
                 + (", decreasing in between" if monotone else "")
                 + ": the effective a varies with the angle and tends to 1 for small angles"),
    }


def classify_formula(expr: sp.Expr, a_value) -> tuple[str, sp.Expr | None]:
    """Decay class of a claimed formula in L (with a = ``a_value``)."""
    f = expr.subs({A: a_value, THETA0: 1})
    rate = sp.limit(sp.log(f) / L, L, sp.oo)
    if rate.is_negative:
        return "exponential", sp.exp(rate)
    p = sp.limit(sp.log(f) / sp.log(L), L, sp.oo)
    if p.is_negative:
        return "power", p
    q = sp.limit(sp.log(f) / sp.log(sp.log(L)), L, sp.oo)
    if q.is_negative:
        return "logarithmic", q
    return "not decaying", None


@lru_cache(maxsize=None)
def _grid_trajectories(arch_name: str):
    nm = numeric_maps(arch_name)
    theta0 = np.array(BOUND_THETA0)
    ls, theta, _ = nm.iterate(theta0, BOUND_MAX_DEPTH)
    return ls, theta, theta0


def effective_a(theta0) -> np.ndarray:
    """a(theta0) = arccos psi(theta0) / theta0: the constant of the paper's assumption fitted at the
    starting angle (1 as theta0 -> 0, 1/2 at pi)."""
    theta0 = np.asarray(theta0, dtype=float)
    return numeric_maps(_PSI_BLOCK).step(theta0) / theta0


def bound_check(row: Table1Row, a_value) -> dict:
    """Where the claimed bound lies above the exact iterate on the (L, theta0) grid.

    ``a_value``: a number (the same a for every theta0) or 'per-theta0' (a = a(theta0)).  Returns the
    counts, the smallest ratio iterate / bound, the worst point (L, theta0, true theta_L, bound) and,
    when there are violations, the region: the largest violating depth and, for every violating
    depth, the smallest violating theta0 located on a fine grid (spacing pi/20000)."""
    ls, theta, theta0 = _grid_trajectories(row.architecture)
    Ls = ls[1:, None].astype(float)
    per_theta0 = isinstance(a_value, str)
    a_grid = effective_a(theta0)[None, :] if per_theta0 else a_value
    bound = _claimed(row, a_grid, Ls, theta0[None, :])
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        ratio = theta[1:] / bound  # a claim that underflows to 0 is met
    ratio = np.where(bound > 0, ratio, np.inf)
    bad = ratio < 1.0
    i, j = np.unravel_index(np.argmin(ratio), ratio.shape)
    out = {"a": "a(theta0) = arccos psi(theta0)/theta0" if per_theta0 else
           (float(a_value) if row.claimed_law.has(A) else None),
           "depths": [1, BOUND_MAX_DEPTH], "theta0": [float(theta0.min()), float(theta0.max())],
           "theta0_points": len(theta0), "min_ratio_iterate_over_claim": float(ratio.min()),
           "violations": int(bad.sum()), "checked": int(bad.size),
           "worst": {"L": int(ls[1:][i]), "theta0": float(theta0[j]), "theta_L": float(theta[1 + i, j]),
                     "bound": float(bound[i, j] if np.ndim(bound) else bound)}}
    if bad.any():
        depths = ls[1:][bad.any(axis=1)]
        out["largest_violating_depth"] = int(depths.max())
        out["smallest_violating_theta0"] = float(theta0[bad.any(axis=0)].min())
        out["violating_depths"] = [int(d) for d in depths[:20]]
        out["threshold_theta0_by_depth"] = _thresholds(row, a_value, [int(d) for d in depths[:20]])
    return out


def _claimed(row: Table1Row, a, Ls, theta0):
    f = sp.lambdify((L, THETA0, A), row.claimed_law, "numpy")
    with np.errstate(over="ignore", under="ignore"):
        return np.broadcast_to(np.asarray(f(Ls, theta0, a), dtype=float),
                               np.broadcast_shapes(np.shape(Ls), np.shape(theta0), np.shape(a)))


def _thresholds(row: Table1Row, a_value, depths) -> dict:
    """The smallest theta0 (fine grid) at which the bound is violated, for each violating depth."""
    fine = np.linspace(np.pi / 20000, np.pi, 20000)
    nm = numeric_maps(row.architecture)
    ls, theta, _ = nm.iterate(fine, max(depths), at=depths)
    a_fine = effective_a(fine) if isinstance(a_value, str) else a_value
    out = {}
    for k, d in enumerate(ls):
        if d not in depths:
            continue
        bound = _claimed(row, a_fine, np.array(float(d)), fine)
        bad = theta[k] < bound
        out[str(int(d))] = float(fine[bad].min()) if bad.any() else None
    return out


@lru_cache(maxsize=None)
def table1_verdict(arch: str | Architecture) -> dict:
    """Verdict on the Table 1 row of ``arch`` (a claim result of :mod:`.verdicts` plus the row's
    text), or a note that it has none."""
    arch = get_architecture(arch)
    law = depth_law(arch)
    assumption = assumption_check()
    row = _ROWS.get(arch.name)
    if row is None or "paper" not in arch.tags:
        slope = law.slope_at_zero
        own = bool(slope.is_number and slope.is_finite and slope.is_positive and bool(slope < 1))
        return {"assumption_holds": own, "verdict": "not in Table 1",
                "assumption": "this architecture's own map: theta' ~ a*theta with 0 < a < 1 near 0"}
    return {"assumption_holds": assumption["holds"], **judge(row, law, assumption),
            "assumption": assumption["note"]}


def _at_depth(expr) -> str:
    """A law in the block index l, written at the depth L (theta_L)."""
    return sp.sstr(expr.subs(BLOCK_INDEX, L)) if expr is not None else "?"


def _law_reading(row: Table1Row, law, a_min) -> Reading:
    """The printed formula read as the law of theta_L: its decay class against the derived one."""
    claimed_class, claimed_rate = classify_formula(row.claimed_law, a_min)
    derived = law.law_class
    derived_rate = law.exponent if derived == "power" else law.rate
    same = derived == claimed_class and (
        claimed_rate is None or derived_rate is None or sp.simplify(claimed_rate - derived_rate) == 0)
    derived_text = f"{derived} (theta_L ~ {_at_depth(law.leading)})"
    claimed_text = f"the claimed {claimed_class}" + (
        f" (base {sp.sstr(claimed_rate)})" if claimed_class == "exponential" and claimed_rate is not None else
        f" (exponent {sp.sstr(claimed_rate)})" if claimed_rate is not None else "")
    evidence = {"claimed_class": claimed_class, "derived_class": derived,
                "claimed_rate": None if claimed_rate is None else sp.sstr(claimed_rate),
                "derived_rate": None if derived_rate is None else sp.sstr(derived_rate),
                "derived_law": sp.sstr(law.leading), "derived_law_with_theta0": sp.sstr(law.theta_l)}
    verdict = "holds" if same else "fails"
    why = (f"the derived law is {derived_text}" + (", as claimed" if same else f", not {claimed_text}"))
    return Reading("the formula read as the law of theta_L", "decay class of theta_L as L -> oo",
                   f"{row.architecture}, N -> oo (exact map)", "L -> oo", verdict, why, evidence,
                   true_law=None if same else f"theta_L ~ {_at_depth(law.leading)}")


def _bound_reading(row: Table1Row, law, a_value, label: str, a_text: str) -> Reading:
    """The inequality theta_L >= bound on the grid, with the decay class for the no-violation case."""
    a_min = 0.5
    bound = bound_check(row, a_value)
    derived = law.law_class
    derived_rate = law.exponent if derived == "power" else law.rate
    claimed_class, claimed_rate = classify_formula(row.claimed_law, a_min)
    rank = lambda cls, rate: (_DECAY_RANK.get(cls, -1), float(rate) if rate is not None else 0.0)
    slower = rank(derived, derived_rate) > rank(claimed_class, claimed_rate)
    true_law = f"theta_L ~ {_at_depth(law.leading)} ({derived})"
    grid = (f"L = 1..{BOUND_MAX_DEPTH} x {bound['theta0_points']} angles in "
            f"[{bound['theta0'][0]:.3g}, {bound['theta0'][1]:.4g}]")
    w = bound["worst"]
    regime = f"every L >= 1 and theta0 in (0, pi] (checked on {grid}){a_text}"
    model = f"{row.architecture}, N -> oo (exact map iterated in float64)"
    quantity = f"theta_L / ({sp.sstr(row.claimed_law)}) >= 1"
    if bound["violations"]:
        thresholds = {int(k): v for k, v in bound["threshold_theta0_by_depth"].items() if v is not None}
        at_large_depth = bound["largest_violating_depth"] >= BOUND_MAX_DEPTH // 2
        counter = {"L": w["L"], "theta0": w["theta0"], "theta_L": w["theta_L"], "bound": w["bound"]}
        if at_large_depth or not slower:
            why = (f"the bound is violated at {bound['violations']} of {bound['checked']} grid points up to "
                   f"L = {bound['largest_violating_depth']}, and the true decay ({true_law}) is not slower than it")
            return Reading(label, quantity, model, regime, "fails", why, bound, counterexample=counter,
                           true_law=true_law)
        cond_parts = [f"theta0 < {thresholds[d]:.4g} at L = {d}" for d in sorted(thresholds)]
        condition = (f"L > {bound['largest_violating_depth']}, or " + " and ".join(cond_parts)
                     + " (on the grid)")
        why = (f"the bound fails at L <= {bound['largest_violating_depth']} for large theta0 (worst: L = {w['L']}, "
               f"theta0 = {w['theta0']:.4g}: theta_L = {w['theta_L']:.4g} < bound {w['bound']:.4g}){a_text}; "
               f"elsewhere on the grid it holds, and the true decay is {true_law}")
        return Reading(label, quantity, model, regime, "holds only if", why, bound, condition=condition,
                       counterexample=counter, true_law=true_law)
    same = derived == claimed_class
    if same:
        verdict, why, tl = "holds", f"the bound holds on the whole grid and the decay is {true_law}, as claimed", None
    elif slower:
        verdict = "holds with another rate"
        why = (f"the bound holds on the whole grid (smallest ratio theta_L/bound {bound['min_ratio_iterate_over_claim']:.4g}), "
               f"but the decrease is not the claimed '{row.paper_word}': it is {true_law}, slower")
        tl = true_law
    else:
        verdict, why, tl = "fails", f"the true decay ({true_law}) is faster than the claimed bound", true_law
    return Reading(label, quantity, model, regime, verdict, why, bound, true_law=tl)


def judge(row: Table1Row, law, assumption: dict) -> dict:
    """Verdict on one claimed row given the derived depth law (rules in the module docstring):
    a claim result (:func:`.verdicts.claim_result`) plus the row's text."""
    a_min = assumption["admissible_a"][0]
    law_reading = _law_reading(row, law, a_min)
    extra = {"source": SOURCE, "claim": row.statement, "relation": row.relation, "paper_word": row.paper_word}
    if row.relation == "approximately":
        primary = law_reading
        primary.name = "the formula as the law of theta_L (the paper's '~=')"
        result = claim_result(primary)
    else:
        label = ("the inequality with the most favourable constant a" if row.claimed_law.has(A)
                 else "the inequality as printed")
        primary = _bound_reading(row, law, a_min, label,
                                 f" (a = {a_min:g}, the smallest a with arccos psi(theta) >= a theta)"
                                 if row.claimed_law.has(A) else "")
        others = [law_reading]
        if row.claimed_law.has(A):
            others.insert(0, _bound_reading(row, law, "per-theta0", "the inequality with a = a(theta0)",
                                            " (a = arccos psi(theta0)/theta0, the assumption fitted at theta0)"))
        result = claim_result(primary, others)
    evidence = dict(law_reading.evidence)
    if row.relation != "approximately":
        evidence["bound_check"] = result["readings"][0]["evidence"]
    result["evidence"] = evidence
    return {**extra, **result, "note": result["reason"]}


def table1() -> list[dict]:
    """All rows with their verdicts (data for the verification report)."""
    return [dict(architecture=row.architecture, **table1_verdict(row.architecture)) for row in TABLE1]
