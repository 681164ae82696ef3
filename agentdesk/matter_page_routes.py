"""The desk's page of one matter: its state, each unit's part, the units' open questions to the
resident with the form where an agent records the resident's answer (after the resident calls),
and the matter's audit. For agents whose work lets them read the ticket, and supervisors."""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web

from agentdesk.i18n import code_in_words, translate
from agentdesk.keys import matters_key, services_key, tickets_key, units_key
from agentdesk.matter_routes import MATTER_ROLES
from agentdesk.pages import render
from agentdesk.refusals import language_of, refusal
from agentdesk.security import Access, add_route, current_session
from agentdesk.tickets.matters import (
    INFO_ANSWERED,
    RESIDENT_ASKED,
    MatterService,
    MatterState,
    UnitActionRefused,
)
from agentdesk.tickets.questions import open_questions
from agentdesk.tickets.scope import TicketScope
from matters.lifecycle import MoveRefused

log = logging.getLogger(__name__)

MATTER_PAGE = "/matters/{number}"
LOOP_ACTIONS = {
    INFO_ANSWERED: "matterpage.info_answered",
    RESIDENT_ASKED: "matterpage.resident_asked",
}


def action_text(lang: str, action: str) -> str:
    """An audited step in words: the question loop's own, else the state it moved to."""
    if action in LOOP_ACTIONS:
        return translate(lang, LOOP_ACTIONS[action])
    words = code_in_words(lang, "unit.status", action)
    return words if words != action else code_in_words(lang, "matter.status", action)


def register_matter_page_routes(app: web.Application) -> None:
    add_route(app, "GET", MATTER_PAGE, matter_page, Access(MATTER_ROLES))
    add_route(app, "POST", MATTER_PAGE + "/answer", record_answer, Access(MATTER_ROLES))


async def _readable(request: web.Request) -> MatterState | None:
    number = request.match_info["number"].strip().upper()
    ticket = await request.app[tickets_key].get(number)
    if ticket is None:
        return None
    if not await TicketScope(request.app[services_key]).may_read(current_session(request), ticket):
        return None
    state: MatterState | None = await request.app[matters_key].state(number)
    return state


async def _page(
    request: web.Request, state: MatterState, *, status: int = 200, error: str | None = None
) -> web.Response:
    lang = language_of(request)
    service: MatterService = request.app[matters_key]
    services = request.app[services_key]
    units = request.app[units_key]
    tz = services.settings.tz

    def when(moment: datetime) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    def unit_name(code: str | None) -> str:
        unit = units.get(code or "")
        return unit.name(lang) if unit else (code or "")

    return render(
        request,
        "matter_page.html",
        status=status,
        title=translate(lang, "matterpage.title", number=state.number),
        matter=state,
        status_text=code_in_words(lang, "matter.status", state.status),
        parts=[
            (unit_name(u.code), code_in_words(lang, "unit.status", u.status), u.answer)
            for u in state.units
        ],
        questions=[
            (unit_name(q.unit), q.question, when(q.asked_at))
            for q in await open_questions(services.sessions, [state.number])
        ],
        audit=await service.audit(state.number),
        unit_name=unit_name,
        action_text=lambda action: action_text(lang, action),
        when=when,
        recorded=request.query.get("done") == "1",
        error=error,
    )


async def matter_page(request: web.Request) -> web.Response:
    state = await _readable(request)
    if state is None:
        number = request.match_info["number"]
        return refusal(request, 404, "ticket.not_found", number=number)
    return await _page(request, state)


async def record_answer(request: web.Request) -> web.Response:
    """The resident's answer, as the agent heard it on the phone: to every unit that asked."""
    state = await _readable(request)
    if state is None:
        number = request.match_info["number"]
        return refusal(request, 404, "ticket.not_found", number=number)
    lang = language_of(request)
    session = current_session(request)
    text = str((await request.post()).get("text", ""))
    try:
        await request.app[matters_key].answer_question(
            state.number, text, f"agent:{session.username}"
        )
    except (UnitActionRefused, MoveRefused) as refused:
        missing = isinstance(refused, UnitActionRefused) and refused.reason == "text_missing"
        key = "matterpage.refused.text_missing" if missing else "matterpage.refused.no_question"
        message = translate(lang, key)
        return await _page(request, state, status=409, error=message)
    log.info("%s recorded the resident's answer on matter %s", session.username, state.number)
    raise web.HTTPSeeOther(f"/matters/{state.number}?done=1")
