"""A small history of two residents for the privacy tests: calls (one with a typed number in its
IVR path and a speech transcript, one a callback), tickets forwarded as matters (a unit's answer,
the e-mails in the outbox), recordings with files and
transcripts, audit entries, and Redis as the controller leaves it (the history stream read by its
writer's group, a callback's attempts, an agent's last call). Everything real: the database
given (SQLite or PostgreSQL), a real Redis, files on disk."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from agentdesk.tickets.models import Ticket, TicketUnit
from kck.call_events import CALL_ARRIVED, CALLS_STREAM, CallArrived
from kck.db.models import AuditEntry, Base, Call, CallOutcome
from kck.logs import PlainFormatter
from kck.services import Services
from matters.lifecycle import MatterStatus, UnitStatus
from matters.mail_texts import UnitAnswer, resident_answer, unit_notice
from matters.models import MatterEvent, OutboxMessage
from matters.outbox import RESIDENT_KEY, SENT
from recordings.models import Recording, RecordingState
from recordings.transcription import TranscriptRow
from tests.redis_replies import stream_events
from tests.redis_replies import text as as_text

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ANNA = "+48600100200"
ANNA_NAME = "Anna Wiśniewska"
ANNA_EMAIL = "anna.w@example.pl"
BOLEK = "+48600999888"
WRITER_GROUP = "recorder"


@dataclass(frozen=True)
class Resident:
    number: str
    name: str
    email: str
    calls: tuple[str, ...]
    ticket: str  # the ticket's number (KCK-…)
    recorded: str  # the call with a recording


async def add_resident(
    services: Services, tag: str, number: str, name: str, email: str, *, days_ago: float = 3
) -> Resident:
    """Three calls of one resident: the first typed their number into the IVR and said what it is
    about; the second was answered, recorded and became a ticket; the third was a callback."""
    at = NOW - timedelta(days=days_ago)
    answer = f"Pani/Panie {name}, dziurę załatamy do piątku; w razie pytań: {email}."
    folder = services.settings.recordings_dir
    relative = f"{at:%Y/%m/%d}/{tag}2.wav"
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    (folder / relative).write_bytes(b"RIFF....WAVE")
    calls = (f"{tag}1", f"{tag}2", f"{tag}3")
    async with services.sessions() as db, db.begin():
        db.add(
            Call(
                id=calls[0],
                uniqueid=f"u-{tag}0",
                caller_number=number,
                caller_name=name,
                arrived_at=at,
                ended_at=at + timedelta(seconds=40),
                queue=None,
                outcome=CallOutcome.SELF_SERVICE.value,
                transcript="chodzi o dziurę w jezdni",
                ivr_path=[
                    {"step_id": "main", "label": "menu", "digits": "2", "at": at.isoformat()},
                    {
                        "step_id": "cb",
                        "label": "number",
                        "digits": number[3:],
                        "at": at.isoformat(),
                    },
                ],
            )
        )
        db.add(
            Call(
                id=calls[1],
                uniqueid=f"u-{tag}1",
                caller_number=number,
                caller_name=name,
                arrived_at=at + timedelta(hours=1),
                queued_at=at + timedelta(hours=1, seconds=20),
                answered_at=at + timedelta(hours=1, seconds=50),
                ended_at=at + timedelta(hours=1, seconds=230),
                queue="city_issues",
                outcome=CallOutcome.ANSWERED.value,
                ticket_category="roads",
                ivr_path=[
                    {"step_id": "main", "label": "menu", "digits": "1", "at": at.isoformat()}
                ],
            )
        )
        db.add(
            Call(
                id=calls[2],
                uniqueid=f"u-{tag}2",
                caller_number=number,
                arrived_at=at + timedelta(hours=2),
                ended_at=at + timedelta(hours=2, seconds=90),
                queue="city_issues",
                outcome=CallOutcome.CALLBACK.value,
            )
        )
        await db.flush()  # the calls before the ticket that names one (no relationship orders them)
        ticket = Ticket(
            number=f"KCK-2026-{tag}",
            category="roads",
            location_text=f"ul. Długa 7, dom {tag}",
            latitude=50.07,
            longitude=19.94,
            description=f"Dziura przed domem, proszę oddzwonić: {number}",
            kind="complaint",  # whom they complain about is their words too
            complaint_about=f"brygada z dzielnicy {tag}",
            caller_number=number,
            caller_name=name,
            caller_email=email,
            contact_consent=True,
            call_id=calls[1],
            created_at=at + timedelta(hours=1, seconds=200),
            status=MatterStatus.RESIDENT_INFORMED.value,
            units=[TicketUnit(unit_code="ZDMK", status=UnitStatus.ANSWERED.value, answer=answer)],
        )
        db.add(ticket)
        await db.flush()
        add_matter(db, ticket, at + timedelta(hours=2), answer)
        db.add(
            Recording(
                call_id=calls[1],
                uniqueid=f"u-{tag}1",
                channel="PJSIP/kck-trunk-00000001",
                agent="anowak",
                queue="city_issues",
                consent=True,
                path=relative,
                state=RecordingState.DONE.value,
                started_at=at + timedelta(hours=1, seconds=50),
                duration_s=180.0,
            )
        )
        db.add(
            TranscriptRow(
                call_id=calls[1],
                language="pl",
                state="done",
                text=f"nazywam się {name} mój numer {number[3:]}",
                words=[],
                created_at=at + timedelta(hours=2),
            )
        )
        db.add(
            AuditEntry(
                at=at + timedelta(days=1),
                actor="supervisor",
                action="recording.play",
                target=calls[1],
                details={"why": f"skarga {name}, tel. {number}"},
            )
        )
    bus = services.bus
    for call_id in calls:
        arrived = CallArrived(call_id, f"u-{call_id}", "PJSIP/kck-trunk-1", number, name,
                              "+48126165555", "pl", at, "v1")  # fmt: skip
        await bus.publish(CALLS_STREAM, CALL_ARRIVED, arrived.as_data())
    redis = services.redis
    callback = {"call_id": calls[2], "number": number, "attempt": 1, "why": "NOANSWER"}
    await bus.publish(CALLS_STREAM, "callback_retry", callback)
    await redis.set(f"{bus.prefix}:desk:last-call:agent-of-{tag}", calls[1])
    return Resident(number, name, email, calls, f"KCK-2026-{tag}", calls[1])


def add_matter(db: AsyncSession, ticket: Ticket, at: datetime, answer: str) -> None:
    """The ticket's matter as kck leaves it: forwarded to ZDMK (its notice in the outbox), the
    unit's answer (its text in the step), the resident's e-mail with the answer, sent."""
    number = ticket.number
    steps = [
        (None, "forwarded", "new", "forwarded", "system", None),
        ("ZDMK", "answered", "forwarded", "answered", "unit:ZDMK", answer),
        (None, "answered", "forwarded", "answered", "system", None),
        (None, "resident_informed", "answered", "resident_informed", "system", None),
    ]
    for unit, action, before, after, actor, detail in steps:
        db.add(MatterEvent(ticket_id=ticket.id, unit_code=unit, action=action, from_status=before,
                           to_status=after, actor=actor, detail=detail, at=at))  # fmt: skip
    subject, body = unit_notice(
        number=number, unit_name="ZDMK", category="roads", link=f"https://kck.test/unit/{number}",
        expires="2026-12-20 12:00 UTC", centre="KCK",
    )  # fmt: skip
    mails = [(f"unit:{number}:ZDMK", "zgloszenia@zdmk.test", subject, body)]
    subject, body = resident_answer(
        "pl", number=number, answers=[UnitAnswer("ZDMK", answer)], centre="KCK",
        hotline="+48126165555",
    )  # fmt: skip
    mails.append((f"{RESIDENT_KEY}{number}:0", ticket.caller_email or "", subject, body))
    for key, recipient, subject, body in mails:
        db.add(OutboxMessage(key=key, recipient=recipient, subject=subject, body=body,
                             ticket_id=ticket.id, state=SENT, attempts=1, created_at=at,
                             next_attempt_at=at, sent_at=at))  # fmt: skip


async def history_read_by_writer(services: Services) -> None:
    """The history writer's group has read and acknowledged every event (as after a normal day)."""
    redis, key = services.redis, services.bus.key(CALLS_STREAM)
    await redis.xgroup_create(key, WRITER_GROUP, id="0", mkstream=True)
    await redis.xreadgroup(WRITER_GROUP, "w1", {key: ">"})
    await redis.xack(key, WRITER_GROUP, *[e.id for e in await stream_events(redis, key)])


