"""A card published through the editor's form is what the desk reads next, on SQLite and
PostgreSQL: no cache stands between the knowledge base and the pop."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.editor.card_form import card_data, form_values
from agentdesk.kb_adapter import KbKnowledge
from kb import KnowledgeBase, import_folder, polish_analyzer, validate_card
from tests.kb.conftest import SEED

SLUG = "zielen-powalone-drzewo"


async def test_the_desk_reads_a_published_card_at_once(engine: AsyncEngine) -> None:
    kb = KnowledgeBase(engine, polish_analyzer())
    await import_folder(kb, SEED / "pl", author="seed")
    desk = KbKnowledge(KnowledgeBase(engine, polish_analyzer()))  # the desk's own instance
    before = await desk.suggest({"intent": "fallen-tree"}, "pl")
    assert before[0].slug == SLUG

    values = form_values((await kb.get(SLUG)).card)
    values.update(summary="Nowe streszczenie z edytora.", fees="bez opłat")
    result = await kb.save(validate_card(card_data(values)), author="redaktor")
    assert (result.revision, set(result.changed_fields)) == (2, {"summary", "fees"})

    after = await desk.suggest({"intent": "fallen-tree"}, "pl")
    assert after[0].summary == "Nowe streszczenie z edytora."
    card = await desk.card(SLUG, "pl")
    assert card is not None and card["fees"] == "bez opłat"
    hits = await desk.search("nowe streszczenie z edytora", "pl", 3)
    assert hits[0].slug == SLUG
