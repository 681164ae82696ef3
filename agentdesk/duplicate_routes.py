"""The desk's hints while a ticket is written: open matters of the same category at the same
place (the agent may attach the caller to one instead of writing a new one), and the ideas on
the same topic as a new idea, with the count on each side. JSON for the desk's script."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from agentdesk.i18n import code_in_words, translate
from agentdesk.keys import services_key
from agentdesk.matter_routes import MATTER_ROLES
from agentdesk.refusals import language_of
from agentdesk.request_body import json_object
from agentdesk.security import Access, add_route, current_session
from agentdesk.tickets.form import FieldError, TicketFormInvalid, parse_contact
from agentdesk.tickets.idea_topics import Side, TopicGroup, group_of
from agentdesk.tickets.nearby import NearbyMatters, PlaceQuery
from agentdesk.tickets.residents import MatterClosedToResidents, ResidentRoll
from agentdesk.tickets.scope import TicketScope
from kb import load_polish_analyzer

log = logging.getLogger(__name__)

NEARBY = "/api/desk/nearby-matters"
SIMILAR_IDEAS = "/api/desk/similar-ideas"
ATTACH = "/api/tickets/{number}/residents"
SNIPPET = 160  # characters of a matter's description in a hint


def register_duplicate_routes(app: web.Application) -> None:
    add_route(app, "GET", NEARBY, nearby_matters, Access(MATTER_ROLES))
    add_route(app, "GET", SIMILAR_IDEAS, similar_ideas, Access(MATTER_ROLES))
    add_route(app, "POST", ATTACH, attach_resident, Access(MATTER_ROLES))


def _coordinate(raw: str | None) -> float | None:
    try:
        return float(raw.replace(",", ".")) if raw else None
    except ValueError:
        return None  # the form says what is wrong with it on saving


def _snippet(text: str) -> str:
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1].rstrip() + "…"


async def nearby_matters(request: web.Request) -> web.Response:
    lang = language_of(request)
    query = request.query
    place = PlaceQuery(
        category=query.get("category", ""),
        location_text=query.get("location_text") or None,
        latitude=_coordinate(query.get("latitude")),
        longitude=_coordinate(query.get("longitude")),
    )
    found = await NearbyMatters(request.app[services_key].sessions).near(place)
    tz = request.app[services_key].settings.tz
    return web.json_response(
        {
            "hint": translate(lang, "duplicate.hint", n=len(found)) if found else "",
            "matters": [
                {
                    "number": m.number,
                    "category_text": code_in_words(lang, "category", m.category),
                    "status": m.status,
                    "status_text": code_in_words(lang, "matter.status", m.status),
                    "location_text": m.location_text,
                    "description": _snippet(m.description),
                    "distance_m": None if m.distance_m is None else round(m.distance_m),
                    "same_address": m.same_address,
                    "residents": m.residents,
                    "created_at": m.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                    "why": (
                        translate(lang, "duplicate.why_distance", m=round(m.distance_m))
                        if m.distance_m is not None
                        else translate(lang, "duplicate.why_address")
                    ),
                }
                for m in found
            ],
        }
    )


def topic_json(group: TopicGroup, lang: str) -> dict[str, Any]:
    """A topic group for the desk's script (the unit page renders the same group itself)."""
    return {
        "side": group.side.value,
        "side_text": translate(lang, f"idea.side.{group.side.value}"),
        "words": list(group.words),
        "contested": group.contested,
        "counts": {side.value: group.counts[side] for side in Side},
        "counts_text": translate(
            lang,
            "idea.counts",
            more=group.counts[Side.FOR],
            less=group.counts[Side.AGAINST],
            neither=group.counts[Side.NEITHER],
        ),
        "similar": [
            {
                "number": s.idea.number,
                "text": _snippet(s.idea.text),
                "side": s.side.value,
                "side_text": translate(lang, f"idea.side.{s.side.value}"),
                "status_text": code_in_words(lang, "matter.status", s.idea.status),
                "shared": list(s.shared),
            }
            for s in group.similar
        ],
    }


async def topic_group(
    request: web.Request, category: str, text: str, leave_out: str | None
) -> TopicGroup:
    """`text`'s topic among the ideas of `category` stored so far (the analyzer is loaded off
    the loop the first time)."""
    analyzer = await load_polish_analyzer()
    ideas = await NearbyMatters(request.app[services_key].sessions).ideas(category, leave_out)
    return group_of(analyzer, category, text, ideas)


async def similar_ideas(request: web.Request) -> web.Response:
    lang = language_of(request)
    category = request.query.get("category", "")
    text = request.query.get("description", "").strip()
    if not category or not text:
        return web.json_response({"hint": "", "similar": []})
    group = await topic_group(request, category, text, request.query.get("number") or None)
    body = topic_json(group, lang)
    body["hint"] = (
        translate(lang, "idea.hint", n=len(group.similar), words=", ".join(group.words))
        if group.similar
        else ""
    )
    return web.json_response(body)


async def attach_resident(request: web.Request) -> web.Response:
    """The caller as another resident of an open matter (the agent chose it from the hint)."""
    session = current_session(request)
    lang = language_of(request)
    number = request.match_info["number"].strip().upper()
    body = await json_object(request)
    errors: list[FieldError] = []
    contact = parse_contact(body, errors)
    if not (contact.caller_number or contact.caller_email):
        errors.append(FieldError("caller_number", "required"))
    if errors:
        return web.json_response(
            {
                "errors": TicketFormInvalid(errors).messages(lang),
                "message": translate(lang, "ticket.fix"),
            },
            status=422,
        )
    services = request.app[services_key]
    call_id = str(body.get("call_id") or "").strip() or None
    if call_id is not None and not await TicketScope(services).may_attach(session, call_id):
        call_id = None  # the resident is attached, the call link is not the agent's to make
    actor = f"agent:{session.username}"
    try:
        attached = await ResidentRoll(services.sessions).attach(
            number, contact, call_id=call_id, actor=actor, now=services.clock.now()
        )
    except MatterClosedToResidents as closed:
        state = code_in_words(lang, "matter.status", closed.status)
        message = translate(lang, "duplicate.closed", number=number, state=state)
        return web.json_response({"error": "closed", "message": message}, status=409)
    if attached is None:
        return web.json_response(
            {"error": "not_found", "message": translate(lang, "ticket.not_found", number=number)},
            status=404,
        )
    log.info(
        "%s attached a resident to matter %s (%d now)",
        session.username,
        attached.number,
        attached.residents,
    )
    key = "duplicate.already" if attached.already else "duplicate.attached"
    return web.json_response(
        {
            "number": attached.number,
            "residents": attached.residents,
            "already": attached.already,
            "message": translate(lang, key, number=attached.number, n=attached.residents),
        },
        status=200 if attached.already else 201,
    )
