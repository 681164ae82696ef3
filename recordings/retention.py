"""How long recordings are kept, and their removal: the scheduled purge (file, row and transcript
together, logged and audited), legal hold for calls of a disputed matter, and a resident's erasure request.

Retention is per queue or matter kind (the call's ticket category): `recordings.retention` names
either, the category winning; otherwise `recordings.retention_days` (default 90). A recording
under legal hold is never removed, by the purge nor by an erasure request, until released.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.clock import Clock
from kck.db.models import AuditEntry, Call
from kck.settings import RecordingSettings
from recordings.lifecycle import NotRecording
from recordings.models import Recording, RecordingState
from recordings.transcription import TranscriptRow

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "kck"


@dataclass(frozen=True)
class Removed:
    call_id: str
    path: str
    started_at: datetime
    why: str


@dataclass(frozen=True)
class Erasure:
    removed: list[Removed]
    held: list[str]  # call ids kept under legal hold


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


class Retention:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        folder: Path,
        settings: RecordingSettings,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.folder = folder
        self.settings = settings
        self.clock = clock

    def days_for(self, queue: str | None, category: str | None) -> int:
        for key in (category, queue):
            if key and key in self.settings.retention:
                return self.settings.retention[key]
        return self.settings.retention_days

    async def purge(self) -> list[Removed]:
        """Remove every recording past its retention (not on hold, not still recording)."""
        now = self.clock.now()
        query = (
            select(Recording, Call.ticket_category)
            .outerjoin(Call, Call.id == Recording.call_id)
            .where(Recording.legal_hold.is_(False))
            .where(Recording.state != RecordingState.RECORDING.value)
            .where(Recording.started_at < now - timedelta(days=self._shortest()))
        )
        async with self.sessions() as db:
            candidates = list((await db.execute(query)).all())
        removed = []
        for row, category in candidates:
            days = self.days_for(row.queue, category)
            if row.started_at < now - timedelta(days=days):
                gone = await self._remove(row, f"retention {days} days", SYSTEM_ACTOR)
                if gone is not None:
                    removed.append(gone)
        if removed:
            log.info("purge removed %d recording(s) past their retention", len(removed))
        return removed

    def _shortest(self) -> int:
        return min([self.settings.retention_days, *self.settings.retention.values()])

    async def _remove(self, row: Recording, why: str, by: str) -> Removed | None:
        """The file, then the row with an audit entry; a file that cannot be deleted keeps its row
        (so it is tried again and never becomes an orphan nobody knows of)."""
        path = self.folder / row.path
        try:
            await asyncio.to_thread(_unlink, path)
        except OSError as exc:
            log.error("cannot delete recording %s of call %s: %s", path, row.call_id, exc)
            return None
        async with self.sessions() as db, db.begin():
            await db.execute(delete(Recording).where(Recording.id == row.id))
            await db.execute(delete(TranscriptRow).where(TranscriptRow.call_id == row.call_id))
            db.add(
                AuditEntry(
                    at=self.clock.now(),
                    actor=by,
                    action="recording.delete",
                    target=row.call_id,
                    details={
                        "path": row.path,
                        "why": why,
                        "started_at": row.started_at.isoformat(),
                    },
                )
            )
        log.info("deleted recording of call %s (%s, started %s): %s", row.call_id, row.path,
                 row.started_at.isoformat(), why)  # fmt: skip
        return Removed(row.call_id, row.path, row.started_at, why)

    async def hold(self, call_id: str, reason: str, *, by: str) -> None:
        """Keep the call's recording past its retention while the matter is disputed."""
        await self._set_hold(call_id, True, reason, by)

    async def release(self, call_id: str, *, by: str) -> None:
        await self._set_hold(call_id, False, None, by)

    async def _set_hold(self, call_id: str, held: bool, reason: str | None, by: str) -> None:
        if held and not (reason or "").strip():
            raise ValueError("a legal hold needs a reason (e.g. the case number)")
        async with self.sessions() as db, db.begin():
            result = await db.execute(
                update(Recording)
                .where(Recording.call_id == call_id)
                .values(legal_hold=held, hold_reason=reason)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise NotRecording(call_id)
            db.add(
                AuditEntry(
                    at=self.clock.now(),
                    actor=by,
                    action="recording.hold" if held else "recording.release",
                    target=call_id,
                    details={"reason": reason} if reason else {},
                )
            )
        log.info("recording of call %s %s by %s", call_id, "held" if held else "released", by)

    async def erase_caller(self, number: str, *, by: str) -> Erasure:
        """A resident's erasure request: remove every recording of calls from `number`, except
        those under legal hold (listed, kept)."""
        async with self.sessions() as db:
            calls = list(await db.scalars(select(Call.id).where(Call.caller_number == number)))
        return await self.erase_calls(calls, by=by)

    async def erase_calls(
        self, call_ids: Collection[str], *, by: str, why: str = "erasure request"
    ) -> Erasure:
        """Remove the recordings of these calls (file, row, transcript; audited), except those
        under legal hold (listed, kept) and those still being recorded."""
        query = (
            select(Recording)
            .where(Recording.call_id.in_(list(call_ids)))
            .where(Recording.state != RecordingState.RECORDING.value)
        )
        async with self.sessions() as db:
            rows = list(await db.scalars(query))
        removed, held = [], []
        for row in rows:
            if row.legal_hold:
                held.append(row.call_id)
                log.warning("erasure request: call %s kept under legal hold", row.call_id)
                continue
            gone = await self._remove(row, why, by)
            if gone is not None:
                removed.append(gone)
        return Erasure(removed, held)

    async def held(self, call_ids: Collection[str]) -> dict[str, str]:
        """The calls among `call_ids` whose recording is under legal hold, with the hold's reason."""
        query = select(Recording.call_id, Recording.hold_reason).where(
            Recording.call_id.in_(list(call_ids)), Recording.legal_hold.is_(True)
        )
        async with self.sessions() as db:
            return {call_id: reason or "" for call_id, reason in (await db.execute(query)).all()}
