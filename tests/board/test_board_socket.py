"""The wall board's socket is built like the desk's: Origin check, `ready` first, close codes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient

from agentdesk.keys import socket_timing_key
from agentdesk.socket_session import CloseCode, SocketTiming
from kck.services import Services
from tests.board.conftest import SignIn, add_users, build_board_app


async def next_frame(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 10)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return dict(message.json())


async def test_board_socket_from_another_site_is_closed_as_forbidden(
    board_client: TestClient, sign_in: SignIn
) -> None:
    await sign_in(board_client, "sylwia", "supervisor")
    ws = await board_client.ws_connect("/board/ws", headers={"Origin": "http://evil.example"})
    message = await ws.receive()
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert ws.close_code == CloseCode.FORBIDDEN


async def test_nothing_is_pushed_to_a_board_before_it_says_ready_and_nothing_is_lost(
    board_client: TestClient, board_services: Services, sign_in: SignIn
) -> None:
    await add_users(board_services, "anna")
    await sign_in(board_client, "sylwia", "supervisor")
    ws = await board_client.ws_connect("/board/ws")
    await board_services.bus.broadcast(
        "agents",
        "agent_state",
        {
            "agent": "anna",
            "state": "available",
            "reason": None,
            "since": "2026-12-07T10:00:00+01:00",
        },
    )  # arrives before `ready`
    try:
        await asyncio.wait_for(ws.receive(), timeout=0.5)
        raise AssertionError("the server pushed before ready")
    except TimeoutError:
        pass
    await ws.send_json({"type": "ready"})
    assert (await next_frame(ws))["type"] == "snapshot"  # the snapshot first
    while (frame := await next_frame(ws))["type"] != "agent":
        pass
    assert (frame["data"]["agent"], frame["data"]["state"]) == ("anna", "available")
    await ws.send_json({"type": "ping", "t": "x"})
    while (frame := await next_frame(ws))["type"] != "pong":
        pass
    assert frame["t"] == "x"
    await ws.close()


async def test_board_socket_is_closed_as_session_ended_when_the_supervisor_signs_out(
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient]],
    board_services: Services,
    sign_in: SignIn,
) -> None:
    app = build_board_app(board_services)
    app[socket_timing_key] = SocketTiming(session_check_s=0.05)  # checked often, not every 15 s
    client = await aiohttp_client(app)
    csrf = await sign_in(client, "sylwia", "supervisor")
    ws = await client.ws_connect("/board/ws")
    await ws.send_json({"type": "ready"})
    assert (await next_frame(ws))["type"] == "snapshot"
    signed_out = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert signed_out.status == 302
    while (message := await asyncio.wait_for(ws.receive(), 10)).type == aiohttp.WSMsgType.TEXT:
        pass  # a recount may still be on its way
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert ws.close_code == CloseCode.SESSION_ENDED
    await client.close()


async def test_garbage_on_the_board_socket_closes_it_with_the_protocol_error_code(
    board_client: TestClient, sign_in: SignIn
) -> None:
    await sign_in(board_client, "sylwia", "supervisor")
    ws = await board_client.ws_connect("/board/ws")
    await ws.send_str("hello?")
    message = await ws.receive()
    assert message.type == aiohttp.WSMsgType.CLOSE
    assert ws.close_code == CloseCode.PROTOCOL_ERROR
