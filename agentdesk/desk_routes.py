"""The desk page and its small JSON API: state, wrap-up outcome, KB search, ticket save/lookup."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

from agentdesk.i18n import catalogue, code_in_words, refusal_text, translate
from agentdesk.keys import (
    backend_key,
    knowledge_key,
    matters_key,
    services_key,
    tasks_key,
    tickets_key,
    units_key,
)
from agentdesk.last_call import last_call_of
from agentdesk.pages import render
from agentdesk.ports import AGENT_PAUSE_REASONS, AgentState, StateRefused, TransferNotDone
from agentdesk.refusals import language_of
from agentdesk.request_body import json_object
from agentdesk.security import current_session
from agentdesk.tasks.wrap_up import callback_needed
from agentdesk.tickets.categories import TicketCategory, WrapUpOutcome
from agentdesk.tickets.form import TicketFormInvalid, parse_ticket_form
from agentdesk.tickets.kinds import TicketKind
from agentdesk.tickets.scope import TicketScope
from agentdesk.tickets.store import TicketView
from kck.db.models import AuditEntry, Call
from kck.services import Services

log = logging.getLogger(__name__)


def _services(request: web.Request) -> Services:
    return request.app[services_key]


async def desk_page(request: web.Request) -> web.StreamResponse:
    session = current_session(request)
    lang = language_of(request)
    units = request.app[units_key]
    return render(
        request,
        "desk.html",
        session=session,
        lang=lang,
        strings=catalogue(lang),
        categories=[c.value for c in TicketCategory],
        units=[(u.code, u.name(lang)) for u in units.units],
        pause_reasons=[r.value for r in AGENT_PAUSE_REASONS],
        outcomes=[o.value for o in WrapUpOutcome],
        tasks=tasks_key in request.app,
        boot=json.dumps(
            {
                "agent": session.username,
                "extension": session.extension,
                "csrf": session.csrf_token,
                "lang": lang,
                "strings": catalogue(lang),
                "unitsByCategory": {
                    c.value: [u.code for u in units.for_category(c.value)] for c in TicketCategory
                },
            },
            ensure_ascii=False,
        ).replace("<", "\\u003c"),  # nothing in the data can close the <script> element
    )


async def get_state(request: web.Request) -> web.Response:
    session = current_session(request)
    status = await request.app[backend_key].status(session.username)
    return web.json_response(status.as_json(_services(request).clock.now()))


async def set_state(request: web.Request) -> web.Response:
    session = current_session(request)
    body = await json_object(request)
    lang = language_of(request)
    try:
        state = AgentState(str(body.get("state")))
    except ValueError:
        return web.json_response(
            {"error": "state", "message": f"unknown state {body.get('state')!r}"}, status=422
        )
    reason = body.get("reason")
    if state == AgentState.PAUSED and reason not in {r.value for r in AGENT_PAUSE_REASONS}:
        return web.json_response(
            {"error": "reason", "message": f"unknown pause reason {reason!r}"}, status=422
        )
    try:
        status = await request.app[backend_key].set_state(
            session.username, state, str(reason) if reason else None
        )
    except StateRefused as refused:
        reason = refusal_text(lang, refused)
        return web.json_response(
            {
                "error": "refused",
                "message": translate(lang, "state.refused", reason=reason),
                "detail": str(refused),  # the router's words, for the tooltip
            },
            status=409,
        )
    return web.json_response(status.as_json(_services(request).clock.now()))


async def save_wrap_up(request: web.Request) -> web.Response:
    """The agent's outcome for their last call; optionally back to available at once."""
    session = current_session(request)
    body = await json_object(request)
    lang = language_of(request)
    services = _services(request)
    call_id = str(body.get("call_id") or "")
    last = await last_call_of(services, session.username)
    if not call_id or call_id != last:
        return web.json_response(
            {"error": "call_id", "message": f"call {call_id!r} is not your last call"}, status=409
        )
    try:
        outcome = WrapUpOutcome(str(body.get("outcome")))
    except ValueError:
        return web.json_response(
            {"errors": {"outcome": translate(lang, "outcome.unknown")}}, status=422
        )
    tickets = await request.app[tickets_key].for_call(call_id)
    callback = None
    if outcome == WrapUpOutcome.CALLBACK_NEEDED and tasks_key in request.app:
        callback = await callback_needed(request, call_id, body.get("callback"))
        if isinstance(callback, web.Response):
            return callback
    async with services.sessions.begin() as db:
        call = await db.get(Call, call_id)
        if outcome == WrapUpOutcome.TICKET_CREATED and call is not None and not tickets:
            return web.json_response(
                {"errors": {"outcome": translate(lang, "outcome.needs_ticket")}}, status=422
            )
        if call is not None:
            call.wrapup_outcome = outcome.value
        db.add(
            AuditEntry(
                actor=session.username,
                action="call.wrap_up",
                target=call_id,
                details={
                    "outcome": outcome.value,
                    "tickets": [t.number for t in tickets],
                    # the agent's notes of the call, kept with the outcome
                    "notes": str(body.get("notes") or "")[:4000],
                },
                address=request.remote,
            )
        )
    result: dict[str, Any] = {"outcome": outcome.value, "message": translate(lang, "outcome.saved")}
    if callback is not None:
        result["callback"] = callback
    if body.get("available"):
        backend = request.app[backend_key]
        current = await backend.status(session.username)
        if current.state in (AgentState.WRAP_UP, AgentState.PAUSED):
            try:
                result["state"] = (
                    await backend.set_state(session.username, AgentState.AVAILABLE)
                ).as_json(services.clock.now())
            except StateRefused as refused:
                result["state_error"] = str(refused)
    return web.json_response(result)


