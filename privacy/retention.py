"""The scheduled purge of callers' identity past its retention (`privacy.calls_days`,
`privacy.tickets_days`): numbers, names, e-mails (with the answers e-mailed to residents, in
the outbox, and the Open311 requests' photos and attributes), speech transcripts, typed digits,
the desk's closed tasks' numbers and notes and the voicemail files are cleared; the rows stay, so counts, durations, queues, outcomes and categories (the statistics)
do not change. A call or ticket whose recording is under legal hold keeps its identity.
The round is logged and audited with counts only."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import redis.asyncio as aioredis
from sqlalchemy import Select, String, and_, cast, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.tickets.models import Ticket
from kck.clock import Clock
from kck.db.models import AuditEntry, Call, CallOutcome
from kck.settings import PrivacySettings
from privacy.live_state import trim_streams_before
from privacy.matters import purge_outbox
from privacy.open311 import purge_requests
from privacy.person import without_typed_digits
from privacy.residents import purge_residents
from privacy.tasks import old_voicemail, purge_tasks, unheard_voicemail
from recordings.models import Recording
from recordings.retention import SYSTEM_ACTOR

log = logging.getLogger(__name__)

BATCH = 500  # calls cleared per transaction
# a step of an IVR path with digits, as the JSON column holds it (SQLAlchemy's json.dumps)
_DIGITS = '%"digits": "%'
_MARK = "privacy:paths-cleared-before"  # Redis: calls before this were looked at for digits


@dataclass(frozen=True)
class PurgeCounts:
    calls: int
    tickets: int
    outbox_messages: int
    stream_events: int
    speech_answers: int
    matter_residents: int = 0  # attached to a matter (privacy/residents.py)
    agent_tasks: int = 0  # closed desk tasks: number and note (privacy/tasks.py)
    voicemail_files: int = 0
    open311_requests: int = 0  # photo address and attributes (privacy/open311.py)

    def __bool__(self) -> bool:
        return any(asdict(self).values())


def _old_files(folder: Path, before: float) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.glob("*.wav") if p.stat().st_mtime < before]


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


class IdentityRetention:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        prefix: str,
        speech_folder: Path,
        settings: PrivacySettings,
        clock: Clock,
        voicemail_folder: Path | None = None,  # <paths.recordings>/voicemail
    ) -> None:
        self.sessions = sessions
        self.redis = redis
        self.prefix = prefix
        self.speech_folder = speech_folder
        self.settings = settings
        self.clock = clock
        self.voicemail_folder = voicemail_folder

    async def _clear_calls(
        self, calls_before: datetime, tickets_before: datetime, held: Select[str]
    ) -> int:
        """Clear the identity of calls past `calls_before` without a ticket younger than
        `tickets_before`. Typed digits in an IVR path (on a call without a number too) are looked
        for in the calls that crossed the line since the last round (`_MARK` in Redis; without
        it, in all of them once): a JSON column cannot be searched for them portably."""
        mark_key = f"{self.prefix}:{_MARK}"
        mark = await self.redis.get(mark_key)
        since = (
            datetime.fromisoformat(mark.decode() if isinstance(mark, bytes) else mark)
            if mark
            else None
        )
        typed = cast(Call.ivr_path, String).like(_DIGITS)
        open_matter = exists().where(Ticket.call_id == Call.id, Ticket.created_at >= tickets_before)
        due = (
            select(
                Call.id,
                Call.arrived_at,
                Call.caller_number,
                Call.caller_name,
                Call.transcript,
                Call.ivr_path,
            )
            .where(
                Call.arrived_at < calls_before,
                Call.outcome != CallOutcome.IN_PROGRESS.value,
                or_(
                    Call.caller_number.is_not(None),
                    Call.caller_name.is_not(None),
                    Call.transcript.is_not(None),
                    and_(typed, Call.arrived_at >= since) if since else typed,
                ),
                ~open_matter,
                Call.id.not_in(held),
            )
            .order_by(Call.arrived_at, Call.id)
            .limit(BATCH)
        )
        cleared = 0
        after: tuple[datetime, str] | None = None
        while True:
            query = due
            if after is not None:
                query = due.where(
                    or_(
                        Call.arrived_at > after[0],
                        and_(Call.arrived_at == after[0], Call.id > after[1]),
                    )
                )
            async with self.sessions() as db, db.begin():
                batch = (await db.execute(query)).all()
                for call_id, _, number, name, transcript, path in batch:
                    scrubbed = without_typed_digits(path or [])
                    if number is None and name is None and transcript is None and scrubbed == path:
                        continue  # menu choices only
                    await db.execute(
                        update(Call)
                        .where(Call.id == call_id)
                        .values(
                            caller_number=None, caller_name=None, transcript=None, ivr_path=scrubbed
                        )
                    )
                    cleared += 1
            if len(batch) < BATCH:
                break
            after = (batch[-1][1], batch[-1][0])
        await self.redis.set(mark_key, calls_before.isoformat())
        return cleared

    async def purge(self) -> PurgeCounts:
        now = self.clock.now()
        calls_before = now - timedelta(days=self.settings.calls_days)
        tickets_before = now - timedelta(days=self.settings.tickets_days)
        held = select(Recording.call_id).where(Recording.legal_hold.is_(True))
        async with self.sessions() as db, db.begin():
            tickets = await db.execute(
                update(Ticket)
                .where(
                    Ticket.created_at < tickets_before,
                    or_(
                        Ticket.caller_number.is_not(None),
                        Ticket.caller_name.is_not(None),
                        Ticket.caller_email.is_not(None),
                    ),
                    or_(Ticket.call_id.is_(None), Ticket.call_id.not_in(held)),
                )
                .values(caller_number=None, caller_name=None, caller_email=None)
            )
            messages = await purge_outbox(db, tickets_before, held)
            residents = await purge_residents(db, tickets_before, held)
            requests = await purge_requests(db, tickets_before, held)
            tasks = await purge_tasks(db, calls_before, held)
            unheard = await unheard_voicemail(db)
        calls = await self._clear_calls(calls_before, tickets_before, held)
        events = await trim_streams_before(
            self.redis, self.prefix, int(calls_before.timestamp() * 1000)
        )
        answers = await asyncio.to_thread(_old_files, self.speech_folder, calls_before.timestamp())
        await asyncio.to_thread(_unlink_all, answers)
        voicemail: list[Path] = []
        if self.voicemail_folder is not None:  # an agent may still be listening to the unheard
            voicemail = await asyncio.to_thread(
                old_voicemail, self.voicemail_folder, calls_before.timestamp(), unheard
            )
            await asyncio.to_thread(_unlink_all, voicemail)
        cleared_tickets: int = tickets.rowcount or 0  # type: ignore[attr-defined]
        counts = PurgeCounts(
            calls,
            cleared_tickets,
            messages,
            events,
            len(answers),
            matter_residents=residents,
            agent_tasks=tasks,
            voicemail_files=len(voicemail),
            open311_requests=requests,
        )
        if counts:
            async with self.sessions() as db, db.begin():
                db.add(
                    AuditEntry(
                        at=now,
                        actor=SYSTEM_ACTOR,
                        action="privacy.purge",
                        details={
                            "calls_days": self.settings.calls_days,
                            "tickets_days": self.settings.tickets_days,
                            **asdict(counts),
                        },
                    )
                )
            log.info(
                "identity purge: cleared %d call(s) older than %d days and %d ticket(s) older "
                "than %d days (%d e-mail(s) to residents, %d Open311 request(s)), %d desk "
                "task(s); dropped %d stream event(s), %d IVR answer and %d voicemail file(s)",
                calls, self.settings.calls_days, counts.tickets, self.settings.tickets_days,
                messages, requests, tasks, events, len(answers), len(voicemail),
            )  # fmt: skip
        return counts
