"""Fixtures for the knowledge-base tests: the seed folder, a knowledge base on each backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from kb import KnowledgeBase, PolishAnalyzer, import_folder, polish_analyzer

SEED = Path(__file__).resolve().parents[2] / "config" / "kb"


@pytest.fixture(scope="session")
def analyzer() -> PolishAnalyzer:
    """The real polimorf stemmer, loaded once for the whole run (≈5 s)."""
    return polish_analyzer()


@pytest.fixture
async def kb(engine: AsyncEngine, analyzer: PolishAnalyzer) -> KnowledgeBase:
    """An empty knowledge base on a migrated database (SQLite and PostgreSQL)."""
    return KnowledgeBase(engine, analyzer)


@pytest.fixture
async def seeded(kb: KnowledgeBase) -> AsyncIterator[KnowledgeBase]:
    """The knowledge base with the shipped seed cards imported."""
    await import_folder(kb, SEED, author="seed")
    yield kb