async def everything_in_the_database(engine: AsyncEngine) -> str:
    """Every row of every table, as text (to search for a person's traces)."""
    lines = []
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                lines.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(lines)


async def everything_in_redis(redis: aioredis.Redis) -> str:
    lines = []
    async for raw in redis.scan_iter():
        key = as_text(raw)
        kind = as_text(await redis.type(key))
        value: Any
        if kind == "string":
            value = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1)
        else:
            value = await redis.xrange(key)
        lines.append(f"{key} {kind}: {value!r}")
    return "\n".join(lines)


def text_forms(value: str) -> list[str]:
    """The forms in which a number or a name would be found in a dump (repr'd bytes escape
    letters beyond ASCII)."""
    return [
        value,
        repr(value.encode())[2:-1],
        value.lstrip("+"),
        value[3:] if value.startswith("+48") else value,
    ]


async def statistics(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    """What the reports count: calls per queue and outcome with their durations, tickets per
    category and unit."""
    async with engine.connect() as conn:
        calls = await conn.execute(
            select(
                Call.queue, Call.outcome, Call.ticket_category, func.count(),
                func.min(Call.arrived_at), func.max(Call.ended_at),
            ).group_by(Call.queue, Call.outcome, Call.ticket_category).order_by(Call.outcome)
        )  # fmt: skip
        paths = await conn.execute(select(Call.id, Call.ivr_path).order_by(Call.id))
        steps = [(cid, [s["step_id"] for s in path]) for cid, path in paths]
        tickets = await conn.execute(
            text(
                "SELECT t.category, t.status, u.unit_code, count(*) FROM tickets t "
                "JOIN ticket_units u ON u.ticket_id = t.id GROUP BY t.category, t.status, u.unit_code"
            )
        )
        return [*map(tuple, calls), *steps, *map(tuple, tickets)]


@contextmanager
def kck_log_file(path: Path) -> Iterator[Path]:
    """kck's log lines (its plain format) go to `path` while the block runs."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(PlainFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
