"""A matter's life in SQL on SQLite and PostgreSQL: forwarded with e-mails in the outbox, the
units' steps audited, one combined answer to the resident, reopening with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tickets.matters import MatterNotFound, UnitAction, UnitActionRefused
from kck.clock import ManualClock
from kck.db import session_factory
from matters.lifecycle import MoveRefused
from matters.links import UnitGrant
from matters.models import OutboxMessage
from tests.matters.world import START, matter_service, new_matter


def grant(number: str, unit: str) -> UnitGrant:
    return UnitGrant(number, unit, START + timedelta(days=30))


async def outbox(engine: AsyncEngine) -> list[OutboxMessage]:
    async with session_factory(engine)() as db:
        return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_matter_goes_to_its_units_and_the_resident_gets_one_combined_answer(
    engine: AsyncEngine,
) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock)
    state = await service.forward(number, "agent:anowak")
    assert state.status == "forwarded"
    assert {u.code: u.status for u in state.units} == {"SM": "forwarded", "ZZM": "forwarded"}
    notices = await outbox(engine)
    assert sorted(m.recipient for m in notices) == [
        "kck-sm@krakow.example",
        "kck-zzm@krakow.example",
    ]
    assert all("http://kck.test/unit/matter/" in m.body for m in notices)

    clock.advance(60)
    await service.unit_act(grant(number, "ZZM"), UnitAction.RECEIVED)
    await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Gałąź usuniemy do piątku.")
    middle = await service.state(number)
    assert middle is not None and middle.status == "forwarded"  # SM has not answered yet
    state = await service.unit_act(grant(number, "SM"), UnitAction.PASS_ON, target="zdmk")
    assert {u.code: u.status for u in state.units}["ZDMK"] == "forwarded"
    state = await service.unit_act(grant(number, "ZDMK"), UnitAction.ANSWER, "Chodnik sprawdzimy.")
    assert state.status == "resident_informed"

    messages = await outbox(engine)
    [resident] = [m for m in messages if m.recipient == "anna@example.org"]
    assert resident.subject == f"Odpowiedź w sprawie {number}"
    assert "Gałąź usuniemy do piątku." in resident.body and "Chodnik sprawdzimy." in resident.body
    assert [m.recipient for m in messages].count("kck-zdmk@krakow.example") == 1

    audit = await service.audit(number)
    assert [(e.actor, e.action, e.unit) for e in audit] == [
        ("agent:anowak", "forwarded", None),
        ("agent:anowak", "forwarded", "SM"),
        ("agent:anowak", "forwarded", "ZZM"),
        ("unit:ZZM", "received", "ZZM"),
        ("unit:ZZM", "answered", "ZZM"),
        ("unit:SM", "passed_on", "SM"),
        ("unit:SM", "forwarded", "ZDMK"),
        ("unit:ZDMK", "answered", "ZDMK"),
        ("system", "answered", None),
        ("system", "resident_informed", None),
    ]
    assert audit[4].detail == "Gałąź usuniemy do piątku."
    assert audit[3].at == START + timedelta(seconds=60)
    assert (await service.counts()) == {"resident_informed": 1}


async def test_steps_out_of_order_are_refused_and_change_nothing(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock, units=["ZZM"])
    with pytest.raises(MoveRefused, match="unit ZZM: cannot move from 'pending' to 'answered'"):
        await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "za wcześnie")
    await service.forward(number, "agent:anowak")
    with pytest.raises(MoveRefused, match="cannot move from 'forwarded' to 'forwarded'"):
        await service.forward(number, "agent:anowak")
    with pytest.raises(UnitActionRefused, match="answer needs text"):
        await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "  ")
    with pytest.raises(UnitActionRefused, match="no unit 'XYZ'"):
        await service.unit_act(grant(number, "ZZM"), UnitAction.PASS_ON, target="XYZ")
    with pytest.raises(MatterNotFound):
        await service.unit_act(grant(number, "SM"), UnitAction.RECEIVED)
    await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Zrobione.")
    with pytest.raises(MoveRefused, match="from 'answered' to 'received'"):
        await service.unit_act(grant(number, "ZZM"), UnitAction.RECEIVED)
    assert [e.action for e in await service.audit(number)][-2:] == ["answered", "resident_informed"]


async def test_without_consent_the_matter_stays_answered_and_no_resident_mail_is_written(
    engine: AsyncEngine,
) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(
        engine,
        clock,
        units=["ZZM"],
        contact_consent=False,
        caller_name="",
        caller_email="",
    )
    await service.forward(number, "agent:anowak")
    state = await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Zrobione.")
    assert state.status == "answered"
    assert state.resident_name is None
    assert [m.recipient for m in await outbox(engine)] == ["kck-zzm@krakow.example"]


async def test_a_reopened_matter_goes_again_to_the_units_that_answered(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock, units=["ZZM"])
    await service.forward(number, "agent:anowak")
    await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Zrobione.")
    await service.close(number, "agent:pkowal")
    with pytest.raises(UnitActionRefused):
        await service.reopen(number, " ", "agent:pkowal")
    clock.advance(3600)
    state = await service.reopen(number, "Gałąź wciąż leży", "agent:pkowal")
    assert state.status == "forwarded"
    assert [u.status for u in state.units] == ["forwarded"]
    audit = await service.audit(number)
    assert ("reopened", "Gałąź wciąż leży") in [(e.action, e.detail) for e in audit]
    state = await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Teraz naprawdę.")
    assert state.status == "resident_informed"
    residents = [m for m in await outbox(engine) if m.recipient == "anna@example.org"]
    assert len(residents) == 2 and "Teraz naprawdę." in residents[1].body


async def test_a_ukrainian_resident_gets_the_answer_in_ukrainian(engine: AsyncEngine) -> None:
    clock = ManualClock(START)
    service = matter_service(engine, clock)
    number = await new_matter(engine, clock, units=["ZZM"], language="uk")
    await service.forward(number, "agent:anowak")
    await service.unit_act(grant(number, "ZZM"), UnitAction.ANSWER, "Зроблено.")
    [resident] = [m for m in await outbox(engine) if m.recipient == "anna@example.org"]
    assert resident.subject == f"Відповідь щодо звернення {number}"
    assert "Зроблено." in resident.body and "+48126165555" in resident.body
