"""The Fisher-information and learning-rate claims, adjudicated.

Claims (data, below in ``CLAIMS``):

* INNS-BDDL 2019 (Furusho & Ikeda, "Effects of skip-connection in ResNet and batch-
  normalization on Fisher information matrix", abstract only): the MLP's FIM eigenvalues do
  not depend on depth; the ResNet's grow exponentially with depth; the ResNet+BN's grow
  sub-linearly.
* Seed report: the largest learning rate that converges is exponentially small in depth for
  the ResNet, and only reciprocally small (proportional to 1/L) with BN.

Primary readings (:mod:`anglefish.verify.verdicts`).  The abstract does not say which eigenvalue
statistic it means; its conclusion is about the largest usable learning rate, which is set by
eta_max = 2/lambda_max (Karakida, Akaho & Amari 2019), and the seed report derives its learning-rate
claims from the eigenvalue claims through that relation.  So the reading that decides the papers'
conclusion -- the primary one -- is lambda_max of the whole FIM (all weights), resp. eta_max =
2/lambda_max of the whole network, in the infinite-width NTK theory of :mod:`anglefish.theory.ntk`
(its convention: T orthogonal inputs, all weights including the readout, population BN as in the
proofs), as L -> oo.  Other readings are reported beside it and never promoted:

  theory: the mean eigenvalue N m_lambda; the blocks of F of the first (K = 0) and last (K = L-1)
      repeated block, by lambda_max and by m_lambda (eta_max for the rate claims);
  simulation (dense random networks, L = 1 .. L_max; ``measured=True``): the whole-FIM lambda_max
      with population BN and with mini-batch BN (ResNet+BN; Karakida et al., NeurIPS 2019, show that
      mean subtraction can remove the large lambda_max outlier, so the BN kinds may answer
      differently); for the rate claims the two thresholds of full-batch gradient descent
      (:func:`anglefish.numeric.training.learning_rate_thresholds`): the largest rate of monotone
      decrease and the largest rate at which training still converges (divergence threshold),
      with population and with mini-batch BN.

Rules for a derived law base^L L^p (log L)^s (coefficients and T aside):

* "does not depend on depth": ``holds`` if it tends to a positive constant, else ``fails``.
* "grows exponentially": ``holds`` if base > 1, else ``fails``.
* "grows sub-linearly": ``holds`` if it grows and is o(L); ``fails`` if it does not grow or grows
  at least linearly (L log L is not sub-linear).
* "exponentially small": ``holds`` if base < 1, else ``fails``.
* "proportional to 1/L": ``holds`` if the law is L^-1; ``holds with another rate`` if it decays
  polynomially with another power or a logarithmic factor (the kind -- only polynomially small --
  holds, the rate does not; the true law is given); ``fails`` if it is exponentially small or does
  not decay.

Rules for a simulated depth series (L = 1 .. L_max, seed-averaged logs with standard errors; a
weighted least-squares fit): growth claims use the local exponent p of log lambda_max against log L
("sub-linear": holds if p < 1 by more than 2 SE, fails if p > 1 by more than 2 SE, else not
checkable); rate claims compare the measured threshold with the theory's finite-L 2/lambda_max: if
their ratio has no significant trend in log L (|slope| <= 2 SE), the measured threshold has the
theory's depth dependence and the reading inherits the theory law's verdict; otherwise the fitted
power (for "1/L") or per-block factor (for "exponentially small") of the measured series decides.
These readings speak only for the depths simulated and are never promoted.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp

from ..theory.asymptotics import GrowthLaw
from ..theory.blocks import DEPTH
from ..theory.fisher_laws import fisher_law
from ..theory.kappas import kappa_numeric
from ..theory.ntk import DEFAULT_DPS, SAMPLES, ntk_recursion
from ..units import Plan, reusing, run_units, unit
from .verdicts import Reading, claim_result

L = DEPTH
INNS = ("Furusho & Ikeda, INNS-BDDL 2019, 'Effects of skip-connection in ResNet and "
        "batch-normalization on Fisher information matrix' (abstract)")
SEED = "seed report (learning-rate consequences of the INNS-BDDL 2019 claims)"

#: depths at which numbers are shown next to the laws, and the number of inputs T used there
EVIDENCE_DEPTHS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
EVIDENCE_SAMPLES = 8


@dataclass(frozen=True)
class FisherClaim:
    """One claim: what is claimed (kind and a representative formula, as data)."""

    id: str
    source: str
    architecture: str
    quantity: str  # 'eigenvalues' or 'eta_max'
    kind: str  # 'constant', 'exponential growth', 'sub-linear growth', 'exponentially small', 'reciprocal'
    claimed_law: sp.Expr  # in L; b, a symbols where the claim leaves a constant open
    statement: str


_B = sp.Symbol("b", positive=True)  # an unspecified base > 1
_A = sp.Symbol("a", positive=True)  # an unspecified exponent in (0, 1)

CLAIMS = (
    FisherClaim("fim-mlp-depth-independent", INNS, "mlp", "eigenvalues", "constant", sp.Integer(1),
                "MLP: the FIM eigenvalues do not depend on depth"),
    FisherClaim("fim-resnet-exponential", INNS, "resnet", "eigenvalues", "exponential growth", _B**L,
                "ResNet: the FIM eigenvalues grow exponentially with depth"),
    FisherClaim("fim-resnet-bn-sublinear", INNS, "resnet-bn", "eigenvalues", "sub-linear growth", L**_A,
                "ResNet+BN: the FIM eigenvalues grow sub-linearly with depth"),
    FisherClaim("lr-resnet-exponentially-small", SEED, "resnet", "eta_max", "exponentially small", _B**(-L),
                "ResNet: the largest convergent learning rate is exponentially small in depth"),
    FisherClaim("lr-resnet-bn-reciprocal", SEED, "resnet-bn", "eta_max", "reciprocal", 1 / L,
                "ResNet+BN: the largest convergent learning rate is proportional to 1/L"),
)

#: (name, params, quantity key of fisher_law)
EIGEN_READINGS = (
    ("whole FIM: lambda_max", "all", "lambda_max"),
    ("whole FIM: mean eigenvalue m_lambda", "all", "mean_eigenvalue"),
    ("per-layer, first block (K = 0): lambda_max", "layer:first", "lambda_max"),
    ("per-layer, last block (K = L-1): lambda_max", "layer:last", "lambda_max"),
    ("per-layer, first block (K = 0): mean eigenvalue", "layer:first", "mean_eigenvalue"),
    ("per-layer, last block (K = L-1): mean eigenvalue", "layer:last", "mean_eigenvalue"),
)
RATE_READINGS = (
    ("whole FIM: eta_max = 2/lambda_max", "all", "eta_max"),
    ("whole FIM: mean eigenvalue m_lambda", "all", None),
    ("per-layer, first block (K = 0): eta_max", "layer:first", "eta_max"),
    ("per-layer, last block (K = L-1): eta_max", "layer:last", "eta_max"),
)
_LINEAR = GrowthLaw(sp.Integer(1), sp.Integer(1), sp.Integer(0), sp.Integer(1))


def _scale(entry: dict) -> GrowthLaw:
    s = entry["scale"]
    return GrowthLaw(*(sp.sympify(s[k]) for k in ("base", "power", "log_power", "coefficient")))


def _law_entry(law: dict, key: str) -> dict:
    return {"quantity": law["quantity"], "class": law["class"], "leading": law["leading"],
            "scale": law["scale"]} if key == "lambda_max" else law[key]


def judge_scale(kind: str, scale: GrowthLaw) -> tuple[str, str, str | None]:
    """(verdict, reason, true law or None) for a derived law (rules in the module docstring)."""
    desc = f"{scale.law_class} ({sp.sstr(scale.leading())})"
    law = sp.sstr(scale.leading())
    if kind == "constant":
        if scale.grows():
            return "fails", f"grows with depth: {desc}", law
        if scale.law_class == "constant":
            return "holds", f"tends to a constant: {desc}", None
        return "fails", f"decays with depth: {desc}", law
    if kind == "exponential growth":
        if (scale.base > 1) == sp.true:
            return "holds", f"grows exponentially: {desc}", None
        return "fails", f"does not grow exponentially: {desc}", law
    if kind == "sub-linear growth":
        if not scale.grows():
            return "fails", f"does not grow: {desc}", law
        if scale.compare(_LINEAR) >= 0:
            return "fails", f"grows at least linearly, not sub-linearly: {desc}", law
        return "holds", f"grows, and is o(L): {desc}", None
    if kind == "exponentially small":
        if (scale.base < 1) == sp.true:
            return "holds", f"is exponentially small: {desc}", None
        return "fails", f"decays more slowly than any exponential: {desc}", law
    if kind == "reciprocal":
        target = GrowthLaw(sp.Integer(1), sp.Integer(-1), sp.Integer(0), sp.Integer(1))
        if scale.compare(target) == 0:
            return "holds", f"is proportional to 1/L: {desc}", None
        polynomial = scale.base == 1 and (scale.power < 0) == sp.true
        if polynomial:
            faster = scale.compare(target) < 0
            return ("holds with another rate",
                    f"is only polynomially small, as claimed, but not proportional to 1/L: {desc}"
                    + (" -- faster than 1/L, so a step size ~ 1/L eventually exceeds it" if faster else ""), law)
        return "fails", f"is not polynomially small: {desc}", law
    raise ValueError(f"unknown claim kind {kind!r}")


@lru_cache(maxsize=None)
def _numbers(arch: str, params: str, key: str) -> dict:
    """The quantity of a reading at EVIDENCE_DEPTHS (T = EVIDENCE_SAMPLES, N -> oo normalisation)."""
    n_w = ntk_recursion(arch).weight_matrices
    T = EVIDENCE_SAMPLES
    out = {}
    with mpmath.workdps(DEFAULT_DPS):
        for depth in EVIDENCE_DEPTHS:
            traj = kappa_numeric(arch, depth)
            k = {"all": None, "layer:first": 0, "layer:last": depth - 1}[params]
            k1, k2 = traj.kappas("all" if params == "all" else "block", k)
            lam = (k1 + (T - 1) * k2) / T
            if key == "lambda_max":
                value = lam
            elif key == "mean_eigenvalue":
                value = k1 / (n_w * depth) if params == "all" else k1 / n_w
            else:
                value = 2 / lam
            out[depth] = float(value)
    return out


def _theory_reading(claim: FisherClaim, name: str, params: str, key: str | None) -> Reading:
    """One reading of the derived large-L laws (``key``: lambda_max, mean_eigenvalue, eta_max)."""
    model = (f"{claim.architecture}, N -> oo (NTK theory; population BN as in the proofs), "
             f"T orthogonal inputs, parameters {params}")
    if key is None:
        why = ("the mean eigenvalue does not set the largest convergent step size (that is 2/lambda_max); it "
               "only bounds it: 2/(P m_lambda) <= eta_max <= 2/m_lambda")
        return Reading(name, "N m_lambda", model, "L -> oo", "not checkable", why, {"why": why})
    law = fisher_law(claim.architecture, params)
    entry = _law_entry(law, key)
    scale = _scale(entry)
    verdict, why, true_law = judge_scale(claim.kind, scale)
    quantity = {"lambda_max": "lambda_max / N", "mean_eigenvalue": entry["quantity"],
                "eta_max": "N * eta_max"}[key]
    leading_at_T = sp.sstr(sp.sympify(entry["leading"], locals={"L": L, "T": SAMPLES}).subs(SAMPLES, EVIDENCE_SAMPLES))
    evidence = {
        "quantity": quantity, "derived_class": entry["class"], "derived_leading": entry["leading"],
        "derived_scale": entry["scale"], "claimed_kind": claim.kind, "claimed_law": sp.sstr(claim.claimed_law),
        "law_steps": law["steps"], "samples_T": EVIDENCE_SAMPLES, "leading_at_T": leading_at_T,
        "values": {str(k): v for k, v in _numbers(claim.architecture, params, key).items()},
        "law_accuracy": law["accuracy"],
    }
    return Reading(name, quantity, model, "L -> oo (exact values at L = 1 .. 256 in the evidence)", verdict,
                   f"{quantity} {why}", evidence, true_law=None if true_law is None else f"{quantity} ~ {true_law}")


def claim_rows(claim: FisherClaim) -> list:
    """The theory readings of a claim, primary first."""
    readings = EIGEN_READINGS if claim.quantity == "eigenvalues" else RATE_READINGS
    return [_theory_reading(claim, *r) for r in readings]


# ----------------------------------------------------------------- simulated readings
@dataclass(frozen=True)
class SimulationSettings:
    """Sizes of the simulated readings (quick: seconds; full: minutes).  ``depths``: of the Fisher
    series, and of the learning-rate series unless ``lr_depths`` is given."""

    depths: tuple
    fisher_width: int
    fisher_samples: int
    fisher_seeds: int
    lr_width: int
    lr_samples: int
    lr_inits: int
    lr_steps: int = 50
    lr_depths: tuple | None = None

    @property
    def rate_depths(self) -> tuple:
        """The depths of the learning-rate series."""
        return tuple(self.depths if self.lr_depths is None else self.lr_depths)


QUICK_SIMULATION = SimulationSettings((1, 2, 4, 7, 10), 128, 16, 4, 64, 16, 2)
#: full: the learning-rate series at 7 of the 10 depths (a point costs ~ L; the readings' verdicts are those
#: of all 10, compared reading by reading at commit 5374084)
FULL_SIMULATION = SimulationSettings(tuple(range(1, 11)), 256, 32, 8, 128, 32, 6, lr_depths=(1, 2, 3, 4, 6, 8, 10))


def _seed(seed, *labels) -> int:
    """A master seed for one simulated series, from the run's seed and labels."""
    from ..seeds import part_seed

    return part_seed(seed, *labels)


