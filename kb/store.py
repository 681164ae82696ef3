"""The knowledge base over SQL: save with revisions, restore, search, topics, review-due list."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kb.analysis import PolishAnalyzer, load_polish_analyzer
from kb.card import ServiceCard, TopicKind
from kb.errors import ArticleNotFound
from kb.memory_search import MemoryIndex, invalidate_shared, saves_in_process, shared_index
from kb.models import KbArticle, KbRevision, KbSearchDocument, KbTopic
from kb.search import SearchHit, search_articles
from kck.db.models import utcnow

WARSAW = ZoneInfo("Europe/Warsaw")


@dataclass(frozen=True)
class SaveResult:
    slug: str
    revision: int
    created: bool
    changed: bool
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class RevisionInfo:
    """One entry of an article's history."""

    number: int
    author: str
    created_at: datetime
    changed_fields: tuple[str, ...]
    note: str
    restored_from: int | None


@dataclass(frozen=True)
class Article:
    """An article as it stands (or as it stood at `revision`)."""

    card: ServiceCard
    revision: int
    current_revision: int
    updated_at: datetime

    @property
    def slug(self) -> str:
        return self.card.id


@dataclass(frozen=True)
class ReviewItem:
    slug: str
    title: str
    unit: str
    language: str
    owner: str
    last_reviewed: date
    review_due: date
    days_overdue: int


@dataclass(frozen=True)
class ArticleListing:
    """One line of the list of articles (no content: read from `kb_articles` alone)."""

    slug: str
    title: str
    unit: str
    language: str
    translation_of: str | None
    review_due: date
    current_revision: int
    updated_at: datetime


@dataclass(frozen=True)
class TopicMatch:
    """An article that a topic key points to."""

    article_id: int
    slug: str
    language: str
    translation_of: str | None
    title: str
    kind: TopicKind
    topic_key: str


@dataclass(frozen=True)
class ArticleFamily:
    """An original article and its translations: {language: (slug, title)}."""

    original: str
    members: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class _SearchTerms:
    title: str
    keywords: str
    body: str


def _search_terms(analyzer: PolishAnalyzer, card: ServiceCard) -> _SearchTerms:
    """What the index stores per field: title; keywords and summary; everything else."""
    body = [
        card.unit_name,
        card.who_may_apply,
        *card.documents,
        card.fees,
        card.deadlines,
        card.where,
        card.hours,
        *card.online,
        *card.legal_basis,
        card.body,
    ]
    return _SearchTerms(
        title=analyzer.index_text(card.title),
        keywords=analyzer.index_text(" ".join([*card.keywords, card.summary])),
        body=analyzer.index_text(" ".join(body)),
    )


def warsaw_today() -> date:
    return datetime.now(WARSAW).date()


