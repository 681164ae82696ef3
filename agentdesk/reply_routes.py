"""The resident's reply page: a unit asked for more information, the resident's e-mail has a
signed, expiring link (scoped to the matter and the unit that asked) to this page, in the
resident's language, where they type the answer. It goes to the unit like an agent's would."""

from __future__ import annotations

import logging

from aiohttp import web

from agentdesk.i18n import LANGUAGE_COOKIE, pick_language, translate
from agentdesk.keys import matters_key, services_key, units_key
from agentdesk.pages import render
from agentdesk.security import PUBLIC, Access, add_route
from agentdesk.tickets.matters import (
    REPLY_PAGE_PREFIX,
    REPLY_PURPOSE,
    MatterNotFound,
    MatterService,
    MatterState,
    UnitActionRefused,
)
from agentdesk.tickets.questions import open_questions
from agentdesk.unit_routes import FORM_TOKEN_FIELD
from matters.lifecycle import MoveRefused
from matters.links import LinkRefused, UnitGrant

log = logging.getLogger(__name__)

REPLY_PAGE = REPLY_PAGE_PREFIX + "{token}"
RESIDENT = "resident"  # the actor of an answer typed on this page


def register_reply_routes(app: web.Application) -> None:
    add_route(app, "GET", REPLY_PAGE, reply_page, PUBLIC)
    add_route(app, "POST", REPLY_PAGE, reply_sent, Access(None, own_form_token=True))


def _notice(request: web.Request, lang: str, key: str, status: int) -> web.Response:
    return render(
        request,
        "notice.html",
        status=status,
        lang=lang,
        title=translate(lang, "citizen.reply.title_plain"),
        message=translate(lang, key),
        detail=None,
        back=None,
    )


async def _open(
    request: web.Request,
) -> tuple[UnitGrant, MatterState] | web.Response:
    service: MatterService = request.app[matters_key]
    now = request.app[services_key].clock.now()
    try:
        grant = service.signer.verify(request.match_info["token"], now, purpose=REPLY_PURPOSE)
    except LinkRefused as refused:
        log.info("reply link refused: %s", refused)
        status = 410 if refused.problem.value == "expired" else 403
        return _notice(request, "pl", "citizen.reply.refused", status)
    try:
        return grant, await service.for_unit(grant)
    except MatterNotFound:
        return _notice(request, "pl", "citizen.reply.refused", 404)


async def _page(
    request: web.Request, grant: UnitGrant, state: MatterState, *, status: int = 200
) -> web.Response:
    # the resident's language, unless they chose another with the switch at the top
    lang = pick_language(request.cookies.get(LANGUAGE_COOKIE) or state.language)
    sessions = request.app[services_key].sessions
    waiting = [q for q in await open_questions(sessions, [state.number]) if q.unit == grant.unit]
    unit = request.app[units_key].get(grant.unit)
    signer = request.app[matters_key].signer
    return render(
        request,
        "resident_reply.html",
        status=status,
        lang=lang,
        title=translate(lang, "citizen.reply.title", number=state.number),
        unit_name=unit.name(lang) if unit else grant.unit,
        question=waiting[-1].question if waiting else None,
        form_token=signer.form_token(request.match_info["token"]),
        thanks=request.query.get("sent") == "1",
        error=translate(lang, "citizen.reply.text_missing") if status == 422 else None,
    )


async def reply_page(request: web.Request) -> web.Response:
    found = await _open(request)
    if isinstance(found, web.Response):
        return found
    return await _page(request, *found)


async def reply_sent(request: web.Request) -> web.Response:
    found = await _open(request)
    if isinstance(found, web.Response):
        return found
    grant, state = found
    service: MatterService = request.app[matters_key]
    posted = await request.post()
    token = request.match_info["token"]
    if not service.signer.check_form_token(token, str(posted.get(FORM_TOKEN_FIELD, ""))):
        return _notice(request, state.language, "citizen.reply.refused", 403)
    try:
        await service.answer_question(
            grant.matter, str(posted.get("text", "")), RESIDENT, unit=grant.unit
        )
    except UnitActionRefused as refused:
        if refused.reason == "text_missing":
            return await _page(request, grant, state, status=422)
        return await _page(request, grant, state, status=409)  # answered already: says so
    except MoveRefused:
        return await _page(request, grant, state, status=409)
    log.info("resident answered unit %s on matter %s", grant.unit, grant.matter)
    raise web.HTTPSeeOther(f"{request.path}?sent=1")
