"""The desk's steps on a matter after saving it: forward again (a forwarding that failed), close,
reopen with a reason; each for a reader the ticket's scope allows, each audited as its person."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from agentdesk.i18n import code_in_words, translate
from agentdesk.keys import matters_key, services_key, tickets_key
from agentdesk.refusals import language_of
from agentdesk.request_body import json_object
from agentdesk.security import Access, add_route, current_session
from agentdesk.tickets.matters import MatterService, MatterState, UnitActionRefused
from agentdesk.tickets.scope import TicketScope
from kck.db.models import Role
from matters.lifecycle import MoveRefused

log = logging.getLogger(__name__)

MATTER_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
Step = Callable[[MatterService, str, str, str], Awaitable[MatterState]]


async def _forward(service: MatterService, number: str, actor: str, _: str) -> MatterState:
    return await service.forward(number, actor)


async def _close(service: MatterService, number: str, actor: str, _: str) -> MatterState:
    return await service.close(number, actor)


async def _reopen(service: MatterService, number: str, actor: str, reason: str) -> MatterState:
    return await service.reopen(number, reason, actor)


STEPS: dict[str, Step] = {"forward": _forward, "close": _close, "reopen": _reopen}


def register_matter_routes(app: web.Application) -> None:
    for step in STEPS:
        add_route(app, "POST", f"/api/tickets/{{number}}/{step}", matter_step, Access(MATTER_ROLES))


def state_json(state: MatterState, lang: str) -> dict[str, object]:
    return {
        "number": state.number,
        "status": state.status,
        "status_text": code_in_words(lang, "matter.status", state.status),
        "units": [
            {
                "code": u.code,
                "status": u.status,
                "status_text": code_in_words(lang, "unit.status", u.status),
            }
            for u in state.units
        ],
    }


async def matter_step(request: web.Request) -> web.Response:
    session = current_session(request)
    lang = language_of(request)
    number = request.match_info["number"].strip().upper()
    step = request.path.rsplit("/", 1)[-1]
    ticket = await request.app[tickets_key].get(number)
    scope = TicketScope(request.app[services_key])
    if ticket is None or not await scope.may_read(session, ticket):
        return web.json_response(
            {"error": "not_found", "message": translate(lang, "ticket.not_found", number=number)},
            status=404,
        )
    body = await json_object(request) if request.body_exists else {}
    reason = str(body.get("reason", ""))
    try:
        state = await STEPS[step](
            request.app[matters_key], number, f"agent:{session.username}", reason
        )
    except MoveRefused as refused:
        current = code_in_words(lang, "matter.status", refused.current)
        message = translate(lang, "matter.refused", number=number, state=current)
        return web.json_response({"error": "refused", "message": message}, status=409)
    except UnitActionRefused:
        message = translate(lang, "matter.reason_missing")
        return web.json_response({"error": "reason_missing", "message": message}, status=422)
    log.info("%s: %s of matter %s, now %s", session.username, step, number, state.status)
    return web.json_response(state_json(state, lang))
