"""The transcription queue as supervisors and /metrics see it: how many finished recordings wait,
which are being decoded now (in any kck process: a Redis sorted set the workers keep), which
failed and why; a failed one is retried by removing its failed transcript (it waits again)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

import redis.asyncio as aioredis
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.clock import Clock
from kck.db.models import AuditEntry
from kck.services import Services
from recordings.models import Recording
from recordings.transcription import TranscriptRow, waiting_for_transcription

# a decode is bounded (kck.recording_feed: 600 s); an older entry is a stopped process's
STALE_S = 900.0


class RunningTranscriptions:
    """The recordings being decoded now, across processes: call id → when it started."""

    def __init__(self, redis: aioredis.Redis, prefix: str, clock: Clock) -> None:
        self.redis = redis
        self.key = f"{prefix}:rec:transcribing"
        self.clock = clock

    async def started(self, call_id: str) -> None:
        await self.redis.zadd(self.key, {call_id: self.clock.now().timestamp()})

    async def finished(self, call_id: str) -> None:
        await self.redis.zrem(self.key, call_id)

    async def current(self) -> list[tuple[str, datetime]]:
        now = self.clock.now().timestamp()
        await self.redis.zremrangebyscore(self.key, "-inf", now - STALE_S)
        entries = cast(
            list[tuple[bytes | str, float]],
            await self.redis.zrange(self.key, 0, -1, withscores=True),
        )
        return [
            (m.decode() if isinstance(m, bytes) else m, datetime.fromtimestamp(float(at), UTC))
            for m, at in entries
        ]


@dataclass(frozen=True)
class QueueCounts:
    pending: int  # finished recordings waiting for a worker
    running: int  # being decoded now
    failed: int  # tried and failed (retry from the supervisors' view)
    concurrency: int  # decodes at once, per kck process (recordings.transcription.concurrency)


@dataclass(frozen=True)
class FailedTranscription:
    call_id: str
    language: str
    problem: str
    at: datetime
    recording_started: datetime | None


class TranscriptionQueue:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        running: RunningTranscriptions,
        clock: Clock,
        concurrency: int,
    ) -> None:
        self.sessions = sessions
        self.running = running
        self.clock = clock
        self.concurrency = concurrency

    async def counts(self) -> QueueCounts:
        waiting = waiting_for_transcription().subquery()
        async with self.sessions() as db:
            without = int(await db.scalar(select(func.count()).select_from(waiting)) or 0)
            failed = await db.scalar(select(func.count()).where(TranscriptRow.state == "failed"))
        running = len(await self.running.current())
        # a recording being decoded has no transcript yet: it is running, not pending
        return QueueCounts(max(without - running, 0), running, int(failed or 0), self.concurrency)

    async def failed(self, limit: int = 200) -> list[FailedTranscription]:
        query = (
            select(TranscriptRow, Recording.started_at)
            .outerjoin(Recording, Recording.call_id == TranscriptRow.call_id)
            .where(TranscriptRow.state == "failed")
            .order_by(TranscriptRow.created_at.desc())
            .limit(limit)
        )
        async with self.sessions() as db:
            rows = (await db.execute(query)).all()
        return [
            FailedTranscription(t.call_id, t.language, t.problem or "", t.created_at, started)
            for t, started in rows
        ]

    async def retry(self, call_id: str, *, by: str) -> bool:
        """The failed transcript of `call_id` is removed, so the recording waits again; audited.
        False when there is no failed transcript of that call."""
        async with self.sessions() as db, db.begin():
            removed = await db.execute(
                delete(TranscriptRow).where(
                    TranscriptRow.call_id == call_id, TranscriptRow.state == "failed"
                )
            )
            if not removed.rowcount:  # type: ignore[attr-defined]
                return False
            db.add(
                AuditEntry(
                    at=self.clock.now(),
                    actor=by,
                    action="recording.transcription_retry",
                    target=call_id,
                    details={},
                )
            )
        return True


def transcription_queue_of(services: Services) -> TranscriptionQueue:
    """The queue over this installation's database and Redis (the web and the worker alike)."""
    return TranscriptionQueue(
        services.sessions,
        RunningTranscriptions(services.redis, services.bus.prefix, services.clock),
        services.clock,
        services.settings.recordings.transcription.concurrency,
    )


class QueueCollector:
    """The queue as Prometheus gauges (read at scrape time)."""

    def __init__(self, counts: QueueCounts) -> None:
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        states = GaugeMetricFamily(
            "kck_recording_transcriptions",
            "Recordings by transcription state: pending (waiting), running, failed",
            labels=["state"],
        )
        for state in ("pending", "running", "failed"):
            states.add_metric([state], getattr(self.counts, state))
        yield states
        yield GaugeMetricFamily(
            "kck_recording_transcription_concurrency",
            "Recordings decoded at once per kck process (recordings.transcription.concurrency)",
            value=self.counts.concurrency,
        )
