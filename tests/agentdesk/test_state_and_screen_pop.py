"""Agent states, the screen-pop WebSocket and wrap-up through the real app, Redis and SQLite."""

from __future__ import annotations

import asyncio
import gc
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from agentdesk.desk_socket import POPS_REMEMBERED, DeskSocket
from agentdesk.socket_session import CloseCode
from kck.db.models import AuditEntry, Call
from queues.model import AgentState
from tests.agentdesk.conftest import Client, DeskWorld, on_manual_clock, routing_request, sign_in


async def post(client: Client, token: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = await client.post(path, json=body, headers={"X-CSRF-Token": token})
    return response.status, await response.json()


async def next_message(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            message = await ws.receive_json()
            if message["type"] == kind:
                return message


async def available_desk(client: Client, token: str) -> Any:
    """The signed-in agent is available, their desk socket open and ready for pops."""
    await post(client, token, "/api/desk/state", {"state": "available"})
    ws = await client.ws_connect("/desk/ws")
    await ws.send_json({"type": "ready"})
    return ws


async def test_agent_goes_available_then_pauses_with_a_reason(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    assert (await post(client, token, "/api/desk/state", {"state": "available"}))[0] == 200
    status, body = await post(
        client, token, "/api/desk/state", {"state": "paused", "reason": "training"}
    )
    assert status == 200 and body["state"] == "paused" and body["reason"] == "training"
    agent = await world.router.agent_status("anowak")
    assert agent is not None and (agent.state, agent.reason) == ("paused", "training")


async def test_pause_needs_a_known_reason(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    status, body = await post(
        client, token, "/api/desk/state", {"state": "paused", "reason": "nap"}
    )
    assert status == 422 and "nap" in body["message"]
    status, _ = await post(client, token, "/api/desk/state", {"state": "on_call"})
    assert status == 409


async def test_agent_cannot_pause_while_the_phone_rings(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    await post(client, token, "/api/desk/state", {"state": "available"})
    await world.offer("anowak", await world.store_call())
    status, body = await post(
        client, token, "/api/desk/state", {"state": "paused", "reason": "break"}
    )
    assert status == 409
    assert body["message"] == (
        "Nie można teraz zmienić stanu: najpierw zakończ rozmowę (teraz: połączenie przychodzące)"
    )  # people's words; the router's (English, codes) only for the tooltip
    assert "offered" in body["detail"] and "offered" not in body["message"]


async def test_nothing_is_pushed_before_the_client_says_ready(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    await post(client, token, "/api/desk/state", {"state": "available"})
    ws = await client.ws_connect("/desk/ws")
    call_id = await world.store_call()
    offer = await world.offer("anowak", call_id)  # arrives before `ready`
    try:
        await asyncio.wait_for(ws.receive(), timeout=0.5)
        raise AssertionError("the server pushed before ready")
    except TimeoutError:
        pass
    await ws.send_json({"type": "ready"})
    state = await next_message(ws, "state")
    assert state["data"]["state"] == "offered"
    pop = await next_message(ws, "pop")
    assert pop["data"]["offer_id"] == offer.offer_id
    await ws.send_json({"type": "ping", "t": "x"})
    assert (await next_message(ws, "pong"))["t"] == "x"  # the offer was not sent twice
    await ws.close()


async def test_desk_gets_its_own_state_changes_on_its_own_channel_not_everyones(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    await world.add_user("pkowal", extension="102")
    token = await sign_in(client, "anowak")
    shared = world.services.bus.channel("agents")
    own = world.services.bus.channel("agent:anowak")
    before = dict(await world.services.redis.pubsub_numsub(shared, own))
    ws = await client.ws_connect("/desk/ws")
    await ws.send_json({"type": "ready"})
    await next_message(ws, "state")
    after = dict(await world.services.redis.pubsub_numsub(shared, own))
    # the desk listens to its agent's channel only, not to every agent's changes
    assert after[own.encode()] == before[own.encode()] + 1
    assert after[shared.encode()] == before[shared.encode()]
    await world.router.agent_login("pkowal")
    await world.router.set_agent_state("pkowal", AgentState.PAUSED, "break")
    await post(client, token, "/api/desk/state", {"state": "available"})
    state = await next_message(ws, "state")
    assert (state["data"]["agent"], state["data"]["state"]) == ("anowak", "available")
    await ws.close()


async def test_pop_shows_caller_history_ivr_path_transcript_kb_card_and_prefilled_form(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    caller = "+48600123456"
    now = datetime.now(UTC)
    await world.store_call(
        caller,
        arrived_at=now - timedelta(days=3),
        outcome="answered",
        wrapup_outcome="callback_needed",
        queue="city_issues",
    )
    await world.store_call(caller, arrived_at=now - timedelta(days=120), outcome="answered")
    await world.store_call("+48126165555", arrived_at=now - timedelta(days=1), outcome="answered")
    agent = await world.accounts.get("anowak")
    assert agent is not None
    earlier = await world.store_call(
        caller, arrived_at=now - timedelta(days=10), queue="old_queue", agent_id=agent.id
    )  # a queue no longer in queues.yaml; anowak took it (and may link a ticket to it)
    status, _ = await post(
        client,
        token,
        "/api/tickets",
        {
            "category": "waste",
            "location_text": "os. Centrum A 1",
            "description": "Nieodebrane odpady od tygodnia.",
            "caller_number": caller,
            "units": ["MPO"],
            "call_id": earlier,
        },
    )
    assert status == 201
    ws = await available_desk(client, token)
    await next_message(ws, "state")
    call_id = await world.store_call(caller)
    await world.offer("anowak", call_id, routing_request(call_id, caller))
    pop = (await next_message(ws, "pop"))["data"]
    assert pop["caller"] == {"e164": caller, "display": "+48 600 123 456", "withheld": False}
    assert pop["ivr_path"] == "Polski → Zgłoszenie problemu → Zieleń"
    assert pop["recording"] == {"on": True, "text": "nagrywana"}
    assert "złamało się drzewo" in pop["transcript"]
    assert len(pop["history"]["calls"]) == 2  # 3 and 10 days ago; not 120 days, not another number
    assert pop["history"]["calls"][0]["wrapup"] == "trzeba oddzwonić"
    assert (pop["caller_language"], pop["caller_language_text"]) == ("pl", "polski")
    assert (pop["queue"], pop["queue_name"]) == ("city_issues", "Zgłoszenia miejskie")
    assert [(c["queue"], c["queue_name"]) for c in pop["history"]["calls"]] == [
        ("city_issues", "Zgłoszenia miejskie"),
        ("old_queue", "old_queue"),
    ]
    assert [t["category"] for t in pop["history"]["tickets"]] == ["odpady"]
    # the resident's earlier matter with its real state, in words
    assert [t["status_text"] for t in pop["history"]["tickets"]] == ["nowa, jeszcze nieprzekazana"]
    first_card = pop["suggestions"][0]
    assert first_card["slug"] == "zielen-powalone-drzewo"
    # people's words on the card, the matcher's codes only for the tooltip
    assert first_card["reason"].startswith("temat rozpoznany w mowie; ")
    assert "intent" not in first_card["reason"] and "ivr-choice" not in first_card["reason"]
    assert "intent fallen-tree" in first_card["reason_code"]
    assert pop["form"] == {
        "call_id": call_id,
        "category": "greenery",
        "caller_number": "+48 600 123 456",
        "units": ["ZZM"],
    }
    await ws.close()


async def test_withheld_caller_is_shown_as_withheld_with_no_history(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    await world.store_call(None, outcome="answered")
    ws = await available_desk(client, token)
    call_id = await world.store_call(None)
    await world.offer("anowak", call_id, routing_request(call_id, None, recording_consent=False))
    pop = (await next_message(ws, "pop"))["data"]
    assert pop["caller"] == {"e164": None, "display": "numer zastrzeżony", "withheld": True}
    assert pop["recording"] == {"on": False, "text": "nie nagrywana"}
    assert pop["history"] == {"calls": [], "tickets": []}
    assert pop["form"]["caller_number"] == ""
    await ws.close()


async def test_pop_names_the_queue_in_the_agents_language(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    ws = await available_desk(client, token)
    await world.offer("anowak", await world.store_call(), queue="long_wrap_up")
    pop = (await next_message(ws, "pop"))["data"]
    assert (pop["queue"], pop["queue_name"]) == ("long_wrap_up", "City greenery")
    await ws.close()


async def test_offer_made_while_the_page_reloads_is_shown_after_reconnect(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    await post(client, token, "/api/desk/state", {"state": "available"})
    first = await client.ws_connect("/desk/ws")
    await first.send_json({"type": "ready"})
    await next_message(first, "state")
    await first.close()
    offer = await world.offer("anowak", await world.store_call())  # nobody is listening now
    second = await client.ws_connect("/desk/ws")
    await second.send_json({"type": "ready"})
    assert (await next_message(second, "pop"))["data"]["offer_id"] == offer.offer_id
    await second.close()


async def test_call_goes_through_on_call_and_wrap_up_back_to_available_by_itself(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    ws = await available_desk(client, token)
    await next_message(ws, "state")
    call_id = await world.store_call()
    offer = await world.offer("anowak", call_id)
    await next_message(ws, "pop")
    await world.answer(offer)
    assert (await next_message(ws, "state"))["data"]["state"] == "on_call"
    await world.hang_up(call_id)
    wrap = (await next_message(ws, "state"))["data"]
    assert wrap["state"] == "wrap_up"
    status, body = await post(
        client,
        token,
        "/api/desk/wrap-up",
        {"call_id": call_id, "outcome": "resolved_first_line", "notes": "podano godziny otwarcia"},
    )
    assert status == 200, body
    back = (await next_message(ws, "state"))["data"]  # the wrap-up time (2 s in tests) ran out
    assert back["state"] == "available"
    async with world.services.sessions() as db:
        call = await db.get(Call, call_id)
        entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "call.wrap_up"))
    assert call is not None and call.wrapup_outcome == "resolved_first_line"
    assert entry is not None and entry.actor == "anowak" and entry.target == call_id
    assert entry.details["notes"] == "podano godziny otwarcia"
    await ws.close()


async def next_state(ws: aiohttp.ClientWebSocketResponse, state: str) -> dict[str, Any]:
    """The next state message saying `state` (earlier ones, e.g. offered and on_call, skipped)."""
    while True:
        data = (await next_message(ws, "state"))["data"]
        if data["state"] == state:
            return data


@on_manual_clock
async def test_wrap_up_state_says_when_the_router_ends_it_live_after_a_reload_and_in_the_api(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    ws = await available_desk(client, token)
    call_id = await world.store_call()
    offer = await world.offer("anowak", call_id, queue="long_wrap_up")  # wrap-up 300 s
    await world.answer(offer)
    hung_up_at = world.services.clock.now()
    await world.hang_up(call_id)
    wrap = await next_state(ws, "wrap_up")
    ends = hung_up_at + timedelta(seconds=300)
    assert datetime.fromisoformat(wrap["until"]) == ends
    assert datetime.fromisoformat(wrap["server_now"]) == hung_up_at

    world.advance(100)
    reloaded = await client.ws_connect("/desk/ws")  # the page is reloaded in wrap-up
    await reloaded.send_json({"type": "ready"})
    on_load = (await next_message(reloaded, "state"))["data"]
    assert on_load["state"] == "wrap_up"
    assert datetime.fromisoformat(on_load["until"]) == ends
    assert datetime.fromisoformat(on_load["server_now"]) == hung_up_at + timedelta(seconds=100)
    api = await (await client.get("/api/desk/state")).json()
    assert (api["state"], datetime.fromisoformat(api["until"])) == ("wrap_up", ends)

    world.advance(200)  # the deadline: the router's timer ends wrap-up, the desks are told
    for desk in (ws, reloaded):
        back = await next_state(desk, "available")
        assert back["until"] is None
    await ws.close()
    await reloaded.close()


async def test_outcome_ticket_created_needs_a_ticket_and_save_and_available_ends_wrap_up(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    ws = await available_desk(client, token)
    call_id = await world.store_call()
    offer = await world.offer("anowak", call_id, queue="long_wrap_up")
    await next_message(ws, "pop")
    await world.answer(offer)
    await world.hang_up(call_id)
    status, body = await post(
        client, token, "/api/desk/wrap-up", {"call_id": call_id, "outcome": "ticket_created"}
    )
    assert status == 422
    assert body["errors"]["outcome"] == "Najpierw zapisz zgłoszenie dla tej rozmowy."
    status, _ = await post(
        client,
        token,
        "/api/tickets",
        {
            "category": "transport",
            "description": "Autobus 152 nie przyjechał o 7:40.",
            "units": ["ZTP", "MPK"],
            "call_id": call_id,
        },
    )
    assert status == 201
    status, body = await post(
        client,
        token,
        "/api/desk/wrap-up",
        {"call_id": call_id, "outcome": "ticket_created", "available": True},
    )
    assert status == 200 and body["state"]["state"] == "available"
    other = await world.store_call()
    status, _ = await post(
        client, token, "/api/desk/wrap-up", {"call_id": other, "outcome": "wrong_number"}
    )
    assert status == 409  # not a call this agent had
    await ws.close()


async def test_missed_offer_is_withdrawn_from_the_desk(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    ws = await available_desk(client, token)
    offer = await world.offer("anowak", await world.store_call())
    await next_message(ws, "pop")
    await world.ring_out(offer)
    state = (await next_message(ws, "state"))["data"]
    assert (state["state"], state["reason"]) == ("paused", "no_answer")
    await ws.close()


async def test_desk_is_sent_its_state_again_when_its_live_subscription_comes_back(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    ws = await available_desk(client, token)
    assert (await next_message(ws, "state"))["data"]["state"] == "available"
    await world.services.redis.client_kill_filter(_type="pubsub")  # Redis drops the desk
    # what changed meanwhile was missed: the desk is sent its state afresh
    assert (await next_message(ws, "state"))["data"]["state"] == "available"
    offer = await world.offer("anowak", await world.store_call())
    assert (await next_message(ws, "pop"))["data"]["offer_id"] == offer.offer_id
    await ws.close()


@pytest.mark.parametrize(
    "garbage",
    ["hello?", "[" * 30_000 + "]" * 30_000, '{"type": "\\ud800"}'],
    ids=["not JSON", "nested 30000 deep", "lone surrogate"],
)
async def test_garbage_on_the_socket_closes_it_with_the_protocol_error_code(
    world: DeskWorld, client: Client, garbage: str
) -> None:
    await world.add_user("anowak")
    await sign_in(client, "anowak")
    ws = await client.ws_connect("/desk/ws")
    await ws.send_str(garbage)
    message = await ws.receive()
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert ws.close_code == CloseCode.PROTOCOL_ERROR


async def test_socket_from_another_site_is_closed_as_forbidden(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    await sign_in(client, "anowak")
    ws = await client.ws_connect("/desk/ws", headers={"Origin": "http://evil.example"})
    message = await ws.receive()
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert ws.close_code == CloseCode.FORBIDDEN


async def test_socket_without_a_session_is_refused_before_the_upgrade(
    world: DeskWorld, client: Client
) -> None:
    try:
        await client.ws_connect("/desk/ws")
        raise AssertionError("upgrade allowed without a session")
    except aiohttp.WSServerHandshakeError as refused:
        assert refused.status == 401


async def test_kb_live_search_returns_escaped_snippets(world: DeskWorld, client: Client) -> None:
    await world.add_user("anowak")
    await sign_in(client, "anowak")
    response = await client.get("/api/kb/search", params={"q": "odpady"})
    hits = (await response.json())["hits"]
    assert hits and all(h["slug"].startswith("odpady-") for h in hits[:3])
    assert "<mark>" in hits[0]["snippet_html"]


async def test_agent_cannot_sign_out_in_the_middle_of_a_call(
    world: DeskWorld, client: Client
) -> None:
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    await post(client, token, "/api/desk/state", {"state": "available"})
    offer = await world.offer("anowak", await world.store_call())
    await world.answer(offer)
    response = await client.post("/logout", data={"csrf_token": token}, allow_redirects=False)
    assert response.status == 409
    page = await response.text()
    assert page.startswith("<!doctype html>") and 'role="alert"' in page
    assert "Nie można się wylogować: najpierw zakończ rozmowę (teraz: w rozmowie)." in page
    assert (await world.backend.status("anowak")).state.value == "on_call"
    assert (await client.get("/api/desk/state")).status == 200  # still signed in


async def test_a_desk_open_all_day_remembers_only_its_last_offers(
    world: DeskWorld, client: Client
) -> None:
    """Found by bench/soak.py's review: the socket kept every offer it had sent, for as long as
    the desk stayed open (a day of calls)."""
    await world.add_user("anowak")
    token = await sign_in(client, "anowak")
    before = {id(o) for o in gc.get_objects() if isinstance(o, DeskSocket)}  # earlier tests'
    ws = await available_desk(client, token)
    await next_message(ws, "state")
    sockets = [o for o in gc.get_objects() if isinstance(o, DeskSocket) and id(o) not in before]
    assert len(sockets) == 1
    offers = POPS_REMEMBERED + 4
    for _ in range(offers):
        offer = await world.offer("anowak", await world.store_call())
        assert (await next_message(ws, "pop"))["data"]["offer_id"] == offer.offer_id
        await world.ring_out(offer)
        await next_state(ws, "paused")
        await world.hang_up(offer.call_id)  # the caller leaves: not offered again
        await post(client, token, "/api/desk/state", {"state": "available"})
        await next_state(ws, "available")
    assert len(sockets[0].popped) == POPS_REMEMBERED
    assert offer.offer_id in sockets[0].popped  # the latest is still found for `shown`
    await ws.close()
