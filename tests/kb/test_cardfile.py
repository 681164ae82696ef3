"""Service-card files: the seed set parses, renders back identically, bad files are named precisely."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb import (
    CardFileError,
    ImportRefused,
    Language,
    ServiceCard,
    TopicKind,
    parse_card,
    read_folder,
    render_card,
)
from tests.kb.conftest import SEED

GOOD = """---
id: test-karta
title: Karta testowa
unit: usc
unit_name: Urząd Stanu Cywilnego
owner: kierownik USC
last_reviewed: 2026-01-01
review_due: 2026-07-01
topics:
  intent: [birth-registration]
---
Treść karty.
"""


def test_seed_set_has_at_least_forty_polish_cards_over_twenty_units_and_translations() -> None:
    cards = [card for _, card in read_folder(SEED)]
    languages = Counter(card.language for card in cards)
    assert languages[Language.PL] >= 40
    assert languages[Language.EN] >= 3 and languages[Language.UK] >= 3
    assert len({card.unit for card in cards}) >= 20
    slugs = {card.id for card in cards}
    for card in cards:
        assert set(card.related) <= slugs, card.id
        assert card.translation_of is None or card.translation_of in slugs
        assert card.topics.get(TopicKind.INTENT), f"{card.id} has no intent topic"


def test_every_seed_card_renders_back_to_the_same_card_and_to_stable_text() -> None:
    for path, card in read_folder(SEED):
        text = render_card(card)
        again = parse_card(text, str(path))
        assert again == card
        assert render_card(again) == text


def test_unknown_field_is_reported_with_file_line_and_field() -> None:
    text = GOOD.replace("owner: kierownik USC\n", "owner: kierownik USC\nownr: literówka\n")
    with pytest.raises(CardFileError) as err:
        parse_card(text, "pl/test-karta.md")
    assert err.value.line == 7
    assert err.value.field == "ownr"
    assert str(err.value).startswith("pl/test-karta.md:7: field 'ownr': unknown field")


def test_broken_yaml_is_reported_with_its_line() -> None:
    text = GOOD.replace("unit: usc\n", "unit: [usc\n")
    with pytest.raises(CardFileError) as err:
        parse_card(text, "x.md")
    assert err.value.line is not None and err.value.line >= 4
    assert "broken YAML" in str(err.value)


def test_bad_slug_and_bad_date_name_their_fields() -> None:
    with pytest.raises(CardFileError) as err:
        parse_card(GOOD.replace("id: test-karta", "id: Test Karta"), "x.md")
    assert (err.value.field, err.value.line) == ("id", 2)
    with pytest.raises(CardFileError) as err:
        parse_card(GOOD.replace("review_due: 2026-07-01", "review_due: jutro"), "x.md")
    assert err.value.field == "review_due"


def test_file_without_front_matter_is_refused() -> None:
    with pytest.raises(CardFileError, match="does not start with a '---'"):
        parse_card("# tylko treść\n", "x.md")
    with pytest.raises(CardFileError, match="not closed"):
        parse_card("---\nid: a\n", "x.md")


def test_import_folder_with_a_broken_file_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.md").write_text(GOOD, encoding="utf-8")  # same id again
    (tmp_path / "c.md").write_text(GOOD.replace("title: Karta testowa\n", ""), encoding="utf-8")
    with pytest.raises(ImportRefused) as err:
        read_folder(tmp_path)
    problems = err.value.problems
    assert len(problems) == 2
    assert any("b.md" in p and "already used by" in p and "a.md" in p for p in problems)
    assert any("c.md" in p and "'title'" in p for p in problems)


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60
).map(str.strip)
_items = st.lists(_text.filter(bool), max_size=4).map(tuple)
_slug = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(
    title=_text.filter(lambda t: len(t) >= 3),
    summary=_text,
    fees=_text,
    keywords=_items,
    documents=_items,
    related=st.lists(_slug, max_size=3).map(tuple),
    body=st.text(max_size=300),
    due=st.dates(),
)
def test_any_card_survives_render_and_parse(
    title: str,
    summary: str,
    fees: str,
    keywords: tuple[str, ...],
    documents: tuple[str, ...],
    related: tuple[str, ...],
    body: str,
    due: date,
) -> None:
    card = ServiceCard(
        id="karta",
        title=title,
        unit="usc",
        unit_name="USC",
        summary=summary,
        fees=fees,
        keywords=keywords,
        documents=documents,
        related=related,
        owner="kierownik",
        last_reviewed=due,
        review_due=due,
        body=body,
        topics={TopicKind.INTENT: ("a-b",)},
    )
    assert parse_card(render_card(card), "x.md") == card
