"""Articles in the database: import/export round trip, revisions, restore, review-due (both backends)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kb import (
    ArticleNotFound,
    KnowledgeBase,
    export_folder,
    import_folder,
    parse_card,
    read_folder,
)
from tests.kb.conftest import SEED


async def test_import_then_export_round_trips_every_card(
    seeded: KnowledgeBase, tmp_path: Path
) -> None:
    written = await export_folder(seeded, tmp_path)
    exported = {card.id: card for _, card in read_folder(tmp_path)}
    original = {card.id: card for _, card in read_folder(SEED)}
    assert len(written) == len(original)
    assert exported == original


async def test_reimporting_unchanged_cards_creates_no_revision(
    seeded: KnowledgeBase, tmp_path: Path
) -> None:
    await export_folder(seeded, tmp_path)
    report = await import_folder(seeded, tmp_path, author="again")
    assert report.created == [] and report.updated == []
    assert len(report.unchanged) == report.total
    assert [r.number for r in await seeded.history("dowod-osobisty-wydanie")] == [1]


async def test_reimport_of_one_edited_file_adds_one_revision_naming_the_changed_fields(
    seeded: KnowledgeBase, tmp_path: Path
) -> None:
    await export_folder(seeded, tmp_path)
    path = tmp_path / "pl" / "dowod-osobisty-wydanie.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("fees: Bezpłatnie.", "fees: 30 zł."),
        encoding="utf-8",
    )
    report = await import_folder(seeded, tmp_path, author="redaktor")
    assert report.updated == ["dowod-osobisty-wydanie"]
    history = await seeded.history("dowod-osobisty-wydanie")
    assert [(r.number, r.author, r.changed_fields) for r in history] == [
        (2, "redaktor", ("fees",)),
        (1, "seed", history[1].changed_fields),
    ]
    assert (await seeded.get("dowod-osobisty-wydanie")).card.fees == "30 zł."


async def test_old_revision_can_be_shown_and_restored_as_a_new_revision(
    seeded: KnowledgeBase,
) -> None:
    first = (await seeded.get("usc-slub-cywilny")).card
    edited = first.model_copy(update={"title": "Ślub cywilny", "body": "Nowa treść.\n"})
    saved = await seeded.save(edited, author="ania")
    assert (saved.revision, saved.changed, set(saved.changed_fields)) == (
        2,
        True,
        {"title", "body"},
    )

    old = await seeded.get("usc-slub-cywilny", revision=1)
    assert old.card == first and old.current_revision == 2

    restored = await seeded.restore("usc-slub-cywilny", 1, author="kierownik")
    assert restored.revision == 3
    current = await seeded.get("usc-slub-cywilny")
    assert current.card == first and current.revision == 3
    history = await seeded.history("usc-slub-cywilny")
    assert [(r.number, r.author, r.restored_from) for r in history] == [
        (3, "kierownik", 1),
        (2, "ania", None),
        (1, "seed", None),
    ]
    assert history[0].note == "restored revision 1"
    # The restored title is searchable again, the edited one is gone.
    hits = await seeded.search("zawarcie małżeństwa")
    assert hits[0].slug == "usc-slub-cywilny" and hits[0].title == first.title


async def test_saving_identical_content_is_not_a_revision(seeded: KnowledgeBase) -> None:
    card = (await seeded.get("prawo-jazdy")).card
    result = await seeded.save(card, author="nikt")
    assert (result.revision, result.changed, result.created) == (1, False, False)


async def test_topics_are_replaced_when_an_article_changes(seeded: KnowledgeBase) -> None:
    from kb import TopicKind

    card = (await seeded.get("prawo-jazdy")).card
    await seeded.save(
        card.model_copy(update={"topics": {TopicKind.INTENT: ("driving-licence-new",)}}), author="a"
    )
    old = await seeded.topic_matches([(TopicKind.INTENT, "driving-licence")])
    new = await seeded.topic_matches([(TopicKind.INTENT, "driving-licence-new")])
    assert old == [] and [m.slug for m in new] == ["prawo-jazdy"]


async def test_unknown_article_or_revision_is_named(seeded: KnowledgeBase) -> None:
    with pytest.raises(ArticleNotFound, match="no article 'nie-ma-takiej'"):
        await seeded.get("nie-ma-takiej")
    with pytest.raises(ArticleNotFound, match="'prawo-jazdy' has no revision 7"):
        await seeded.get("prawo-jazdy", revision=7)


async def test_review_due_lists_overdue_cards_most_overdue_first(seeded: KnowledgeBase) -> None:
    due = await seeded.review_due(date(2026, 11, 24))
    slugs = [item.slug for item in due]
    assert slugs[0] == "srodowisko-wymiana-pieca"  # due 2025-11-15, the oldest
    assert "paszport-wojewoda" in slugs and "bom-wizyty" not in slugs
    assert all(item.review_due <= date(2026, 11, 24) for item in due)
    assert [item.review_due for item in due] == sorted(item.review_due for item in due)
    assert due[0].days_overdue == 374
    assert await seeded.review_due(date(2025, 1, 1)) == []


async def test_review_due_follows_a_new_review_date(seeded: KnowledgeBase) -> None:
    card = (await seeded.get("architektura-reklama")).card
    reviewed = card.model_copy(
        update={"last_reviewed": date(2026, 11, 24), "review_due": date(2027, 5, 24)}
    )
    await seeded.save(reviewed, author="kierownik")
    assert "architektura-reklama" not in [
        i.slug for i in await seeded.review_due(date(2026, 11, 24))
    ]


def test_seed_card_ids_match_their_file_names() -> None:
    for path, card in read_folder(SEED):
        assert path.stem == card.id
        assert path.parent.name == card.language.value
        assert parse_card(path.read_text(encoding="utf-8"), str(path)) == card
