"""knowledge base: articles, revisions, topic links, search documents and their index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The search index differs by backend (kb/search_index.py queries it): an FTS5 table over
# kb_search kept in step by triggers on SQLite; a generated weighted tsvector column with a GIN
# index on PostgreSQL (not in the SQLAlchemy model, which both share).
PG_DOCUMENT = (
    "(setweight(to_tsvector('simple', title_terms), 'A') || "
    "setweight(to_tsvector('simple', keyword_terms), 'B') || "
    "setweight(to_tsvector('simple', body_terms), 'D'))"
)
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
PG_DDL = (
    f"ALTER TABLE kb_search ADD COLUMN document tsvector GENERATED ALWAYS AS ({PG_DOCUMENT}) STORED",
    "CREATE INDEX ix_kb_search_document ON kb_search USING gin (document)",
)
PG_DROP = (
    "DROP INDEX IF EXISTS ix_kb_search_document",
    "ALTER TABLE kb_search DROP COLUMN IF EXISTS document",
)


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("translation_of", sa.String(length=120), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("last_reviewed", sa.Date(), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=False),
        sa.Column("current_revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_kb_articles_slug")),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_articles_review_due"), ["review_due"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_kb_articles_translation_of"), ["translation_of"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_kb_articles_unit"), ["unit"], unique=False)

    op.create_table(
        "kb_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_fields", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_revisions_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_revisions")),
        sa.UniqueConstraint("article_id", "number", name="uq_kb_revisions_article_number"),
    )

    op.create_table(
        "kb_topics",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("topic_key", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_topics_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "kind", "topic_key", name=op.f("pk_kb_topics")),
    )
    with op.batch_alter_table("kb_topics", schema=None) as batch_op:
        batch_op.create_index("ix_kb_topics_kind_key", ["kind", "topic_key"], unique=False)

    op.create_table(
        "kb_search",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title_terms", sa.Text(), nullable=False),
        sa.Column("keyword_terms", sa.Text(), nullable=False),
        sa.Column("body_terms", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_search_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_kb_search")),
    )
    dialect = op.get_bind().dialect.name
    for statement in (
        SQLITE_DDL if dialect == "sqlite" else PG_DDL if dialect == "postgresql" else ()
    ):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in (
        SQLITE_DROP if dialect == "sqlite" else PG_DROP if dialect == "postgresql" else ()
    ):
        op.execute(statement)
    op.drop_table("kb_search")
    with op.batch_alter_table("kb_topics", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_topics_kind_key")
    op.drop_table("kb_topics")
    op.drop_table("kb_revisions")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_articles_unit"))
        batch_op.drop_index(batch_op.f("ix_kb_articles_translation_of"))
        batch_op.drop_index(batch_op.f("ix_kb_articles_review_due"))
    op.drop_table("kb_articles")
