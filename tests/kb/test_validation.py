"""One gate for every way a card comes in: the same checks, file by file or field by field."""

from __future__ import annotations

from datetime import date

import pytest

from kb import CardFileError, CardInvalid, KnowledgeBase, parse_card, render_card, validate_card
from kb.validation import FieldProblem

GOOD = {
    "id": "test-karta",
    "title": "Karta testowa",
    "unit": "testy",
    "unit_name": "Wydział Testów",
    "owner": "kierownik",
    "last_reviewed": "2026-01-10",
    "review_due": "2026-07-10",
}


def test_every_problem_is_listed_with_its_field_code_and_item() -> None:
    with pytest.raises(CardInvalid) as err:
        validate_card(
            {
                **GOOD,
                "title": "ab",
                "unit": "u" * 65,
                "review_due": "2026-13-01",
                "language": "de",
                "related": ["dobra", "Zła Karta"],
                "topics": {"intent": ["Złe Słowo"]},
                "colour": "red",
            }
        )
    found = {(p.field, p.code, p.item) for p in err.value.problems}
    assert found == {
        ("title", "too_short", None),
        ("unit", "too_long", None),
        ("review_due", "not_date", None),
        ("language", "not_language", None),
        ("related", "not_slug", "1"),
        ("topics", "not_topic_key", None),
        ("colour", "unknown_field", None),
    }
    slug = next(p for p in err.value.problems if p.code == "not_slug")
    assert slug.params == {"value": "Zła Karta"}
    assert "field 'related' item 1: 'Zła Karta' is not a slug" in str(err.value)


def test_a_missing_field_is_required() -> None:
    data = {name: value for name, value in GOOD.items() if name != "owner"}
    with pytest.raises(CardInvalid) as err:
        validate_card(data)
    assert err.value.problems == [FieldProblem("owner", "required", "Field required", None, {})]


def test_a_file_is_refused_for_the_same_problem_the_editor_shows() -> None:
    card = validate_card(GOOD)
    text = render_card(card).replace("related: []", "related: [dobra, Zła-Karta]")
    with pytest.raises(CardFileError) as from_file:
        parse_card(text, "pl/test-karta.md")
    with pytest.raises(CardInvalid) as from_form:
        validate_card({**GOOD, "related": ["dobra", "Zła-Karta"]})
    (problem,) = from_form.value.problems
    assert (from_file.value.field, problem.field) == ("related", "related")
    assert str(from_file.value).endswith(f"item {problem.item}: {problem.message}")
    assert from_file.value.line == text.splitlines().index("related: [dobra, Zła-Karta]") + 1


async def test_listing_gives_every_article_by_unit_without_content(seeded: KnowledgeBase) -> None:
    everything = await seeded.listing()
    assert len(everything) == len(await seeded.cards())
    assert [(a.unit, a.slug) for a in everything] == sorted((a.unit, a.slug) for a in everything)
    roads = await seeded.listing(unit="drogi")
    assert roads and {a.unit for a in roads} == {"drogi"}
    first = roads[0]
    assert first.current_revision == 1 and isinstance(first.review_due, date)