def weighted_fit(x, y, se) -> dict:
    """Weighted least squares y = a + b x with weights 1/se^2; the slope's SE is inflated by
    sqrt(chi^2/dof) when the scatter exceeds the standard errors (model misfit)."""
    x, y, se = (np.asarray(v, dtype=float) for v in (x, y, se))
    w = 1.0 / np.maximum(se, 1e-12) ** 2
    xm = np.sum(w * x) / np.sum(w)
    ym = np.sum(w * y) / np.sum(w)
    sxx = np.sum(w * (x - xm) ** 2)
    b = float(np.sum(w * (x - xm) * (y - ym)) / sxx)
    a = float(ym - b * xm)
    resid = y - a - b * x
    dof = max(len(x) - 2, 1)
    chi2 = float(np.sum(w * resid**2))
    se_b = float(math.sqrt(1.0 / sxx) * math.sqrt(max(1.0, chi2 / dof)))
    return {"slope": b, "slope_se": se_b, "intercept": a, "chi2": chi2, "dof": dof}


def fisher_point(arch: str, bn: str | None, depth: int, width: int, samples: int, seeds: int, seed: int,
                 labels: list) -> np.ndarray:
    """lambda_max of each of ``seeds`` dense networks (a unit of work of a simulated series): part
    ``labels`` of the master ``seed``."""
    from ..numeric.fisher import fisher_spectrum

    return fisher_spectrum(arch, depth, width, samples, seeds, bn=bn, seed=_seed(seed, *labels))["lambda_max_per_seed"]


