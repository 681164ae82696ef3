"""transcript search: the Polish search terms of each transcript, and their full-text index

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

Like the knowledge base's (0002): an FTS5 table over `recording_transcripts.terms` kept in step by
triggers on SQLite; a generated tsvector column with a GIN index on PostgreSQL (not in the
SQLAlchemy model). The terms are made by kck (kb.analysis) when a transcript is stored; rows
stored before this migration are indexed by the transcription worker (empty `terms`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE transcript_fts USING fts5(terms, "
    "content='recording_transcripts', content_rowid='id')",
    "CREATE TRIGGER recording_transcripts_ai AFTER INSERT ON recording_transcripts BEGIN "
    "INSERT INTO transcript_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "CREATE TRIGGER recording_transcripts_ad AFTER DELETE ON recording_transcripts BEGIN "
    "INSERT INTO transcript_fts(transcript_fts, rowid, terms) "
    "VALUES ('delete', old.id, old.terms); END",
    "CREATE TRIGGER recording_transcripts_au AFTER UPDATE ON recording_transcripts BEGIN "
    "INSERT INTO transcript_fts(transcript_fts, rowid, terms) "
    "VALUES ('delete', old.id, old.terms); "
    "INSERT INTO transcript_fts(rowid, terms) VALUES (new.id, new.terms); END",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS recording_transcripts_au",
    "DROP TRIGGER IF EXISTS recording_transcripts_ad",
    "DROP TRIGGER IF EXISTS recording_transcripts_ai",
    "DROP TABLE IF EXISTS transcript_fts",
)
PG_DDL = (
    "ALTER TABLE recording_transcripts ADD COLUMN document tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED",
    "CREATE INDEX ix_recording_transcripts_document ON recording_transcripts "
    "USING gin (document)",
)
PG_DROP = (
    "DROP INDEX IF EXISTS ix_recording_transcripts_document",
    "ALTER TABLE recording_transcripts DROP COLUMN IF EXISTS document",
)


def upgrade() -> None:
    with op.batch_alter_table("recording_transcripts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("terms", sa.Text(), nullable=False, server_default=""))
    dialect = op.get_bind().dialect.name
    for statement in (
        SQLITE_DDL if dialect == "sqlite" else PG_DDL if dialect == "postgresql" else ()
    ):
        op.execute(statement)
    # rows already there: the FTS5 table starts with their (empty) terms, as the triggers expect
    if dialect == "sqlite":
        op.execute("INSERT INTO transcript_fts(transcript_fts) VALUES ('rebuild')")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in (
        SQLITE_DROP if dialect == "sqlite" else PG_DROP if dialect == "postgresql" else ()
    ):
        op.execute(statement)
    with op.batch_alter_table("recording_transcripts", schema=None) as batch_op:
        batch_op.drop_column("terms")
