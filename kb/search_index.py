"""The two search backends behind one contract: SQLite FTS5 and PostgreSQL tsvector/GIN.

Both index `kb_search` (terms made by kb.analysis) and answer a list of term groups with
candidate rows ranked title > keywords > body; the final order is decided in kb.search.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Field weights: a term in the title counts most, then keywords, then the body.
SQLITE_BM25 = "bm25(kb_fts, 10.0, 6.0, 1.0)"
PG_DOCUMENT = (
    "(setweight(to_tsvector('simple', title_terms), 'A') || "
    "setweight(to_tsvector('simple', keyword_terms), 'B') || "
    "setweight(to_tsvector('simple', body_terms), 'D'))"
)
PG_WEIGHTS = "'{0.1, 0.2, 0.6, 1.0}'"  # D, C, B, A

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE kb_fts USING fts5(title_terms, keyword_terms, body_terms, "
    "content='kb_search', content_rowid='article_id')",
    "CREATE TRIGGER kb_search_ai AFTER INSERT ON kb_search BEGIN "
    "INSERT INTO kb_fts(rowid, title_terms, keyword_terms, body_terms) "
    "VALUES (new.article_id, new.title_terms, new.keyword_terms, new.body_terms); END",
    "CREATE TRIGGER kb_search_ad AFTER DELETE ON kb_search BEGIN "
    "INSERT INTO kb_fts(kb_fts, rowid, title_terms, keyword_terms, body_terms) "
    "VALUES ('delete', old.article_id, old.title_terms, old.keyword_terms, old.body_terms); END",
    "CREATE TRIGGER kb_search_au AFTER UPDATE ON kb_search BEGIN "
    "INSERT INTO kb_fts(kb_fts, rowid, title_terms, keyword_terms, body_terms) "
    "VALUES ('delete', old.article_id, old.title_terms, old.keyword_terms, old.body_terms); "
    "INSERT INTO kb_fts(rowid, title_terms, keyword_terms, body_terms) "
    "VALUES (new.article_id, new.title_terms, new.keyword_terms, new.body_terms); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS kb_search_au",
    "DROP TRIGGER IF EXISTS kb_search_ad",
    "DROP TRIGGER IF EXISTS kb_search_ai",
    "DROP TABLE IF EXISTS kb_fts",
)
PG_DDL = (f"CREATE INDEX ix_kb_search_document ON kb_search USING gin ({PG_DOCUMENT})",)
PG_DROP = ("DROP INDEX IF EXISTS ix_kb_search_document",)

_SAFE_TERM = re.compile(r"^\w+$", re.UNICODE)


@dataclass(frozen=True)
class Candidate:
    """A row the backend matched, with its backend rank (higher is better) and its terms."""

    article_id: int
    backend_score: float
    title_terms: frozenset[str]
    keyword_terms: frozenset[str]
    body_terms: frozenset[str]


def _terms(groups: Sequence[frozenset[str]], prefix: str | None) -> tuple[list[str], str | None]:
    # Terms come out of kb.analysis as \w+ words; anything else would be query syntax.
    words = sorted({t for group in groups for t in group if _SAFE_TERM.match(t)})
    safe_prefix = prefix if prefix and _SAFE_TERM.match(prefix) else None
    return words, safe_prefix


def sqlite_match_expression(groups: Sequence[frozenset[str]], prefix: str | None) -> str | None:
    words, safe_prefix = _terms(groups, prefix)
    parts = [f'"{w}"' for w in words]
    if safe_prefix:
        parts.append(f'"{safe_prefix}"*')
    return " OR ".join(parts) or None


def pg_tsquery(groups: Sequence[frozenset[str]], prefix: str | None) -> str | None:
    words, safe_prefix = _terms(groups, prefix)
    parts = [f"'{w}'" for w in words]
    if safe_prefix:
        parts.append(f"'{safe_prefix}':*")
    return " | ".join(parts) or None


def _split(value: str) -> frozenset[str]:
    return frozenset(value.split())


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
    lang_filter = " AND s.language = :language" if language else ""
    params: dict[str, object] = {"limit": limit, "language": language}
    if dialect == "sqlite":
        expression = sqlite_match_expression(groups, prefix)
        if expression is None:
            return []
        params["q"] = expression
        sql = (
            f"SELECT s.article_id, -{SQLITE_BM25} AS score, s.title_terms, s.keyword_terms, "
            f"s.body_terms FROM kb_fts JOIN kb_search s ON s.article_id = kb_fts.rowid "
            f"WHERE kb_fts MATCH :q{lang_filter} ORDER BY {SQLITE_BM25} LIMIT :limit"
        )
    elif dialect == "postgresql":
        query = pg_tsquery(groups, prefix)
        if query is None:
            return []
        params["q"] = query
        sql = (
            f"SELECT s.article_id, ts_rank({PG_WEIGHTS}, {PG_DOCUMENT}, q) AS score, "
            f"s.title_terms, s.keyword_terms, s.body_terms "
            f"FROM kb_search s, to_tsquery('simple', :q) q "
            f"WHERE {PG_DOCUMENT} @@ q{lang_filter} ORDER BY score DESC, s.article_id LIMIT :limit"
        )
    else:
        raise NotImplementedError(f"knowledge-base search does not support the {dialect} database")
    rows = (await session.execute(text(sql), params)).all()
    return [
        Candidate(int(r[0]), float(r[1]), _split(r[2]), _split(r[3]), _split(r[4])) for r in rows
    ]