def _fisher_units(arch: str, bn: str | None, sim: SimulationSettings, seed: int) -> list:
    return [unit(fisher_point, arch=arch, bn=bn, depth=depth, width=sim.fisher_width, samples=sim.fisher_samples,
                 seeds=sim.fisher_seeds, seed=seed, labels=["fisher-claims", arch, bn, depth],
                 cost=sim.fisher_seeds * depth * (sim.fisher_width / 128) ** 2 * 0.2)  # ~50 per CPU second (verify.work)
            for depth in sim.depths]


def _fisher_series(arch: str, bn: str, sim: SimulationSettings, seed: int) -> dict:
    rows = []
    for depth, lam in zip(sim.depths, run_units(_fisher_units(arch, bn, sim, seed))):
        logs = np.log(lam / sim.fisher_width)
        rows.append({"L": depth, "lambda_max_over_N": float(np.exp(logs.mean())),
                     "log_mean": float(logs.mean()), "log_se": float(logs.std(ddof=1) / math.sqrt(len(logs)))})
    return {"rows": rows, "width": sim.fisher_width, "samples": sim.fisher_samples, "seeds": sim.fisher_seeds,
            "bn": bn, "fit_log_L": weighted_fit(np.log([r["L"] for r in rows]), [r["log_mean"] for r in rows],
                                                [r["log_se"] for r in rows])}


