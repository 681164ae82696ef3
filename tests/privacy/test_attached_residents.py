"""A person attached to another resident's matter (`matter_residents`, the desk's duplicate
hint): an erasure of them clears their row and the answer e-mailed to them and nothing of the
matter's first resident; past the tickets' retention their identity goes as the first caller's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tickets.models import Ticket
from kck.services import Services
from matters.models import MatterResident, OutboxMessage
from matters.outbox import RESIDENT_KEY, SENT
from privacy.component import identity_retention
from privacy.erasure import ERASED
from privacy.matters import PURGED
from tests.privacy.test_export_and_erasure import erase_anna, two_residents
from tests.privacy.world import (
    ANNA,
    ANNA_EMAIL,
    ANNA_NAME,
    NOW,
    add_resident,
    everything_in_the_database,
    text_forms,
)


async def attach(services: Services, ticket_number: str, number: str, name: str, email: str) -> int:
    """The person attached to the matter, and its answer e-mailed to them (sent)."""
    async with services.sessions.begin() as db:
        ticket = await db.scalar(select(Ticket).where(Ticket.number == ticket_number))
        assert ticket is not None
        resident = MatterResident(
            ticket_id=ticket.id,
            caller_number=number,
            name=name,
            email=email,
            contact_consent=True,
            language="pl",
            attached_by="agent:anowak",
            attached_at=NOW,
        )
        db.add(resident)
        await db.flush()
        db.add(
            OutboxMessage(
                key=f"{RESIDENT_KEY}{ticket_number}:1:r{resident.id}",
                recipient=email,
                subject=f"Odpowiedź w sprawie {ticket_number}",
                body=f"Dzień dobry {name}, dziurę załatamy.",
                ticket_id=ticket.id,
                state=SENT,
                attempts=1,
                created_at=NOW,
                next_attempt_at=NOW,
                sent_at=NOW,
            )
        )
        return resident.id


async def test_erasing_an_attached_resident_clears_their_row_and_mail_and_keeps_the_matter(
    people: Services, engine: AsyncEngine
) -> None:
    _, bolek = await two_residents(people)
    resident = await attach(people, bolek.ticket, ANNA, ANNA_NAME, ANNA_EMAIL)

    counts = await erase_anna(people)

    assert counts["matter_residents"] == 1
    database = await everything_in_the_database(engine)
    for trace in [*text_forms(ANNA), *text_forms(ANNA_NAME), ANNA_EMAIL]:
        assert trace not in database, trace
    async with people.sessions() as db:
        row = await db.get(MatterResident, resident)
        mail = await db.scalar(
            select(OutboxMessage).where(OutboxMessage.key.endswith(f":r{resident}"))
        )
        ticket = await db.scalar(select(Ticket).where(Ticket.number == bolek.ticket))
    assert row is not None and (row.caller_number, row.name, row.email) == (None, None, None)
    assert row.contact_consent and row.attached_by == "agent:anowak"  # the row stays, counted
    assert mail is not None and (mail.recipient, mail.body, mail.state) == (
        "[erased]",
        ERASED,
        SENT,
    )
    assert ticket is not None and ticket.caller_email == "bolek@example.pl"  # his, untouched


async def test_past_the_tickets_retention_an_attached_resident_loses_their_identity(
    people: Services,
) -> None:
    await add_resident(people, "old", "+48600000003", "Stara Osoba", "o@example.pl", days_ago=800)
    await add_resident(people, "new", "+48600000001", "Nowa Osoba", "n@example.pl", days_ago=10)
    old = await attach(people, "KCK-2026-old", "+48600000005", "Jan Stary", "js@example.pl")
    new = await attach(people, "KCK-2026-new", "+48600000006", "Jan Nowy", "jn@example.pl")

    counts = await identity_retention(people).purge()

    assert counts.matter_residents == 1
    async with people.sessions() as db:
        rows = {r.id: r for r in await db.scalars(select(MatterResident))}
        mails = {
            m.key: (m.recipient, m.body)
            for m in await db.scalars(select(OutboxMessage).where(OutboxMessage.key.contains(":r")))
        }
    assert (rows[old].caller_number, rows[old].name, rows[old].email) == (None, None, None)
    assert (rows[new].caller_number, rows[new].email) == ("+48600000006", "jn@example.pl")
    assert mails[f"{RESIDENT_KEY}KCK-2026-old:1:r{old}"] == ("[erased]", PURGED)
    assert mails[f"{RESIDENT_KEY}KCK-2026-new:1:r{new}"][0] == "jn@example.pl"
