"""The editor's form holds a card whole: every shipped card goes through the form unchanged, and
the diff names only what changed."""

from __future__ import annotations

import pytest

from agentdesk.editor.card_diff import card_changes
from agentdesk.editor.card_form import TOPIC_INPUTS, card_data, form_values
from agentdesk.i18n import CATALOGUE
from kb import ServiceCard, TopicKind, read_folder, validate_card
from kb.validation import CARD_FIELDS, PROBLEM_CODES
from tests.kb.conftest import SEED


@pytest.fixture(scope="module")
def seed_cards() -> list[ServiceCard]:
    return [card for _, card in read_folder(SEED)]


def test_every_shipped_card_goes_through_the_form_unchanged(seed_cards: list[ServiceCard]) -> None:
    assert len(seed_cards) > 50
    for card in seed_cards:
        assert validate_card(card_data(form_values(card))) == card, card.id


def test_empty_inputs_are_left_out_so_the_editor_reads_required() -> None:
    data = card_data({"title": "  ", "summary": "", "translation_of": "", "topic-intent": " , "})
    assert "title" not in data and "translation_of" not in data
    assert data["summary"] == "" and data["topics"] == {}


def test_lists_split_by_line_and_keys_by_comma() -> None:
    data = card_data(
        {
            "documents": "dowód\n\n  wniosek  \n",
            "keywords": "drzewo, konar\ngałąź",
            "topic-intent": "a, b",
        }
    )
    assert data["documents"] == ["dowód", "wniosek"]
    assert data["keywords"] == ["drzewo", "konar", "gałąź"]
    assert data["topics"] == {"intent": ["a", "b"]}


def test_the_diff_names_only_the_changed_fields_line_by_line(
    seed_cards: list[ServiceCard],
) -> None:
    card = next(c for c in seed_cards if len(c.documents) >= 2)
    documents = (*card.documents[:-1], "nowy dokument")
    topics = {**card.topics, TopicKind.INTENT: ("nowa-intencja",)}
    newer = card.model_copy(update={"documents": documents, "topics": topics})
    changes = {change.field: change for change in card_changes(card, newer)}
    assert set(changes) == {"documents", "topics"}
    kinds = [(line.kind, line.text) for line in changes["documents"].lines]
    assert ("-", card.documents[-1]) in kinds and ("+", "nowy dokument") in kinds
    assert (" ", card.documents[0]) in kinds
    assert all(line.kind == "+" for change in card_changes(None, card) for line in change.lines)


def test_every_field_of_the_form_and_every_problem_has_words_in_both_languages() -> None:
    inputs = [*CARD_FIELDS, *TOPIC_INPUTS.values()]
    keys = [f"editor.field.{name}" for name in inputs]
    # (an "invalid" value has no words of ours: the check's own message is shown)
    keys += [f"editor.problem.{code}" for code in set(PROBLEM_CODES.values())]
    assert [key for key in keys if key not in CATALOGUE] == []
