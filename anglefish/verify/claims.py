"""The claims registry: each published claim, how anglefish checks it, and its verdict.

A claim is data (id, source, statement, quantity, method) plus a function that computes
its verdict and evidence.  Claimed formulas are typed here because they are what is being
tested; everything they are compared with is derived or measured.  Verdicts:

    holds | fails | holds as a bound only | holds in another reading | not checkable

Monte Carlo evidence is seeded (``Settings.seed``) and reported with its standard error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from ..errors import AnglefishError
from ..theory.activations import RELU, THETA
from ..theory.blocks import BLOCK_INDEX as l_sym
from ..theory.recursion import derive_maps
from .tolerance import DEFAULT_ALPHA, Estimate, plain_check

VERDICTS = ("holds", "fails", "holds as a bound only", "holds in another reading", "not checkable")
ACML = "Furusho & Ikeda, ACML 2019"


@dataclass
class Settings:
    """How hard to look: width and seeds of the Monte Carlo evidence, master seed."""

    width: int = 512
    seeds: int = 128
    seed: int = 0
    alpha: float = DEFAULT_ALPHA
    full: bool = False
    cache: dict = field(default_factory=dict)

    def monte_carlo(self, arch, depth, theta0):
        from .contracts import monte_carlo_pair

        key = ("mc", arch, depth, theta0)
        if key not in self.cache:
            self.cache[key] = monte_carlo_pair(arch, depth, theta0, self.width, self.seeds, self.seed + depth)
        return self.cache[key]


@dataclass(frozen=True)
class Claim:
    id: str
    source: str
    statement: str
    quantity: str
    method: str
    evaluate: Callable[[Settings], dict]


_CLAIMS: dict[str, Claim] = {}


def register_claim(claim: Claim, *, replace: bool = False) -> Claim:
    if claim.id in _CLAIMS and not replace:
        raise AnglefishError(f"claim '{claim.id}' is already registered")
    _CLAIMS[claim.id] = claim
    return claim


def claims() -> list[Claim]:
    return list(_CLAIMS.values())


def evaluate_claims(settings: Settings | None = None, progress=None) -> list[dict]:
    settings = settings or Settings()
    out = []
    for k, claim in enumerate(claims()):
        try:
            result = claim.evaluate(settings)
        except AnglefishError as err:
            result = {"verdict": "not checkable", "evidence": {"reason": str(err)}}
        if result["verdict"] not in VERDICTS:
            raise AssertionError(f"claim {claim.id}: unknown verdict {result['verdict']!r}")
        out.append({"id": claim.id, "source": claim.source, "statement": claim.statement,
                    "quantity": claim.quantity, "method": claim.method, **result})
        if progress is not None:
            progress(k + 1, len(_CLAIMS))
    return out


def _reduces(expr, target) -> bool:
    return sp.simplify(sp.expand(expr - target)) == 0


# ------------------------------------------------------------------ the paper's formulas (claims)
_psi = (sp.sin(THETA) + (sp.pi - THETA) * sp.cos(THETA)) / sp.pi
THEOREMS = {
    # id: (architecture, claimed norm ratio q_{l+1}/q_l, claimed cos theta_{l+1}, where)
    "acml-thm2": ("mlp", sp.Integer(1), _psi, "Theorem 2"),
    "acml-thm5": ("resnet", sp.Integer(2), _psi / 2 + sp.cos(THETA) / 2, "Theorem 5"),
    "acml-thm6": ("resnet-bn", (l_sym + 3) / (l_sym + 2),
                  _psi / (l_sym + 3) + (l_sym + 2) / (l_sym + 3) * sp.cos(THETA), "Theorem 6"),
}


def _theorem_verdict(arch, norm, angle, which, what, settings):
    maps = derive_maps(arch)
    derived = maps.norm_ratio if what == "norm" else maps.angle_cos
    claimed = norm if what == "norm" else angle
    symbolic = _reduces(derived, claimed)
    checks = []
    for depth, theta0 in ((1, 1.0), (10, 1.0)):
        mc = settings.monte_carlo(arch, depth, theta0)
        from .contracts import theory_vs_gram

        outcome = theory_vs_gram(mc, alpha=settings.alpha)[0 if what == "angle" else 1]
        q = "theta_L" if what == "angle" else "log_q_L"
        checks.append({"depth": depth, "theta0": theta0, "passed": outcome.passed,
                       f"{q}_theory": outcome.details["theory"], f"{q}_mc_extrapolated": outcome.details["extrapolated"],
                       "se": outcome.details["se"], "statistic": outcome.statistic, "tolerance": outcome.tolerance})
    ok = symbolic and all(c["passed"] for c in checks)
    return {"verdict": "holds" if ok else "fails",
            "evidence": {"symbolic_difference_is_zero": symbolic, "derived": sp.sstr(derived),
                         "claimed": sp.sstr(claimed), "monte_carlo": checks}}


for cid, (arch, norm, angle, which) in THEOREMS.items():
    for what, quantity in (("norm", "q_{l+1}/q_l"), ("angle", "cos theta_{l+1}")):
        formula = sp.sstr(norm if what == "norm" else angle)
        register_claim(Claim(
            f"{cid}-{what}", f"{ACML}, {which}",
            f"{arch}: {quantity} = {formula} (infinite width, E over the weights)",
            quantity, "symbolic + Monte Carlo",
            (lambda s, a=arch, n=norm, g=angle, w=which, x=what: _theorem_verdict(a, n, g, w, x, s))))


# ------------------------------------------------------------------ Lemma 13: the ReLU expectation
def _lemma13(settings):
    qa, qb = sp.symbols("q_a q_b", positive=True)
    claimed = sp.sqrt(qa * qb) * (sp.sin(THETA) + (sp.pi - THETA) * sp.cos(THETA)) / (2 * sp.pi)
    derived = RELU.kernel(qa, qb, sp.sqrt(qa * qb) * sp.cos(THETA))
    symbolic = _reduces(derived, claimed)
    # Monte Carlo: E relu(u) relu(v) for unit Gaussians at three angles, 2e5 samples each
    rng = np.random.default_rng(settings.seed)
    rows = []
    for theta in (0.3, 1.5, 2.8):
        z = rng.standard_normal((200_000, 2))
        u, v = z[:, 0], math.cos(theta) * z[:, 0] + math.sin(theta) * z[:, 1]
        prod = np.maximum(u, 0) * np.maximum(v, 0)
        est = Estimate(float(prod.mean()), float(prod.std(ddof=1) / math.sqrt(len(prod))), 0)
        value = float(derived.subs({qa: 1, qb: 1, THETA: theta}))
        r = plain_check(value, est, alpha=settings.alpha)
        rows.append({"theta": theta, "derived": value, "monte_carlo": est.mean, "se": est.se, "passed": r.passed})
    ok = symbolic and all(r["passed"] for r in rows)
    return {"verdict": "holds" if ok else "fails",
            "evidence": {"symbolic_difference_is_zero": symbolic, "derived_unit_kernel": sp.sstr(RELU.derivation().unit_kernel),
                         "monte_carlo": rows,
                         "reading": "Lemma 13 read as the ReLU Gaussian expectation behind Theorems 2, 5, 6"}}


register_claim(Claim(
    "acml-lemma13", f"{ACML}, Lemma 13",
    "E[relu(u) relu(v)] = sqrt(q_a q_b) (sin theta + (pi - theta) cos theta) / (2 pi) for a centred Gaussian pair",
    "E relu(u) relu(v)", "symbolic + Monte Carlo", _lemma13))


# ------------------------------------------------------------------ Theorem 6 in a real network
def _thm6_real_bn(settings):
    from ..numeric import compare_bn_kinds

    out = compare_bn_kinds("resnet-bn", 10, 1.0, settings.width, max(16, settings.seeds // 4), batch=16,
                           seed=settings.seed, every=10)
    row = out["rows"][-1]
    z = abs(row["gap"]) / row["gap_se"] if row["gap_se"] > 0 else float("inf")
    differs = z > 4.0
    return {"verdict": "holds in another reading" if differs else "holds",
            "evidence": {"depth": 10, "theta0": 1.0, "batch": 16, "theta_theory": row["theta_theory"],
                         "theta_population_bn": row["theta_population"], "theta_batch_bn": row["theta_batch"],
                         "gap": row["gap"], "gap_se": row["gap_se"],
                         "note": "Theorem 6 holds for population BN (the proof's reading); with mini-batch "
                                 "statistics, as a real network computes them, the angle map differs"
                                 if differs else "no significant gap between the BN kinds at this depth"}}


register_claim(Claim(
    "acml-thm6-minibatch", f"{ACML}, Theorem 6 (as a statement about BN networks)",
    "The angle recursion of Theorem 6 describes a ResNet with batch normalisation",
    "theta_10 with mini-batch BN (batch 16) vs population BN", "Monte Carlo", _thm6_real_bn))


# ------------------------------------------------------------------ Theorem 11: co-activation
def _thm11(settings):
    from ..numeric.coactivation import coactivation_rate
    from ..theory.activations import RELU as relu

    claimed = (1 - THETA / sp.pi) / 2
    derived = relu.derivative_derivation().unit_kernel  # P(u > 0, v > 0) = E[1{u>0} 1{v>0}]
    symbolic = _reduces(derived, claimed)
    rows = []
    for theta0 in (0.5, 1.5, 2.5):
        est = coactivation_rate("mlp", 0, theta0, settings.width, settings.seeds, seed=settings.seed)
        value = float(claimed.subs(THETA, theta0))
        r = plain_check(value, Estimate(est["rate"], est["rate_se"], settings.width), alpha=settings.alpha)
        rows.append({"theta": theta0, "claimed": value, "monte_carlo": est["rate"], "se": est["rate_se"],
                     "passed": r.passed})
    ok = symbolic and all(r["passed"] for r in rows)
    return {"verdict": "holds" if ok else "fails",
            "evidence": {"symbolic_difference_is_zero": symbolic, "derived": sp.sstr(derived), "monte_carlo": rows}}


register_claim(Claim(
    "acml-thm11", f"{ACML}, Theorem 11",
    "At initialisation two inputs at angle theta co-activate a ReLU unit with probability (1 - theta/pi)/2",
    "P(u_a > 0, u_b > 0)", "symbolic + Monte Carlo", _thm11))


# ------------------------------------------------------------------ Remarks 3/4/7
def _ratio_profile(arch, l=0):
    from ..theory.evaluate import numeric_maps

    grid = np.linspace(1e-4, np.pi, 2001)
    ratio = numeric_maps(arch).step(grid, l) / grid
    return grid, ratio


def _remark_mlp(settings):
    grid, ratio = _ratio_profile("mlp")
    decreasing = bool(np.all(np.diff(ratio) < 0))
    return {"verdict": "holds" if decreasing else "fails",
            "evidence": {"ratio_theta_next_over_theta": {"theta->0": float(ratio[0]), "pi/2": float(np.interp(np.pi / 2, grid, ratio)),
                                                         "pi": float(ratio[-1])},
                         "strictly_decreasing_on_grid": decreasing,
                         "note": "one MLP block multiplies an angle by theta'/theta, which falls from 1 "
                                 "(small angles) to 1/2 (opposite inputs): large angles shrink more"}}


def _remark_relax(settings):
    spans = {}
    for arch, blocks in (("mlp", [0]), ("resnet", [0]), ("resnet-bn", [0, 10, 100])):
        for l in blocks:
            _, ratio = _ratio_profile(arch, l)
            spans[f"{arch} (block {l})"] = {"min_ratio": float(ratio.min()), "max_ratio": float(ratio.max()),
                                           "spread": float(ratio.max() - ratio.min())}
    mlp, res = spans["mlp (block 0)"]["spread"], spans["resnet (block 0)"]["spread"]
    bn = [spans[f"resnet-bn (block {l})"]["spread"] for l in (0, 10, 100)]
    holds = res < mlp and bn[0] < res and bn[0] > bn[1] > bn[2]
    return {"verdict": "holds" if holds else "fails",
            "evidence": {"spread_of_theta_ratio": spans,
                         "note": "spread = max - min over theta of theta'/theta for one block; smaller means "
                                 "large and small angles are treated more alike"}}


register_claim(Claim(
    "acml-remark-mlp-large-angles", f"{ACML}, Remarks 3/4/7",
    "A random MLP block shrinks large (between-class) angles more than small (within-class) ones",
    "theta'/theta as a function of theta", "symbolic-numeric (exact map)", _remark_mlp))
register_claim(Claim(
    "acml-remark-skip-bn-relax", f"{ACML}, Remarks 3/4/7",
    "Skip connections relax the MLP's uneven shrinking, and batch normalisation relaxes it further",
    "spread of theta'/theta over theta", "symbolic-numeric (exact map)", _remark_relax))


# ------------------------------------------------------------------ Corollary 8 / Table 1
def _table1_assumption(settings):
    from .table1 import assumption_check

    a = assumption_check()
    return {"verdict": "holds" if a["holds"] else "fails", "evidence": a}


register_claim(Claim(
    "acml-cor8-assumption", f"{ACML}, Corollary 8 / Table 1 (assumption)",
    "arccos psi(theta) ~ a theta with a constant 0 < a < 1 near theta = 0",
    "lim arccos psi(theta) / theta", "symbolic", _table1_assumption))


def _table1_row(arch):
    def evaluate(settings):
        from .table1 import table1_verdict

        v = table1_verdict(arch)
        evidence = dict(v["evidence"])
        evidence["note"] = v["note"]
        return {"verdict": v["verdict"], "evidence": evidence}
    return evaluate


for _arch, _claim in (("mlp", "theta_L ~= a^L theta0: exponential decrease"),
                      ("resnet", "theta_L >~ ((1+a)/2)^L theta0: sub-exponential decrease"),
                      ("resnet-bn", "theta_L >~ 2 theta0/(L+2): reciprocal decrease")):
    register_claim(Claim(f"acml-table1-{_arch}", f"{ACML}, Corollary 8 / Table 1", f"{_arch}: {_claim}",
                         "theta_L as L grows", "symbolic (depth law) + exact map", _table1_row(_arch)))


# ------------------------------------------------------------------ Fisher information and learning rate
def _fisher_claim(claim_id):
    def evaluate(settings):
        from .fisher_claims import fisher_claims

        key = ("fisher-claims",)
        if key not in settings.cache:
            settings.cache[key] = fisher_claims(detail=True)
        rows = settings.cache[key]
        summary = next(r for r in rows if r["id"] == claim_id)
        readings = [{"reading": r["reading"], "verdict": r["verdict"]} for r in rows
                    if r["id"].startswith(claim_id + "/")]
        evidence = {"per_reading": readings, "reading_that_holds": summary.get("reading")}
        if isinstance(summary.get("evidence"), dict):
            evidence.update({k: v for k, v in summary["evidence"].items() if not isinstance(v, (list, dict))})
        return {"verdict": summary["verdict"], "evidence": evidence}
    return evaluate


def _register_fisher_claims():
    from .fisher_claims import CLAIMS as FISHER

    for c in FISHER:
        register_claim(Claim(c.id, c.source, c.statement,
                             "lambda_max, m_lambda of the FIM" if c.quantity == "eigenvalues" else "eta_max = 2/lambda_max",
                             "symbolic NTK theory (depth laws), whole FIM and per-layer readings",
                             _fisher_claim(c.id)))


_register_fisher_claims()


# ------------------------------------------------------------------ training experiment (Figs. 11, 12)
def _training_claim(claim_id):
    def evaluate(settings):
        from .training_claims import training_claims

        key = ("training-claims", settings.full, settings.seed)
        if key not in settings.cache:
            settings.cache[key] = training_claims(quick=not settings.full, seed=settings.seed)
        row = next(r for r in settings.cache[key] if r["id"] == claim_id)
        return {"verdict": row["verdict"], "evidence": row["evidence"]}
    return evaluate


for _cid, _stmt, _src, _qty in (
        ("acml-fig11-preserved-angles-train-better",
         "Networks that preserve angles at initialisation reach a higher distance ratio after training",
         f"{ACML}, Fig. 11", "distance ratio r after training, per architecture"),
        ("acml-fig12-ratio-error-correlation",
         "The distance ratio correlates with the test error (-0.91 over 9 nets)",
         f"{ACML}, Fig. 12", "Pearson correlation of r and test error"),
        ("acml-remark-mlp-degrades-ratio",
         "At initialisation the MLP degrades the distance ratio with depth; skip connections and BN relax this",
         f"{ACML}, Remarks 3/4/7", "slope of log r per block at initialisation")):
    register_claim(Claim(_cid, _src, _stmt, _qty, "training (SGD, cross-entropy, digits 0 vs 1)",
                         _training_claim(_cid)))