# what of the ticket form travels with a transferred call (docs/desk.md): the fields the agent
# types or picks, each a short text
_DRAFT_FIELDS = ("category", "location_text", "description", "caller_number", "units")
_NOTES_MAX = 4000


def _handover(body: dict[str, Any]) -> dict[str, Any]:
    """The agent's notes and ticket draft as the next desk will get them (text only, bounded)."""
    given = body.get("draft")
    draft: dict[str, Any] = given if isinstance(given, dict) else {}
    kept: dict[str, Any] = {}
    for name in _DRAFT_FIELDS:
        value = draft.get(name)
        if isinstance(value, list):
            kept[name] = [str(v)[:64] for v in value[:20]]
        elif value not in (None, ""):
            kept[name] = str(value)[:_NOTES_MAX]
    return {"notes": str(body.get("notes") or "")[:_NOTES_MAX], "draft": kept}


async def transfer_call(request: web.Request) -> web.Response:
    """The agent sends the caller they talk to elsewhere (`to`: a target of `transfer_targets`);
    the notes and the ticket draft go with the call to the next agent's pop."""
    return await _transfer_step(request, "transfer")


async def consult_call(request: web.Request) -> web.Response:
    """`step` start: the caller on hold, the agent talks to agent `to` (whose desk pops the call
    with the notes and draft); complete: `to` takes the caller; cancel: back to the caller."""
    return await _transfer_step(request, "consult")


async def _transfer_step(request: web.Request, how: str) -> web.Response:
    session = current_session(request)
    body = await json_object(request)
    lang = language_of(request)
    call_id, target = str(body.get("call_id") or ""), str(body.get("to") or "")
    step = str(body.get("step") or "start") if how == "consult" else "transfer"
    backend = request.app[backend_key]
    try:
        if how == "consult":
            await backend.consult(session.username, call_id, target, _handover(body), step)
        else:
            await backend.transfer(session.username, call_id, target, _handover(body))
    except TransferNotDone as refused:
        log.info("%s %s of %s by %s refused: %s", how, step, call_id, session.username, refused)
        state = translate(lang, f"state.{refused.state}") if refused.state else ""
        message = translate(lang, f"transfer.refused.{refused.reason}", state=state)
        return web.json_response({"error": refused.reason, "message": message}, status=409)
    async with _services(request).sessions.begin() as db:
        db.add(
            AuditEntry(
                actor=session.username,
                action=f"call.{how}",
                target=call_id,
                details={"to": target, "step": step},
                address=request.remote,
            )
        )
    done = {"transfer": "transfer.done", "complete": "transfer.done", "start": "consult.start"}
    message = translate(lang, done.get(step, "consult.cancelled"))
    return web.json_response({"message": message, "to": target, "step": step})


async def transfer_targets(request: web.Request) -> web.Response:
    session = current_session(request)
    options = await request.app[backend_key].transfer_options(
        session.username, language_of(request)
    )
    return web.json_response(
        {
            "targets": [
                {"target": o.target, "kind": o.kind, "label": o.label, "detail": o.detail}
                for o in options
            ]
        }
    )


def _kb_language(request: web.Request) -> str:
    """The caller's language when the page names it (`lang`), else the agent's."""
    asked = request.query.get("lang", "")
    return asked if asked.isalpha() and len(asked) <= 3 else language_of(request)


