"""One person's data as kck keeps it (art. 15 GDPR): calls with their IVR paths, callbacks,
tickets with their matters' steps and e-mails (and Open311 requests), the matters they were
attached to, the desk's tasks and their voicemail, recordings (metadata, transcripts, optionally the audio), the audit entries about them,
and what Redis holds about them now. A JSON document, or a ZIP of it with the audio files."""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from agentdesk.tasks.desk import voicemail_root
from agentdesk.tasks.voicemail import VOICEMAIL_FOLDER
from agentdesk.tickets.models import Ticket
from kck.db.models import AuditEntry, Base, Call, CallOutcome, User
from kck.services import Services
from privacy.live_state import find_mentions
from privacy.matters import events_of, is_to_resident, messages_of
from privacy.open311 import requests_of
from privacy.person import Footprint, Person, footprint
from privacy.residents import residents_of
from privacy.tasks import tasks_of, voicemail_files
from recordings.models import Recording
from recordings.transcription import TranscriptRow

CALLBACK_OUTCOMES = (CallOutcome.CALLBACK.value, CallOutcome.CALLBACK_FAILED.value)


def _columns(row: Base, *, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        column.key: _plain(getattr(row, column.key))
        for column in row.__table__.columns
        if column.key not in leave_out
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


@dataclass(frozen=True)
class Where:
    """Where kck keeps what an export or erasure reaches beyond the database."""

    redis: aioredis.Redis
    prefix: str  # settings.redis.key_prefix
    recordings: Path  # settings.recordings_dir
    speech: Path  # settings.speech.recordings (the IVR's spoken answers, when kept)
    voicemail: Path  # <paths.recordings>/voicemail: a folder per box, a `<call_id>.wav` each

    @classmethod
    def of(cls, services: Services) -> Where:
        settings = services.settings
        return cls(
            services.redis,
            services.bus.prefix,
            settings.recordings_dir,
            settings.path(settings.speech.recordings),
            voicemail_root(services) / VOICEMAIL_FOLDER,
        )


def speech_answers(folder: Path, call_ids: list[str]) -> list[Path]:
    """The IVR's kept spoken answers of these calls (`ivr.speech.step.recording_name`)."""
    return sorted(p for call_id in call_ids for p in folder.glob(f"{call_id}-*.wav"))


async def audit_about(
    db: AsyncSession, fp: Footprint, also: Iterable[str] = ()
) -> list[AuditEntry]:
    """Audit entries whose target is one of the person's calls or tickets (or one of `also`: their
    desk tasks, `task:<id>`), or that name them."""
    numbers = list(await db.scalars(select(Ticket.number).where(Ticket.id.in_(fp.ticket_ids))))
    numbers += also
    naming = [cast(AuditEntry.details, String).contains(n) for n in fp.identities]
    naming += [AuditEntry.target.contains(n) for n in fp.identities]
    query = select(AuditEntry).where(or_(AuditEntry.target.in_([*fp.call_ids, *numbers]), *naming))
    return list(await db.scalars(query.order_by(AuditEntry.at, AuditEntry.id)))


async def collect(
    sessions: async_sessionmaker[AsyncSession],
    where: Where,
    person: Person,
    now: datetime,
    *,
    by: str,
) -> dict[str, Any]:
    """Everything kck keeps about `person`, as one JSON-ready document; audited as
    `privacy.export` by `by` with what was found (counts, not the data)."""
    async with sessions() as db:
        fp = await footprint(db, person)
        calls = list(
            await db.scalars(select(Call).where(Call.id.in_(fp.call_ids)).order_by(Call.arrived_at))
        )
        agents = {
            u.id: u.username
            for u in await db.scalars(select(User).where(User.id.in_({c.agent_id for c in calls})))
        }
        tickets = list(
            await db.scalars(
                select(Ticket)
                .where(Ticket.id.in_(fp.ticket_ids))
                .options(selectinload(Ticket.units))
                .order_by(Ticket.created_at)
            )
        )
        recordings = list(
            await db.scalars(select(Recording).where(Recording.call_id.in_(fp.call_ids)))
        )
        transcripts = {
            t.call_id: t
            for t in await db.scalars(
                select(TranscriptRow).where(TranscriptRow.call_id.in_(fp.call_ids))
            )
        }
        events = await events_of(db, fp.ticket_ids)
        messages = await messages_of(db, fp.ticket_ids)
        residents = await residents_of(db, fp.identities)
        tasks = await tasks_of(db, fp.call_ids, fp.identities)
        # who claimed, played or closed their tasks too
        audit = await audit_about(db, fp, also=[f"task:{t.id}" for t in tasks])
        requests = await requests_of(db, fp.ticket_ids)
    voicemail = await asyncio.to_thread(voicemail_files, where.voicemail, fp.call_ids)
    live = await find_mentions(where.redis, where.prefix, fp.live_needles)
    document = {
        "about": person.labels(),
        "made_at": now.isoformat(),
        "calls": [
            {**_columns(c), "agent": agents.get(c.agent_id) if c.agent_id else None} for c in calls
        ],
        "callbacks": [c.id for c in calls if c.outcome in CALLBACK_OUTCOMES],
        "tickets": [
            {
                **_columns(t),
                "units": [_columns(u, leave_out=("ticket_id",)) for u in t.units],
            }
            for t in tickets
        ],
        "matter_events": [_columns(e) for e in events],
        # attached to a matter (theirs or another's) at the desk
        "matter_residents": [_columns(r) for r in residents],
        # the e-mails to her in full; a unit's notice without its body (the unit's signed link)
        "outbox": [
            _columns(m, leave_out=() if is_to_resident(m, fp.identities) else ("body",))
            for m in messages
        ],
        "recordings": [
            {
                **_columns(r),
                "transcript": transcripts[r.call_id].text if r.call_id in transcripts else None,
            }
            for r in recordings
        ],
        "ivr_speech_answers": [p.name for p in speech_answers(where.speech, fp.call_ids)],
        "agent_tasks": [_columns(t) for t in tasks],
        # their messages, `<box>/<call_id>.wav` under the voicemail folder
        "voicemail": [p.relative_to(where.voicemail).as_posix() for p in voicemail],
        "open311_requests": [_columns(r) for r in requests],
        "audit": [_columns(a) for a in audit],
        "live_state": [{"key": m.key, "type": m.kind, "holds": m.values} for m in live],
    }
    counts = {k: len(v) for k, v in document.items() if isinstance(v, list)}
    async with sessions() as db, db.begin():
        db.add(AuditEntry(at=now, actor=by, action="privacy.export", details=counts))
    return document


def write_export(
    document: dict[str, Any], out: Path, where: Where, *, with_audio: bool
) -> list[Path]:
    """`out` as JSON, or (name ending .zip) a ZIP of `export.json` and, `with_audio`, the
    recordings and kept IVR answers. Returns the audio files put in."""
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if out.suffix.lower() != ".zip":
        out.write_text(text + "\n", encoding="utf-8")
        return []
    audio: list[Path] = []
    if with_audio:
        audio += [where.recordings / r["path"] for r in document["recordings"]]
        audio += [where.speech / name for name in document["ivr_speech_answers"]]
    named = [(path, f"audio/{path.name}") for path in audio]
    if with_audio:  # a box's message as `audio/voicemail/<box>/<call id>.wav`
        for name in document["voicemail"]:
            named.append((where.voicemail / name, f"audio/{VOICEMAIL_FOLDER}/{name}"))
    put: list[Path] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", text + "\n")
        for path, name in named:
            if path.is_file():
                archive.write(path, name)
                put.append(path)
    return put
