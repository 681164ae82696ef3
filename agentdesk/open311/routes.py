"""The Open311 GeoReport v2 endpoints under /open311/v2/ (thin: parse, call `ServiceRequests`,
answer in the asked format; every refusal in the spec's error list)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.keys import (
    matters_key,
    open311_key,
    services_key,
    tasks_key,
    tickets_key,
    units_key,
)
from agentdesk.open311.clients import ApiClient, ApiClients
from agentdesk.open311.formats import Open311Error, respond
from agentdesk.open311.requests import (
    CLIENT_ID_MAX,
    MEDIA_URL_MAX,
    RequestQuery,
    ServiceRequests,
    Submission,
)
from agentdesk.open311.service_types import (
    ServiceType,
    attributes,
    locale_of,
    service_type,
    service_types,
)
from agentdesk.security import PUBLIC, Access, add_route
from agentdesk.tickets.store import TicketView

log = logging.getLogger(__name__)

BASE = "/open311/v2"
FMT = "{format:json|xml}"
SERVICES = f"{BASE}/services.{FMT}"
SERVICE = f"{BASE}/services/{{service_code}}.{FMT}"
REQUESTS = f"{BASE}/requests.{FMT}"
REQUEST = f"{BASE}/requests/{{service_request_id}}.{FMT}"
TOKEN = f"{BASE}/tokens/{{token}}.{FMT}"
# the API key is the credential of a POST (no session, no CSRF token); same-origin still applies
API_KEY_POST = Access(None, own_form_token=True)
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,64})\](\[\])?$")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def register_open311_routes(app: web.Application) -> None:
    services = app[services_key]
    app[open311_key] = ServiceRequests(
        services.sessions,
        app[tickets_key],
        app[matters_key],
        app[units_key],
        services.settings.open311,
    )
    add_route(app, "GET", SERVICES, _answering(service_list), PUBLIC)
    add_route(app, "GET", SERVICE, _answering(service_definition), PUBLIC)
    add_route(app, "POST", REQUESTS, _answering(post_request), API_KEY_POST)
    add_route(app, "GET", REQUESTS, _answering(get_requests), PUBLIC)
    add_route(app, "GET", REQUEST, _answering(get_request), PUBLIC)
    add_route(app, "GET", TOKEN, _answering(get_token), PUBLIC)


def _answering(handler: Handler) -> Handler:
    """Refusals as the spec's error list, in the format the path asked for."""

    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Open311Error as refused:
            return refused.response(request.match_info["format"])

    answer.__doc__ = handler.__doc__
    answer.__name__ = handler.__name__
    return answer


def _fmt(request: web.Request) -> str:
    return request.match_info["format"]


def _locale(params: Mapping[str, Any]) -> str:
    return locale_of(str(params.get("locale", "")) or None)


def _check_jurisdiction(request: web.Request, params: Mapping[str, Any]) -> None:
    sent = str(params.get("jurisdiction_id", "")).strip()
    ours = request.app[services_key].settings.open311.jurisdiction_id
    if sent and sent != ours:
        raise Open311Error(
            404, translate(_locale(params), "open311.error.jurisdiction", jurisdiction=sent)
        )


async def _client(request: web.Request, params: Mapping[str, Any]) -> ApiClient:
    key = str(params.get("api_key", "")).strip()
    client = await ApiClients(request.app[services_key].sessions).by_key(key)
    if client is None:
        raise Open311Error(
            403,
            translate(
                _locale(params),
                "open311.error.api_key_missing" if not key else "open311.error.api_key",
            ),
        )
    return client


def _service(request: web.Request, code: str, locale: str) -> ServiceType:
    if not code:
        raise Open311Error(400, translate(locale, "open311.error.service_missing"))
    found = service_type(request.app[units_key], code, locale)
    if found is None:
        raise Open311Error(404, translate(locale, "open311.error.service_unknown", code=code))
    return found


def _service_json(service: ServiceType) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description,
        "metadata": service.metadata,
        "type": service.type,
        "keywords": ", ".join(service.keywords),
        "group": service.group,
    }


async def service_list(request: web.Request) -> web.Response:
    """GET Service List: one service per ticket category."""
    _check_jurisdiction(request, request.query)
    locale = _locale(request.query)
    found = service_types(request.app[units_key], locale)
    return respond(_fmt(request), "services", [_service_json(s) for s in found])


async def service_definition(request: web.Request) -> web.Response:
    """GET Service Definition: the attributes of one service."""
    _check_jurisdiction(request, request.query)
    locale = _locale(request.query)
    service = _service(request, request.match_info["service_code"], locale)
    body = {
        "service_code": service.code,
        "attributes": [
            {
                "variable": a.variable,
                "code": a.code,
                "datatype": a.datatype,
                "required": a.required,
                "datatype_description": a.datatype_description or None,
                "order": a.order,
                "description": a.description,
                "values": [{"key": v.key, "name": v.name} for v in a.values],
            }
            for a in attributes(service, locale)
        ],
    }
    return respond(_fmt(request), "service_definition", body)


