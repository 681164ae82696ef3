"""Offline transcription of finished recordings: a worker picks recordings without a transcript,
has them decoded (vosk, in worker processes, through the `Transcriber` port the composition root
gives it) a few at a time, and stores the words with their times.

The queue is visible: `pending()` counts finished recordings still without a transcript.
A language without a model leaves a `failed` transcript naming the missing setting.
"""

from __future__ import annotations

import asyncio
import logging
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


class TranscriptionWorker:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transcriber: Transcriber,
        folder: Path,
        clock: Clock,
        *,
        concurrency: int = 1,
        batch: int = 20,
    ) -> None:
        self.sessions = sessions
        self.transcriber = transcriber
        self.folder = folder
        self.clock = clock
        self.batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self.done = 0
        self.failed = 0

    def _waiting(self) -> Any:
        return (
            select(Recording, Call.language)
            .outerjoin(Call, Call.id == Recording.call_id)
            .outerjoin(TranscriptRow, TranscriptRow.call_id == Recording.call_id)
            .where(Recording.state == RecordingState.DONE.value)
            .where(TranscriptRow.id.is_(None))
        )

    async def pending(self) -> int:
        async with self.sessions() as db:
            count = await db.scalar(select(func.count()).select_from(self._waiting().subquery()))
            return int(count or 0)

    async def run_once(self) -> int:
        """Transcribe up to `batch` waiting recordings (oldest first); how many were stored."""
        query = self._waiting().order_by(Recording.started_at).limit(self.batch)
        async with self.sessions() as db:
            waiting = list((await db.execute(query)).all())
        stored = await asyncio.gather(*(self._one(row, lang or "pl") for row, lang in waiting))
        return sum(stored)

    async def _one(self, row: Recording, language: str) -> int:
        async with self._slots:
            values: dict[str, Any]
            try:
                heard = await self.transcriber.transcribe(self.folder / row.path, language)
            except Exception as exc:
                log.warning("call %s: transcription failed: %s", row.call_id, exc)
                values = {"state": "failed", "problem": str(exc)[:500]}
                self.failed += 1
            else:
                values = {
                    "state": "done",
                    "text": " ".join(w.word for w in heard.words),
                    "words": [
                        {"w": w.word, "s": w.start, "e": w.end, "c": w.confidence}
                        for w in heard.words
                    ],
                    "audio_s": heard.audio_s,
                    "decode_s": heard.decode_s,
                }
                self.done += 1
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
