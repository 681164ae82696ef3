"""An agent reads and attaches only the tickets their work needs — the ones they wrote, those of
calls they took, those of the caller on their current call — and gets the same 404 as for a
ticket that does not exist for any other; supervisors see every ticket. Through the real desk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from agentdesk.last_call import remember_last_call
from agentdesk.tickets.form import parse_ticket_form
from agentdesk.tickets.models import Ticket
from agentdesk.tickets.store import TicketStore
from kck.db.models import Role
from tests.agentdesk.conftest import Client, DeskWorld, sign_in
from tests.agentdesk.test_tickets import UNITS, WARSAW, good_form


async def _user_id(world: DeskWorld, name: str) -> int:
    account = await world.accounts.get(name)
    assert account is not None
    return account.id


async def _ticket(world: DeskWorld, *, created_by: int | None = None, **form: Any) -> str:
    store = TicketStore(world.services.sessions, WARSAW)
    parsed = parse_ticket_form(good_form(**form), UNITS)
    return (await store.create(parsed, created_by=created_by, now=datetime.now(UTC))).number


async def _status(client: Client, number: str) -> tuple[int, dict[str, Any]]:
    response = await client.get(f"/api/tickets/{number}")
    return response.status, await response.json()


async def test_an_agent_reads_only_the_tickets_their_work_needs(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    await world.add_user("pkowal", extension="102")
    await world.add_user("sylwia", Role.SUPERVISOR, extension=None)
    anowak, pkowal = await _user_id(world, "anowak"), await _user_id(world, "pkowal")
    theirs = await world.store_call("+48600111222", agent_id=pkowal)
    taken = await world.store_call("+48600333444", agent_id=anowak)
    current = await world.store_call("+48600555666")  # popped on anowak's desk just now
    await remember_last_call(world.services, "anowak", current)

    foreign = await _ticket(world, created_by=pkowal, call_id=theirs, caller_number="600111222")
    foreign_caller = await _ticket(world, caller_number="600999888")
    readable = {
        "of a call they took": await _ticket(world, call_id=taken, caller_number="600333444"),
        "of the caller they talk to": await _ticket(world, caller_number="600555666"),
        "they wrote": await _ticket(world, created_by=anowak, caller_number="600777000"),
    }
    await sign_in(client, "anowak")
    for why, number in readable.items():
        assert (await _status(client, number))[0] == 200, why
    missing = await _status(client, "KCK-2020-999999")
    for number in (foreign, foreign_caller):
        status, body = await _status(client, number)
        assert status == 404, number
        # word for word what a number that does not exist gets: nothing to tell them apart
        assert body == {
            "error": "not_found",
            "message": missing[1]["message"].replace("KCK-2020-999999", number),
        }

    client.session.cookie_jar.clear()
    await sign_in(client, "sylwia", extension="")
    for number in (foreign, foreign_caller, *readable.values()):
        assert (await _status(client, number))[0] == 200, number


async def test_an_agent_attaches_tickets_only_to_their_own_calls(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    await world.add_user("pkowal", extension="102")
    anowak, pkowal = await _user_id(world, "anowak"), await _user_id(world, "pkowal")
    theirs = await world.store_call(agent_id=pkowal)
    taken = await world.store_call(agent_id=anowak)
    current = await world.store_call()
    await remember_last_call(world.services, "anowak", current)
    token = await sign_in(client, "anowak")

    async def save(call_id: str) -> int:
        response = await client.post(
            "/api/tickets", json=good_form(call_id=call_id), headers={"X-CSRF-Token": token}
        )
        return response.status

    assert await save(theirs) == 404
    assert await save("0" * 32) == 404  # a call that does not exist: the same answer
    assert await save(current) == 201
    assert await save(taken) == 201
    async with world.services.sessions() as db:
        linked = await db.scalars(select(Ticket.call_id).order_by(Ticket.id))
        assert list(linked) == [current, taken]
        assert await db.scalar(select(func.count()).select_from(Ticket)) == 2
