"""The in-memory search index (issue 20, point 5): the database's results, kept fresh."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kb import KnowledgeBase, PolishAnalyzer, memory_index, read_folder
from kb import search as search_module
from kb.memory_search import MemoryIndex
from kb.models import KbArticle, KbSearchDocument
from kb.search import parse_query, search_articles
from kb.search_index import candidates, query_terms
from kck.db import create_engine
from tests.kb.corpus import QUERIES, SEED, generated_cards, typed_prefixes


async def test_the_index_ranks_the_same_cards_with_the_same_scores_as_the_database_keystroke_by_keystroke(
    engine: AsyncEngine,
    seeded: KnowledgeBase,
    analyzer: PolishAnalyzer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # prefixes summed ahead (as the 10,000-card index does for its common ones) and summed
    # when typed, both
    monkeypatch.setattr(memory_index, "HOT_PREFIX_POSTINGS", 400)
    # on PostgreSQL, a common prefix typed after words that already gave cards a share is added
    # from its per-card layout (PrefixLayers): counted, so the comparison below covers it
    layered: list[int] = []
    add_to = memory_index.PrefixLayers.add_to

    def counted(self: memory_index.PrefixLayers, res: npt.NDArray[np.float32]) -> None:
        layered.append(len(self.widths))
        add_to(self, res)

    monkeypatch.setattr(memory_index.PrefixLayers, "add_to", counted)
    # The bench's corpus in small: the seed cards and cards made of their words, where a typed
    # prefix meets most cards and scores tie often; every keystroke of the bench's queries.
    seed_cards = [card for _, card in read_folder(SEED)]
    await seeded.save_many(generated_cards(seed_cards, 150, random.Random(20)), author="t")
    snapshot = await MemoryIndex(engine).ready()
    assert 20 < len(snapshot.prefix_totals) < len(snapshot.terms) / 4
    sessions = async_sessionmaker(engine)
    keystrokes = [text for query in QUERIES for text in typed_prefixes(query)]
    keystrokes += ["dziura na prz", "wniosek o wyd", "dowodu zap", "smieci przy", "karta po"]
    compared = 0
    async with sessions() as session:
        for text in keystrokes:
            words = parse_query(analyzer, text)
            if not words:
                continue
            groups = [word.terms for word in words]
            for language in (None, "pl"):
                pool = await candidates(
                    session, groups, words[-1].prefix, language=language, limit=40
                )
                terms, prefix = query_terms(groups, words[-1].prefix)
                ranked = snapshot.rank(
                    [(word.terms, word.prefix) for word in words],
                    terms,
                    prefix,
                    language=language,
                    limit=40,
                )
                assert {(c.article_id, c.backend_score) for c in ranked} == {
                    (c.article_id, c.backend_score) for c in pool
                }, (text, language)
                database = await search_articles(
                    session, analyzer, text, language=language, limit=10
                )
                in_memory = await search_articles(
                    session, analyzer, text, language=language, limit=10, index=snapshot
                )
                assert in_memory == database, (text, language)
                compared += bool(database)
    assert compared > 400
    assert (len(layered) > 10) == (engine.dialect.name == "postgresql")


async def test_a_card_published_edited_or_removed_is_seen_at_the_next_search(
    engine: AsyncEngine, seeded: KnowledgeBase, analyzer: PolishAnalyzer
) -> None:
    kb = KnowledgeBase(engine, analyzer, memory_index=True)
    assert kb.index is not None
    await kb.index.ready()
    card = (await seeded.get("kultura-imprezy-i-dotacje")).card
    word = "hulajnogowy"
    assert await kb.search(word) == []

    # published through another KnowledgeBase of the process (the editor's): the next search
    # finds it, and so does the index once refreshed
    new = card.model_copy(
        update={"id": "hulajnogi-nowa", "keywords": (word,), "translation_of": None}
    )
    await seeded.save(new, author="t")
    assert [hit.slug for hit in await kb.search(word[:5])] == ["hulajnogi-nowa"]
    snapshot = await kb.index.ready()
    assert [hit.slug for hit in await kb.search(word[:5])] == ["hulajnogi-nowa"]

    # edited: the word gone from it, found in another card instead
    await seeded.save(new.model_copy(update={"keywords": ("rower",)}), author="t")
    await seeded.save(card.model_copy(update={"keywords": (*card.keywords, word)}), author="t")
    assert [hit.slug for hit in await kb.search(word)] == ["kultura-imprezy-i-dotacje"]
    await kb.index.ready()
    assert [hit.slug for hit in await kb.search(word)] == ["kultura-imprezy-i-dotacje"]

    # removed behind the application's back: gone from the index too
    async with async_sessionmaker(engine).begin() as session:
        article_id = (
            await session.execute(
                select(KbArticle.id).where(KbArticle.slug == "kultura-imprezy-i-dotacje")
            )
        ).scalar_one()
        await session.execute(
            delete(KbSearchDocument).where(KbSearchDocument.article_id == article_id)
        )
        await session.execute(delete(KbArticle).where(KbArticle.id == article_id))
    kb.index.invalidate()
    assert await kb.search(word) == []
    snapshot = await kb.index.ready()
    assert article_id not in snapshot.by_article
    assert await kb.search(word) == []


async def test_a_change_from_another_process_is_seen_after_the_check_interval(
    engine: AsyncEngine, seeded: KnowledgeBase, analyzer: PolishAnalyzer, database_url: str
) -> None:
    now = [0.0]
    index = MemoryIndex(engine, check_every=2.0, clock=lambda: now[0])
    before = await index.ready()
    sessions = async_sessionmaker(engine)
    other = create_engine(database_url)  # another process: no invalidation reaches this index
    try:
        card = (await seeded.get("kultura-imprezy-i-dotacje")).card
        await KnowledgeBase(other, analyzer).save(
            card.model_copy(update={"id": "z-innego-procesu", "translation_of": None}), author="t"
        )
    finally:
        await other.dispose()
    async with sessions() as session:
        assert await index.current(session) is before  # within the interval: not asked
        now[0] = 2.5
        assert await index.current(session) is None  # changed: the database answers meanwhile
    after = await index.ready()
    assert after is not before
    assert {a.article_id for a in after.slots if a} > {a.article_id for a in before.slots if a}


async def test_the_next_cards_read_ahead_give_the_same_hits_as_the_database_with_fewer_queries(
    engine: AsyncEngine,
    seeded: KnowledgeBase,
    analyzer: PolishAnalyzer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_cards = [card for _, card in read_folder(SEED)]
    await seeded.save_many(generated_cards(seed_cards, 60, random.Random(3)), author="t")
    asked: list[int] = []  # cards whose content was read while searching
    content_rows = search_module.content_rows

    async def counted(session: AsyncSession, ids: Sequence[int]) -> Sequence[Any]:
        asked.extend(ids)
        return await content_rows(session, ids)

    monkeypatch.setattr(search_module, "content_rows", counted)
    keystrokes = [text for query in QUERIES[:5] for text in typed_prefixes(query)]
    read: list[int] = []
    kb = KnowledgeBase(engine, analyzer, memory_index=True)
    assert kb.index is not None
    snapshot = await kb.index.ready()
    for read_ahead in (search_module.READ_AHEAD, 1):  # 1: nothing read ahead
        monkeypatch.setattr(search_module, "READ_AHEAD", read_ahead)
        snapshot.cards = memory_index.CardCache()  # nothing held yet
        by_keystrokes = 0
        last: asyncio.Task[None] | None = None
        for text in keystrokes:
            expected = await seeded.search(text, limit=5)
            asked.clear()
            assert await kb.search(text, limit=5) == expected, text
            by_keystrokes += len(asked)
            assert kb.index.snapshot is snapshot
            task = kb.index.reading_ahead
            if task is not None and task is not last:
                last = task
                await task  # as if the agent's next keystroke came a moment later
        read.append(by_keystrokes)
    with_reading_ahead, without = read
    assert with_reading_ahead < without / 2
