"""Who may hear a recording, and the audit of every play and download.

Supervisors may; the agent who took the call may when `recordings.agent_may_play` is set;
nobody else learns that a recording exists (the web answers 404). Each play or download needs a
reason and writes one audit row (who, when, which, why, from where); it gives a ticket, valid
for an hour to that person and that recording only, with which the browser fetches the file
(as many range requests as seeking needs, without another audit row).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.clock import Clock
from kck.db.models import AuditEntry, Role
from recordings.models import Recording, RecordingState
from recordings.transcript_search import transcripts_matching
from recordings.transcription import TranscriptRow

TICKET_TTL_S = 3600
ACTIONS = ("play", "download")
MAX_REASON = 500


class NoSuchRecording(LookupError):
    """Absent, not finished, or not this person's to hear: all look the same from outside."""


class ReasonNeeded(ValueError):
    """A play or download without a reason (or with an unknown action)."""


@dataclass(frozen=True)
class Listener:
    username: str
    role: str
    address: str | None = None


@dataclass(frozen=True)
class Ticket:
    token: str
    recording_id: int
    action: str


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    actor: str
    action: str
    call_id: str
    reason: str
    address: str | None


class RecordingAccess:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        prefix: str,
        folder: Path,
        clock: Clock,
        *,
        agent_may_play: bool = False,
    ) -> None:
        self.sessions = sessions
        self.redis = redis
        self.prefix = prefix
        self.folder = folder
        self.clock = clock
        self.agent_may_play = agent_may_play

    def may_listen(self, who: Listener, row: Recording) -> bool:
        if who.role == Role.SUPERVISOR.value:
            return True
        return self.agent_may_play and who.role == Role.AGENT.value and row.agent == who.username

    def may_list(self, who: Listener) -> bool:
        return who.role == Role.SUPERVISOR.value or (
            self.agent_may_play and who.role == Role.AGENT.value
        )

    async def visible(
        self, who: Listener, limit: int = 200, *, words: Sequence[frozenset[str]] | None = None
    ) -> list[Recording]:
        """The finished recordings this person may hear, newest first; with `words` (a term group
        per query word, kb.analysis), only those whose transcript holds every word, of any age."""
        if not self.may_list(who):
            return []
        query = select(Recording).where(Recording.state == RecordingState.DONE.value)
        if who.role != Role.SUPERVISOR.value:
            query = query.where(Recording.agent == who.username)
        async with self.sessions() as db:
            if words is not None:
                dialect = db.get_bind().dialect.name
                query = query.join(TranscriptRow, TranscriptRow.call_id == Recording.call_id).where(
                    TranscriptRow.state == "done", transcripts_matching(dialect, words)
                )
            rows = await db.scalars(query.order_by(Recording.started_at.desc()).limit(limit))
            return list(rows)

    async def transcripts(self, call_ids: list[str]) -> dict[str, TranscriptRow]:
        """The transcripts of these calls, done (shown beside the player) or failed (the
        recording is shown untranscribed, with the reason)."""
        if not call_ids:
            return {}
        query = select(TranscriptRow).where(TranscriptRow.call_id.in_(call_ids))
        async with self.sessions() as db:
            return {t.call_id: t for t in await db.scalars(query)}

    async def _row(self, who: Listener, recording_id: int) -> Recording:
        async with self.sessions() as db:
            row = await db.get(Recording, recording_id)
        if row is None or row.state != RecordingState.DONE.value or not self.may_listen(who, row):
            raise NoSuchRecording(recording_id)
        return row

    async def grant(self, who: Listener, recording_id: int, action: str, reason: str) -> Ticket:
        """Audit the access and give the ticket the file is fetched with."""
        reason = " ".join(reason.split())[:MAX_REASON]
        if action not in ACTIONS:
            raise ReasonNeeded(f"action must be one of {', '.join(ACTIONS)}, not {action!r}")
        row = await self._row(who, recording_id)
        if not reason:
            raise ReasonNeeded("a reason is needed to play or download a recording")
        async with self.sessions() as db, db.begin():
            db.add(
                AuditEntry(
                    at=self.clock.now(),
                    actor=who.username,
                    action=f"recording.{action}",
                    target=row.call_id,
                    details={"recording": row.id, "reason": reason},
                    address=who.address,
                )
            )
        token = secrets.token_urlsafe(24)
        key = self._ticket_key(token)
        await self.redis.set(key, f"{who.username}:{row.id}:{action}", ex=TICKET_TTL_S)
        return Ticket(token, row.id, action)

    async def file_for(self, who: Listener, recording_id: int, token: str) -> tuple[Path, str]:
        """The file and the action its ticket allows; `NoSuchRecording` without a valid ticket."""
        held = await self.redis.get(self._ticket_key(token)) if token else None
        if isinstance(held, bytes):
            held = held.decode()
        if held is None:
            raise NoSuchRecording(recording_id)
        username, _, rest = str(held).partition(":")
        ticket_id, _, action = rest.partition(":")
        if username != who.username or ticket_id != str(recording_id):
            raise NoSuchRecording(recording_id)
        row = await self._row(who, recording_id)
        path = self.folder / row.path
        if not path.is_file():
            raise NoSuchRecording(recording_id)
        return path, action

    async def accesses(self, since: datetime, until: datetime) -> list[AccessRow]:
        """Every play and download in [since, until), newest first (the supervisor's report)."""
        query = (
            select(AuditEntry)
            .where(AuditEntry.action.in_([f"recording.{a}" for a in ACTIONS]))
            .where(AuditEntry.at >= since, AuditEntry.at < until)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        )
        async with self.sessions() as db:
            entries = list(await db.scalars(query))
        return [
            AccessRow(
                e.at,
                e.actor,
                e.action.removeprefix("recording."),
                e.target or "",
                str(e.details.get("reason", "")),
                e.address,
            )
            for e in entries
        ]

    def _ticket_key(self, token: str) -> str:
        return f"{self.prefix}:rec:ticket:{token}"