class KnowledgeBase:
    """Articles and their history in the kck database (SQLite or PostgreSQL)."""

    def __init__(
        self,
        engine: AsyncEngine,
        analyzer: PolishAnalyzer | None = None,
        *,
        memory_index: bool = False,
    ):
        """`memory_index`: search with the process's in-memory index (kb.memory_search) — for
        long-running processes where agents type searches; one-off commands leave it off."""
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._analyzer = analyzer
        self._index = shared_index(engine) if memory_index else None

    @property
    def index(self) -> MemoryIndex | None:
        return self._index

    def saves_seen(self) -> int:
        """Changes with every save in this process through this database (any KnowledgeBase)."""
        return saves_in_process(self._engine)

    async def analyzer(self) -> PolishAnalyzer:
        if self._analyzer is None:
            self._analyzer = await load_polish_analyzer()
        return self._analyzer

    async def _terms(self, cards: Sequence[ServiceCard]) -> list[_SearchTerms]:
        """Index terms of each card, computed in a worker thread (stemming is CPU work)."""
        analyzer = await self.analyzer()

        def analyse() -> list[_SearchTerms]:
            return [_search_terms(analyzer, card) for card in cards]

        return await asyncio.get_running_loop().run_in_executor(None, analyse)

    # -- writing ---------------------------------------------------------------------------

    async def save(
        self, card: ServiceCard, *, author: str, note: str = "", restored_from: int | None = None
    ) -> SaveResult:
        """Store `card` as a new revision — only if its content differs from the current one."""
        (terms,) = await self._terms([card])
        try:
            async with self._sessions.begin() as session:
                return await self._save_in(session, card, terms, author, note, restored_from)
        finally:
            invalidate_shared(self._engine)

    async def save_many(
        self, cards: Sequence[ServiceCard], *, author: str, note: str = ""
    ) -> list[SaveResult]:
        """Save several cards in one transaction: all of them or, on an error, none."""
        terms = await self._terms(cards)
        try:
            async with self._sessions.begin() as session:
                return [
                    await self._save_in(session, card, card_terms, author, note, None)
                    for card, card_terms in zip(cards, terms, strict=True)
                ]
        finally:
            invalidate_shared(self._engine)

    async def _save_in(
        self,
        session: AsyncSession,
        card: ServiceCard,
        terms: _SearchTerms,
        author: str,
        note: str,
        restored_from: int | None,
    ) -> SaveResult:
        article = await self._article_row(session, card.id)
        previous: ServiceCard | None = None
        if article is not None:
            current = await self._revision_row(session, article.id, article.current_revision)
            if current.content_hash == card.content_hash():
                return SaveResult(card.id, article.current_revision, False, False, ())
            previous = ServiceCard.from_content(current.content)
        changed = tuple(card.changed_fields(previous))
        now = utcnow()
        if article is None:
            article = KbArticle(slug=card.id, current_revision=1, created_at=now)
            session.add(article)
            number = 1
        else:
            number = article.current_revision + 1
        article.language = card.language.value
        article.title = card.title
        article.unit = card.unit
        article.translation_of = card.translation_of
        article.owner = card.owner
        article.last_reviewed = card.last_reviewed
        article.review_due = card.review_due
        article.current_revision = number
        article.updated_at = now
        await session.flush()
        session.add(
            KbRevision(
                article_id=article.id,
                number=number,
                author=author,
                created_at=now,
                changed_fields=list(changed),
                note=note,
                restored_from=restored_from,
                content_hash=card.content_hash(),
                content=card.content(),
            )
        )
        await session.execute(delete(KbTopic).where(KbTopic.article_id == article.id))
        session.add_all(
            KbTopic(article_id=article.id, kind=kind.value, topic_key=key)
            for kind, key in card.topic_links()
        )
        search_row = await session.get(KbSearchDocument, article.id)
        if search_row is None:
            session.add(
                KbSearchDocument(
                    article_id=article.id,
                    language=card.language.value,
                    title_terms=terms.title,
                    keyword_terms=terms.keywords,
                    body_terms=terms.body,
                )
            )
        else:
            search_row.language = card.language.value
            search_row.title_terms = terms.title
            search_row.keyword_terms = terms.keywords
            search_row.body_terms = terms.body
        return SaveResult(card.id, number, previous is None, True, changed)

    async def restore(self, slug: str, number: int, *, author: str, note: str = "") -> SaveResult:
        """Make revision `number`'s content current again, as a new revision (history is kept)."""
        old = await self.get(slug, revision=number)
        return await self.save(
            old.card,
            author=author,
            note=note or f"restored revision {number}",
            restored_from=number,
        )

    # -- reading ---------------------------------------------------------------------------

    async def get(self, slug: str, *, revision: int | None = None) -> Article:
        async with self._sessions() as session:
            article = await self._article_row(session, slug)
            if article is None:
                raise ArticleNotFound(f"knowledge base: no article '{slug}'")
            number = revision if revision is not None else article.current_revision
            if not 1 <= number <= article.current_revision:
                raise ArticleNotFound(
                    f"knowledge base: article '{slug}' has no revision {number} "
                    f"(it has 1…{article.current_revision})"
                )
            row = await self._revision_row(session, article.id, number)
            return Article(
                card=ServiceCard.from_content(row.content),
                revision=number,
                current_revision=article.current_revision,
                updated_at=row.created_at,
            )

    async def history(self, slug: str) -> list[RevisionInfo]:
        """Every revision of `slug`, newest first."""
        async with self._sessions() as session:
            article = await self._article_row(session, slug)
            if article is None:
                raise ArticleNotFound(f"knowledge base: no article '{slug}'")
            rows = (
                await session.scalars(
                    select(KbRevision)
                    .where(KbRevision.article_id == article.id)
                    .order_by(KbRevision.number.desc())
                )
            ).all()
            return [
                RevisionInfo(
                    r.number,
                    r.author,
                    r.created_at,
                    tuple(r.changed_fields),
                    r.note,
                    r.restored_from,
                )
                for r in rows
            ]

    async def cards(self) -> list[ServiceCard]:
        """The current content of every article, by slug."""
        async with self._sessions() as session:
            rows = (
                (
                    await session.execute(
                        select(KbRevision.content)
                        .join(
                            KbArticle,
                            and_(
                                KbRevision.article_id == KbArticle.id,
                                KbRevision.number == KbArticle.current_revision,
                            ),
                        )
                        .order_by(KbArticle.slug)
                    )
                )
                .scalars()
                .all()
            )
            return [ServiceCard.from_content(content) for content in rows]

    async def listing(self, *, unit: str | None = None) -> list[ArticleListing]:
        """Every article (or those of `unit`), by unit and slug, without their content."""
        query = select(KbArticle).order_by(KbArticle.unit, KbArticle.slug)
        if unit is not None:
            query = query.where(KbArticle.unit == unit)
        async with self._sessions() as session:
            return [
                ArticleListing(
                    a.slug,
                    a.title,
                    a.unit,
                    a.language,
                    a.translation_of,
                    a.review_due,
                    a.current_revision,
                    a.updated_at,
                )
                for a in (await session.scalars(query)).all()
            ]

    async def search(
        self, query: str, *, language: str | None = None, limit: int = 10
    ) -> list[SearchHit]:
        """Best matches for `query` (Polish inflections and missing diacritics forgiven)."""
        analyzer = await self.analyzer()
        if self._index is None:
            async with self._sessions() as session:
                return await search_articles(
                    session, analyzer, query, language=language, limit=limit
                )
        async with self._index.reading_session() as session:
            index = await self._index.current(session)
            hits = await search_articles(
                session, analyzer, query, language=language, limit=limit, index=index
            )
        if index is not None:
            self._index.read_ahead(index, analyzer)
        return hits

    async def review_due(self, today: date | None = None) -> list[ReviewItem]:
        """Articles whose review date has come (today in Europe/Warsaw), most overdue first."""
        day = today or warsaw_today()
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(KbArticle)
                    .where(KbArticle.review_due <= day)
                    .order_by(KbArticle.review_due, KbArticle.slug)
                )
            ).all()
            return [
                ReviewItem(
                    a.slug,
                    a.title,
                    a.unit,
                    a.language,
                    a.owner,
                    a.last_reviewed,
                    a.review_due,
                    (day - a.review_due).days,
                )
                for a in rows
            ]

    async def topic_matches(self, links: Sequence[tuple[TopicKind, str]]) -> list[TopicMatch]:
        """Articles linked to any of the (kind, key) pairs."""
        if not links:
            return []
        condition = or_(
            *(and_(KbTopic.kind == kind.value, KbTopic.topic_key == key) for kind, key in links)
        )
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(KbTopic.kind, KbTopic.topic_key, KbArticle)
                    .join(KbArticle, KbArticle.id == KbTopic.article_id)
                    .where(condition)
                    .order_by(KbArticle.slug)
                )
            ).all()
            return [
                TopicMatch(
                    a.id, a.slug, a.language, a.translation_of, a.title, TopicKind(kind), key
                )
                for kind, key, a in rows
            ]

    async def families(self, slugs: Sequence[str]) -> dict[str, ArticleFamily]:
        """For each slug given: its original and every translation of it."""
        if not slugs:
            return {}
        async with self._sessions() as session:
            seeds = (
                await session.execute(
                    select(KbArticle.slug, KbArticle.translation_of).where(
                        KbArticle.slug.in_(slugs)
                    )
                )
            ).all()
            originals = {translation_of or slug for slug, translation_of in seeds}
            rows = (
                await session.execute(
                    select(
                        KbArticle.slug,
                        KbArticle.language,
                        KbArticle.title,
                        KbArticle.translation_of,
                    ).where(
                        or_(KbArticle.slug.in_(originals), KbArticle.translation_of.in_(originals))
                    )
                )
            ).all()
        members: dict[str, dict[str, tuple[str, str]]] = {}
        for slug, language, title, translation_of in rows:
            members.setdefault(translation_of or slug, {})[language] = (slug, title)
        return {
            slug: ArticleFamily(translation_of or slug, members.get(translation_of or slug, {}))
            for slug, translation_of in seeds
        }

    # -- rows ------------------------------------------------------------------------------

    @staticmethod
    async def _article_row(session: AsyncSession, slug: str) -> KbArticle | None:
        return (await session.scalars(select(KbArticle).where(KbArticle.slug == slug))).first()

    @staticmethod
    async def _revision_row(session: AsyncSession, article_id: int, number: int) -> KbRevision:
        row = (
            await session.scalars(
                select(KbRevision).where(
                    KbRevision.article_id == article_id, KbRevision.number == number
                )
            )
        ).first()
        if row is None:
            raise ArticleNotFound(f"knowledge base: article #{article_id} has no revision {number}")
        return row
