"""knowledge base: FTS5 prefix index for search as the agent types (issue 20, point 5)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

A word still being typed is searched as a prefix ("zgl"*). Without a prefix index FTS5 walks
every term that starts with it (99 ms for one such query at 10,000 cards; 31 ms at most with
the index, bench/README.md row 5). The table is rebuilt from kb_search (its content table), so
the triggers of migration 0002 keep it in step as before. PostgreSQL's GIN index is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = "title_terms, keyword_terms, body_terms, content='kb_search', content_rowid='article_id'"
# Prefixes of 3–6 letters: the search starts at the third letter (kb.analysis.last_word_prefix).
PREFIXES = "prefix='3 4 5 6'"


def _recreate(options: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE IF EXISTS kb_fts")
    op.execute(f"CREATE VIRTUAL TABLE kb_fts USING fts5({options})")
    op.execute("INSERT INTO kb_fts(kb_fts) VALUES ('rebuild')")


def upgrade() -> None:
    _recreate(f"{COLUMNS}, {PREFIXES}")


def downgrade() -> None:
    _recreate(COLUMNS)
