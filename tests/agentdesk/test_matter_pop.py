"""The screen-pop of a non-voice matter through the real app, Redis and SQLite: the resident's
other matters by phone and e-mail, the knowledge base's card for its category, the matter itself;
one saved without units is forwarded to the units the agent chooses."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import select

from agentdesk.keys import matters_key, tickets_key, units_key
from agentdesk.tasks.desk import DeskTasks
from agentdesk.tasks.nonvoice_matters import queue_matter
from agentdesk.tickets.form import parse_ticket_form
from agentdesk.tickets.store import TicketView
from kck.db.models import AuditEntry
from tests.agentdesk.conftest import Client, DeskWorld, sign_in
from tests.agentdesk.matters_app import matter_service
from tests.agentdesk.test_state_and_screen_pop import next_message
from tests.agentdesk.test_tasks import client, post, tasks

__all__ = ["client", "tasks"]  # fixtures shared with test_tasks

RESIDENT = "+48600555111"
EMAIL = "jan.nowak@example.pl"


@pytest.fixture(autouse=True)
def forwarding(world: DeskWorld) -> None:
    """The matters wired (before test_tasks' `client` starts the app)."""
    world.app[matters_key] = matter_service(world, world.services.clock)


async def saved(world: DeskWorld, *, without_units: bool = False, **fields: Any) -> TicketView:
    form = parse_ticket_form(fields, world.app[units_key])
    if without_units:  # as Open311 saves a category with many units (open311/requests.py)
        form = dataclasses.replace(form, units=())
    return await world.app[tickets_key].create(
        form, created_by=None, now=world.services.clock.now()
    )


async def portal_matter(world: DeskWorld, tasks: DeskTasks) -> tuple[TicketView, list[str]]:
    """The resident's two earlier matters (one by phone, one by e-mail), then a portal report
    saved without units and queued; returns it and the earlier numbers."""
    by_phone = await saved(
        world,
        category="greenery",
        location_text="Park Jordana",
        description="Złamana ławka.",
        caller_number=RESIDENT,
        units=["ZZM"],
    )
    by_email = await saved(
        world,
        category="roads_pavements",
        location_text="ul. Długa 5",
        description="Dziura w chodniku.",
        caller_email=EMAIL,
        caller_name="Jan Nowak",
        contact_consent=True,
        units=["ZDMK"],
    )
    matter = await saved(
        world,
        without_units=True,
        category="waste",
        location_text="ul. Długa 1",
        description="Nie odebrano śmieci, pojemnik przepełniony.",
        caller_number=RESIDENT,
        caller_email=EMAIL,
        caller_name="Jan Nowak",
        contact_consent=True,
        units=["MPO"],
    )
    await queue_matter(
        tasks.matters, matter, "open311:portal", tasks.skills, world.services.clock.now()
    )
    return matter, [by_phone.number, by_email.number]


async def test_the_held_matter_pops_with_history_card_and_itself_and_is_forwarded(
    world: DeskWorld, client: Client, tasks: DeskTasks
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    matter, earlier = await portal_matter(world, tasks)
    assert (await client.get("/api/desk/matter/pop")).status == 404  # nothing held yet
    ws = await client.ws_connect("/desk/ws")
    await ws.send_json({"type": "ready"})
    await next_message(ws, "state")
    await post(client, token, "/api/desk/state", {"state": "available"})
    await next_message(ws, "matter")

    response = await client.get("/api/desk/matter/pop")
    assert response.status == 200
    pop = await response.json()
    assert pop["kind"] == "matter"
    assert pop["caller"]["display"] == "+48 600 555 111"
    assert sorted(t["number"] for t in pop["history"]["tickets"]) == sorted(earlier)
    assert "odpady-reklamacja-odbioru" in [s["slug"] for s in pop["suggestions"]]
    details = pop["matter"]
    assert (details["number"], details["source"], details["location"]) == (
        matter.number,
        "open311:portal",
        "ul. Długa 1",
    )
    assert details["description"] == "Nie odebrano śmieci, pojemnik przepełniony."
    assert (details["units"], details["needs_units"], details["status"]) == ([], True, "new")
    assert (pop["form"]["category"], pop["form"]["units"]) == ("waste", [])
    assert pop["form"]["caller_email"] == EMAIL

    body = {"id": matter.number, "units": []}
    status, refused = await post(client, token, "/api/desk/matter/forward", body)
    assert (status, refused["error"]) == (422, "no_units")
    body["units"] = ["XYZ"]
    status, refused = await post(client, token, "/api/desk/matter/forward", body)
    assert (status, refused["error"]) == (422, "unknown_unit")
    body["units"] = ["MPO", "SM"]
    status, forwarded = await post(client, token, "/api/desk/matter/forward", body)
    assert status == 200, forwarded
    assert forwarded["message"] == f"Sprawę {matter.number} przekazano jednostkom."
    after = await (await client.get("/api/desk/matter/pop")).json()
    assert after["matter"]["status"] == "forwarded"
    assert [(u["code"], u["status"]) for u in after["matter"]["units"]] == [
        ("MPO", "forwarded"),
        ("SM", "forwarded"),
    ]
    body["units"] = ["MPO", "WGK"]  # once forwarded, no unit is added here
    status, refused = await post(client, token, "/api/desk/matter/forward", body)
    assert (status, refused["error"]) == (409, "forwarded")
    ticket = await world.app[tickets_key].get(matter.number)
    assert ticket is not None and ticket.units == ("MPO", "SM")
    async with world.services.sessions() as db:
        audit = await db.scalar(
            select(AuditEntry).where(AuditEntry.action == "task.matter_forwarded")
        )
    assert audit is not None and (audit.actor, audit.target) == ("anowak", matter.number)
    assert audit.details == {"units": ["MPO", "SM"]}

    status, _ = await post(client, token, "/api/desk/matter/done", {"id": matter.number})
    assert status == 200
    assert (await client.get("/api/desk/matter/pop")).status == 404
    await ws.close()


async def test_an_agent_not_holding_the_matter_may_not_forward_it(
    world: DeskWorld, client: Client, tasks: DeskTasks
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    matter, _ = await portal_matter(world, tasks)  # waits: nobody is available
    body = {"id": matter.number, "units": ["MPO"]}
    status, refused = await post(client, token, "/api/desk/matter/forward", body)
    assert (status, refused["error"]) == (404, "not_held")
    assert (await world.app[tickets_key].get(matter.number)) == matter  # untouched
