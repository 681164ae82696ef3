"""Agents' tasks through the real app, Redis and SQLite: "callback needed" at wrap-up becomes a
callback the router offers; voicemail becomes a task one agent claims, plays and closes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from agentdesk.keys import tickets_key, units_key
from agentdesk.last_call import remember_last_call
from agentdesk.tasks.desk import DeskTasks, desk_tasks, voicemail_root
from agentdesk.tasks.models import AgentTask
from agentdesk.tasks.nonvoice_matters import NotNonVoice, create_nonvoice_matter
from agentdesk.tasks.routes import register_task_routes
from agentdesk.tasks.store import callback_call_id
from agentdesk.tickets.form import parse_ticket_form
from agentdesk.tickets.store import TicketView
from kck.db.models import AuditEntry
from queues.model import AgentState, OfferKind
from tests.agentdesk.conftest import Client, DeskWorld, on_manual_clock, sign_in
from tests.agentdesk.test_state_and_screen_pop import next_message

WAV = b"RIFF$\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00@\x1f\x00\x00\x80>\x00\x00"


@pytest.fixture
def tasks(world: DeskWorld) -> DeskTasks:
    made = desk_tasks(world.services, world.router)
    register_task_routes(world.app, made)
    return made


@pytest.fixture
async def client(
    world: DeskWorld,
    tasks: DeskTasks,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> Client:
    return await aiohttp_client(world.app)


async def post(client: Client, token: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await client.post(path, json=body, headers={"X-CSRF-Token": token})
    return response.status, await response.json()


async def call_in_wrap_up(world: DeskWorld, agent: str) -> str:
    """`agent` answered a call from +48600123456 and is in its 300 s wrap-up."""
    await world.router.agent_login(agent)
    call_id = await world.store_call(caller="+48600123456", queue="long_wrap_up")
    offer = await world.offer(agent, call_id, queue="long_wrap_up")
    await world.answer(offer)
    await world.hang_up(call_id)
    await remember_last_call(world.services, agent, call_id)  # as the desk's pop does
    status = await world.router.agent_status(agent)
    assert status is not None and status.state is AgentState.WRAP_UP
    return call_id


async def test_callback_needed_at_wrap_up_is_a_callback_the_router_offers_once_per_call(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    call_id = await call_in_wrap_up(world, "anowak")
    wrap_up = {
        "call_id": call_id,
        "outcome": "callback_needed",
        "callback": {"note": "oddzwonić z numerem sprawy"},
    }
    status, body = await post(client, token, "/api/desk/wrap-up", wrap_up)
    assert status == 200, body
    assert body["callback"]["state"] == "queued" and body["callback"]["number"] == "+48600123456"
    again_status, again = await post(client, token, "/api/desk/wrap-up", wrap_up)
    assert again_status == 200 and again["callback"]["id"] == body["callback"]["id"]
    async with world.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(AgentTask)) == 1
    waiting = await world.router.call_state(callback_call_id(call_id))
    assert waiting is not None and waiting["kind"] == "callback"
    assert (waiting["state"], waiting["cbnum"]) == ("waiting", "+48600123456")

    offers = await world.router.agent_login("pkowal")  # a free agent: the callback is offered
    assert [(o.call_id, o.kind) for o in offers] == [
        (callback_call_id(call_id), OfferKind.CALLBACK)
    ]


@on_manual_clock
async def test_callback_with_a_later_window_waits_until_the_window_opens(
    world: DeskWorld, client: Client, tasks: DeskTasks
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    call_id = await call_in_wrap_up(world, "anowak")
    opens = (world.services.clock.now() + timedelta(hours=2)).astimezone(tasks.tz)
    window = {"from": opens.strftime("%Y-%m-%dT%H:%M"), "until": ""}
    status, body = await post(
        client,
        token,
        "/api/desk/wrap-up",
        {"call_id": call_id, "outcome": "callback_needed", "callback": window},
    )
    assert status == 200, body
    assert body["callback"]["state"] == "scheduled"
    assert body["callback"]["window_from"] == opens.strftime("%Y-%m-%d %H:%M")
    assert await world.router.call_state(callback_call_id(call_id)) is None

    world.advance(2 * 3600)
    assert await tasks.scheduler.run_due() == [body["callback"]["id"]]
    waiting = await world.router.call_state(callback_call_id(call_id))
    assert waiting is not None and waiting["kind"] == "callback"


async def test_callback_needed_for_a_withheld_number_is_refused_and_nothing_is_stored(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    await world.router.agent_login("anowak")
    call_id = await world.store_call(caller=None, queue="long_wrap_up")
    offer = await world.offer("anowak", call_id, queue="long_wrap_up")
    await world.answer(offer)
    await world.hang_up(call_id)
    await remember_last_call(world.services, "anowak", call_id)
    status, body = await post(
        client, token, "/api/desk/wrap-up", {"call_id": call_id, "outcome": "callback_needed"}
    )
    assert status == 422 and "callback" in body["errors"]
    async with world.services.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(AgentTask)) == 0


def leave_voicemail(world: DeskWorld, box: str, call_id: str) -> Path:
    folder = voicemail_root(world.services) / "voicemail" / box
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{call_id}.wav"
    path.write_bytes(WAV)
    return path


async def test_voicemail_is_a_task_one_agent_claims_plays_and_closes(
    world: DeskWorld, client: Client, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    await world.add_user("anowak")
    await world.add_user("pkowal", extension="102")
    token = await sign_in(client, "anowak")
    other = await aiohttp_client(world.app)
    other_token = await sign_in(other, "pkowal", extension="102")
    call_id = await world.store_call(caller="+48600777888")
    leave_voicemail(world, "greenery", call_id)

    listed = await (await client.get("/api/desk/tasks")).json()
    [task] = listed["tasks"]
    assert (task["kind"], task["state"], task["number"]) == ("voicemail", "open", "+48600777888")
    url = f"/api/desk/tasks/{task['id']}"
    assert (await client.get(f"{url}/audio")).status == 409  # claim it first

    status, claimed = await post(client, token, f"{url}/claim", {})
    assert status == 200 and claimed["claimed_by"] == "anowak"
    status, refused = await post(other, other_token, f"{url}/claim", {})
    assert status == 409 and refused["error"] == "claimed"
    assert (await other.get(f"{url}/audio")).status == 409
    audio = await client.get(f"{url}/audio")
    assert audio.status == 200 and await audio.read() == WAV

    status, body = await post(other, other_token, f"{url}/close", {"outcome": "resolved"})
    assert status == 409
    status, body = await post(client, token, f"{url}/close", {"outcome": "no_action_needed"})
    assert status == 200 and body["state"] == "closed"
    assert (await (await client.get("/api/desk/tasks")).json())["tasks"] == []
    async with world.services.sessions() as db:
        actions = (
            await db.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target == f"task:{task['id']}")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert actions == ["task.created", "task.claimed", "task.played", "task.closed"]


async def test_voicemail_call_back_makes_a_callback_task_and_closes_the_voicemail(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    call_id = await world.store_call(caller="+48600777888")
    leave_voicemail(world, "general", call_id)
    [task] = (await (await client.get("/api/desk/tasks")).json())["tasks"]
    url = f"/api/desk/tasks/{task['id']}"
    await post(client, token, f"{url}/claim", {})
    status, callback = await post(client, token, f"{url}/callback", {"note": "prosi o telefon"})
    assert status == 201, callback
    assert (callback["kind"], callback["number"]) == ("callback", "+48600777888")
    waiting = await world.router.call_state(callback_call_id(call_id))
    assert waiting is not None and waiting["cbnum"] == "+48600777888"
    listed = (await (await client.get("/api/desk/tasks")).json())["tasks"]
    assert [(t["kind"], t["state"]) for t in listed] == [("callback", "queued")]


async def test_voicemail_is_listed_only_for_agents_with_the_boxs_skill(
    world: DeskWorld, tasks: DeskTasks
) -> None:
    call_id = await world.store_call()
    leave_voicemail(world, "greenery", call_id)
    leave_voicemail(world, "no_such_skill", "abc123")
    assert await tasks.inbox.collect() == 2
    assert await tasks.inbox.collect() == 0  # one task per message
    roads_only = await tasks.store.open_for("someone", ["roads"])
    assert [t.call_id for t in roads_only] == ["abc123"]  # a box of no skill: everyone's
    greenery = await tasks.store.open_for("someone", ["greenery"])
    assert sorted(t.call_id for t in greenery) == sorted([call_id, "abc123"])


async def test_a_stored_path_outside_the_voicemail_folder_is_never_served(
    world: DeskWorld, client: Client, tasks: DeskTasks
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    secret = voicemail_root(world.services) / "secret.wav"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(WAV)
    task, _ = await tasks.store.voicemail("evil", "general", "voicemail/../secret.wav", None)
    await post(client, token, f"/api/desk/tasks/{task.id}/claim", {})
    assert (await client.get(f"/api/desk/tasks/{task.id}/audio")).status == 404
    assert (await client.get("/api/desk/tasks/..%2F..%2Fetc/audio")).status == 404


async def matter_from(world: DeskWorld, tasks: DeskTasks, source: str, **fields: Any) -> TicketView:
    """A matter from `source` saved through the helper the portal's API uses."""
    return await create_nonvoice_matter(
        world.app[tickets_key],
        tasks.matters,
        parse_ticket_form(fields, world.app[units_key]),
        source=source,
        skills=world.router.config.skills,
        now=world.services.clock.now(),
    )