def _attributes(form: Mapping[str, Any], service: ServiceType, locale: str) -> dict[str, str]:
    known = {a.code: a for a in attributes(service, locale)}
    found: dict[str, str] = {}
    for name, value in form.items():
        match = _ATTRIBUTE.match(name)
        if match is None:
            continue
        code = match.group(1)
        attribute = known.get(code)
        if attribute is None:
            raise Open311Error(400, translate(locale, "open311.error.attribute_unknown", code=code))
        text = str(value).strip()
        if attribute.values and text not in {v.key for v in attribute.values}:
            raise Open311Error(
                400, translate(locale, "open311.error.attribute_value", code=code, value=text)
            )
        found[code] = text
    return found


def _bounded(form: Mapping[str, Any], name: str, limit: int, locale: str) -> str:
    value = str(form.get(name, "")).strip()
    if len(value) > limit:
        raise Open311Error(400, translate(locale, "open311.error.too_long", field=name, n=limit))
    return value


async def post_request(request: web.Request) -> web.Response:
    """POST Service Request: a new matter, forwarded to its units like the desk's."""
    form = await request.post()
    locale = _locale(form)
    _check_jurisdiction(request, form)
    client = await _client(request, form)
    service = _service(request, str(form.get("service_code", "")).strip(), locale)
    media_url = _bounded(form, "media_url", MEDIA_URL_MAX, locale)
    if media_url and not media_url.startswith(("https://", "http://")):
        raise Open311Error(400, translate(locale, "open311.error.media_url"))
    sent = Submission(
        service_code=service.code,
        description=str(form.get("description", "")),
        lat=str(form.get("lat", "")),
        long=str(form.get("long", "")),
        address_string=str(form.get("address_string", "")),
        email=str(form.get("email", "")),
        first_name=str(form.get("first_name", "")),
        last_name=str(form.get("last_name", "")),
        phone=str(form.get("phone", "")),
        media_url=media_url,
        attributes=_attributes(form, service, locale),
        client_request_id=_bounded(form, "client_request_id", CLIENT_ID_MAX, locale),
        locale=locale,
    )
    now = request.app[services_key].clock.now()
    accepted = await request.app[open311_key].submit(client, service, sent, now)
    if accepted.ticket is not None:  # a new matter, not a resend
        await _offer_to_agents(request, accepted.ticket, client.source, now)
    body = [
        {
            "service_request_id": accepted.number,
            "service_notice": accepted.notice,
            "account_id": None,
        }
    ]
    return respond(_fmt(request), "service_requests", body, 200 if accepted.resent else 201)


async def _offer_to_agents(
    request: web.Request, ticket: TicketView, source: str, now: datetime
) -> None:
    """Non-voice work: the new matter waits for an agent with its category's skill, offered like
    a call (docs/routing.md). A failure here leaves the matter saved (and on /matters) and the
    portal still gets its id: the request is not refused for the queue's sake."""
    tasks = request.app.get(tasks_key)
    if tasks is None:
        return
    try:
        await tasks.offer_matter(ticket, source, now)
    except Exception:
        log.exception("Open311 request %s saved but not queued for the agents", ticket.number)


def _moment(request: web.Request, name: str, locale: str) -> datetime | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise Open311Error(
            400, translate(locale, "open311.error.date", field=name, value=raw)
        ) from None
    tz = request.app[services_key].settings.tz
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _list(request: web.Request, name: str) -> tuple[str, ...]:
    raw = request.query.get(name, "")
    return tuple(p.strip() for p in raw.split(",") if p.strip())


async def get_requests(request: web.Request) -> web.Response:
    """GET Service Requests: the matters that came through Open311, by the spec's filters."""
    params = request.query
    _check_jurisdiction(request, params)
    locale = _locale(params)
    await _client(request, params)
    statuses = tuple(s.lower() for s in _list(request, "status"))
    if not set(statuses) <= {"open", "closed"}:
        raise Open311Error(400, translate(locale, "open311.error.status", value=",".join(statuses)))
    query = RequestQuery(
        ids=tuple(i.upper() for i in _list(request, "service_request_id")),
        service_codes=_list(request, "service_code"),
        start=_moment(request, "start_date", locale),
        end=_moment(request, "end_date", locale),
        statuses=statuses,
    )
    now = request.app[services_key].clock.now()
    found = await request.app[open311_key].search(query, locale, now)
    return respond(_fmt(request), "service_requests", [v.as_dict() for v in found])


async def _one(request: web.Request, number: str) -> dict[str, Any]:
    """The Open311 request `number`, for a client with a valid key; 404 when there is none."""
    params = request.query
    _check_jurisdiction(request, params)
    locale = _locale(params)
    await _client(request, params)
    found = await request.app[open311_key].find(number, locale)
    if found is None:
        raise Open311Error(404, translate(locale, "open311.error.request_unknown", number=number))
    return found.as_dict()


async def get_request(request: web.Request) -> web.Response:
    """GET Service Request: one matter that came through Open311."""
    found = await _one(request, request.match_info["service_request_id"])
    return respond(_fmt(request), "service_requests", [found])


async def get_token(request: web.Request) -> web.Response:
    """GET request id from a token: ids are returned at once (type realtime), so a token is the
    request's id itself."""
    token = request.match_info["token"]
    found = await _one(request, token)
    body = [{"service_request_id": found["service_request_id"], "token": token}]
    return respond(_fmt(request), "service_requests", body)
