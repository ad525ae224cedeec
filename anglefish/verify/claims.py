"""The claims registry: each published claim, how anglefish checks it, and its verdict.

A claim is data (id, source, statement, quantity, method) plus a function that computes its
result: the verdict of its primary reading, the reason in one sentence and a table of readings
(:mod:`anglefish.verify.verdicts`: vocabulary, schema and the rule that the headline verdict
comes from the primary reading alone).  Claimed formulas are typed here because they are what is
being tested; everything they are compared with is derived or measured.

Monte Carlo evidence is seeded (``Settings.seed``) and reported with its standard error.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import sympy as sp

from ..errors import AnglefishError
from ..seeds import part_seed
from ..units import Plan, reusing, run_units
from ..theory.activations import RELU, THETA
from ..theory.blocks import BLOCK_INDEX as l_sym
from ..theory.recursion import derive_maps
from .tolerance import DEFAULT_ALPHA, Estimate, plain_check
from .verdicts import MEANING, VERDICTS, Reading, claim_result, not_checkable, validate

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
    progress: object = None  # progress(done, total) of long sub-steps (simulated readings)

    def monte_carlo_unit(self, arch, depth, theta0):
        """The unit of the Monte Carlo pair of part ("claims", arch, depth, theta0) of the master seed."""
        from .work import mc_unit

        return mc_unit(arch, depth, theta0, self.width, self.seeds, self.seed, "claims", arch, depth, theta0)

    def monte_carlo(self, arch, depth, theta0):
        key = ("mc", arch, depth, theta0)
        if key not in self.cache:
            self.cache[key] = run_units([self.monte_carlo_unit(arch, depth, theta0)])[0]
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


#: the Monte Carlo pairs the theorem claims read: (depth, theta0) for each of their architectures
THEOREM_CONFIGS = ((1, 1.0), (10, 1.0))


def claim_units(settings: Settings | None = None) -> list:
    """The units of work of the claims' Monte Carlo evidence: the theorems' Monte Carlo pairs, the
    Fisher and learning-rate claims' simulated series, the training study and the generalization
    studies (the claims themselves are then judged from them in this process)."""
    from .fisher_claims import FULL_SIMULATION, QUICK_SIMULATION, simulation_units
    from .generalization_claims import generalization_claim_units
    from .training_claims import training_claim_units

    settings = settings or Settings()
    quick = not settings.full
    mc = [settings.monte_carlo_unit(arch, depth, theta0) for arch in dict.fromkeys(t[0] for t in THEOREMS.values())
          for depth, theta0 in THEOREM_CONFIGS]
    return (mc + simulation_units(QUICK_SIMULATION if quick else FULL_SIMULATION, settings.seed)
            + training_claim_units(quick, settings.seed) + generalization_claim_units(quick, settings.seed))


def evaluate_claims(settings: Settings | None = None, progress=None, workers: int | None = 1) -> list[dict]:
    """Every registered claim's result (:func:`.verdicts.claim_result` plus id, source, statement,
    quantity, method), each held to the verdict rule by :func:`.verdicts.validate`.  The Monte Carlo
    evidence (:func:`claim_units`) runs first, on ``workers`` processes; the numbers do not depend on it."""
    settings = settings or Settings()
    with reusing(Plan().add(claim_units(settings)).run(workers)):
        return _evaluate(settings, progress)


def _evaluate(settings: Settings, progress) -> list[dict]:
    out = []
    for k, claim in enumerate(claims()):
        try:
            result = claim.evaluate(settings)
        except AnglefishError as err:
            result = not_checkable(str(err))
        validate(result, claim.id)
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
    for depth, theta0 in THEOREM_CONFIGS:
        mc = settings.monte_carlo(arch, depth, theta0)
        from .contracts import theory_vs_gram

        outcome = theory_vs_gram(mc, alpha=settings.alpha)[0 if what == "angle" else 1]
        q = "theta_L" if what == "angle" else "log_q_L"
        checks.append({"depth": depth, "theta0": theta0, "passed": outcome.passed,
                       f"{q}_theory": outcome.details["theory"], f"{q}_mc_extrapolated": outcome.details["extrapolated"],
                       "se": outcome.details["se"], "statistic": outcome.statistic, "tolerance": outcome.tolerance})
    ok = symbolic and all(c["passed"] for c in checks)
    evidence = {"symbolic_difference_is_zero": symbolic, "derived": sp.sstr(derived),
                "claimed": sp.sstr(claimed), "monte_carlo": checks}
    failed = [c for c in checks if not c["passed"]]
    if ok:
        why = (f"the map derived from the block list reduces to the claimed one, and Monte Carlo "
               f"(the verify tolerance model: O(1/N)-corrected or width-extrapolated) agrees at L = 1 and 10")
    elif not symbolic:
        why = f"the derived map {sp.sstr(derived)} differs from the claimed {sp.sstr(claimed)}"
    else:
        why = (f"the maps agree symbolically but Monte Carlo disagrees at L = "
               f"{', '.join(str(c['depth']) for c in failed)} beyond its tolerance")
    quantity = "q_{l+1}/q_l" if what == "norm" else "cos theta_{l+1} as a function of theta_l"
    primary = Reading(f"{which} as stated", quantity, f"{arch}, N -> oo, E over the weights "
                      "(population BN where the block has BN)", "every block l, every angle",
                      "holds" if ok else "fails", why, evidence)
    return claim_result(primary)


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
    evidence = {"symbolic_difference_is_zero": symbolic,
                "derived_unit_kernel": sp.sstr(RELU.derivation().unit_kernel), "monte_carlo": rows}
    why = ("the expectation derived from the bivariate Gaussian integral equals the claimed closed form, "
           "and 2e5-sample Monte Carlo agrees at three angles" if ok else
           "the derived expectation and the claimed closed form differ" if not symbolic else
           "Monte Carlo disagrees with the closed form beyond its tolerance")
    primary = Reading("Lemma 13 as the ReLU Gaussian expectation behind Theorems 2, 5, 6",
                      "E relu(u) relu(v)", "a centred Gaussian pair (u, v)", "every q_a, q_b > 0, theta in [0, pi]",
                      "holds" if ok else "fails", why, evidence)
    return claim_result(primary)


register_claim(Claim(
    "acml-lemma13", f"{ACML}, Lemma 13",
    "E[relu(u) relu(v)] = sqrt(q_a q_b) (sin theta + (pi - theta) cos theta) / (2 pi) for a centred Gaussian pair",
    "E relu(u) relu(v)", "symbolic + Monte Carlo", _lemma13))


# ------------------------------------------------------------------ Theorem 6 in a real network
#: |z| beyond which a difference between two Monte Carlo means counts as real (two-sided
#: false-alarm rate 6.3e-5 under Gaussian noise)
Z_DIFFERENT = 4.0


def _thm6_real_bn(settings):
    """Primary reading: the network the statement names -- a ResNet with batch normalisation as it
    is computed, with mini-batch statistics (batch 16).  At the same width and seeds, its angle is
    compared with that of the population-BN network, which realises Theorem 6's recursion (its own
    agreement with the recursion is the second reading, from the tolerance model's check)."""
    from ..numeric import compare_bn_kinds
    from .contracts import theory_vs_gram

    depth, theta0, batch = 10, 1.0, 16
    out = compare_bn_kinds("resnet-bn", depth, theta0, settings.width, max(16, settings.seeds // 4), batch=batch,
                           seed=settings.seed, every=depth)
    row = out["rows"][-1]
    z = row["gap"] / row["gap_se"] if row["gap_se"] > 0 else float("inf")
    differs = abs(z) > Z_DIFFERENT
    model = f"resnet-bn, width {settings.width}, {out['seeds']} seeds"
    evidence = {"depth": depth, "theta0": theta0, "batch": batch, "theta_theory": row["theta_theory"],
                "theta_batch_bn": row["theta_batch"], "theta_batch_bn_se": row["theta_batch_se"],
                "theta_population_bn": row["theta_population"], "theta_population_bn_se": row["theta_population_se"],
                "gap_batch_minus_population": row["gap"], "gap_se": row["gap_se"], "z": z,
                "z_threshold": Z_DIFFERENT}
    direction = "grows" if row["theta_batch"] > theta0 else "shrinks"
    if differs:
        why = (f"with mini-batch statistics the angle {direction} (theta_{depth} = {row['theta_batch']:.3f} from "
               f"theta0 = {theta0}) while the recursion gives {row['theta_theory']:.3f}; the gap to the population-BN "
               f"network is {abs(z):.0f} standard errors")
    else:
        why = (f"no significant gap between mini-batch and population BN at L = {depth} "
               f"(|z| = {abs(z):.1f} <= {Z_DIFFERENT:g})")
    primary = Reading("a real BN network (mini-batch statistics)", f"theta_{depth} from theta0 = {theta0}",
                      f"{model}, BatchNorm with per-unit mini-batch mean and variance (batch {batch})",
                      f"L = {depth}", "fails" if differs else "holds", why, evidence)
    mc = settings.monte_carlo("resnet-bn", depth, theta0)
    angle = theory_vs_gram(mc, alpha=settings.alpha)[0]
    population = Reading(
        "the proof's model (population BN)", f"theta_{depth} from theta0 = {theta0}",
        "resnet-bn with BN dividing by the population standard deviation (" + (
            "O(1/N)-corrected theory at width N" if angle.details["model"] == "finite-width" else "widths N, 2N extrapolated")
        + ")",
        f"L = {depth}", "holds" if angle.passed else "fails",
        (f"the population-BN network follows the recursion ({angle.details['model']} check)" if angle.passed else
         "even the population-BN network departs from the recursion"),
        {"theory": angle.details["theory"], "extrapolated": angle.details["extrapolated"], "se": angle.details["se"],
         "statistic": angle.statistic, "tolerance": angle.tolerance})
    return claim_result(primary, [population])


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
        est = coactivation_rate("mlp", 0, theta0, settings.width, settings.seeds,
                                seed=part_seed(settings.seed, "thm11", theta0))
        value = float(claimed.subs(THETA, theta0))
        r = plain_check(value, Estimate(est["rate"], est["rate_se"], settings.width), alpha=settings.alpha)
        rows.append({"theta": theta0, "claimed": value, "monte_carlo": est["rate"], "se": est["rate_se"],
                     "passed": r.passed})
    ok = symbolic and all(r["passed"] for r in rows)
    why = ("the derived co-activation probability E[1{u>0} 1{v>0}] equals (1 - theta/pi)/2, and Monte Carlo on "
           "random MLPs agrees at three angles" if ok else
           "the derived probability differs from the claimed one" if not symbolic else
           "Monte Carlo disagrees with the derived probability beyond its tolerance")
    primary = Reading("Theorem 11 as stated", "P(u_a > 0, u_b > 0) for a unit's two pre-activations",
                      "one He-initialised layer, N -> oo (Monte Carlo at finite width)", "theta in [0, pi]",
                      "holds" if ok else "fails", why,
                      {"symbolic_difference_is_zero": symbolic, "derived": sp.sstr(derived), "monte_carlo": rows})
    return claim_result(primary)


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
    evidence = {"ratio_theta_next_over_theta": {"theta->0": float(ratio[0]),
                                                "pi/2": float(np.interp(np.pi / 2, grid, ratio)),
                                                "pi": float(ratio[-1])},
                "strictly_decreasing_on_grid": decreasing}
    why = ("theta'/theta of one MLP block falls strictly from 1 (small angles) to 1/2 (opposite inputs), so "
           "large angles shrink more" if decreasing else "theta'/theta of one MLP block is not decreasing in theta")
    primary = Reading("one block's shrink factor", "theta_{l+1}/theta_l as a function of theta_l",
                      "mlp, N -> oo (exact map)", "theta in (0, pi] (2001-point grid)",
                      "holds" if decreasing else "fails", why, evidence)
    return claim_result(primary)


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
    evidence = {"spread_of_theta_ratio": spans,
                "note": "spread = max - min over theta of theta'/theta for one block; smaller means large and "
                        "small angles are treated more alike"}
    why = (f"the spread of theta'/theta is {mlp:.3f} for the MLP block, {res:.3f} for the ResNet block and "
           f"{bn[0]:.3f} for the ResNet+BN block 0 (then {bn[1]:.3f}, {bn[2]:.3f} at blocks 10, 100)")
    primary = Reading("one block's uneven shrinking", "spread (max - min over theta) of theta_{l+1}/theta_l",
                      "mlp, resnet, resnet-bn, N -> oo (exact maps)", "theta in (0, pi]; blocks 0, 10, 100",
                      "holds" if holds else "fails", why, evidence)
    return claim_result(primary)


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
    why = (f"arccos psi(theta)/theta tends to {a['limit_at_0']} as theta -> 0 and equals {a['value_at_pi']} at pi: "
           "no constant a < 1 describes small angles" if not a["holds"] else
           f"arccos psi(theta)/theta tends to {a['limit_at_0']} as theta -> 0")
    primary = Reading("the assumption as stated", "lim_{theta -> 0} arccos psi(theta) / theta",
                      "one He-initialised ReLU layer, N -> oo", "theta -> 0",
                      "holds" if a["holds"] else "fails", why, a)
    return claim_result(primary)


register_claim(Claim(
    "acml-cor8-assumption", f"{ACML}, Corollary 8 / Table 1 (assumption)",
    "arccos psi(theta) ~ a theta with a constant 0 < a < 1 near theta = 0",
    "lim arccos psi(theta) / theta", "symbolic", _table1_assumption))


def _table1_row(arch):
    def evaluate(settings):
        from .table1 import table1_verdict

        v = table1_verdict(arch)
        return {k: v[k] for k in ("verdict", "reason", "condition", "counterexample", "true_law",
                                  "primary_reading", "readings", "evidence")}
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

        key = ("fisher-claims", settings.full, settings.seed)
        if key not in settings.cache:
            settings.cache[key] = fisher_claims(quick=not settings.full, seed=settings.seed,
                                                progress=settings.progress)
        row = next(r for r in settings.cache[key] if r["id"] == claim_id)
        return {k: v for k, v in row.items() if k not in ("id", "source", "statement")}
    return evaluate


def _register_fisher_claims():
    from .fisher_claims import CLAIMS as FISHER

    for c in FISHER:
        register_claim(Claim(c.id, c.source, c.statement,
                             "lambda_max of the whole FIM (primary); m_lambda, per-block and simulated readings"
                             if c.quantity == "eigenvalues" else
                             "eta_max = 2/lambda_max of the whole network (primary); measured GD thresholds",
                             "symbolic NTK theory (depth laws); dense-network simulation at L = 1..L_max",
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
        return {k: v for k, v in row.items() if k not in ("id", "source", "statement", "quantity", "method")}
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


# ------------------------------------------------------------------ generalization gap (INNS-BDDL 2019, ResNet2)
def _generalization_claim(claim_id):
    def evaluate(settings):
        from .generalization_claims import generalization_claims

        key = ("generalization-claims", settings.full, settings.seed)
        if key not in settings.cache:
            settings.cache[key] = generalization_claims(quick=not settings.full, seed=settings.seed)
        row = next(r for r in settings.cache[key] if r["id"] == claim_id)
        return {k: v for k, v in row.items() if k not in ("id", "source", "statement", "quantity", "method")}
    return evaluate


for _cid, _stmt in (
        ("resnet2-gap-smaller",
         "Skipping two layers in ResNet makes the generalization gap smaller than skipping one or no layer"),
        ("resnet2-gap-smaller-linear", "The same, for deep linear networks (the paper's derivation)"),
        ("resnet2-gap-smaller-relu", "The same carries over to ReLU networks (the paper's experiments suggest)")):
    register_claim(Claim(_cid, "Furusho, Liu & Ikeda, INNS-BDDL 2019", _stmt,
                         "generalization gap (test loss - training loss) of trained MLP, ResNet1, ResNet2",
                         "SymPy laws (PL constant, least squares) + full-batch GD on a teacher task and digits",
                         _generalization_claim(_cid)))


__all__ = ["MEANING", "VERDICTS", "Claim", "Settings", "claim_units", "claims", "evaluate_claims", "register_claim"]
