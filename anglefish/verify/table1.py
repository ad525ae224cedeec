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

Rules.  An "approximately" claim holds when its decay class equals the derived one and
fails otherwise.  A "lower bound" claim holds when the classes agree and the bound is
met on the whole grid; it "holds as a bound only" when the true decay is slower than
the claimed one (so the bound is eventually met but is not the law); else it fails.
For claims with the paper's constant a, the most favourable admissible value is used:
the smallest a with arccos psi(theta) >= a theta on (0, pi].
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ..theory.activations import THETA
from ..theory.architectures import Architecture, get_architecture
from ..theory.asymptotics import THETA0, depth_law
from ..theory.blocks import Dense, ReLU, Serial
from ..theory.evaluate import numeric_maps
from ..theory.recursion import derive_maps

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


def bound_check(row: Table1Row, a_value: float) -> dict:
    """Where the claimed formula lies above the exact iterate on the (L, theta0) grid."""
    ls, theta, theta0 = _grid_trajectories(row.architecture)
    claimed = sp.lambdify((L, THETA0), row.claimed_law.subs(A, a_value), "numpy")
    Ls = ls[1:, None].astype(float)
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        ratio = theta[1:] / claimed(Ls, theta0[None, :])  # a claim that underflows to 0 is met
    bad = ratio < 1.0
    out = {"a": a_value if row.claimed_law.has(A) else None, "depths": [1, BOUND_MAX_DEPTH], "theta0": [theta0.min(), theta0.max()],
           "min_ratio_iterate_over_claim": float(ratio.min()),
           "violations": int(bad.sum()), "checked": int(bad.size)}
    if bad.any():
        out["largest_violating_depth"] = int(ls[1:][bad.any(axis=1)].max())
        out["smallest_violating_theta0"] = float(theta0[bad.any(axis=0)].min())
    return out


@lru_cache(maxsize=None)
def table1_verdict(arch: str | Architecture) -> dict:
    """Verdict on the Table 1 row of ``arch`` (or a note that it has none)."""
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


def judge(row: Table1Row, law, assumption: dict) -> dict:
    """Verdict on one claimed row given the derived depth law (rules in the module docstring)."""
    a_min = assumption["admissible_a"][0]
    claimed_class, claimed_rate = classify_formula(row.claimed_law, a_min)
    derived = law.law_class
    derived_rate = law.exponent if derived == "power" else law.rate
    same_law = derived == claimed_class and (
        claimed_rate is None or derived_rate is None or sp.simplify(claimed_rate - derived_rate) == 0)
    rank = lambda cls, rate: (_DECAY_RANK.get(cls, -1), float(rate) if rate is not None else 0.0)
    slower = rank(derived, derived_rate) > rank(claimed_class, claimed_rate)
    evidence = {"claimed_class": claimed_class, "derived_class": derived,
                "claimed_rate": None if claimed_rate is None else sp.sstr(claimed_rate),
                "derived_rate": None if derived_rate is None else sp.sstr(derived_rate),
                "derived_law": sp.sstr(law.leading), "derived_law_with_theta0": sp.sstr(law.theta_l)}
    derived_text = f"{derived} ({sp.sstr(law.leading)})"
    if row.relation == "approximately":
        verdict = "holds" if same_law else "fails"
        why = (f"the derived law is {derived_text}, " +
               ("as claimed" if same_law else f"the claim is {claimed_class}"))
        return {"verdict": verdict, "source": SOURCE, "claim": row.statement, "relation": row.relation,
                "paper_word": row.paper_word, "note": why, "evidence": evidence}
    bound = bound_check(row, a_min)
    evidence["bound_check"] = bound
    with_a = f" with a = {a_min:g} (the most favourable admissible a)" if row.claimed_law.has(A) else ""
    if bound["violations"]:
        grid = (f"it is violated{with_a} at {bound['violations']} of {bound['checked']} grid points "
                f"(depths up to {bound['largest_violating_depth']}, "
                f"theta0 >= {bound['smallest_violating_theta0']:.3g})")
    else:
        grid = (f"it holds at all {bound['checked']} grid points (L = 1..{BOUND_MAX_DEPTH}, "
                f"{len(BOUND_THETA0)} angles in (0, pi]){with_a}")
    if same_law and not bound["violations"]:
        verdict, why = "holds", f"the derived law is {derived_text}, of the claimed form; {grid}"
    elif slower:
        verdict = "holds as a bound only"
        why = (f"the true decay is {derived_text}, slower than the claimed {claimed_class} bound, "
               f"so the bound holds at large depth but is not the law; {grid}")
    else:
        verdict = "fails"
        why = f"the true decay is {derived_text}, not slower than the claimed bound; {grid}"
    return {"verdict": verdict, "source": SOURCE, "claim": row.statement, "relation": row.relation,
            "paper_word": row.paper_word, "note": why, "evidence": evidence}


def table1() -> list[dict]:
    """All rows with their verdicts (data for the verification report)."""
    return [dict(architecture=row.architecture, **table1_verdict(row.architecture)) for row in TABLE1]
