"""The board against the real router (queues.Router in Redis): its live snapshot and agent states."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agentdesk.board.force import AUDIT_ACTION, RouterStateWriter
from kck.clock import ManualClock
from kck.db.models import AuditEntry
from kck.services import Services
from queues.model import AgentState
from queues.stats import QueueStatistics
from tests.board.conftest import SignIn, build_board_app, make_router
from tests.queues.conftest import request, state_of


async def _frame(ws: Any, kind: str, until: Any) -> dict[str, Any]:
    while True:
        body = (await asyncio.wait_for(ws.receive(), 10)).json()
        if body["type"] == kind and until(body["data"]):
            return dict(body["data"])


async def test_board_shows_the_routers_waiting_call_and_forces_a_logout_through_it(
    aiohttp_client: Any, board_services: Services, sign_in: SignIn, clock: ManualClock
) -> None:
    router = make_router(board_services)
    config = router.config
    app = build_board_app(board_services, router, RouterStateWriter(router))
    client: TestClient = await aiohttp_client(app)
    csrf = await sign_in(client, "sylwia", "supervisor")
    ws = await client.ws_connect("/board/ws")
    await ws.send_json({"type": "ready"})
    await _frame(ws, "snapshot", lambda b: True)

    await router.agent_login("ala")
    change = await _frame(ws, "agent", lambda a: a["agent"] == "ala")
    assert change["state"] == AgentState.AVAILABLE.value
    await router.agent_login("bob")
    await router.set_agent_state("bob", AgentState.PAUSED, "break")
    await router.enqueue(request(clock, {"roads": 5}))  # nobody with roads 5 is available
    clock.advance(12)
    snapshot = await QueueStatistics(router.store, config).snapshot()
    await board_services.bus.broadcast("stats", "snapshot", snapshot)

    board = await _frame(ws, "snapshot", lambda b: b["total"]["waiting"] == 1)
    city = next(q for q in board["queues"] if q["id"] == "city")
    assert (city["waiting"], city["offered"], city["longest_wait_s"]) == (1, 1, 12.0)
    states = {a["agent"]: (a["state"], a["reason"]) for a in board["agents"]}
    assert states["ala"] == ("available", None) and states["bob"] == ("paused", "break")

    response = await client.post(
        "/api/board/agents/ala/state", json={"state": "logged_out"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 200, await response.text()
    assert await state_of(router, "ala") in (None, AgentState.LOGGED_OUT)
    gone = await _frame(ws, "agent", lambda a: a["agent"] == "ala")
    assert gone["state"] == "logged_out"
    async with board_services.sessions() as session:
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == AUDIT_ACTION))
        ).all()
    assert [(a.actor, a.target, a.details["to"]) for a in audit] == [
        ("sylwia", "ala", "logged_out")
    ]

    refused = await client.post(
        "/api/board/agents/nobody/state",
        json={"state": "available"},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status in (404, 409)
    await ws.close()
    await client.close()


async def test_a_refused_force_says_why_in_the_supervisors_language(
    aiohttp_client: Any, board_services: Services, sign_in: SignIn, clock: ManualClock
) -> None:
    router = make_router(board_services)
    client: TestClient = await aiohttp_client(
        build_board_app(board_services, router, RouterStateWriter(router))
    )
    csrf = await sign_in(client, "sylwia", "supervisor")
    await router.agent_login("ala")
    await router.enqueue(request(clock, {}))  # offered to ala at once: her phone rings
    assert await state_of(router, "ala") == AgentState.OFFERED

    async def force() -> dict[str, Any]:
        response = await client.post(
            "/api/board/agents/ala/state",
            json={"state": "paused", "reason": "break"},
            headers={"X-CSRF-Token": csrf},
        )
        assert response.status == 409
        return dict(await response.json())

    refused = await force()
    assert refused["error"] == "force.refused.busy"
    assert refused["message"] == (
        "Nie można teraz zmienić stanu ala: połączenie przychodzące. "
        "Trwająca rozmowa nie jest przerywana."
    )
    assert "offered" in refused["detail"]  # the router's own words, for the log
    client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    assert (await force())["message"] == (
        "The state of ala cannot change now: call incoming. A call in progress is never cut."
    )
    await client.close()