def _theory_series(arch: str, depths, samples: int) -> list:
    """lambda_max/N of the infinite-width theory at the simulated depths (T = ``samples``)."""
    from ..theory.fisher_theory import fisher_theory

    out = []
    for depth in depths:
        t = fisher_theory(arch, depth, 1, samples)
        out.append(t["lambda_max_log10"] * math.log(10) if t["lambda_max_log10"] is not None else math.nan)
    return out


def _growth_reading(claim: FisherClaim, series: dict, label: str, model: str) -> Reading:
    fit = series["fit_log_L"]
    p, se = fit["slope"], fit["slope_se"]
    depths = [r["L"] for r in series["rows"]]
    theory = _theory_series(claim.architecture, depths, series["samples"])
    p_theory = float(np.polyfit(np.log(depths), theory, 1)[0])
    evidence = {**series, "local_exponent": p, "local_exponent_se": se,
                "theory_local_exponent_population_bn": p_theory}
    regime = f"L = {depths[0]} .. {depths[-1]}, width {series['width']}, T = {series['samples']}"
    quantity = "local growth exponent p of lambda_max (log lambda_max against log L)"
    if claim.kind != "sub-linear growth":
        return Reading(label, quantity, model, regime, "not checkable",
                       "this simulated reading is set up for the sub-linear growth claim", evidence)
    if p + 2 * se < 1:
        verdict, why = "holds", f"lambda_max grows with local exponent p = {p:.2f} +- {se:.2f} < 1 at these depths"
    elif p - 2 * se > 1:
        verdict, why = "fails", f"lambda_max grows with local exponent p = {p:.2f} +- {se:.2f} > 1 at these depths"
    else:
        verdict, why = "not checkable", f"the local exponent p = {p:.2f} +- {se:.2f} is not separated from 1"
    return Reading(label, quantity, model, regime, verdict,
                   why + f" (the infinite-width theory's local exponent here: {p_theory:.2f})", evidence)


