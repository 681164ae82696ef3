"""The resident's SMS per their consent, on SQLite and PostgreSQL: one per step of the matter
(forwarded, answered, closed, reopened), in their language, to their number in E.164, never
twice; none without SMS consent; the form refuses SMS consent without a number."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tickets.form import TicketFormInvalid, parse_ticket_form
from agentdesk.tickets.matters import UnitAction
from kck.clock import ManualClock
from kck.db import session_factory
from matters.models import OutboxMessage
from tests.matters.test_matter_service import grant
from tests.matters.world import SMS_ONLY, START, UNITS, matter_service, new_matter, ticket_form


async def sms(engine: AsyncEngine) -> list[OutboxMessage]:
    async with session_factory(engine)() as db:
        query = select(OutboxMessage).where(OutboxMessage.channel == "sms")
        return list(await db.scalars(query.order_by(OutboxMessage.id)))


async def test_a_resident_with_sms_consent_gets_one_sms_per_step(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock, units=["ZZM"], sms_consent=True)
    await service.forward(number, "agent:anowak")
    await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Zrobione.")
    await service.close(number, "agent:anowak")
    await service.reopen(number, "Wciąż leży", "agent:anowak")
    await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Teraz tak.")
    messages = await sms(engine)
    assert [m.key for m in messages] == [
        f"resident:sms:{number}:forwarded:1",
        f"resident:sms:{number}:answered_mail:1",
        f"resident:sms:{number}:closed:1",
        f"resident:sms:{number}:reopened:1",
        f"resident:sms:{number}:answered_mail:2",
    ]
    assert {m.recipient for m in messages} == {"+48600123456"}
    assert {m.subject for m in messages} == {""}
    assert messages[0].body.startswith(f"Sprawe {number} przekazalismy")  # GSM-7 Polish
    assert "e-mailem" in messages[1].body


async def test_without_an_email_the_sms_says_the_answer_comes_by_phone(
    engine: AsyncEngine,
) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock, units=["ZZM"], language="en", **SMS_ONLY)
    await service.forward(number, "agent:anowak")
    state = await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Done.")
    assert state.status == "answered"  # the answer itself is given on the phone
    texts = [m.body for m in await sms(engine)]
    assert len(texts) == 2
    assert texts[1].startswith(f"Matter {number}: the city units have answered. We will call")


async def test_without_sms_consent_no_sms_is_written(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock, units=["ZZM"])
    await service.forward(number, "agent:anowak")
    await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Zrobione.")
    assert await sms(engine) == []


def test_sms_consent_needs_a_phone_number() -> None:
    with pytest.raises(TicketFormInvalid) as refused:
        parse_ticket_form(ticket_form(sms_consent=True, caller_number=""), UNITS)
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("sms_consent", "sms_consent_phone_missing")
    ]
    form = parse_ticket_form(ticket_form(sms_consent="on"), UNITS)
    assert form.sms_consent and form.caller_number == "+48600123456"
