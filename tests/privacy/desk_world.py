"""What the desk, Open311 and the resident's messages add to a resident of `world.py`: a
voicemail their first call left in a box (the file and its task, heard, audited, closed), a callback
task with the agent's note naming them (made), the Open311 request their ticket came from (a
photo's address, the service's attributes), the SMS and the unit's question e-mailed to them, and
their answer to that question sent on to the unit (`unit-info:`)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from agentdesk.open311.models import Open311Client, Open311Request
from agentdesk.tasks.desk import voicemail_root
from agentdesk.tasks.models import AgentTask, TaskKind, TaskState
from agentdesk.tasks.voicemail import VOICEMAIL_FOLDER
from agentdesk.tickets.models import Ticket
from kck.db.models import AuditEntry
from kck.services import Services
from matters.models import OutboxMessage
from matters.outbox import RESIDENT_KEY, SENT, SMS
from tests.privacy.world import NOW, Resident

BOX = "city_issues"


def voicemail_folder(services: Services) -> Path:
    return voicemail_root(services) / VOICEMAIL_FOLDER


def unit_info_key(resident: Resident) -> str:
    return f"unit-info:{resident.ticket}:ZDMK:zgloszenia@zdmk.test:1"


def photo_of(tag: str) -> str:
    return f"https://portal.test/media/{tag}-photo.jpg"


async def add_desk_traces(
    services: Services, resident: Resident, tag: str, *, days_ago: float = 3
) -> None:
    """The resident's voicemail, tasks, Open311 request and messages (see the module), after the
    calls of `world.add_resident` (same `days_ago`)."""
    at = NOW - timedelta(days=days_ago) + timedelta(hours=3)
    message = voicemail_folder(services) / BOX / f"{resident.calls[0]}.wav"
    message.parent.mkdir(parents=True, exist_ok=True)
    message.write_bytes(b"RIFF....WAVE")
    os.utime(message, (at.timestamp(), at.timestamp()))
    async with services.sessions.begin() as db:
        ticket = await db.scalar(select(Ticket).where(Ticket.number == resident.ticket))
        assert ticket is not None
        client = await db.scalar(select(Open311Client).where(Open311Client.name == "portal"))
        if client is None:
            client = Open311Client(name="portal", key_hash="0" * 64, created_at=at)
            db.add(client)
            await db.flush()
        db.add(
            Open311Request(
                client_id=client.id,
                ticket_id=ticket.id,
                service_code="roads",
                client_request_id=f"portal-{tag}",
                fingerprint=f"{tag:0>64}",
                media_url=photo_of(tag),
                attributes=json.dumps({"entrance": f"klatka {tag}-B"}),
                received_at=at,
            )
        )
        closed = {"state": TaskState.CLOSED.value, "closed_by": "anowak", "closed_at": at}
        db.add(
            AgentTask(kind=TaskKind.VOICEMAIL.value, call_id=resident.calls[0], queue=BOX,
                      number=resident.number, recording=f"{VOICEMAIL_FOLDER}/{BOX}/"
                      f"{resident.calls[0]}.wav", created_by="system", created_at=at,
                      outcome="called_back", **closed)
        )  # fmt: skip
        db.add(
            AgentTask(kind=TaskKind.CALLBACK.value, call_id=resident.calls[1], queue=BOX,
                      number=resident.number, note=f"{resident.name} prosi o telefon po 17",
                      created_by="anowak", created_at=at, outcome="reached", **closed)
        )  # fmt: skip
        mails = [
            (f"{RESIDENT_KEY}sms:{resident.ticket}:answered_by_mail:1", resident.number, "",
             f"KCK: odpowiedz w sprawie {resident.ticket} wyslalismy e-mailem.", SMS),
            (f"{RESIDENT_KEY}{resident.ticket}:question:ZDMK:1", resident.email, "Pytanie",
             f"Dzień dobry, {resident.name}: od której strony wejście?", "email"),
            (unit_info_key(resident), "zgloszenia@zdmk.test", "Odpowiedź mieszkańca",
             f"Mieszkaniec odpowiada: wejście od podwórza, klatka {tag}-B.", "email"),
        ]  # fmt: skip
        await db.flush()
        voicemail = await db.scalar(
            select(AgentTask.id).where(AgentTask.call_id == resident.calls[0])
        )
        db.add(AuditEntry(at=at, actor="anowak", action="task.played", target=f"task:{voicemail}",
                          details={"kind": "voicemail", "call_id": resident.calls[0]}))  # fmt: skip
        for key, recipient, subject, body, channel in mails:
            db.add(OutboxMessage(key=key, recipient=recipient, subject=subject, body=body,
                                 channel=channel, ticket_id=ticket.id, state=SENT, attempts=1,
                                 created_at=at, next_attempt_at=at, sent_at=at))  # fmt: skip
