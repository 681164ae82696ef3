"""Offline transcription of finished recordings: a worker picks recordings without a transcript,
has them decoded (vosk, in worker processes, through the `Transcriber` port the composition root
gives it) a few at a time, and stores the words with their times.

The queue is visible: `pending()` counts finished recordings still without a transcript.
A language without a model leaves a `failed` transcript naming the missing setting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Float, Integer, String, Text, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from kck.clock import Clock
from kck.db.models import Base, Call
from recordings.models import Recording, RecordingState

log = logging.getLogger(__name__)


class TranscriptRow(Base):
    """The words heard in a call's recording, each with its start and end (seconds)."""

    __tablename__ = "recording_transcripts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(32), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))  # done | failed
    text: Mapped[str] = mapped_column(Text, default="")
    words: Mapped[list[Any]] = mapped_column(default=list)
    problem: Mapped[str | None] = mapped_column(Text)
    # the Polish search terms of `text` (kb.analysis), indexed by migration 0010's full-text index
    terms: Mapped[str] = mapped_column(Text, default="", server_default="")
    audio_s: Mapped[float | None] = mapped_column(Float)
    decode_s: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]


@dataclass(frozen=True)
class TimedWord:
    word: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Heard:
    words: tuple[TimedWord, ...]
    audio_s: float
    decode_s: float


class Transcriber(Protocol):
    """Decodes a WAV file in another process; raises with a message naming what is missing."""

    async def transcribe(self, path: Path, language: str) -> Heard: ...
    async def stop(self) -> None: ...


def waiting_for_transcription() -> Any:
    """Finished recordings (with their call's language) that have no transcript yet."""
    return (
        select(Recording, Call.language)
        .outerjoin(Call, Call.id == Recording.call_id)
        .outerjoin(TranscriptRow, TranscriptRow.call_id == Recording.call_id)
        .where(Recording.state == RecordingState.DONE.value)
        .where(TranscriptRow.id.is_(None))
    )


class Running(Protocol):
    """Where the worker says which recordings it is decoding (transcription_queue, in Redis)."""

    async def started(self, call_id: str) -> None: ...
    async def finished(self, call_id: str) -> None: ...


class IndexTerms(Protocol):
    """Makes the search terms of a transcript's text (kb.analysis, handed in by the composition
    root): CPU work, called in a thread."""

    def index_text(self, text: str) -> str: ...


LoadIndexTerms = Callable[[], Awaitable[IndexTerms]]


class TranscriptionWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transcriber: Transcriber,
        folder: Path,
        clock: Clock,
        *,
        terms: LoadIndexTerms | None = None,
        running: Running | None = None,
        concurrency: int = 1,
        batch: int = 20,
    ) -> None:
        self.sessions = sessions
        self.transcriber = transcriber
        self.load_terms = terms
        self.running = running
        self.folder = folder
        self.clock = clock
        self.batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self.done = 0
        self.failed = 0

    async def pending(self) -> int:
        waiting = waiting_for_transcription().subquery()
        async with self.sessions() as db:
            count = await db.scalar(select(func.count()).select_from(waiting))
            return int(count or 0)

    async def run_once(self) -> int:
        """Transcribe up to `batch` waiting recordings (oldest first); how many were stored."""
        query = waiting_for_transcription().order_by(Recording.started_at).limit(self.batch)
        async with self.sessions() as db:
            waiting = list((await db.execute(query)).all())
        stored = await asyncio.gather(*(self._one(row, lang or "pl") for row, lang in waiting))
        return sum(stored) + await self.index_unindexed()

    async def _terms(self, text: str) -> str:
        if self.load_terms is None or not text:
            return ""
        analyzer = await self.load_terms()
        return await asyncio.to_thread(analyzer.index_text, text)

    async def index_unindexed(self) -> int:
        """Give search terms to up to `batch` transcripts stored without them (before the index
        existed, or by a worker without an analyzer); how many were indexed."""
        if self.load_terms is None:
            return 0
        query = (
            select(TranscriptRow.id, TranscriptRow.text)
            .where(TranscriptRow.state == "done", TranscriptRow.terms == "")
            .where(TranscriptRow.text != "")
            .order_by(TranscriptRow.id)
            .limit(self.batch)
        )
        async with self.sessions() as db:
            rows = list((await db.execute(query)).all())
        for transcript_id, text in rows:
            terms = await self._terms(text)
            async with self.sessions() as db, db.begin():
                row = await db.get(TranscriptRow, transcript_id)
                if row is not None:
                    row.terms = terms or " "  # a text of stopwords only: indexed, with no terms
        return len(rows)

    async def _one(self, row: Recording, language: str) -> int:
        async with self._slots:
            if self.running is not None:
                await self.running.started(row.call_id)
            try:
                values = await self._decode(row, language)
                return await self._store(row, language, values)
            finally:
                if self.running is not None:
                    await self.running.finished(row.call_id)

    async def _decode(self, row: Recording, language: str) -> dict[str, Any]:
        try:
            heard = await self.transcriber.transcribe(self.folder / row.path, language)
        except Exception as exc:
            log.warning("call %s: transcription failed: %s", row.call_id, exc)
            self.failed += 1
            return {"state": "failed", "problem": str(exc)[:500]}
        said = " ".join(w.word for w in heard.words)
        self.done += 1
        return {
            "state": "done",
            "text": said,
            "terms": await self._terms(said),
            "words": [
                {"w": w.word, "s": w.start, "e": w.end, "c": w.confidence} for w in heard.words
            ],
            "audio_s": heard.audio_s,
            "decode_s": heard.decode_s,
        }

    async def _store(self, row: Recording, language: str, values: dict[str, Any]) -> int:
        try:
            async with self.sessions() as db, db.begin():
                db.add(
                    TranscriptRow(
                        call_id=row.call_id,
                        language=language,
                        created_at=self.clock.now(),
                        **values,
                    )
                )
        except IntegrityError:  # another process stored it meanwhile
            return 0
        return 1

    async def run_forever(self, idle_s: float = 30.0) -> None:
        while True:
            if not await self.run_once():
                await asyncio.sleep(idle_s)  # nothing waited: look again later