def lr_point(arch: str, bn: str | None, depth: int, width: int, samples: int, inits: int, steps: int, seed: int,
             labels: list) -> dict:
    """Both learning-rate thresholds of ``inits`` initialisations (a unit of work of a simulated
    series): part ``labels`` of the master ``seed``."""
    from ..numeric.training import learning_rate_thresholds

    return learning_rate_thresholds(arch, depth, width, samples, inits=inits, seed=_seed(seed, *labels), steps=steps,
                                    bn=bn)


def _lr_units(arch: str, bn: str | None, sim: SimulationSettings, seed: int) -> list:
    return [unit(lr_point, arch=arch, bn=bn, depth=depth, width=sim.lr_width, samples=sim.lr_samples,
                 inits=sim.lr_inits, steps=sim.lr_steps, seed=seed, labels=["lr-claims", arch, bn, depth],
                 cost=sim.lr_inits * depth * sim.lr_steps * (sim.lr_width / 64) ** 2 * sim.lr_samples / 500)
            for depth in sim.rate_depths]


def _lr_series(arch: str, bn: str | None, sim: SimulationSettings, seed: int, progress=None) -> dict:
    rows = []
    theory = _theory_series(arch, sim.rate_depths, sim.lr_samples)
    for i, (depth, r) in enumerate(zip(sim.rate_depths, run_units(_lr_units(arch, bn, sim, seed)))):
        row = {"L": depth, "log_theory_eta": math.log(2.0) - theory[i] - math.log(sim.lr_width)}
        for name in ("divergence", "monotone"):
            logs = [math.log(v) for v in r["per_init"][f"eta_{name}"] if v]
            row[f"log_eta_{name}"] = float(np.mean(logs)) if logs else math.nan
            row[f"log_eta_{name}_se"] = (float(np.std(logs, ddof=1) / math.sqrt(len(logs))) if len(logs) > 1
                                         else math.nan)
            row[f"ratio_{name}_mean"] = r["summary"][f"ratio_{name}"]["mean"]
            row[f"found_{name}"] = len(logs)
        rows.append(row)
        if progress is not None:
            progress(i + 1, len(sim.rate_depths))
    return {"rows": rows, "width": sim.lr_width, "samples": sim.lr_samples, "inits": sim.lr_inits,
            "steps": sim.lr_steps, "bn": bn, "resolution": r["resolution"]}