async def test_matter_without_a_call_is_offered_to_the_idle_agent_on_the_desk_and_done(
    world: DeskWorld, client: Client, tasks: DeskTasks
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    ticket = await matter_from(
        world,
        tasks,
        "open311",
        category="greenery",
        location_text="Park Jordana, aleja główna",
        description="Złamana ławka i konar na alei (zgłoszenie z portalu).",
        units=["ZZM"],
    )
    assert await tasks.matters.waiting("greenery") == [ticket.number]  # nobody is idle yet
    assert (await client.get(f"/api/tickets/{ticket.number}")).status == 404  # not this agent's
    ws = await client.ws_connect("/desk/ws")
    await ws.send_json({"type": "ready"})
    await next_message(ws, "state")
    await post(client, token, "/api/desk/state", {"state": "available"})
    offered = (await next_message(ws, "matter"))["data"]
    assert (offered["ref"], offered["source"]) == (ticket.number, "open311")
    assert (await client.get(f"/api/tickets/{ticket.number}")).status == 200  # now it is

    [matter] = (await (await client.get("/api/desk/tasks")).json())["tasks"]
    assert (matter["kind"], matter["ref"], matter["category_text"]) == (
        "matter",
        ticket.number,
        "zieleń",
    )
    status, body = await post(client, token, "/api/desk/matter/done", {"id": ticket.number})
    assert status == 200, body
    assert (await (await client.get("/api/desk/tasks")).json())["tasks"] == []
    status, _ = await post(client, token, "/api/desk/matter/done", {"id": ticket.number})
    assert status == 404
    await ws.close()


async def test_a_matter_that_came_by_phone_never_joins_the_non_voice_queue(
    world: DeskWorld, tasks: DeskTasks
) -> None:
    with pytest.raises(NotNonVoice):
        await matter_from(
            world,
            tasks,
            "phone",
            category="waste",
            location_text="ul. Długa 1",
            description="Pełny kosz.",
            units=["MPO"],
        )
    assert await tasks.matters.waiting("waste") == []
