"""The Fisher-information and learning-rate claims, adjudicated from the derived depth laws.

Claims (data, below in ``CLAIMS``):

* INNS-BDDL 2019 (Furusho & Ikeda, "Effects of skip-connection in ResNet and batch-
  normalization on Fisher information matrix", abstract only): the MLP's FIM eigenvalues do
  not depend on depth; the ResNet's grow exponentially with depth; the ResNet+BN's grow
  sub-linearly.
* Seed report: the largest learning rate that converges is exponentially small in depth for
  the ResNet, and only reciprocally small (proportional to 1/L) with BN.

Everything the claims are held against is computed: the infinite-width NTK/Fisher theory of
:mod:`anglefish.theory.ntk` (its module docstring states the convention: T orthogonal inputs,
all weights including the readout, population BN not differentiated, eta_max = 2/lambda_max)
gives the large-L law of each quantity as base^L L^p (log L)^s (``fisher_law``), and the
numbers per depth (``fisher_theory``'s kappas) are shown next to it.  The paper's own FIM
convention is unknown, so each claim is read several ways:

  readings of an eigenvalue claim: whole FIM lambda_max / N; whole FIM N m_lambda (N -> oo);
      the block of F of the first repeated block (K = 0) and of the last (K = L-1), each by
      lambda_max / N and by N m_lambda;
  readings of a learning-rate claim: N eta_max = 2 N / lambda_max of the whole FIM, of the
      first block and of the last block (training only those weights).  The mean eigenvalue
      does not set a convergence threshold, so that reading is 'not checkable'.

Rules (applied to the derived law of the quantity; coefficients and T aside):

* "does not depend on depth": holds if the law tends to a positive constant; 'holds as a
  bound only' if it tends to 0 (bounded, but not constant); fails if it grows.
* "grows exponentially": holds if base > 1; fails otherwise.
* "grows sub-linearly": holds if the law grows and is o(L); 'holds as a bound only' if it
  does not grow (it is then o(L), but nothing grows); fails if it is not o(L).
* A learning-rate claim "eta_max ~ g(L)" is about a safe step size: holds if eta_max has the
  form of g ("exponentially small": base < 1; "proportional to 1/L": exactly L^-1); if
  eta_max decays more slowly than g, a step size chosen by the claim is safe but needlessly
  small: 'holds as a bound only'; if it decays faster, the claimed step size eventually
  exceeds eta_max: fails.
* Summary of a claim: 'holds' if it holds in the primary reading (whole FIM lambda_max, resp.
  its eta_max); else 'holds in another reading' if some reading holds; else 'holds as a bound
  only' if some reading does; else 'not checkable' if none is checkable; else 'fails'.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy as sp

from ..theory.blocks import DEPTH
from ..theory.ntk import (DEFAULT_DPS, SAMPLES, Scale, fisher_law, kappa_numeric, ntk_recursion)

L = DEPTH
INNS = ("Furusho & Ikeda, INNS-BDDL 2019, 'Effects of skip-connection in ResNet and "
        "batch-normalization on Fisher information matrix' (abstract)")
SEED = "seed report (learning-rate consequences of the INNS-BDDL 2019 claims)"

VERDICTS = ("holds", "fails", "holds as a bound only", "holds in another reading", "not checkable")

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
_LINEAR = Scale(sp.Integer(1), sp.Integer(1), sp.Integer(0), sp.Integer(1))


def _scale(entry: dict) -> Scale:
    s = entry["scale"]
    return Scale(*(sp.sympify(s[k]) for k in ("base", "power", "log_power", "coefficient")))


def _law_entry(law: dict, key: str) -> dict:
    return {"quantity": law["quantity"], "class": law["class"], "leading": law["leading"],
            "scale": law["scale"]} if key == "lambda_max" else law[key]


def judge_scale(kind: str, scale: Scale) -> tuple[str, str]:
    """(verdict, reason) for one reading (rules in the module docstring)."""
    desc = f"{scale.law_class} ({sp.sstr(scale.leading())})"
    if kind == "constant":
        if scale.grows():
            return "fails", f"grows with depth: {desc}"
        if scale.law_class == "constant":
            return "holds", f"tends to a constant: {desc}"
        return "holds as a bound only", f"bounded but decays: {desc}"
    if kind == "exponential growth":
        if (scale.base > 1) == sp.true:
            return "holds", f"exponential: {desc}"
        return "fails", f"not exponential: {desc}"
    if kind == "sub-linear growth":
        if scale.compare(_LINEAR) >= 0:
            return "fails", f"not o(L): {desc}"
        if scale.grows():
            return "holds", f"grows, and is o(L): {desc}"
        return "holds as a bound only", f"o(L) but does not grow: {desc}"
    if kind == "exponentially small":
        if (scale.base < 1) == sp.true:
            return "holds", f"exponentially small: {desc}"
        return "holds as a bound only", f"decays more slowly than any exponential: {desc}"
    if kind == "reciprocal":
        target = Scale(sp.Integer(1), sp.Integer(-1), sp.Integer(0), sp.Integer(1))
        c = scale.compare(target)
        if c == 0:
            return "holds", f"proportional to 1/L: {desc}"
        if c > 0:
            return "holds as a bound only", f"decays more slowly than 1/L (a 1/L step is safe, not the law): {desc}"
        return "fails", f"decays faster than 1/L (a step size ~ 1/L eventually exceeds eta_max): {desc}"
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


def _reading_row(claim: FisherClaim, name: str, params: str, key: str | None) -> dict:
    base = {"id": f"{claim.id}/{params}/{key or 'mean_eigenvalue'}", "source": claim.source,
            "statement": claim.statement, "reading": name}
    if key is None:
        return {**base, "verdict": "not checkable",
                "evidence": {"why": "the mean eigenvalue does not set the largest convergent step size "
                                    "(that is 2/lambda_max); it only bounds it: 2/(P m_lambda) <= eta_max <= 2/m_lambda"}}
    law = fisher_law(claim.architecture, params)
    entry = _law_entry(law, key)
    scale = _scale(entry)
    verdict, why = judge_scale(claim.kind, scale)
    quantity = {"lambda_max": "lambda_max / N", "mean_eigenvalue": entry["quantity"],
                "eta_max": "N * eta_max"}[key]
    leading_at_T = sp.sstr(sp.sympify(entry["leading"], locals={"L": L, "T": SAMPLES}).subs(SAMPLES, EVIDENCE_SAMPLES))
    evidence = {
        "quantity": quantity, "derived_class": entry["class"], "derived_leading": entry["leading"],
        "derived_scale": entry["scale"], "claimed_kind": claim.kind, "claimed_law": sp.sstr(claim.claimed_law),
        "why": why, "law_steps": law["steps"],
        "samples_T": EVIDENCE_SAMPLES, "leading_at_T": leading_at_T,
        "values": _numbers(claim.architecture, params, key),
        "law_accuracy": law["accuracy"],
    }
    return {**base, "verdict": verdict, "evidence": evidence}


def summarize(claim: FisherClaim, rows: list) -> dict:
    """The claim's summary row (rule in the module docstring)."""
    primary = rows[0]
    holding = [r["reading"] for r in rows if r["verdict"] == "holds"]
    bounds = [r["reading"] for r in rows if r["verdict"] == "holds as a bound only"]
    checkable = [r for r in rows if r["verdict"] != "not checkable"]
    if primary["verdict"] == "holds":
        verdict, reading = "holds", primary["reading"]
    elif holding:
        verdict, reading = "holds in another reading", "; ".join(holding)
    elif bounds:
        verdict, reading = "holds as a bound only", "; ".join(bounds)
    elif not checkable:
        verdict, reading = "not checkable", "none"
    else:
        verdict, reading = "fails", "none"
    evidence = {"primary_reading": primary["reading"], "primary_verdict": primary["verdict"],
                "readings": {r["reading"]: r["verdict"] for r in rows},
                "primary_law": primary["evidence"].get("derived_leading")}
    return {"id": claim.id, "source": claim.source, "statement": claim.statement, "verdict": verdict,
            "evidence": evidence, "reading": reading}


def claim_rows(claim: FisherClaim) -> list:
    readings = EIGEN_READINGS if claim.quantity == "eigenvalues" else RATE_READINGS
    return [_reading_row(claim, *r) for r in readings]


def fisher_claims(detail: bool = True) -> list[dict]:
    """Verdicts on the FIM and learning-rate claims: for each claim its summary row, then (if
    ``detail``) one row per reading.  Keys: id, source, statement, verdict, evidence, reading."""
    out = []
    for claim in CLAIMS:
        rows = claim_rows(claim)
        out.append(summarize(claim, rows))
        if detail:
            out.extend(rows)
    return out


__all__ = ["CLAIMS", "EIGEN_READINGS", "RATE_READINGS", "FisherClaim", "VERDICTS", "claim_rows",
           "fisher_claims", "judge_scale", "summarize"]
