"""A unit asks for more information, on SQLite and PostgreSQL: the question goes to the resident
(e-mail in their language with a reply link, when they consented), waits on the centre's lists,
and the answer — the resident's own or one an agent recorded — goes back to the unit and puts its
part back to received; every step audited. A unit's officers' inbox orders their matters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.accounts import Accounts
from agentdesk.tickets.matters import UnitAction, UnitActionRefused
from agentdesk.tickets.questions import conversation, open_questions
from agentdesk.tickets.unit_inbox import unit_inbox
from kck.business_days import BusinessCalendar
from kck.clock import ManualClock
from kck.db import session_factory
from kck.db.models import Role
from matters.lifecycle import MoveRefused
from matters.links import UnitGrant
from matters.models import MatterEvent, OutboxMessage
from tests.matters.world import (
    SIGNER,
    START,
    UNITS,
    WARSAW,
    by_account,
    matter_service,
    new_matter,
)


def grant(number: str, unit: str) -> UnitGrant:
    return UnitGrant(number, unit, START + timedelta(days=30))


async def outbox(engine: AsyncEngine) -> list[OutboxMessage]:
    async with session_factory(engine)() as db:
        return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def events(engine: AsyncEngine) -> list[tuple[str | None, str, str | None, str | None]]:
    async with session_factory(engine)() as db:
        rows = await db.scalars(select(MatterEvent).order_by(MatterEvent.id))
        return [(e.unit_code, e.action, e.actor, e.detail) for e in rows]


async def test_the_residents_answer_by_the_reply_link_goes_back_to_the_unit(
    engine: AsyncEngine,
) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock, units=["ZZM"], language="uk")
    await service.forward(number, "agent:anowak")
    clock.advance(60)
    state = await service.unit_act(
        grant(number, "ZZM"), UnitAction.MORE_INFO, "Przy której bramie?"
    )
    assert {u.code: u.status for u in state.units} == {"ZZM": "info_requested"}
    [question] = [m for m in await outbox(engine) if m.recipient == "anna@example.org"]
    assert question.subject == f"Запитання щодо звернення {number}"
    assert "Przy której bramie?" in question.body
    token = question.body.split("http://kck.test/reply/")[1].split()[0]
    assert SIGNER.verify(token, clock.now(), purpose="reply").unit == "ZZM"
    sessions = session_factory(engine)
    [waiting] = await open_questions(sessions)
    assert (waiting.number, waiting.unit, waiting.question) == (
        number,
        "ZZM",
        "Przy której bramie?",
    )

    clock.advance(60)
    state = await service.answer_question(number, "Przy bramie nr 3.", "resident", unit="ZZM")
    assert {u.code: u.status for u in state.units} == {"ZZM": "received"}
    assert await open_questions(sessions) == []
    to_unit = [m for m in await outbox(engine) if m.key.startswith("unit-info:")]
    assert [m.recipient for m in to_unit] == ["kck-zzm@krakow.example"]
    assert "Przy bramie nr 3." in to_unit[0].body and "/unit/matter/" in to_unit[0].body
    assert [(e.asked, e.text, e.actor) for e in await conversation(sessions, number, "ZZM")] == [
        (True, "Przy której bramie?", "unit:ZZM"),
        (False, "Przy bramie nr 3.", "resident"),
    ]
    assert (await events(engine))[-3:] == [
        ("ZZM", "info_requested", "unit:ZZM", "Przy której bramie?"),
        ("ZZM", "resident_asked", "system", "e-mail"),
        ("ZZM", "info_answered", "resident", "Przy bramie nr 3."),
    ]
    # answered once: a second answer finds no question; the unit can answer the matter now
    with pytest.raises(UnitActionRefused) as refused:
        await service.answer_question(number, "Jeszcze raz.", "resident", unit="ZZM")
    assert refused.value.reason == "no_question"
    state = await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Naprawione.")
    assert state.status == "resident_informed"


async def test_without_consent_the_question_waits_for_an_agent_who_records_the_answer(
    engine: AsyncEngine,
) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock, by_account("ZZM"))
    number = await new_matter(
        engine, clock, contact_consent=False, caller_name=None, caller_email=None
    )
    await service.forward(number, "agent:anowak")
    await service.unit_act(grant(number, "ZZM"), UnitAction.MORE_INFO, "Jak duża jest dziura?")
    await service.unit_act(grant(number, "SM"), UnitAction.MORE_INFO, "Od kiedy?")
    assert not [m for m in await outbox(engine) if m.key.startswith("resident:")]
    assert len(await open_questions(session_factory(engine), [number])) == 2
    with pytest.raises(UnitActionRefused):
        await service.answer_question(number, "  ", "agent:anowak")

    state = await service.answer_question(number, "Pół metra, od wczoraj.", "agent:anowak")
    assert {u.code: u.status for u in state.units} == {"SM": "received", "ZZM": "received"}
    mails = {m.recipient: m.body for m in await outbox(engine) if m.key.startswith("unit-info:")}
    assert "http://kck.test/unit/inbox" in mails["kck-zzm@krakow.example"]  # by account
    assert "/unit/matter/" not in mails["kck-zzm@krakow.example"]
    assert "/unit/matter/" in mails["kck-sm@krakow.example"]  # by link: a fresh one
    answered = [e for e in await events(engine) if e[1] == "info_answered"]
    assert {(e[0], e[2]) for e in answered} == {("SM", "agent:anowak"), ("ZZM", "agent:anowak")}


async def test_a_unit_that_has_answered_cannot_be_answered_back(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock, units=["ZZM"])
    await service.forward(number, "agent:anowak")
    await service.unit_act(grant(number, "ZZM"), UnitAction.MORE_INFO, "Gdzie dokładnie?")
    await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Znaleźliśmy sami.")
    with pytest.raises(UnitActionRefused):
        await service.answer_question(number, "Przy bramie.", "resident", unit="ZZM")
    with pytest.raises(MoveRefused):  # received is not a way back from answered
        await service.unit_act(grant(number, "ZZM"), UnitAction.RECEIVED)


async def test_an_officers_inbox_has_their_units_matters_overdue_first_finished_last(
    engine: AsyncEngine,
) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock, by_account("ZZM"))
    sessions = session_factory(engine)
    accounts = Accounts(sessions)
    await accounts.add("zzm.officer", "a long password", Role.UNIT, units=["zzm"])
    finished = await new_matter(engine, clock, units=["ZZM"])
    await service.forward(finished, "agent:anowak")
    await service.unit_act(grant(finished, "ZZM"), UnitAction.ANSWER, "Zrobione.")
    clock.advance(60)
    overdue = await new_matter(engine, clock, units=["ZZM"])
    await service.forward(overdue, "agent:anowak")
    other = await new_matter(engine, clock, units=["SM"])
    await service.forward(other, "agent:anowak")
    # 14 business days from Monday 7 December: due Tuesday 29 (24–26 December are holidays),
    # late from the 30th; 25 days on it is 1 January
    clock.advance(25 * 86400)
    fresh = await new_matter(engine, clock, units=["ZZM", "SM"])
    await service.forward(fresh, "agent:anowak")
    not_yet = await new_matter(engine, clock, units=["ZZM"])  # saved, not forwarded

    mine = await accounts.unit_codes("zzm.officer")
    assert mine == {"ZZM"}
    rows = await unit_inbox(
        sessions, mine, clock.now(), rules=UNITS, calendar=BusinessCalendar(WARSAW)
    )
    assert [(r.number, r.overdue, r.open) for r in rows] == [
        (overdue, True, True),
        (fresh, False, True),
        (finished, False, False),
    ]
    assert not_yet not in {r.number for r in rows} and other not in {r.number for r in rows}
