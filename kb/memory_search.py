"""The in-memory search index of one process: built from the database, kept fresh, shared.

`MemoryIndex.current()` gives the snapshot to search with, or None while there is none fit to
use — not built yet, or the database has changed since — and the caller searches the database
meanwhile (the same results, slower). Freshness: `max(kb_articles.updated_at)` and the number of
articles are compared with the snapshot's at most every `check_every` seconds, and at the next
search after `invalidate()` (a save in this process). A change starts a refresh that reads the
changed cards' rows only and builds the next snapshot off the event loop.

After a search, the content of the next candidates is read ahead and each card's snippet source
is made in a worker thread, one card per hand-off (the loop waits on no more than one card's
tokenising). On PostgreSQL, what a search reads through the index (the stamp, the shown cards'
content) goes through `reading_session()`: autocommit, so a read is one round trip instead of
BEGIN, the query and ROLLBACK.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kb.analysis import PolishAnalyzer
from kb.memory_index import IndexRow, IndexSnapshot, empty_snapshot
from kb.models import KbArticle, KbSearchDocument
from kb.search import content_rows, snippet_texts
from kb.snippets import SnippetSource

log = logging.getLogger(__name__)

CHECK_EVERY_S = 2.0
_FETCH_CHUNK = 500

Stamp = tuple[datetime | None, int]


class MemoryIndex:
    """One per database engine in a process (see `shared_index`)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        check_every: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._dialect = engine.dialect.name
        # Reads that need no transaction: on PostgreSQL autocommit saves two round trips a read;
        # on SQLite (a thread hop per call, no BEGIN for a read) the engine as it is.
        reader = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if self._dialect == "postgresql"
            else engine
        )
        self._reads = async_sessionmaker(reader, expire_on_commit=False)
        self._check_every = check_every
        self._clock = clock
        self._snapshot: IndexSnapshot | None = None
        self._stamp: Stamp | None = None
        self._checked_at = -math.inf
        self._dirty = False
        self._refresh: asyncio.Task[None] | None = None
        self._refreshed = asyncio.Event()
        self._reading_ahead: asyncio.Task[None] | None = None

    @property
    def snapshot(self) -> IndexSnapshot | None:
        """The newest snapshot built, fresh or not (for measuring it)."""
        return self._snapshot

    @property
    def reading_ahead(self) -> asyncio.Task[None] | None:
        """The read of the next cards' content started after the last search, if any."""
        return self._reading_ahead

    def reading_session(self) -> AsyncSession:
        """A session for a search's reads (no transaction of its own on PostgreSQL)."""
        return self._reads()

    def invalidate(self) -> None:
        """The database has changed: compare the next search's stamp, whatever the time."""
        self._dirty = True

    def start(self) -> None:
        """Build the first snapshot in the background (searches use the database meanwhile)."""
        if self._snapshot is None:
            self._start_refresh()

    async def ready(self) -> IndexSnapshot:
        """Wait until a snapshot matching the database as it is now is in place."""
        while True:
            self._refreshed.clear()
            async with self._sessions() as session:
                if (snapshot := await self._fresh(session)) is not None:
                    return snapshot
            await self._refreshed.wait()

    async def current(self, session: AsyncSession) -> IndexSnapshot | None:
        """The snapshot to search with, or None: search the database this time."""
        snapshot = await self._fresh(session)
        return snapshot if snapshot is not None and snapshot.exact else None

    async def _fresh(self, session: AsyncSession) -> IndexSnapshot | None:
        if self._refresh is not None and not self._refresh.done():
            return None
        snapshot = self._snapshot
        now = self._clock()
        if snapshot is not None and not self._dirty and now - self._checked_at < self._check_every:
            return snapshot
        self._dirty = False  # a save from now on marks it again
        stamp = await _stamp(session)
        self._checked_at = now
        if snapshot is not None and stamp == self._stamp:
            return snapshot
        self._start_refresh()
        return None

    def read_ahead(
        self, snapshot: IndexSnapshot, analyzer: PolishAnalyzer
    ) -> asyncio.Task[None] | None:
        """After a search through `snapshot`: read the content of its other candidates not held
        yet in the background (one read at a time) and tokenise them for their snippets in a
        worker thread, so that the next keystrokes, which mostly show cards of the same pool, need
        no query and no tokenising. Returns the task started, if any."""
        if self._reading_ahead is not None and not self._reading_ahead.done():
            return None
        wanted = snapshot.cards.take_pool()
        if not wanted:
            return None
        self._reading_ahead = asyncio.create_task(
            self._read_ahead(snapshot, wanted, analyzer), name="kb memory index read-ahead"
        )
        return self._reading_ahead

    async def _read_ahead(
        self, snapshot: IndexSnapshot, article_ids: list[int], analyzer: PolishAnalyzer
    ) -> None:
        try:
            async with self._reads() as session:
                rows = await content_rows(session, article_ids)
            for row in rows:
                # one card per hand-off: a keystroke meanwhile waits for one card at most
                source = await asyncio.to_thread(SnippetSource, analyzer, snippet_texts(row))
                snapshot.cards.put(row.id, row, ahead=True, source=(analyzer, source))
        except Exception:
            # only a head start: a card not read here is read when shown
            log.exception("knowledge base: reading the next cards' content ahead failed")

    def _start_refresh(self) -> None:
        if self._refresh is None or self._refresh.done():
            self._refresh = asyncio.create_task(self._refreshing(), name="kb memory index refresh")

    async def _refreshing(self) -> None:
        try:
            await self._update()
        except Exception:
            # The database search answers meanwhile; the next check tries again.
            log.exception("knowledge base: refreshing the in-memory search index failed")
            self._checked_at = -math.inf
        finally:
            self._refreshed.set()

    async def _update(self) -> None:
        old = self._snapshot or empty_snapshot(self._dialect)
        async with self._sessions() as session:
            listing = (await session.execute(select(KbArticle.id, KbArticle.updated_at))).all()
            stamps = {article_id: at for article_id, at in listing}
            changed = [a for a, at in stamps.items() if old.stamps.get(a) != at]
            removed = [a for a in old.stamps if a not in stamps]
            rows: list[IndexRow] = []
            for start in range(0, len(changed), _FETCH_CHUNK):
                chunk = changed[start : start + _FETCH_CHUNK]
                found = await session.execute(
                    select(
                        KbSearchDocument.article_id,
                        KbSearchDocument.language,
                        KbSearchDocument.title_terms,
                        KbSearchDocument.keyword_terms,
                        KbSearchDocument.body_terms,
                    ).where(KbSearchDocument.article_id.in_(chunk))
                )
                rows.extend(
                    IndexRow(r[0], r[1], stamps[r[0]], r[2], r[3], r[4]) for r in found.all()
                )
        snapshot = await asyncio.to_thread(old.updated, rows, removed)
        self._snapshot = snapshot
        self._stamp = (max(stamps.values(), default=None), len(stamps))
        self._checked_at = self._clock()


async def _stamp(session: AsyncSession) -> Stamp:
    newest, count = (
        await session.execute(select(func.max(KbArticle.updated_at), func.count(KbArticle.id)))
    ).one()
    return newest, int(count)


_shared: weakref.WeakKeyDictionary[AsyncEngine, MemoryIndex] = weakref.WeakKeyDictionary()


_saves: weakref.WeakKeyDictionary[AsyncEngine, int] = weakref.WeakKeyDictionary()


def saves_in_process(engine: AsyncEngine) -> int:
    """How many saves this process made through `engine` (a key for what is worked out from the
    cards and kept a while, like the screen-pop suggestions)."""
    return _saves.get(engine, 0)


def invalidate_shared(engine: AsyncEngine) -> None:
    """Cards were saved through `engine`: the process's index (if any) checks at the next search."""
    _saves[engine] = _saves.get(engine, 0) + 1
    index = _shared.get(engine)
    if index is not None:
        index.invalidate()


def shared_index(engine: AsyncEngine) -> MemoryIndex:
    """The process's index for `engine`: the desk and the card editor search and save through
    their own KnowledgeBase objects, and a save by either is seen by both."""
    index = _shared.get(engine)
    if index is None:
        index = _shared[engine] = MemoryIndex(engine)
    return index
