"""The two search backends behind one contract: SQLite FTS5 and PostgreSQL tsvector/GIN.

Both index `kb_search` (terms made by kb.analysis; the FTS5 table, its triggers and the
PostgreSQL `document` column with its GIN index are made by migration 0002) and answer a list of term groups with
candidate rows ranked title > keywords > body; the final order is decided in kb.search.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Field weights: a term in the title counts most, then keywords, then the body.
SQLITE_BM25 = "bm25(kb_fts, 10.0, 6.0, 1.0)"
PG_WEIGHTS = "'{0.1, 0.2, 0.6, 1.0}'"  # D, C, B, A

_SAFE_TERM = re.compile(r"^\w+$", re.UNICODE)


@dataclass(frozen=True)
class Candidate:
    """A row the backend matched, with its backend rank (higher is better) and its terms."""

    article_id: int
    backend_score: float
    title_text: str
    keyword_text: str
    body_text: str

    @functools.cached_property
    def fields(self) -> dict[str, str]:
        """Per field: its terms as one string with a space before and after each term, so that a
        term is found by `f" {term} " in text` and a prefix by `f" {prefix}" in text` — substring
        tests in C instead of splitting hundreds of terms into a set per candidate."""
        return {
            name: f" {value} "
            for name, value in (
                ("title", self.title_text),
                ("keywords", self.keyword_text),
                ("body", self.body_text),
            )
        }


def query_terms(
    groups: Sequence[frozenset[str]], prefix: str | None
) -> tuple[list[str], str | None]:
    """The query's distinct whole terms, sorted, and its prefix (what the backends are asked)."""
    # Terms come out of kb.analysis as \w+ words; anything else would be query syntax.
    words = sorted({t for group in groups for t in group if _SAFE_TERM.match(t)})
    safe_prefix = prefix if prefix and _SAFE_TERM.match(prefix) else None
    return words, safe_prefix


def sqlite_match_expression(groups: Sequence[frozenset[str]], prefix: str | None) -> str | None:
    words, safe_prefix = query_terms(groups, prefix)
    parts = [f'"{w}"' for w in words]
    if safe_prefix:
        parts.append(f'"{safe_prefix}"*')
    return " OR ".join(parts) or None


def pg_tsquery(groups: Sequence[frozenset[str]], prefix: str | None) -> str | None:
    words, safe_prefix = query_terms(groups, prefix)
    parts = [f"'{w}'" for w in words]
    if safe_prefix:
        parts.append(f"'{safe_prefix}':*")
    return " | ".join(parts) or None


async def candidates(
    session: AsyncSession,
    groups: Sequence[frozenset[str]],
    prefix: str | None,
    *,
    language: str | None,
    limit: int,
) -> list[Candidate]:
    """The best `limit` matching search documents by the backend's own weighted rank."""
    dialect = session.get_bind().dialect.name
    params: dict[str, object] = {"limit": limit, "language": language}
    if dialect == "sqlite":
        expression = sqlite_match_expression(groups, prefix)
        if expression is None:
            return []
        params["q"] = expression
        # Rank inside FTS5 first and join only the few best: a join over every match is slow.
        in_language = (
            " AND rowid IN (SELECT article_id FROM kb_search WHERE language = :language)"
            if language
            else ""
        )
        sql = (
            f"WITH top AS (SELECT rowid AS id, -{SQLITE_BM25} AS score FROM kb_fts "
            f"WHERE kb_fts MATCH :q{in_language} ORDER BY {SQLITE_BM25} LIMIT :limit) "
            f"SELECT top.id, top.score, s.title_terms, s.keyword_terms, s.body_terms "
            f"FROM top JOIN kb_search s ON s.article_id = top.id ORDER BY top.score DESC"
        )
    elif dialect == "postgresql":
        query = pg_tsquery(groups, prefix)
        if query is None:
            return []
        params["q"] = query
        in_language = " AND language = :language" if language else ""
        sql = (
            f"WITH top AS (SELECT article_id AS id, ts_rank({PG_WEIGHTS}, document, q) AS score "
            f"FROM kb_search, to_tsquery('simple', :q) q WHERE document @@ q{in_language} "
            f"ORDER BY score DESC, article_id LIMIT :limit) "
            f"SELECT top.id, top.score, s.title_terms, s.keyword_terms, s.body_terms "
            f"FROM top JOIN kb_search s ON s.article_id = top.id ORDER BY top.score DESC, top.id"
        )
    else:
        raise NotImplementedError(f"knowledge-base search does not support the {dialect} database")
    rows = (await session.execute(text(sql), params)).all()
    return [Candidate(int(r[0]), float(r[1]), r[2], r[3], r[4]) for r in rows]
