"""HTTP face of the wall board: the page (and wall mode), its WebSocket, and forcing an agent's state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSMsgType, web

from agentdesk.board.feed import BoardFeed
from agentdesk.board.force import (
    AgentStateWriter,
    ForcedState,
    ForceRequest,
    ForceStateError,
    LoggedStateWriter,
    force_state,
)
from agentdesk.board.snapshot import build_board
from agentdesk.reports.access import add_guarded_route, principal_of
from agentdesk.reports.context import bind_context, services_key, templates_key
from agentdesk.reports.rules import ensure_counting_rules
from kck.services import Services
from kck.stopping import TASK_STOP_S, stop_tasks

log = logging.getLogger(__name__)

feed_key = web.AppKey("board_feed", BoardFeed)
state_writer_key: web.AppKey[AgentStateWriter] = web.AppKey("board_state_writer")


def register_board_routes(
    app: web.Application,
    state_writer: AgentStateWriter | None = None,
    *,
    services: Services | None = None,
    min_interval_s: float = 1.0,
) -> None:
    """Mount /board, /board/wall, /board/ws, /api/board and the force-state action (supervisors).

    `state_writer`: the router's agent states (`AgentStates`); by default a state-log row and
    an `agents` broadcast.
    """
    services = bind_context(app, services)
    rules, names = ensure_counting_rules(app)

    async def count() -> dict[str, Any]:
        return await build_board(
            services.sessions, rules, names, services.settings.tz, services.clock.now()
        )

    app[feed_key] = BoardFeed(
        services.bus, count, services.clock, rules=rules, min_interval_s=min_interval_s
    )
    app[state_writer_key] = state_writer or LoggedStateWriter(services)

    async def run_feed(app: web.Application) -> AsyncIterator[None]:
        await app[feed_key].start()
        yield
        await app[feed_key].stop()

    app.cleanup_ctx.append(run_feed)
    add_guarded_route(app, "GET", "/board", board_page)
    add_guarded_route(app, "GET", "/board/wall", wall_page)
    add_guarded_route(app, "GET", "/board/ws", board_socket)
    add_guarded_route(app, "GET", "/api/board", board_json)
    add_guarded_route(app, "POST", "/api/board/agents/{agent}/state", force_agent_state)


async def _page(request: web.Request, wall: bool) -> web.Response:
    principal = await principal_of(request)
    html = (
        request.app[templates_key]
        .get_template("board/board.html")
        .render(
            wall=wall,
            csrf=principal.csrf_token if principal else "",
            forced_states=[s.value for s in ForcedState],
            centre=request.app[services_key].settings.centre,
        )
    )
    return web.Response(text=html, content_type="text/html")


async def board_page(request: web.Request) -> web.Response:
    return await _page(request, wall=False)


async def wall_page(request: web.Request) -> web.Response:
    return await _page(request, wall=True)


async def board_json(request: web.Request) -> web.Response:
    return web.json_response(await request.app[feed_key].snapshot())


async def board_socket(request: web.Request) -> web.WebSocketResponse:
    """One board: the snapshot first, then every change; the board only listens."""
    socket = web.WebSocketResponse(heartbeat=20)
    await socket.prepare(request)
    feed = request.app[feed_key]
    queue = feed.subscribe()  # before the snapshot, so nothing falls between the two

    async def transmit() -> None:
        await socket.send_json({"type": "snapshot", "data": await feed.snapshot()})
        while True:
            await socket.send_json(await queue.get())

    async def receive() -> None:
        async for message in socket:
            if message.type == WSMsgType.ERROR:
                return

    tasks = [asyncio.create_task(transmit()), asyncio.create_task(receive())]
    try:
        done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None and not isinstance(error, ConnectionResetError):
                log.warning("board socket ended: %r", error)
    finally:
        feed.unsubscribe(queue)
        ended = [task for task in tasks if task.done()]
        await stop_tasks(
            [task for task in tasks if not task.done()], within=TASK_STOP_S, what="board socket"
        )
        for task in ended:  # an error other than a lost connection ends the handler
            error = None if task.cancelled() else task.exception()
            if error is not None and not isinstance(error, ConnectionResetError):
                raise error
        await socket.close()
    return socket


async def force_agent_state(request: web.Request) -> web.Response:
    services = request.app[services_key]
    principal = await principal_of(request)
    if principal is None:  # the guard lets nobody unsigned in; this keeps the type honest
        raise web.HTTPUnauthorized()
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "request body: not JSON"}, status=400)
    try:
        wanted = ForceRequest.parse(request.match_info["agent"], body)
        await force_state(
            services,
            request.app[state_writer_key],
            wanted,
            actor=principal.username,
            address=request.remote,
        )
    except ForceStateError as exc:
        return web.json_response({"error": str(exc)}, status=exc.status)
    return web.json_response(
        {"agent": wanted.agent, "state": wanted.state.value, "reason": wanted.reason}
    )
