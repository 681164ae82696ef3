"""knowledge base: articles, revisions, topic links, search documents and their index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kb.search_index import PG_DDL, PG_DROP, SQLITE_DDL, SQLITE_DROP

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


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
            ["article_id"], ["kb_articles.id"],
            name=op.f("fk_kb_revisions_article_id_kb_articles"), ondelete="CASCADE",
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
            ["article_id"], ["kb_articles.id"],
            name=op.f("fk_kb_topics_article_id_kb_articles"), ondelete="CASCADE",
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
            ["article_id"], ["kb_articles.id"],
            name=op.f("fk_kb_search_article_id_kb_articles"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_kb_search")),
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DDL if dialect == "sqlite" else PG_DDL if dialect == "postgresql" else ():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DROP if dialect == "sqlite" else PG_DROP if dialect == "postgresql" else ():
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
