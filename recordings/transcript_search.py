"""The full-text index of transcripts: one search over every transcript of any age, with the
knowledge base's Polish terms (the composition root hands in the analyzer; migration 0010 made
the index: FTS5 `transcript_fts` on SQLite, the GIN-indexed `document` tsvector on PostgreSQL).

A query is one group of alternative terms per word; a transcript matches when it holds a term of
every group (dziura finds "dziurę", because both are indexed under their stems).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import ColumnElement, column, false, text

from recordings.transcription import TranscriptRow

_SAFE_TERM = re.compile(r"^\w+$", re.UNICODE)


class TermsAnalyzer(Protocol):
    """What the search needs of kb.analysis.PolishAnalyzer."""

    def index_text(self, text: str) -> str: ...
    def query_groups(self, text: str) -> list[frozenset[str]]: ...


def _safe(groups: Sequence[frozenset[str]]) -> list[list[str]]:
    # terms come out of the analyzer as \w+ words; anything else would be query syntax
    kept = [sorted(t for t in group if _SAFE_TERM.match(t)) for group in groups]
    return [group for group in kept if group]


def sqlite_match_expression(groups: Sequence[frozenset[str]]) -> str | None:
    parts = ["(" + " OR ".join(f'"{t}"' for t in group) + ")" for group in _safe(groups)]
    return " AND ".join(parts) or None


def pg_tsquery(groups: Sequence[frozenset[str]]) -> str | None:
    parts = ["(" + " | ".join(f"'{t}'" for t in group) + ")" for group in _safe(groups)]
    return " & ".join(parts) or None


class UnsupportedDatabase(NotImplementedError):
    def __init__(self, dialect: str) -> None:
        super().__init__(f"transcript search does not support the {dialect} database")


def transcripts_matching(dialect: str, groups: Sequence[frozenset[str]]) -> ColumnElement[bool]:
    """A condition on `TranscriptRow`: the transcript holds every query word (false if none)."""
    if dialect == "sqlite":
        expression = sqlite_match_expression(groups)
        sql = "SELECT rowid FROM transcript_fts WHERE transcript_fts MATCH :q"
    elif dialect == "postgresql":
        expression = pg_tsquery(groups)
        sql = "SELECT id FROM recording_transcripts WHERE document @@ to_tsquery('simple', :q)"
    else:
        raise UnsupportedDatabase(dialect)
    if expression is None:
        return false()
    found = text(sql).bindparams(q=expression).columns(column("id"))
    return TranscriptRow.id.in_(found)
