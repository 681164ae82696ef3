"""The unit page: one matter for one unit, opened from the signed link in the unit's e-mail
(no account). It shows what the agent recorded — the resident's name only with their consent —
and takes the unit's step: received, answer, more information asked, passed on."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from agentdesk.duplicate_routes import topic_group
from agentdesk.i18n import translate
from agentdesk.keys import matters_key, services_key, units_key
from agentdesk.overdue_view import overdue_rows
from agentdesk.pages import render
from agentdesk.refusals import language_of
from agentdesk.security import PUBLIC, SUPERVISOR_ROLES, Access, add_route
from agentdesk.tickets.idea_topics import Side, TopicGroup
from agentdesk.tickets.kinds import TicketKind
from agentdesk.tickets.matters import (
    MatterNotFound,
    MatterService,
    MatterState,
    UnitAction,
    UnitActionRefused,
)
from agentdesk.tickets.questions import conversation, open_questions
from agentdesk.tickets.residents import ResidentRoll
from matters.lifecycle import UNIT_DONE, MatterStatus, MoveRefused, UnitStatus
from matters.links import LinkRefused, UnitGrant
from matters.outbox import outbox_rows

log = logging.getLogger(__name__)

UNIT_PAGE = "/unit/matter/{token}"
MATTERS_PAGE = "/matters"
FORM_TOKEN_FIELD = "form_token"


def register_unit_routes(app: web.Application) -> None:
    add_route(app, "GET", UNIT_PAGE, unit_page, PUBLIC)
    add_route(app, "POST", UNIT_PAGE, unit_step, Access(None, own_form_token=True))
    add_route(app, "GET", MATTERS_PAGE, matters_page, Access(SUPERVISOR_ROLES))


async def matters_page(request: web.Request) -> web.Response:
    """For supervisors: matters by state, and the outbox's messages with their delivery state."""
    services = request.app[services_key]
    lang = language_of(request)
    counts = await request.app[matters_key].counts()
    outbox_counts, messages = await outbox_rows(services.sessions)
    tz = services.settings.tz

    def when(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    return render(
        request,
        "matters.html",
        title=translate(lang, "nav.matters"),
        by_state=[
            (translate(lang, f"matter.status.{s.value}"), counts.get(s.value, 0))
            for s in MatterStatus
        ],
        outbox_counts=outbox_counts,
        messages=messages,
        overdue=await overdue_rows(request, lang),
        questions=await open_questions(services.sessions),
        when=when,
    )


def refused_page(request: web.Request, problem: str, status: int) -> web.Response:
    lang = language_of(request)
    return render(
        request,
        "notice.html",
        status=status,
        title=translate(lang, "unitpage.refused.title"),
        message=translate(lang, f"unitpage.refused.{problem}"),
        detail=None,
        back=None,
    )


def _grant(request: web.Request) -> UnitGrant | web.Response:
    service: MatterService = request.app[matters_key]
    token = request.match_info["token"]
    try:
        return service.signer.verify(token, request.app[services_key].clock.now())
    except LinkRefused as refused:
        log.info("unit link refused: %s", refused)
        status = 410 if refused.problem.value == "expired" else 403
        return refused_page(request, refused.problem.value, status)


@dataclass(frozen=True)
class UnitForm:
    """How the page's forms prove they are its own: the link's derived token, or the signed-in
    officer's CSRF token; `back`: the inbox, for an officer."""

    field: str
    value: str
    back: str | None = None


def link_form(request: web.Request) -> UnitForm:
    signer = request.app[matters_key].signer
    return UnitForm(FORM_TOKEN_FIELD, signer.form_token(request.match_info["token"]))


async def unit_matter_page(
    request: web.Request,
    grant: UnitGrant,
    state: MatterState,
    form: UnitForm,
    *,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> web.Response:
    """The one unit page, for a link and for an officer's account alike."""
    lang = language_of(request)
    units = request.app[units_key]
    mine = next(u for u in state.units if u.code == grant.unit)
    unit = units.get(grant.unit)
    tz = request.app[services_key].settings.tz
    sessions = request.app[services_key].sessions
    context: dict[str, Any] = {
        "title": translate(lang, "unitpage.title", number=state.number),
        "matter": state,
        "unit_name": unit.name(lang) if unit else grant.unit,
        "mine": mine,
        "finished": UnitStatus(mine.status) in UNIT_DONE,
        "can_receive": mine.status == UnitStatus.FORWARDED,
        "others": [
            (units.get(u.code).name(lang) if units.get(u.code) else u.code, u.status)  # type: ignore[union-attr]
            for u in state.units
            if u.code != grant.unit
        ],
        "pass_targets": [
            (u.code, u.name(lang))
            for u in units.units
            if u.code not in {part.code for part in state.units}
        ],
        "recorded": state.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "category_text": translate(lang, f"category.{state.category}"),
        "exchanges": await conversation(sessions, state.number, grant.unit),
        "when": lambda moment: moment.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "token_field": form.field,
        "form_token": form.value,
        "back": form.back,
        "error": error,
        "done": done,
        "topic_sides": None,
        **await _around(request, state),
    }
    return render(request, "unit_matter.html", status=status, **context)


def _sides(lang: str, state: MatterState, group: TopicGroup) -> list[dict[str, Any]]:
    """The topic group by side (for, against, neither), this matter among its side's ideas."""
    sides = []
    for side in Side:
        ideas = [(s.idea.number, s.idea.text, False) for s in group.similar if s.side is side]
        if group.side is side:
            ideas.insert(0, (state.number, state.description, True))
        sides.append(
            {
                "side": side.value,
                "label": translate(lang, f"idea.side.{side.value}"),
                "count": group.counts[side],
                "ideas": ideas,
            }
        )
    return sides


async def _around(request: web.Request, state: MatterState) -> dict[str, Any]:
    """What the unit sees besides the matter: how many residents are on it, and for an idea the
    ideas on the same topic by side."""
    sessions = request.app[services_key].sessions
    found: dict[str, Any] = {"residents": 1 + await ResidentRoll(sessions).count(state.number)}
    if state.kind == TicketKind.IDEA:
        group = await topic_group(request, state.category, state.description, state.number)
        if group.similar:
            found["topic_sides"] = _sides(language_of(request), state, group)
            found["topic_words"] = ", ".join(group.words)
    return found


def done_text(request: web.Request) -> str | None:
    done = request.query.get("done")
    lang = language_of(request)
    if done not in {s.value for s in UnitStatus}:
        return None
    return translate(lang, "unitpage.done", step=translate(lang, f"unit.status.{done}"))


async def take_unit_step(request: web.Request, grant: UnitGrant, form: UnitForm) -> web.Response:
    """The unit's step from the page's form (the form's own token checked by the caller)."""
    service: MatterService = request.app[matters_key]
    posted = await request.post()
    lang = language_of(request)
    try:
        action = UnitAction(str(posted.get("action", "")))
    except ValueError:
        return refused_page(request, "form", 400)
    try:
        state = await service.unit_act(
            grant, action, str(posted.get("text", "")), str(posted.get("target", ""))
        )
    except MatterNotFound:
        return refused_page(request, "not_found", 404)
    except (MoveRefused, UnitActionRefused) as refused:
        current = await service.for_unit(grant)
        mine = next(u for u in current.units if u.code == grant.unit)
        if isinstance(refused, MoveRefused):
            state_text = translate(lang, f"unit.status.{mine.status}")
            message = translate(lang, "unitpage.refused.move", state=state_text)
        else:
            message = translate(lang, f"unitpage.refused.{refused.reason}")
        return await unit_matter_page(request, grant, current, form, status=409, error=message)
    mine = next(u for u in state.units if u.code == grant.unit)
    log.info("unit %s: matter %s now %s", grant.unit, grant.matter, mine.status)
    raise web.HTTPSeeOther(f"{request.path}?done={mine.status}")


async def unit_page(request: web.Request) -> web.Response:
    grant = _grant(request)
    if isinstance(grant, web.Response):
        return grant
    try:
        state = await request.app[matters_key].for_unit(grant)
    except MatterNotFound:
        return refused_page(request, "not_found", 404)
    return await unit_matter_page(
        request, grant, state, link_form(request), done=done_text(request)
    )


async def unit_step(request: web.Request) -> web.Response:
    grant = _grant(request)
    if isinstance(grant, web.Response):
        return grant
    service: MatterService = request.app[matters_key]
    posted = await request.post()
    token = request.match_info["token"]
    if not service.signer.check_form_token(token, str(posted.get(FORM_TOKEN_FIELD, ""))):
        return refused_page(request, "form", 403)
    return await take_unit_step(request, grant, link_form(request))