async def kb_card(request: web.Request) -> web.Response:
    """The whole KB card beside the call (the caller's language where it is translated)."""
    slug = request.match_info["slug"]
    card = await request.app[knowledge_key].card(slug, _kb_language(request))
    if card is None:
        lang = language_of(request)
        return web.json_response(
            {"error": "not_found", "message": translate(lang, "kb.card_not_found")}, status=404
        )
    return web.json_response(card)


async def kb_search(request: web.Request) -> web.Response:
    query = request.query.get("q", "").strip()[:200]
    if not query:
        return web.json_response({"hits": []})
    hits = await request.app[knowledge_key].search(query, _kb_language(request), 8)
    return web.json_response(
        {
            "hits": [
                {"slug": h.slug, "title": h.title, "snippet_html": h.snippet_html, "score": h.score}
                for h in hits
            ]
        }
    )


def _ticket_json(ticket: TicketView, lang: str, request: web.Request) -> dict[str, Any]:
    units = request.app[units_key]
    return {
        "number": ticket.number,
        "category": ticket.category,
        "category_text": translate(lang, f"category.{ticket.category}"),
        "kind": ticket.kind,
        "refer_to": ticket.refer_to,
        "complaint_about": ticket.complaint_about,
        "location_text": ticket.location_text,
        "latitude": ticket.latitude,
        "longitude": ticket.longitude,
        "description": ticket.description,
        "caller_number": ticket.caller_number,
        "contact_consent": ticket.contact_consent,
        "sms_consent": ticket.sms_consent,
        "units": [
            {
                "code": code,
                "name": (u.name(lang) if (u := units.get(code)) else code),
                "status": status,
                "status_text": code_in_words(lang, "unit.status", status),
            }
            for code, status in zip(ticket.units, ticket.unit_states, strict=False)
        ],
        "call_id": ticket.call_id,
        "created_at": ticket.created_at.isoformat(),
        "status": ticket.status,
        "status_text": code_in_words(lang, "matter.status", ticket.status),
        # the matter's page (its units' questions, the audit) where matters are wired
        "page": f"/matters/{ticket.number}" if matters_key in request.app else None,
    }


async def create_ticket(request: web.Request) -> web.Response:
    session = current_session(request)
    body = await json_object(request)
    lang = language_of(request)
    services = _services(request)
    try:
        form = parse_ticket_form(body, request.app[units_key])
    except TicketFormInvalid as invalid:
        return web.json_response(
            {"errors": invalid.messages(lang), "message": translate(lang, "ticket.fix")},
            status=422,
        )
    if form.call_id is not None and not await TicketScope(services).may_attach(
        session, form.call_id
    ):
        log.info(
            "%s may not attach a ticket to call %s: answered 404", session.username, form.call_id
        )
        return web.json_response(
            {
                "error": "not_found",
                "message": translate(lang, "ticket.call_not_found", call_id=form.call_id),
            },
            status=404,
        )
    ticket = await request.app[tickets_key].create(
        form, created_by=session.user_id, now=services.clock.now()
    )
    log.info("ticket %s saved by %s for call %s", ticket.number, session.username, ticket.call_id)
    ticket = await _forward(request, ticket, session.username)
    payload = _ticket_json(ticket, lang, request)
    payload["message"] = translate(lang, "ticket.saved", number=ticket.number)
    return web.json_response(payload, status=201)


async def _forward(request: web.Request, ticket: TicketView, username: str) -> TicketView:
    """Forward a saved ticket to its units (e-mails into the outbox), or answer at once a matter
    outside the city's competence; a failure leaves it saved and `new`, to be forwarded (or
    answered) again, and is logged."""
    matters = request.app.get(matters_key)
    outside = ticket.kind == TicketKind.OUTSIDE
    if matters is None or not (ticket.units or outside):
        return ticket
    try:
        if outside:
            await matters.answer_outside(ticket.number, f"agent:{username}")
        else:
            await matters.forward(ticket.number, f"agent:{username}")
    except Exception:
        log.exception("ticket %s saved but not forwarded to its units", ticket.number)
        return ticket
    return await request.app[tickets_key].get(ticket.number) or ticket


async def find_ticket(request: web.Request) -> web.Response:
    """The ticket if the reader's work needs it; any other answers as if it did not exist."""
    session = current_session(request)
    number = request.match_info["number"].strip().upper()
    lang = language_of(request)
    ticket = await request.app[tickets_key].get(number)
    if ticket is not None and not await TicketScope(_services(request)).may_read(session, ticket):
        log.info("%s may not read ticket %s: answered 404", session.username, number)
        ticket = None
    if ticket is None:
        return web.json_response(
            {"error": "not_found", "message": translate(lang, "ticket.not_found", number=number)},
            status=404,
        )
    return web.json_response(_ticket_json(ticket, lang, request))
