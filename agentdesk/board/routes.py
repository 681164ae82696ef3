"""HTTP face of the wall board: the page (and wall mode), its WebSocket, and forcing an agent's state."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from agentdesk.board.board_socket import board_socket
from agentdesk.board.feed import BoardFeed
from agentdesk.board.force import (
    FORCE_CHOICES,
    AgentStateWriter,
    ForceRequest,
    ForceStateError,
    LoggedStateWriter,
    force_state,
)
from agentdesk.board.snapshot import build_board
from agentdesk.i18n import catalogue, translate
from agentdesk.keys import feed_key, services_key, state_writer_key
from agentdesk.overdue_view import overdue_rows
from agentdesk.pages import render
from agentdesk.ports import AGENT_PAUSE_REASONS
from agentdesk.refusals import language_of
from agentdesk.reports.context import bind_context
from agentdesk.reports.rules import ensure_counting_rules
from agentdesk.request_body import json_object
from agentdesk.security import SUPERVISOR_ROLES, Access, add_route, current_principal, principal_of
from agentdesk.socket_session import install_sockets
from kck.services import Services

log = logging.getLogger(__name__)

# The words board.js writes itself (agent states and reasons, the link, the target line, why a
# callback failed, a refused force).
WALL_OVERDUE_ROWS = 3  # late units on the wall (the full list: /matters and the board)
SCRIPT_STRINGS = ("state.", "reason.", "board.", "callback.why.", "force.")


def register_board_routes(
    app: web.Application,
    state_writer: AgentStateWriter | None = None,
    *,
    services: Services | None = None,
    min_interval_s: float = 1.0,
) -> None:
    """Mount /board, /board/wall, /board/ws, /api/board and the force-state action (supervisors).

    `state_writer`: the router's agent states (`RouterStateWriter`); by default a state-log row and
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
    install_sockets(app)
    supervisors = Access(SUPERVISOR_ROLES)
    add_route(app, "GET", "/board", board_page, supervisors)
    add_route(app, "GET", "/board/wall", wall_page, supervisors)
    add_route(app, "GET", "/board/ws", board_socket, supervisors)
    add_route(app, "GET", "/api/board", board_json, supervisors)
    add_route(app, "POST", "/api/board/agents/{agent}/state", force_agent_state, supervisors)


async def _page(request: web.Request, wall: bool) -> web.Response:
    principal = principal_of(request)
    strings = catalogue(language_of(request))
    return render(
        request,
        "board/board.html",
        script_strings={k: v for k, v in strings.items() if k.startswith(SCRIPT_STRINGS)},
        wall=wall,
        csrf=principal.csrf_token if principal else "",
        forced_states=[s.value for s in FORCE_CHOICES],
        pause_reasons=[r.value for r in AGENT_PAUSE_REASONS],
        centre=request.app[services_key].settings.centre,
        overdue=await overdue_rows(request, language_of(request)),
        overdue_limit=WALL_OVERDUE_ROWS if wall else 0,
    )


async def board_page(request: web.Request) -> web.Response:
    return await _page(request, wall=False)


async def wall_page(request: web.Request) -> web.Response:
    return await _page(request, wall=True)


async def board_json(request: web.Request) -> web.Response:
    return web.json_response(await request.app[feed_key].snapshot())


async def force_agent_state(request: web.Request) -> web.Response:
    services = request.app[services_key]
    principal = current_principal(request)
    body = await json_object(request)
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
        params = dict(exc.params)
        if "state" in params:
            params["state"] = translate(language_of(request), f"state.{params['state']}")
        message = translate(language_of(request), exc.key, **params)
        return web.json_response(
            {"error": exc.key, "message": message, "detail": str(exc)}, status=exc.status
        )
    return web.json_response(
        {"agent": wanted.agent, "state": wanted.state.value, "reason": wanted.reason}
    )
