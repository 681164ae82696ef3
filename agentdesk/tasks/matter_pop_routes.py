"""The desk's routes for the non-voice matter an agent holds: its screen-pop, and forwarding it
to the units the agent chose (docs/desk.md "Tasks for agents")."""

from __future__ import annotations

import logging

from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.keys import matters_key, pops_key, services_key, tasks_key, tickets_key, units_key
from agentdesk.refusals import language_of
from agentdesk.request_body import json_object
from agentdesk.security import DESK_ROLES, Access, add_route, current_session
from agentdesk.tasks.matter_pop import build_matter_pop
from agentdesk.tasks.matter_units import UnitsRefused, add_units
from kck.db.models import AuditEntry
from matters.lifecycle import MatterStatus, MoveRefused

log = logging.getLogger(__name__)

NEW = MatterStatus.NEW.value


def register_matter_pop_routes(app: web.Application) -> None:
    on_desk = Access(DESK_ROLES)
    add_route(app, "GET", "/api/desk/matter/pop", matter_pop, on_desk)
    add_route(app, "POST", "/api/desk/matter/forward", matter_forward, on_desk)


def _refused(request: web.Request, reason: str, status: int) -> web.Response:
    message = translate(language_of(request), f"task.matter_refused.{reason}")
    return web.json_response({"error": reason, "message": message}, status=status)


async def matter_pop(request: web.Request) -> web.Response:
    """The pop of the matter this agent holds (404: none held)."""
    session = current_session(request)
    item = await request.app[tasks_key].matters.held(session.username)
    ticket = await request.app[tickets_key].get(item.ref) if item is not None else None
    if item is None or ticket is None:
        return _refused(request, "not_held", 404)
    services = request.app[services_key]
    pop = await build_matter_pop(
        request.app[pops_key],
        request.app[tickets_key],
        item,
        ticket,
        language_of(request),
        services.clock.now(),
    )
    return web.json_response(pop)


async def matter_forward(request: web.Request) -> web.Response:
    """Forward the held matter: the chosen units are added to a matter saved without them, then
    each unit not yet forwarded gets it (as the desk's own tickets)."""
    session = current_session(request)
    body = await json_object(request)
    item = await request.app[tasks_key].matters.held(session.username)
    if item is None or item.item_id != str(body.get("id") or ""):
        return _refused(request, "not_held", 404)
    matters = request.app.get(matters_key)
    if matters is None:
        return _refused(request, "no_forwarding", 409)
    ticket = await request.app[tickets_key].get(item.ref)
    if ticket is None:
        return _refused(request, "not_found", 404)
    if ticket.status != NEW:  # units are added only to a matter about to be forwarded
        return _refused(request, "forwarded", 409)
    raw = body.get("units")
    codes = [str(c) for c in raw] if isinstance(raw, list) else []
    services = request.app[services_key]
    try:
        added = await add_units(services.sessions, request.app[units_key], item.ref, codes)
    except UnitsRefused as refused:
        log.info("%s: %s", session.username, refused)
        return _refused(request, refused.reason, 404 if refused.reason == "not_found" else 422)
    try:
        await matters.forward(item.ref, f"agent:{session.username}")
    except MoveRefused as refused:  # forwarded meanwhile (the added units are pending parts)
        log.info("%s: %s", session.username, refused)
        return _refused(request, "forwarded", 409)
    async with services.sessions.begin() as db:
        db.add(
            AuditEntry(
                actor=session.username,
                action="task.matter_forwarded",
                target=item.ref,
                details={"units": added},
                address=request.remote,
            )
        )
    lang = language_of(request)
    return web.json_response(
        {
            "number": item.ref,
            "units": added,
            "message": translate(lang, "task.matter_forwarded", number=item.ref),
        }
    )
