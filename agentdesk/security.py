"""Who may open what: session loading, role checks on every route (default deny), CSRF.

The one security path of the web application: every route is registered with `add_route` and
its `Access`; `security_middleware` loads the desk session, asks who is signed in (the session,
or the resolver under `principal_resolver_key` where another sign-in is plugged in), checks the
role and CSRF. The desk, the wall board, the reports and the live sockets all go through it.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from aiohttp import web

from agentdesk.keys import (
    access_key,
    accounts_key,
    principal_request_key,
    principal_resolver_key,
    session_request_key,
    sessions_key,
)
from agentdesk.refusals import refusal, wants_json
from agentdesk.request_body import body_reading_middleware
from agentdesk.sessions import COOKIE_NAME, DeskSession
from kck.db.models import Role

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOGIN_CSRF_COOKIE = "kck_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

DESK_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})
STAFF_ROLES = frozenset({Role.SUPERVISOR, Role.EDITOR, Role.ADMIN})
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})  # the wall board and the reports


@dataclass(frozen=True)
class Principal:
    """The signed-in person making a request (`role`: a `Role` value)."""

    username: str
    role: str
    csrf_token: str | None = None


PrincipalResolver = Callable[[web.Request], Awaitable[Principal | None]]


@dataclass(frozen=True)
class Access:
    """Who may call a route: `roles` None = anyone (login page, health, static files)."""

    roles: frozenset[Role] | None
    login_form: bool = False  # CSRF by double-submit cookie (no session exists yet)
    # the handler checks the form's own token (the unit page: the link is the credential and the
    # form carries a token derived from it); the same-origin check still applies
    own_form_token: bool = False


PUBLIC = Access(None)


def install_security(app: web.Application) -> None:
    """Guard every route of `app` (once): the middleware refuses a route without an access rule."""
    if access_key not in app:
        app[access_key] = {}
        # the body is read (and refused when malformed) before anyone looks at it
        app.middlewares.extend([body_reading_middleware, security_middleware])


def add_route(
    app: web.Application,
    method: str,
    path: str,
    handler: Handler,
    access: Access,
    name: str | None = None,
) -> None:
    """Register a route together with its access rule; a route without one is refused.

    The first route guards the application if its factory did not (`install_security`)."""
    install_security(app)
    route = app.router.add_route(method, path, handler, name=name)
    app[access_key][(method, route.resource.canonical)] = access  # type: ignore[union-attr]
    if method == "GET":
        app[access_key][("HEAD", route.resource.canonical)] = access  # type: ignore[union-attr]


def principal_of(request: web.Request) -> Principal | None:
    """Who is signed in on this request, as the middleware found them."""
    return request.get(principal_request_key)


def current_principal(request: web.Request) -> Principal:
    principal = principal_of(request)
    if principal is None:  # the middleware lets no protected handler run without one
        raise web.HTTPUnauthorized()
    return principal


def current_session(request: web.Request) -> DeskSession:
    session: DeskSession | None = request.get(session_request_key)
    if session is None:  # the middleware lets no protected handler run without one
        raise web.HTTPUnauthorized()
    return session


def same_origin(request: web.Request) -> bool:
    """Browsers send Origin on cross-site posts and WebSocket handshakes; it must be us."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def _still_active(request: web.Request, session: DeskSession) -> bool:
    return await request.app[accounts_key].is_active(session.user_id)


async def _load_session(request: web.Request, access: Access) -> DeskSession | None:
    """The desk session of the cookie (none where the application keeps no sessions)."""
    store = request.app.get(sessions_key)
    session_id = request.cookies.get(COOKIE_NAME, "")
    if store is None or not session_id:
        return None
    session = await store.get(session_id)
    if (
        session is not None
        and access.roles is not None
        and not await _still_active(request, session)
    ):
        # A disabled account loses its open sessions at its next click.
        await store.delete(session.id)
        return None
    return session


async def _resolve_principal(request: web.Request) -> Principal | None:
    # One resolver per application where another sign-in is plugged in, else the desk session.
    resolver = request.app.get(principal_resolver_key)
    if resolver is not None:
        return await resolver(request)
    session = request.get(session_request_key)
    if session is None:
        return None
    return Principal(session.username, session.role.value, session.csrf_token)


async def still_signed_in(request: web.Request) -> bool:
    """Whether whoever opened this request (a live socket) is still signed in now."""
    session = request.get(session_request_key)
    if session is not None and await request.app[sessions_key].get(session.id) is None:
        del request[session_request_key]  # signed out or expired since
    return await _resolve_principal(request) is not None


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


@web.middleware
async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    match = request.match_info
    if match.http_exception is not None:
        raise match.http_exception
    resource = match.route.resource
    canonical = resource.canonical if resource is not None else ""
    access = request.app[access_key].get((request.method, canonical))
    if access is None and canonical.startswith("/static"):
        access = PUBLIC
    if access is None:
        log.warning("route %s %s has no access rule: refused", request.method, canonical)
        return refusal(request, 403, "forbidden")

    session = await _load_session(request, access)
    if session is not None:
        request[session_request_key] = session
    principal = await _resolve_principal(request)
    if principal is not None:
        request[principal_request_key] = principal

    if access.roles is not None:
        if principal is None:
            if request.method == "GET" and not wants_json(request):
                raise web.HTTPFound(f"/login?next={quote(request.path_qs)}")
            return refusal(request, 401, "login.title")
        if principal.role not in {r.value for r in access.roles}:
            log.info(
                "%s (%s) refused %s %s",
                principal.username,
                principal.role,
                request.method,
                request.path,
            )
            return refusal(request, 403, "forbidden")

    if request.method in UNSAFE_METHODS:
        if not same_origin(request):
            return refusal(request, 403, "csrf")
        if access.own_form_token:
            return await handler(request)
        if access.login_form:
            form = await request.post()
            sent = str(form.get(CSRF_FIELD, ""))
            expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        else:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent and request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                sent = str((await request.post()).get(CSRF_FIELD, ""))
            expected = (principal.csrf_token or "") if principal is not None else ""
        if not expected or not sent or not hmac.compare_digest(sent, expected):
            return refusal(request, 403, "csrf")
    return await handler(request)
