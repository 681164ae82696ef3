"""Knowledge-base tables: articles, their revisions, topic links and the search documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kck.db.models import Base, utcnow


class KbArticle(Base):
    """The current state of one article; its content lives in its newest revision."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(64), index=True)
    translation_of: Mapped[str | None] = mapped_column(String(120), index=True)
    owner: Mapped[str] = mapped_column(String(200))
    last_reviewed: Mapped[date] = mapped_column(Date)
    review_due: Mapped[date] = mapped_column(Date, index=True)
    current_revision: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbRevision(Base):
    """Every save of an article: who, when, which fields changed, and the whole content."""

    __tablename__ = "kb_revisions"
    __table_args__ = (
        UniqueConstraint("article_id", "number", name="uq_kb_revisions_article_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_fields: Mapped[list[Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    restored_from: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)


class KbTopic(Base):
    """A topic key (IVR choice, speech intent, ticket category) pointing at an article."""

    __tablename__ = "kb_topics"
    __table_args__ = (Index("ix_kb_topics_kind_key", "kind", "topic_key"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    topic_key: Mapped[str] = mapped_column(String(120), primary_key=True)


class KbSearchDocument(Base):
    """An article's analysed text (stemmed, folded terms) per field, as the search index sees it.

    SQLite indexes it with an FTS5 table kept in step by triggers; PostgreSQL with a GIN index
    over a generated weighted tsvector column (both made by the migration from kb.search_index).
    """

    __tablename__ = "kb_search"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(8))
    title_terms: Mapped[str] = mapped_column(Text)
    keyword_terms: Mapped[str] = mapped_column(Text)
    body_terms: Mapped[str] = mapped_column(Text)
