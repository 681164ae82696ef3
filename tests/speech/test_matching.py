"""Mapping recognised words to an intent: phrases in order, confidence discounted by coverage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivr.speech import IntentSet, MatchVerdict, RecognisedWord, match_intent
from ivr.speech.intents import parse_intents
from kck.yamlsource import parse_yaml

INTENTS = """
language: pl
thresholds: {accept: 0.75, confirm: 0.4}
intents:
  documents:
    phrases: [dowód osobisty, paszport]
    next: queue_documents
    confirm_prompt: pl/kck/intent-documents
  parking:
    phrases: [mandat za parkowanie, parkowanie]
    next: queue_parking
    confirm_prompt: pl/kck/intent-parking
"""


@pytest.fixture
def intents() -> IntentSet:
    return parse_intents(parse_yaml(INTENTS, "pl.yaml"), str(Path("config/intents/pl.yaml")))


def heard(*pairs: tuple[str, float]) -> tuple[RecognisedWord, ...]:
    return tuple(RecognisedWord(w, c, i * 0.5, i * 0.5 + 0.4) for i, (w, c) in enumerate(pairs))


def test_whole_phrase_heard_confidently_is_accepted(intents: IntentSet) -> None:
    match = match_intent(heard(("dowód", 0.9), ("osobisty", 1.0)), intents)
    assert match.verdict is MatchVerdict.ACCEPTED
    assert match.intent is not None and match.intent.id == "documents"
    assert match.confidence == pytest.approx(0.95)
    assert match.matched_phrase == "dowód osobisty"


def test_grammar_words_out_of_phrase_order_are_no_match(intents: IntentSet) -> None:
    # What a model without [unk] makes of "jaka jest pogoda": grammar words, but no phrase.
    match = match_intent(heard(("osobisty", 1.0), ("za", 1.0), ("dowód", 1.0)), intents)
    assert match.verdict is MatchVerdict.NO_MATCH
    assert match.intent is None


def test_phrase_amid_other_words_asks_for_confirmation(intents: IntentSet) -> None:
    match = match_intent(heard(("paszport", 1.0), ("za", 0.9)), intents)
    assert match.verdict is MatchVerdict.CONFIRM
    assert match.intent is not None and match.intent.id == "documents"
    assert match.confidence == pytest.approx(0.5)


def test_phrase_lost_among_many_other_words_is_low_confidence(intents: IntentSet) -> None:
    match = match_intent(heard(("paszport", 1.0), ("za", 0.9), ("osobisty", 0.8)), intents)
    assert match.verdict is MatchVerdict.LOW_CONFIDENCE
    assert match.confidence == pytest.approx(1 / 3, abs=1e-3)


def test_phrase_heard_weakly_is_low_confidence(intents: IntentSet) -> None:
    match = match_intent(heard(("paszport", 0.3)), intents)
    assert match.verdict is MatchVerdict.LOW_CONFIDENCE
    assert match.confidence == pytest.approx(0.3)


def test_nothing_heard_is_no_speech(intents: IntentSet) -> None:
    assert match_intent((), intents).verdict is MatchVerdict.NO_SPEECH


def test_longer_phrase_claims_its_words_before_a_shorter_one(intents: IntentSet) -> None:
    words = heard(("mandat", 0.8), ("za", 0.9), ("parkowanie", 1.0))
    match = match_intent(words, intents)
    assert match.verdict is MatchVerdict.ACCEPTED
    assert match.matched_phrase == "mandat za parkowanie"
    assert match.confidence == pytest.approx(0.9)


def test_intent_explaining_more_of_the_answer_wins(intents: IntentSet) -> None:
    words = heard(("paszport", 0.6), ("mandat", 1.0), ("za", 1.0), ("parkowanie", 1.0))
    match = match_intent(words, intents)
    assert match.intent is not None and match.intent.id == "parking"
    assert match.confidence == pytest.approx(0.75)
    assert match.verdict is MatchVerdict.ACCEPTED


def test_repeated_phrase_counts_every_occurrence(intents: IntentSet) -> None:
    words = heard(("parkowanie", 1.0), ("parkowanie", 0.8))
    match = match_intent(words, intents)
    assert match.verdict is MatchVerdict.ACCEPTED
    assert match.confidence == pytest.approx(0.9)


WORDS = ["dowód", "osobisty", "paszport", "mandat", "za", "parkowanie"]


@given(
    st.lists(st.tuples(st.sampled_from(WORDS), st.floats(min_value=0.0, max_value=1.0)), max_size=8)
)
def test_any_recognised_words_give_a_verdict_consistent_with_the_thresholds(
    pairs: list[tuple[str, float]],
) -> None:
    intents = parse_intents(parse_yaml(INTENTS, "pl.yaml"), "pl.yaml")
    match = match_intent(heard(*pairs), intents)
    assert 0.0 <= match.confidence <= 1.0
    if not pairs:
        assert match.verdict is MatchVerdict.NO_SPEECH
    elif match.intent is None:
        assert match.verdict is MatchVerdict.NO_MATCH and match.confidence == 0.0
    else:
        assert match.matched_phrase in match.intent.phrases
        assert match.matched_phrase is not None
        assert match.matched_phrase in " ".join(w for w, _ in pairs)
        expected = (
            MatchVerdict.ACCEPTED
            if match.confidence >= 0.75
            else MatchVerdict.CONFIRM
            if match.confidence >= 0.4
            else MatchVerdict.LOW_CONFIDENCE
        )
        assert match.verdict is expected


@given(st.permutations(["osobisty", "za", "dowód"]))
def test_intent_words_in_no_phrase_order_never_match(order: list[str]) -> None:
    intents = parse_intents(parse_yaml(INTENTS, "pl.yaml"), "pl.yaml")
    match = match_intent(heard(*((w, 1.0) for w in order)), intents)
    if order[:2] == ["dowód", "osobisty"] or order[1:] == ["dowód", "osobisty"]:
        assert match.intent is not None and match.intent.id == "documents"
    else:
        assert match.verdict is MatchVerdict.NO_MATCH
