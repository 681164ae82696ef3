"""Search over service cards: one results contract on SQLite and PostgreSQL, with snippets."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kb.analysis import PolishAnalyzer
from kb.memory_index import FIELDS, CardCache, IndexSnapshot
from kb.models import KbArticle, KbRevision
from kb.search_index import Candidate, candidates, query_terms
from kb.snippets import Snippet, make_snippet

# How many backend candidates to re-rank per wanted result.
POOL_FACTOR = 8
MIN_POOL = 40
# The candidates after the shown ones whose content is read ahead (kb.memory_search): up to
# (READ_AHEAD - 1) × limit of them.
READ_AHEAD = 4


@dataclass(frozen=True)
class SearchHit:
    """One result: which article, how well it matched (higher is better) and where."""

    slug: str
    title: str
    unit: str
    unit_name: str
    language: str
    score: float
    matched_fields: tuple[str, ...]
    snippet: Snippet


@dataclass(frozen=True)
class QueryWord:
    """One word of the query: its alternative terms, and a prefix when it is still being typed."""

    terms: frozenset[str]
    prefix: str | None = None

    @functools.cached_property
    def _needles(self) -> tuple[str, ...]:
        whole = tuple(f" {term} " for term in sorted(self.terms))
        return (*whole, f" {self.prefix}") if self.prefix is not None else whole

    def found_in(self, spaced: str) -> bool:
        """`spaced` is a field's terms, each with a space before and after (Candidate.fields)."""
        return any(needle in spaced for needle in self._needles)


def parse_query(analyzer: PolishAnalyzer, query: str) -> list[QueryWord]:
    words = [QueryWord(group) for group in analyzer.query_groups(query)]
    prefix = analyzer.last_word_prefix(query)
    if prefix and words:
        words[-1] = QueryWord(words[-1].terms, prefix)
    return words


def _final_score(
    candidate: Candidate, words: list[QueryWord], top_backend: float
) -> tuple[float, tuple[str, ...]]:
    """Query words found anywhere count most; found in the title or the keywords next."""
    fields = candidate.fields
    found = [tuple(word.found_in(spaced) for spaced in fields.values()) for word in words]
    return combined_score(found, candidate.backend_score, top_backend)


def combined_score(
    found: Sequence[tuple[bool, ...]], backend_score: float, top_backend: float
) -> tuple[float, tuple[str, ...]]:
    """The final score from, per query word, whether it is in the title, keywords and body."""
    found_in: dict[str, int] = dict.fromkeys(FIELDS, 0)
    covered = 0
    for in_fields in found:
        for name, hit in zip(FIELDS, in_fields, strict=True):
            found_in[name] += hit
        covered += any(in_fields)
    n = max(len(found), 1)
    score = (
        10.0 * covered / n
        + 3.0 * found_in["title"] / n
        + 2.0 * found_in["keywords"] / n
        + (backend_score / top_backend if top_backend > 0 else 0.0)
    )
    matched = tuple(name for name, count in found_in.items() if count)
    return round(score, 6), matched


async def search_articles(
    session: AsyncSession,
    analyzer: PolishAnalyzer,
    query: str,
    *,
    language: str | None = None,
    limit: int = 10,
    index: IndexSnapshot | None = None,
) -> list[SearchHit]:
    """The best `limit` cards for `query`: candidates ranked by the database's own search, or by
    `index` (the same ranking held in memory, kb.memory_index) when one is given."""
    words = parse_query(analyzer, query)
    if not words:
        return []
    prefix = words[-1].prefix
    groups = [word.terms for word in words]
    pool_size = max(MIN_POOL, limit * POOL_FACTOR)
    if index is not None:
        best = _best_from_index(index, words, language, pool_size, limit)
    else:
        pool = await candidates(session, groups, prefix, language=language, limit=pool_size)
        if not pool:
            return []
        top_backend = max(c.backend_score for c in pool)
        scored = [(c.article_id, *_final_score(c, words, top_backend)) for c in pool]
        # Ties go to the older article (lower id): the same order on every backend.
        scored.sort(key=lambda item: (-item[1], item[0]))
        best = scored[:limit]
    if not best:
        return []
    cards = index.cards if index is not None else None
    return await _hits(session, analyzer, best, frozenset().union(*groups), prefix, cards)


def _best_from_index(
    index: IndexSnapshot,
    words: list[QueryWord],
    language: str | None,
    pool_size: int,
    limit: int,
) -> list[tuple[int, float, tuple[str, ...]]]:
    terms, prefix = query_terms([word.terms for word in words], words[-1].prefix)
    if not terms and prefix is None:
        return []
    pool = index.rank(
        [(word.terms, word.prefix) for word in words],
        terms,
        prefix,
        language=language,
        limit=pool_size,
    )
    if not pool:
        return []
    top_backend = max(c.backend_score for c in pool)
    scored = [(c.article_id, *combined_score(c.found, c.backend_score, top_backend)) for c in pool]
    scored.sort(key=lambda item: (-item[1], item[0]))
    index.cards.note_pool([article_id for article_id, _, _ in scored[limit : limit * READ_AHEAD]])
    return scored[:limit]


# What a hit shows of a card's current revision: only these fields of its content are read.
SHOWN_CONTENT = ("summary", "body", "unit_name")


async def content_rows(session: AsyncSession, ids: Sequence[int]) -> Sequence[Any]:
    """What a hit shows of these cards: slug, title, unit, language and, from the current
    revision's content, the fields of SHOWN_CONTENT (taken out by the database, NULL if absent:
    not the whole document)."""
    content = KbRevision.content
    return (
        await session.execute(
            select(
                KbArticle.id,
                KbArticle.slug,
                KbArticle.title,
                KbArticle.unit,
                KbArticle.language,
                *(content[name].as_string().label(name) for name in SHOWN_CONTENT),
            )
            .join(
                KbRevision,
                and_(
                    KbRevision.article_id == KbArticle.id,
                    KbRevision.number == KbArticle.current_revision,
                ),
            )
            .where(KbArticle.id.in_(ids))
        )
    ).all()


def snippet_texts(row: Any) -> list[str]:
    """The texts a card's snippet is cut from, in order (a row of `content_rows`)."""
    return [row.summary or "", row.body or ""]


async def _hits(
    session: AsyncSession,
    analyzer: PolishAnalyzer,
    best: list[tuple[int, float, tuple[str, ...]]],
    wanted: frozenset[str],
    prefix: str | None,
    cards: CardCache | None = None,
) -> list[SearchHit]:
    """The chosen cards with their current content and a snippet around the query's words."""
    ids = [article_id for article_id, _, _ in best]
    by_id: dict[int, Any] = {}
    if cards is not None:
        by_id = {i: row for i in ids if (row := cards.get(i)) is not None}
    missing = [i for i in ids if i not in by_id]
    rows = await content_rows(session, missing) if missing else []
    for row in rows:
        by_id[row.id] = row
        if cards is not None:
            cards.put(row.id, row)
    hits: list[SearchHit] = []
    for article_id, score, matched in best:
        row = by_id.get(article_id)
        if row is None:
            continue  # deleted between the two queries
        texts = snippet_texts(row)
        if cards is not None:
            snippet = cards.snippet_source(article_id, analyzer, texts).snippet(wanted, prefix)
        else:
            snippet = make_snippet(analyzer, texts, wanted, prefix)
        hits.append(
            SearchHit(
                slug=row.slug,
                title=row.title,
                unit=row.unit,
                unit_name=row.unit_name or "",
                language=row.language,
                score=score,
                matched_fields=matched,
                snippet=snippet,
            )
        )
    return hits
