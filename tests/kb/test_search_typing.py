"""Search as the agent types (issue 20, point 5): the prefix index and edits seen at once."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from kb import KnowledgeBase
from kb.snippets import _densest


async def test_sqlite_index_keeps_prefixes_of_three_to_six_letters(
    engine: AsyncEngine, kb: KnowledgeBase
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's GIN index answers prefixes itself")
    async with engine.connect() as connection:
        sql = (
            await connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'kb_fts'"))
        ).scalar_one()
    assert "prefix='3 4 5 6'" in sql


async def test_every_keystroke_of_a_word_finds_the_card_edited_a_moment_ago(
    seeded: KnowledgeBase,
) -> None:
    card = (await seeded.get("kultura-imprezy-i-dotacje")).card
    word = "hulajnogowy"  # 3–6 letters come from the prefix index, longer ones beyond it
    assert await seeded.search(word[:5]) == []
    await seeded.save(card.model_copy(update={"keywords": (*card.keywords, word)}), author="t")
    for end in range(3, len(word) + 1):
        hits = await seeded.search(word[:end], limit=3)
        assert "kultura-imprezy-i-dotacje" in [hit.slug for hit in hits], word[:end]
    await seeded.save(card, author="t")
    assert await seeded.search(word[:5]) == []


def test_densest_window_counts_the_same_as_trying_every_start() -> None:
    hits = [
        (start, start + length)
        for start, length in [
            (0, 4),
            (10, 3),
            (30, 9),
            (200, 5),
            (210, 2),
            (215, 8),
            (380, 6),
            (390, 4),
            (395, 3),
            (399, 7),
        ]
    ]
    for width in (5, 20, 100, 180, 400):
        expected = max(
            (sum(1 for _, end in hits[i:] if end - start <= width), -start)
            for i, (start, _) in enumerate(hits)
        )
        assert _densest(hits, width) == (expected[0], -expected[1]), width
