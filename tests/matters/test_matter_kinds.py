"""Each kind's life in SQL on SQLite and PostgreSQL: a matter outside the city's competence is
answered at once with where to go (no unit hears of it), a complaint goes to its unit named as
a complaint."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tickets.matters import MatterService, NotOutside, UnitAction
from kck.clock import ManualClock
from tests.matters.test_matter_service import grant, outbox
from tests.matters.world import START, matter_service, new_matter

GO = "Małopolski Urząd Wojewódzki, ul. Basztowa 22, Kraków"


def outside(**changes: object) -> dict[str, object]:
    return {
        "kind": "outside",
        "category": "out_of_competence",
        "location_text": "",
        "description": "Chcę wyrobić paszport, gdzie to zrobić?",
        "units": [],
        "refer_to": GO,
        **changes,
    }


async def started(engine: AsyncEngine, **form: object) -> tuple[MatterService, str]:
    """The matter service at START and a new matter of this form."""
    clock = ManualClock(START)
    return matter_service(engine, clock), await new_matter(engine, clock, **form)


async def test_an_outside_matter_is_answered_at_once_with_where_to_go(engine: AsyncEngine) -> None:
    service, number = await started(engine, **outside(language="en"))
    state = await service.answer_outside(number, "agent:anowak")
    assert state.status == "resident_informed" and state.units == ()
    assert state.kind == "outside" and state.refer_to == GO
    [mail] = await outbox(engine)  # no unit e-mail: only the resident's answer
    assert mail.recipient == "anna@example.org"
    assert mail.subject == f"Your matter {number}: outside the city's competence"
    assert f"Please turn to:\n\n{GO}" in mail.body
    audit = await service.audit(number)
    assert [(e.actor, e.action, e.from_status, e.to_status, e.detail) for e in audit] == [
        ("agent:anowak", "answered", "new", "answered", GO),
        ("system", "resident_informed", "answered", "resident_informed", None),
    ]
    assert audit[0].at == START


async def test_an_outside_matter_without_an_address_is_closed_the_agent_said_it(
    engine: AsyncEngine,
) -> None:
    service, number = await started(
        engine, **outside(contact_consent=False, caller_name="", caller_email="")
    )
    state = await service.answer_outside(number, "agent:anowak")
    assert state.status == "closed"
    assert await outbox(engine) == []
    assert [e.action for e in await service.audit(number)] == ["answered", "closed"]


async def test_only_an_outside_matter_is_answered_at_once(engine: AsyncEngine) -> None:
    service, number = await started(engine, units=["ZZM"])
    with pytest.raises(NotOutside, match=f"matter {number}: not outside"):
        await service.answer_outside(number, "agent:anowak")
    state = await service.state(number)
    assert state is not None and state.status == "new"
    assert await service.audit(number) == []


async def test_a_complaint_goes_to_its_unit_named_as_one_and_its_answer_too(
    engine: AsyncEngine,
) -> None:
    service, number = await started(
        engine,
        kind="complaint",
        category="other",
        location_text="",
        description="Nikt nie odbiera telefonu w sekretariacie od tygodnia.",
        complaint_about="sekretariat Straży Miejskiej",
        units=["SM"],
    )
    state = await service.forward(number, "agent:anowak")
    assert state.status == "forwarded" and state.complaint_about == "sekretariat Straży Miejskiej"
    [notice] = await outbox(engine)
    assert notice.recipient == "kck-sm@krakow.example"
    assert "Rodzaj sprawy: skarga." in notice.body and "Kind of matter: complaint." in notice.body
    assert "Skarga dotyczy: sekretariat Straży Miejskiej." in notice.body
    state = await service.unit_act(grant(number, "SM"), UnitAction.ANSWER, "Odbiera od dziś.")
    assert state.status == "resident_informed"
    resident = (await outbox(engine))[-1]
    assert resident.recipient == "anna@example.org"
    assert "Rodzaj sprawy: skarga." in resident.body