def _rate_reading(claim: FisherClaim, series: dict, which: str, label: str, model: str,
                  theory_verdict: Reading) -> Reading:
    """A measured threshold's depth dependence against the claim (rules in the module docstring)."""
    rows = [r for r in series["rows"] if math.isfinite(r[f"log_eta_{which}"])]
    regime = (f"L = {series['rows'][0]['L']} .. {series['rows'][-1]['L']}, width {series['width']}, "
              f"T = {series['samples']}, {series['inits']} initialisations, {series['steps']} steps")
    quantity = {"divergence": "largest learning rate at which GD still converges (divergence threshold)",
                "monotone": "largest learning rate of monotone loss decrease"}[which]
    evidence = dict(series)
    if len(rows) < 3 or any(not math.isfinite(r[f"log_eta_{which}_se"]) for r in rows):
        return Reading(label, quantity, model, regime, "not checkable",
                       "fewer than three depths with a measured threshold and a standard error", evidence)
    L_ = np.array([r["L"] for r in rows], dtype=float)
    y = np.array([r[f"log_eta_{which}"] for r in rows])
    se = np.array([r[f"log_eta_{which}_se"] for r in rows])
    relative = weighted_fit(np.log(L_), y - np.array([r["log_theory_eta"] for r in rows]), se)
    power = weighted_fit(np.log(L_), y, se)
    per_block = weighted_fit(L_, y, se)
    evidence.update(trend_against_theory=relative, power_fit=power, exponential_fit=per_block)
    follows = abs(relative["slope"]) <= 2 * relative["slope_se"]
    if follows:
        return Reading(label, quantity, model, regime, theory_verdict.verdict,
                       f"its ratio to the theory's 2/lambda_max has no significant depth trend (slope "
                       f"{relative['slope']:.2f} +- {relative['slope_se']:.2f} in log L), so it has the theory's "
                       f"depth law: {theory_verdict.why}", evidence, true_law=theory_verdict.true_law)
    p, p_se = power["slope"], power["slope_se"]
    factor = math.exp(per_block["slope"])
    if claim.kind == "reciprocal":
        if abs(p + 1) <= 2 * p_se:
            verdict, why = "holds", f"it falls like L^{p:.2f} +- {p_se:.2f}, consistent with 1/L"
        elif p < 0:
            verdict, why = "holds with another rate", f"it falls like L^({p:.2f} +- {p_se:.2f}), not 1/L"
        else:
            verdict, why = "fails", f"it does not fall with depth (L^({p:.2f} +- {p_se:.2f}))"
        return Reading(label, quantity, model, regime, verdict, why + " at these depths", evidence,
                       true_law=None if verdict == "holds" else f"~ L^{p:.2f} (L = 1 .. {int(L_[-1])})")
    if per_block["slope"] + 2 * per_block["slope_se"] < 0 and factor < 0.75:
        verdict, why = "holds", f"it falls by a factor {factor:.2f} per block at these depths"
    else:
        verdict, why = "not checkable", (f"its depth trend departs from the theory's and the per-block factor "
                                         f"{factor:.2f} does not settle the class at these depths")
    return Reading(label, quantity, model, regime, verdict, why, evidence)


def bounds_conclusion(claim: FisherClaim, primary: Reading | None = None) -> dict:
    """What the eigenvalue bounds alone conclude about the claim's primary reading (whole FIM,
    N -> oo, L -> oo), without kappa2 and without lambda_max's own law.

    max_t K_tt / T <= lambda_max <= tr F give N kappa1 / T <= lambda_max <= N kappa1 (every PSD
    matrix; :func:`anglefish.theory.spectrum_laws.bounds_law`), so lambda_max / N -- and N eta_max =
    2N / lambda_max, between 2/kappa1 and 2T/kappa1 -- is pinned to the law of kappa1 (resp.
    1/kappa1) up to a factor at most T that does not depend on L.  The claim's kind is judged on
    that law (:func:`judge_scale`); ``follows`` says whether this bounds-only verdict is the
    primary reading's (``primary``, computed if not given).  The sandwich fixes the growth class,
    not a limit: for 'does not depend on depth' it can show 'bounded', not 'convergent'."""
    from ..theory.spectrum_laws import bounds_law

    primary = primary or claim_rows(claim)[0]
    b = bounds_law(claim.architecture, "all")
    k1 = _scale(fisher_law(claim.architecture, "all")["kappa1"])
    if claim.quantity == "eigenvalues":
        scale, quantity = k1, "lambda_max / N"
        sandwich = f"{b['lower']} <= lambda_max / N <= {b['upper']}"
    else:
        scale = GrowthLaw(sp.simplify(1 / k1.base), -k1.power, -k1.log_power, sp.simplify(2 / k1.coefficient))
        quantity = "N eta_max"
        sandwich = (f"{sp.sstr(2 / sp.sympify(b['upper'], locals={'L': L}))} <= N eta_max <= "
                    f"{sp.sstr(2 * SAMPLES / sp.sympify(b['upper'], locals={'L': L}))}")
    verdict, why, _ = judge_scale(claim.kind, scale)
    follows = verdict == primary.verdict
    line = (f"{verdict} ({'as' if follows else 'NOT as'} the primary reading: {primary.verdict}); "
            f"max_t K_tt/T <= lambda_max <= tr F give {sandwich} (N -> oo, T inputs; the factor T between them "
            f"does not depend on L), so {quantity} {why}; kappa2 is not needed")
    return {"verdict": verdict, "follows": follows, "quantity": quantity, "sandwich": sandwich,
            "class": scale.law_class, "primary_verdict": primary.verdict, "line": line,
            "bounds": "max_t K_tt / T <= lambda_max (lower), lambda_max <= P m_lambda = tr F (upper)"}


