"""Verdict semantics: one vocabulary, and the headline verdict is the primary reading's alone."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anglefish.verify.verdicts import MEANING, VERDICTS, Reading, claim_result, validate

readings = st.builds(
    lambda name, verdict: Reading(name, "q", "m", "r", verdict, f"{verdict} because", {},
                                  condition="c" if verdict == "holds only if" else None,
                                  counterexample={"x": 1} if verdict == "holds only if" else None,
                                  true_law="law" if verdict in ("holds with another rate",) else None),
    st.text(min_size=1, max_size=8), st.sampled_from(VERDICTS))


@given(primary=readings, others=st.lists(readings, max_size=6))
def test_the_headline_is_the_primary_readings_verdict(primary, others):
    """Whatever the other readings say, the claim's verdict is its primary reading's: a claim whose
    primary reading fails can never come out 'holds'."""
    result = validate(claim_result(primary, others))
    assert result["verdict"] == primary.verdict
    assert result["readings"][0]["reading"] == primary.name
    if primary.verdict == "fails":
        assert result["verdict"] != "holds"


def test_validate_refuses_a_promoted_reading():
    primary = Reading("literal", "q", "m", "r", "fails", "it fails")
    other = Reading("another", "q", "m", "r", "holds", "this one holds")
    result = claim_result(primary, [other])
    result["verdict"] = "holds"  # promoting another reading is refused
    with pytest.raises(AssertionError, match="differs from the primary"):
        validate(result)
    with pytest.raises(AssertionError, match="unknown verdict"):
        validate({**claim_result(primary), "verdict": "holds in another reading"})


def test_conditions_and_true_laws_are_required():
    with pytest.raises(AssertionError, match="condition"):
        validate(claim_result(Reading("p", "q", "m", "r", "holds only if", "sometimes")))
    with pytest.raises(AssertionError, match="true law"):
        validate(claim_result(Reading("p", "q", "m", "r", "holds with another rate", "slower")))


def test_vocabulary_is_small_and_every_word_has_a_meaning():
    assert set(MEANING) == set(VERDICTS) and len(VERDICTS) == 6
    assert all("another reading" not in v for v in VERDICTS)
