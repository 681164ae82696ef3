"""The OpenAPI 3.1 description of every HTTP API kck serves: the desk's JSON API under /api/,
health and metrics, and Open311 under /open311/v2/. Served at /openapi.json; a test walks the
application's routes and fails on any JSON route not described here (and on any described route
the application does not have)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from agentdesk.security import PUBLIC, add_route

OPENAPI_PATH = "/openapi.json"
JSON = "application/json"


def obj(**properties: str) -> dict[str, Any]:
    """A JSON object whose properties are of the given types (`"string"`, `"boolean"`…)."""
    return {"type": "object", "properties": {k: {"type": v} for k, v in properties.items()}}


@dataclass(frozen=True)
class Operation:
    summary: str
    tag: str
    security: str | None  # session, monitoring, api_key, or None (anyone)
    body: dict[str, Any] | None = None  # a JSON request body's schema
    form: dict[str, Any] | None = None  # a form-encoded request body's schema
    query: tuple[tuple[str, str], ...] = ()  # (name, description)
    responses: dict[str, str] = field(default_factory=lambda: {"200": "done"})
    produces: tuple[str, ...] = (JSON,)


_SESSION_ERRORS = {"401": "not signed in", "403": "role not allowed, or CSRF token missing"}
_FMT = (("format", "json or xml (in the path)"),)
_OPEN311_ERRORS = {
    "400": "the spec's error list: a field missing or wrong",
    "403": "the spec's error list: api_key missing, unknown or revoked",
    "404": "the spec's error list: unknown service, request or jurisdiction_id",
}
_OPEN311_COMMON = (
    ("jurisdiction_id", "optional; when given, the installation's (open311.jurisdiction_id)"),
    ("locale", "pl (default), en or uk: the language of names, notes and errors"),
)
_OPEN311_READ = (*_OPEN311_COMMON, ("api_key", "the client's key (kck open311 keys add)"))
_XML_JSON = (JSON, "text/xml")

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation(
        "the controller's health: {status} for anyone, each part's detail for monitoring",
        "operations",
        None,
        responses={"200": "every part up", "503": "a part is down"},
    ),
    ("GET", "/metrics"): Operation(
        "Prometheus text of the router, AMI, IVR and the other parts",
        "operations",
        "monitoring",
        responses={"200": "metrics", "403": "no or wrong monitoring token"},
        produces=("text/plain",),
    ),
    ("GET", OPENAPI_PATH): Operation("this description", "operations", None),
    ("GET", "/api/desk/state"): Operation(
        "the agent's state, offer and last call", "desk", "session", responses=_SESSION_ERRORS
    ),
    ("POST", "/api/desk/state"): Operation(
        "set the agent's state (ready, not ready with a reason…)",
        "desk",
        "session",
        body=obj(state="string", reason="string"),
        responses={"200": "the new state", "409": "refused by the router", **_SESSION_ERRORS},
    ),
    ("POST", "/api/desk/wrap-up"): Operation(
        "save the call's wrap-up (outcome, notes) and become available",
        "desk",
        "session",
        body=obj(call_id="string", outcome="string", notes="string", available="boolean"),
        responses={"200": "saved", "422": "unknown outcome", **_SESSION_ERRORS},
    ),
    ("POST", "/api/desk/transfer"): Operation(
        "blind transfer of the current call to another agent or queue",
        "desk",
        "session",
        body=obj(call_id="string", to="string"),
        responses={"200": "transferred", "409": "refused", **_SESSION_ERRORS},
    ),
    ("POST", "/api/desk/consult"): Operation(
        "consultation transfer: start, complete or cancel",
        "desk",
        "session",
        body=obj(call_id="string", to="string", step="string"),
        responses={"200": "done", "409": "refused", **_SESSION_ERRORS},
    ),
    ("GET", "/api/desk/transfer/targets"): Operation(
        "agents and queues a call can be transferred to", "desk", "session"
    ),
    ("GET", "/api/kb/search"): Operation(
        "search the knowledge base as the agent types",
        "desk",
        "session",
        query=(("q", "the words typed"), ("lang", "the cards' language")),
    ),
    ("GET", "/api/kb/card/{slug}"): Operation(
        "one knowledge-base card",
        "desk",
        "session",
        responses={"200": "the card", "404": "no such card"},
    ),
    ("POST", "/api/desk/recording"): Operation(
        "pause or resume the recording of the agent's call",
        "recordings",
        "session",
        body=obj(call_id="string", paused="boolean"),
        responses={"200": "done", "400": "paused must be true or false", **_SESSION_ERRORS},
    ),
    ("POST", "/api/tickets"): Operation(
        "save a ticket (a matter) and forward it to its units",
        "matters",
        "session",
        body=obj(
            category="string",
            location_text="string",
            latitude="number",
            longitude="number",
            description="string",
            caller_number="string",
            caller_name="string",
            caller_email="string",
            contact_consent="boolean",
            sms_consent="boolean",
            kind="string",
            refer_to="string",
            complaint_about="string",
            call_id="string",
            language="string",
        ),
        responses={"201": "saved", "422": "a message per field at fault", **_SESSION_ERRORS},
    ),
    ("GET", "/api/desk/tasks"): Operation(
        "the agent's tasks: the matter without a call they hold, callbacks, voicemail",
        "tasks",
        "session",
        responses={"200": "{tasks: [...], outcomes: [{code, text}]}", **_SESSION_ERRORS},
    ),
    ("POST", "/api/desk/tasks/{id}/claim"): Operation(
        "take a voicemail task (one agent at a time)",
        "tasks",
        "session",
        responses={
            "200": "the task, now the agent's",
            "404": "no such task",
            "409": "another agent holds it, or it is closed",
            **_SESSION_ERRORS,
        },
    ),
    ("GET", "/api/desk/tasks/{id}/audio"): Operation(
        "the voicemail's audio, to the agent holding the task (each play audited)",
        "tasks",
        "session",
        responses={"200": "audio/wav", "404": "no such task or file", **_SESSION_ERRORS},
        produces=("audio/wav",),
    ),
    ("POST", "/api/desk/tasks/{id}/callback"): Operation(
        "a callback task for the voicemail's caller; the voicemail closes as called back",
        "tasks",
        "session",
        body=obj(**{"from": "string", "until": "string", "note": "string"}),
        responses={
            "201": "the callback task",
            "404": "no such voicemail",
            "409": "not claimed by this agent",
            "422": "an unreadable window",
            **_SESSION_ERRORS,
        },
    ),
    ("POST", "/api/desk/tasks/{id}/close"): Operation(
        "close a task with an outcome and a note",
        "tasks",
        "session",
        body=obj(outcome="string", note="string"),
        responses={
            "200": "the closed task",
            "404": "no such task",
            "409": "not this agent's",
            "422": "unknown outcome",
            **_SESSION_ERRORS,
        },
    ),
    ("POST", "/api/desk/matter/done"): Operation(
        "the matter without a call this agent held is done; the next may be offered",
        "tasks",
        "session",
        body=obj(id="string"),
        responses={"200": "done", "409": "not the matter this agent holds", **_SESSION_ERRORS},
    ),
    ("GET", "/api/desk/matter/pop"): Operation(
        "the screen-pop of the matter without a call this agent holds (history, cards, itself)",
        "tasks",
        "session",
        responses={"200": "the pop, with `matter`", "404": "no matter held", **_SESSION_ERRORS},
    ),
    ("POST", "/api/desk/matter/forward"): Operation(
        "add the chosen units to the held matter and forward it to them",
        "tasks",
        "session",
        body={
            "type": "object",
            "properties": {"id": {"type": "string"}, "units": {"type": "array"}},
        },
        responses={
            "200": "{number, units, message}",
            "404": "not the matter this agent holds",
            "409": "forwarded already, or forwarding is off",
            "422": "no unit, or an unknown unit",
            **_SESSION_ERRORS,
        },
    ),
    ("GET", "/api/desk/nearby-matters"): Operation(
        "open matters of the same category within 50 m or at the same address (duplicate hint)",
        "matters",
        "session",
        query=(
            ("category", "the report's category"),
            ("location_text", "the address as typed"),
            ("latitude", "optional, with longitude"),
            ("longitude", "optional, with latitude"),
        ),
        responses={"200": "{hint, matters: [...]}", **_SESSION_ERRORS},
    ),
    ("GET", "/api/desk/similar-ideas"): Operation(
        "ideas on the same topic as the one being written, with the count on each side",
        "matters",
        "session",
        query=(
            ("category", "the idea's category"),
            ("description", "the idea's text"),
            ("number", "optional: the matter itself, left out"),
        ),
        responses={"200": "{hint, similar: [...], sides}", **_SESSION_ERRORS},
    ),
    ("POST", "/api/tickets/{number}/residents"): Operation(
        "attach the caller to an open matter instead of writing a new one",
        "matters",
        "session",
        body=obj(
            caller_number="string",
            caller_name="string",
            caller_email="string",
            contact_consent="boolean",
            call_id="string",
            language="string",
        ),
        responses={
            "201": "attached",
            "200": "already attached",
            "404": "no such ticket",
            "409": "the matter is answered or closed",
            "422": "a message per field at fault",
            **_SESSION_ERRORS,
        },
    ),
    ("GET", "/api/tickets/{number}"): Operation(
        "a ticket with its matter's and units' state",
        "matters",
        "session",
        responses={"200": "the ticket", "404": "no such ticket (or not yours to read)"},
    ),
    **{
        ("POST", f"/api/tickets/{{number}}/{step}"): Operation(
            summary,
            "matters",
            "session",
            body=obj(reason="string") if step == "reopen" else None,
            responses={
                "200": "the matter's new state",
                "409": "refused by its state",
                "404": "no such ticket",
            },
        )
        for step, summary in (
            ("forward", "forward a matter whose forwarding failed"),
            ("close", "close a matter"),
            ("reopen", "reopen a matter with a reason"),
        )
    },
    ("GET", "/api/board"): Operation(
        "the wall board's numbers: queues, agents, service level", "board", "session"
    ),
    ("POST", "/api/board/agents/{agent}/state"): Operation(
        "a supervisor sets an agent's state",
        "board",
        "session",
        body=obj(state="string", reason="string"),
        responses={"200": "done", "409": "refused by the router", **_SESSION_ERRORS},
    ),
    ("POST", "/api/recordings/{id}/access"): Operation(
        "a signed, audited link to play or download a recording",
        "recordings",
        "session",
        body=obj(action="string", reason="string"),
        responses={"200": "the link", "403": "not allowed", "404": "no such recording"},
    ),
    ("POST", "/api/recordings/transcription/{call_id}/retry"): Operation(
        "queue a failed transcription again", "recordings", "session"
    ),
    ("GET", "/open311/v2/services.{format}"): Operation(
        "GeoReport v2 service list: one service per ticket category",
        "open311",
        None,
        query=(*_FMT, *_OPEN311_COMMON),
        responses={"200": "the services", "404": "unknown jurisdiction_id"},
        produces=_XML_JSON,
    ),
    ("GET", "/open311/v2/services/{service_code}.{format}"): Operation(
        "GeoReport v2 service definition: the attributes of a service",
        "open311",
        None,
        query=(*_FMT, *_OPEN311_COMMON),
        responses={"200": "the definition", **_OPEN311_ERRORS},
        produces=_XML_JSON,
    ),
    ("POST", "/open311/v2/requests.{format}"): Operation(
        "GeoReport v2: create a service request (a matter, forwarded like the desk's)",
        "open311",
        "api_key",
        form={
            "type": "object",
            "required": ["api_key", "service_code"],
            "properties": {
                name: {"type": "string"}
                for name in (
                    "api_key",
                    "jurisdiction_id",
                    "service_code",
                    "lat",
                    "long",
                    "address_string",
                    "description",
                    "email",
                    "first_name",
                    "last_name",
                    "phone",
                    "media_url",
                    "client_request_id",
                    "locale",
                    "attribute[kind]",
                    "attribute[location_detail]",
                )
            },
        },
        query=_FMT,
        responses={
            "201": "[{service_request_id, service_notice, account_id}]",
            "200": "the same request sent again: the first one's id",
            "409": "the same client_request_id is being saved right now",
            **_OPEN311_ERRORS,
        },
        produces=_XML_JSON,
    ),
    ("GET", "/open311/v2/requests.{format}"): Operation(
        "GeoReport v2: service requests that came through Open311",
        "open311",
        "api_key",
        query=(
            *_FMT,
            *_OPEN311_READ,
            ("service_request_id", "comma-separated ids"),
            ("service_code", "comma-separated service codes"),
            ("start_date", "ISO 8601; default: open311.default_days back"),
            ("end_date", "ISO 8601"),
            ("status", "open, closed or both (comma-separated)"),
        ),
        responses={"200": "the requests, newest first", **_OPEN311_ERRORS},
        produces=_XML_JSON,
    ),
    ("GET", "/open311/v2/requests/{service_request_id}.{format}"): Operation(
        "GeoReport v2: one service request",
        "open311",
        "api_key",
        query=(*_FMT, *_OPEN311_READ),
        responses={"200": "[the request]", **_OPEN311_ERRORS},
        produces=_XML_JSON,
    ),
    ("GET", "/open311/v2/tokens/{token}.{format}"): Operation(
        "GeoReport v2: request id from a token (ids are returned at once: the token is the id)",
        "open311",
        "api_key",
        query=(*_FMT, *_OPEN311_READ),
        responses={"200": "[{service_request_id, token}]", **_OPEN311_ERRORS},
        produces=_XML_JSON,
    ),
}

SECURITY_SCHEMES = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "kck_session",
        "description": "signed in at /login; a POST also sends the session's X-CSRF-Token header",
    },
    "monitoring": {
        "type": "http",
        "scheme": "bearer",
        "description": "http.monitoring_token (docs/deployment.md)",
    },
    "api_key": {
        "type": "apiKey",
        "in": "query",
        "name": "api_key",
        "description": "an Open311 client's key (kck open311 keys add); a POST sends it as a form field",
    },
}


def _parameters(path: str, op: Operation) -> list[dict[str, Any]]:
    found = []
    for piece in path.split("{")[1:]:
        name = piece.split("}")[0]
        found.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    in_path = {p["name"] for p in found}
    for name, description in op.query:
        if name not in in_path and not (op.form and name in op.form["properties"]):
            found.append(
                {
                    "name": name,
                    "in": "query",
                    "description": description,
                    "schema": {"type": "string"},
                }
            )
        elif name in in_path:
            next(p for p in found if p["name"] == name)["description"] = description
    return found


def _operation(method: str, path: str, op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": f"{method.lower()}_{path.strip('/').replace('/', '_')}",
        "parameters": _parameters(path, op),
        "responses": {
            code: {"description": text, "content": {kind: {} for kind in op.produces}}
            for code, text in op.responses.items()
        },
        "security": [{op.security: []}] if op.security else [],
    }
    for name, char in (("{", ""), ("}", ""), (".", "_")):
        out["operationId"] = out["operationId"].replace(name, char)
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {JSON: {"schema": op.body}}}
    if op.form is not None:
        form_type = "application/x-www-form-urlencoded"
        out["requestBody"] = {"required": True, "content": {form_type: {"schema": op.form}}}
    return out


def openapi_document(server_url: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in sorted(OPERATIONS.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        paths.setdefault(path, {})[method.lower()] = _operation(method, path, op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kck",
            "version": "1",
            "description": "The HTTP APIs of kck: the agent desk's JSON API (a signed-in "
            "session), health and metrics, and Open311 GeoReport v2 for the city portal and "
            "the app (docs/open311.md).",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES},
    }


def is_api_route(path: str) -> bool:
    """The routes this description must cover: every JSON (or plain-text) API of the app."""
    return path.startswith(("/api/", "/open311/")) or path in {"/health", "/metrics", OPENAPI_PATH}


def register_openapi_route(app: web.Application, server_url: str) -> None:
    document = openapi_document(server_url)

    async def openapi_json(_request: web.Request) -> web.Response:
        return web.json_response(document)

    add_route(app, "GET", OPENAPI_PATH, openapi_json, PUBLIC)
