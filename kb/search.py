"""Search over service cards: one results contract on SQLite and PostgreSQL, with snippets."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kb.analysis import PolishAnalyzer
from kb.models import KbArticle, KbRevision
from kb.search_index import Candidate, candidates
from kb.snippets import Snippet, make_snippet

# How many backend candidates to re-rank per wanted result.
POOL_FACTOR = 8
MIN_POOL = 40


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
    found_in: dict[str, int] = dict.fromkeys(fields, 0)
    covered = 0
    for word in words:
        hit_any = False
        for name, spaced in fields.items():
            if word.found_in(spaced):
                found_in[name] += 1
                hit_any = True
        covered += hit_any
    n = max(len(words), 1)
    score = (
        10.0 * covered / n
        + 3.0 * found_in["title"] / n
        + 2.0 * found_in["keywords"] / n
        + (candidate.backend_score / top_backend if top_backend > 0 else 0.0)
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
) -> list[SearchHit]:
    words = parse_query(analyzer, query)
    if not words:
        return []
    prefix = words[-1].prefix
    groups = [word.terms for word in words]
    pool = await candidates(
        session, groups, prefix, language=language, limit=max(MIN_POOL, limit * POOL_FACTOR)
    )
    if not pool:
        return []
    top_backend = max(c.backend_score for c in pool)
    scored = [(c, *_final_score(c, words, top_backend)) for c in pool]
    # Ties go to the older article (lower id): the same order on every backend.
    scored.sort(key=lambda item: (-item[1], item[0].article_id))
    best = scored[:limit]
    rows = (
        await session.execute(
            select(
                KbArticle.id,
                KbArticle.slug,
                KbArticle.title,
                KbArticle.unit,
                KbArticle.language,
                KbRevision.content,
            )
            .join(
                KbRevision,
                and_(
                    KbRevision.article_id == KbArticle.id,
                    KbRevision.number == KbArticle.current_revision,
                ),
            )
            .where(KbArticle.id.in_([c.article_id for c, _, _ in best]))
        )
    ).all()
    by_id = {row.id: row for row in rows}
    query_terms = frozenset().union(*groups)
    hits: list[SearchHit] = []
    for candidate, score, matched in best:
        row = by_id.get(candidate.article_id)
        if row is None:
            continue  # deleted between the two queries
        content = row.content
        snippet = make_snippet(
            analyzer, [content.get("summary", ""), content.get("body", "")], query_terms, prefix
        )
        hits.append(
            SearchHit(
                slug=row.slug,
                title=row.title,
                unit=row.unit,
                unit_name=content.get("unit_name", ""),
                language=row.language,
                score=score,
                matched_fields=matched,
                snippet=snippet,
            )
        )
    return hits
