"""Verdict semantics: the one vocabulary every claim is judged in, and the rule that the headline
verdict comes from the claim's primary reading alone.

A *reading* of a claim fixes what its words mean: the quantity, the model (which network, which
BN kind, infinite or finite width) and the regime (which depths, angles, widths).  The *primary
reading* is the paper's statement taken literally; where the words leave a choice open (the FIM
abstract does not say which eigenvalue statistic), it is the reading that decides the paper's own
conclusion (for learning-rate claims: lambda_max of the whole network, since eta_max = 2/lambda_max).
Every other reading is reported beside it, in the claim's ``readings`` table, and never promoted:
a different quantity that behaves as claimed is a separate finding, not the claim holding.

The vocabulary (``VERDICTS``; ``MEANING`` gives the one-line meaning printed by ``anglefish
claims``, the README and report.md):

* ``holds``                  -- the primary reading agrees with the statement as written;
* ``holds with another rate``-- the statement's kind holds (it decreases / grows / is met as a
                                bound) but its rate or law is not the claimed one; ``true_law`` says
                                what it is;
* ``holds only if``          -- the statement holds under a condition (``condition``) and fails
                                outside it; ``counterexample`` is a point outside it;
* ``fails``                  -- the primary reading contradicts the statement;
* ``ambiguous``              -- the words admit readings that disagree and none of them decides the
                                paper's conclusion; the readings table says which hold;
* ``not checkable``          -- the evidence cannot decide (the reason is given).

A claim result is a dict (JSON-ready) built by :func:`claim_result`; :func:`validate` enforces the
schema and the rule, and :func:`headline` is the rule itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import AnglefishError

VERDICTS = ("holds", "holds with another rate", "holds only if", "fails", "ambiguous", "not checkable")

MEANING = {
    "holds": "the primary reading (the paper's words, literally) agrees with the statement as written",
    "holds with another rate": "the statement's kind holds but its rate or law is another one (given)",
    "holds only if": "it holds under the stated condition and fails outside it (a counterexample is given)",
    "fails": "the primary reading contradicts the statement",
    "ambiguous": "the words admit readings that disagree and none decides the paper's conclusion",
    "not checkable": "the evidence cannot decide (the reason is given)",
}

#: verdicts a reading may carry (the same words)
READING_VERDICTS = VERDICTS


@dataclass
class Reading:
    """One way of reading a claim, and what the evidence says under it.

    name: short label ("whole FIM: lambda_max").  quantity: what is measured or derived.  model:
    which network (architecture, BN kind, width: 'N -> oo' or finite).  regime: depths, angles,
    inputs.  verdict: one of ``VERDICTS``.  why: one sentence.  evidence: JSON-ready numbers.
    condition / counterexample / true_law: as in the module docstring (None when not used).
    """

    name: str
    quantity: str
    model: str
    regime: str
    verdict: str
    why: str
    evidence: dict = field(default_factory=dict)
    condition: str | None = None
    counterexample: dict | None = None
    true_law: str | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise AnglefishError(f"reading '{self.name}': unknown verdict {self.verdict!r}")

    def as_dict(self) -> dict:
        return {"reading": self.name, "quantity": self.quantity, "model": self.model, "regime": self.regime,
                "verdict": self.verdict, "why": self.why, "condition": self.condition,
                "counterexample": self.counterexample, "true_law": self.true_law, "evidence": self.evidence}


def headline(primary: Reading) -> str:
    """The claim's verdict: the primary reading's, and nothing else."""
    return primary.verdict


def claim_result(primary: Reading, others=(), evidence: dict | None = None) -> dict:
    """The JSON-ready result of judging a claim: the headline verdict and its reason come from
    ``primary`` alone; ``readings`` lists the primary first, then ``others``."""
    readings = [primary, *others]
    return {
        "verdict": headline(primary),
        "reason": primary.why,
        "condition": primary.condition,
        "counterexample": primary.counterexample,
        "true_law": primary.true_law,
        "primary_reading": {"reading": primary.name, "quantity": primary.quantity, "model": primary.model,
                            "regime": primary.regime},
        "readings": [r.as_dict() for r in readings],
        "evidence": dict(evidence or primary.evidence),
    }


def not_checkable(reason: str, name: str = "the claim as stated", quantity: str = "", model: str = "",
                  regime: str = "") -> dict:
    """A claim result for a claim whose evidence could not be computed."""
    return claim_result(Reading(name, quantity, model, regime, "not checkable", reason, {"reason": reason}))


REQUIRED_KEYS = ("verdict", "reason", "primary_reading", "readings", "evidence")


def validate(result: dict, claim_id: str = "?") -> dict:
    """Enforce the schema and the rule: a known verdict, equal to the primary reading's (the first
    row of ``readings``), a reason, a condition and counterexample for 'holds only if', a true law
    for 'holds with another rate'.  Returns ``result``; raises AssertionError otherwise."""
    missing = [k for k in REQUIRED_KEYS if k not in result]
    if missing:
        raise AssertionError(f"claim {claim_id}: result lacks {', '.join(missing)}")
    verdict = result["verdict"]
    if verdict not in VERDICTS:
        raise AssertionError(f"claim {claim_id}: unknown verdict {verdict!r}")
    readings = result["readings"]
    if not readings or readings[0]["reading"] != result["primary_reading"]["reading"]:
        raise AssertionError(f"claim {claim_id}: the first reading must be the primary one")
    if readings[0]["verdict"] != verdict:
        raise AssertionError(f"claim {claim_id}: headline {verdict!r} differs from the primary reading's "
                             f"{readings[0]['verdict']!r}")
    for r in readings:
        if r["verdict"] not in VERDICTS:
            raise AssertionError(f"claim {claim_id}: reading {r['reading']!r} has unknown verdict {r['verdict']!r}")
        missing = [k for k in ("quantity", "model", "regime", "why", "evidence") if k not in r]
        if missing:
            raise AssertionError(f"claim {claim_id}: reading {r['reading']!r} lacks {', '.join(missing)}")
    if not str(result["reason"]).strip():
        raise AssertionError(f"claim {claim_id}: no reason given")
    if verdict == "holds only if" and not (result.get("condition") and result.get("counterexample")):
        raise AssertionError(f"claim {claim_id}: 'holds only if' needs a condition and a counterexample")
    if verdict == "holds with another rate" and not result.get("true_law"):
        raise AssertionError(f"claim {claim_id}: 'holds with another rate' needs the true law")
    return result


__all__ = ["MEANING", "READING_VERDICTS", "Reading", "VERDICTS", "claim_result", "headline", "not_checkable",
           "validate"]
