"""Who may open the board and the reports: the desk's role check when mounted, else a local seam.

The desk (`agentdesk.security`) owns sign-in, sessions, roles and CSRF. When the application was
built by the desk's factory its middleware guards every route registered through its
`add_route`; we register there. Without it (the desk not mounted) routes are wrapped by
`require_role`, which asks the resolver stored under `principal_resolver_key` — none stored
means nobody is let in.
"""

from __future__ import annotations

import hmac
import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlsplit

from aiohttp import web

SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
CSRF_HEADER = "X-CSRF-Token"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Principal:
    """The signed-in person making a request."""

    username: str
    role: str
    csrf_token: str | None = None


PrincipalResolver = Callable[[web.Request], Awaitable[Principal | None]]
principal_resolver_key: web.AppKey[PrincipalResolver] = web.AppKey("board_principal_resolver")


def _desk_security(app: web.Application) -> ModuleType | None:
    try:
        security = importlib.import_module("agentdesk.security")
    except ImportError:
        return None
    return security if security.access_key in app else None


def add_guarded_route(
    app: web.Application,
    method: str,
    path: str,
    handler: Handler,
    roles: frozenset[str] = SUPERVISOR_ROLES,
) -> None:
    """Register a route only `roles` may use (via the desk's access rules when present)."""
    security = _desk_security(app)
    if security is not None:
        from kck.db.models import Role

        access = security.Access(frozenset(Role(r) for r in roles))
        security.add_route(app, method, path, handler, access)
        return
    app.router.add_route(method, path, require_role(roles)(handler))


async def principal_of(request: web.Request) -> Principal | None:
    security = _desk_security(request.app)
    desk_session: Any = request.get(security.session_request_key) if security is not None else None
    if desk_session is not None:
        return Principal(
            str(desk_session.username), str(desk_session.role), str(desk_session.csrf_token)
        )
    resolver = request.app.get(principal_resolver_key)
    return await resolver(request) if resolver is not None else None


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def require_role(roles: frozenset[str]) -> Callable[[Handler], Handler]:
    """The local seam: signed in (else 401 / to /login), right role (else 403), CSRF on writes."""

    def wrap(handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            principal = await principal_of(request)
            if principal is None:
                if request.method == "GET" and not _wants_json(request):
                    raise web.HTTPFound(f"/login?next={quote(request.path_qs)}")
                raise web.HTTPUnauthorized(text="sign in first / zaloguj się")
            if principal.role not in roles:
                raise web.HTTPForbidden(text=f"role {principal.role!r} may not open {request.path}")
            if request.method in {"POST", "PUT", "PATCH", "DELETE"}:
                origin = request.headers.get("Origin")
                if origin and urlsplit(origin).netloc != request.host:
                    raise web.HTTPForbidden(text="cross-site request refused (CSRF)")
                sent = request.headers.get(CSRF_HEADER, "")
                expected = principal.csrf_token or ""
                if not expected or not hmac.compare_digest(sent, expected):
                    raise web.HTTPForbidden(text=f"missing or wrong {CSRF_HEADER} (CSRF)")
            return await handler(request)

        return guarded

    return wrap