def claim_result_for(claim: FisherClaim, simulated: dict | None = None) -> dict:
    """The claim's result: primary reading (whole network, theory), the other theory readings, and
    the simulated readings in ``simulated`` (from :func:`simulated_readings`); ``from_bounds``:
    what the bounds alone conclude (:func:`bounds_conclusion`)."""
    rows = claim_rows(claim)
    extra = (simulated or {}).get(claim.id, [])
    return {**claim_result(rows[0], rows[1:] + extra), "from_bounds": bounds_conclusion(claim, rows[0])}


def _jobs() -> list:
    """(claim, BN kind) of every simulated series."""
    return [(c, bn) for c in CLAIMS if c.architecture == "resnet-bn" or c.quantity == "eta_max"
            for bn in (("population", "batch") if c.architecture == "resnet-bn" else (None,))]


def simulation_units(sim: SimulationSettings = QUICK_SIMULATION, seed: int = 0) -> list:
    """The units of work of every simulated series: one per (series, depth)."""
    return [u for claim, bn in _jobs() for u in (_fisher_units if claim.quantity == "eigenvalues" else _lr_units)(
        claim.architecture, bn, sim, seed)]


def simulated_readings(sim: SimulationSettings = QUICK_SIMULATION, seed: int = 0, progress=None,
                       workers: int | None = 1) -> dict:
    """The simulated readings of every claim: {claim id: [Reading, ...]} (module docstring).  The series'
    points (:func:`simulation_units`) run on ``workers`` processes (``progress(done, total)`` counts
    them); the numbers do not depend on it."""
    with reusing(Plan().add(simulation_units(sim, seed)).run(workers, progress)):
        return _simulated_readings(sim, seed)


def _simulated_readings(sim: SimulationSettings, seed: int) -> dict:
    out = {c.id: [] for c in CLAIMS}
    theory = {}
    for claim, bn in _jobs():
        bn_text = {"population": "population BN", "batch": "mini-batch BN (statistics of the T inputs)",
                   None: "no BN"}[bn]
        if claim.quantity == "eigenvalues":
            series = _fisher_series(claim.architecture, bn, sim, seed)
            out[claim.id].append(_growth_reading(
                claim, series, f"simulation, {bn_text}: whole-FIM lambda_max",
                f"dense random {claim.architecture} networks, {bn_text}, all weights"))
        else:
            if claim.id not in theory:
                theory[claim.id] = claim_rows(claim)[0]
            series = _lr_series(claim.architecture, bn, sim, seed)
            for which in ("divergence", "monotone"):
                out[claim.id].append(_rate_reading(
                    claim, series, which, f"simulation, {bn_text}: measured {which} threshold",
                    f"dense random {claim.architecture} networks, {bn_text}, full-batch GD on all weights "
                    "(teacher targets)", theory[claim.id]))
    return out


def fisher_claims(quick: bool = True, seed: int = 0, measured: bool = True, progress=None,
                  workers: int | None = 1) -> list[dict]:
    """Verdicts on the FIM and learning-rate claims: one result per claim (:func:`claim_result_for`
    plus id, source, statement); ``measured=False`` leaves out the simulated readings (whose units of
    work run on ``workers`` processes)."""
    simulated = simulated_readings(QUICK_SIMULATION if quick else FULL_SIMULATION, seed, progress, workers) \
        if measured else None
    return [{"id": c.id, "source": c.source, "statement": c.statement, **claim_result_for(c, simulated)}
            for c in CLAIMS]


__all__ = ["CLAIMS", "EIGEN_READINGS", "FULL_SIMULATION", "QUICK_SIMULATION", "RATE_READINGS", "FisherClaim",
           "SimulationSettings", "bounds_conclusion", "claim_result_for", "claim_rows", "fisher_claims",
           "fisher_point", "judge_scale", "lr_point", "simulated_readings", "simulation_units", "weighted_fit"]
