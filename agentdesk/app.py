"""The aiohttp application factory: role homes, status page, health, sign-in and the agent desk."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from agentdesk import auth_routes, desk_routes, home_routes
from agentdesk.accounts import Accounts
from agentdesk.browser_policy import install_browser_policy
from agentdesk.desk_socket import desk_socket
from agentdesk.duplicate_routes import register_duplicate_routes
from agentdesk.editor import mount_editor
from agentdesk.extensions import ExtensionRegistry
from agentdesk.keys import (
    HealthSource,
    accounts_key,
    backend_key,
    extensions_key,
    health_key,
    knowledge_key,
    matters_key,
    pops_key,
    services_key,
    sessions_key,
    templates_key,
    throttle_key,
    tickets_key,
    units_key,
)
from agentdesk.login_throttle import LoginThrottle, ThrottleLimits
from agentdesk.matter_page_routes import register_matter_page_routes
from agentdesk.matter_routes import register_matter_routes
from agentdesk.monitoring import may_read_monitoring
from agentdesk.navigation import STATUS, SUPERVISOR_HOME
from agentdesk.open311.routes import register_open311_routes
from agentdesk.openapi import register_openapi_route
from agentdesk.pages import page_templates, render
from agentdesk.ports import DeskBackend, KnowledgePort
from agentdesk.reply_routes import register_reply_routes
from agentdesk.screenpop import ScreenPopBuilder
from agentdesk.security import (
    DESK_ROLES,
    PUBLIC,
    STAFF_ROLES,
    SUPERVISOR_ROLES,
    Access,
    add_route,
    install_security,
)
from agentdesk.sessions import SessionStore
from agentdesk.socket_session import install_sockets
from agentdesk.tickets.matters import MatterService
from agentdesk.tickets.store import TicketStore
from agentdesk.tickets.units import CityUnits, load_units
from agentdesk.unit_inbox_routes import register_unit_inbox_routes
from agentdesk.unit_routes import register_unit_routes
from kb import KnowledgeBase
from kck.db.models import Role
from kck.services import Services
from kck.texts import texts

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

TICKET_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})


@dataclass
class DeskParts:
    """What the desk is wired to: the router, the knowledge base, the city units (default: the
    units file of the installation)."""

    backend: DeskBackend
    knowledge: KnowledgePort
    units: CityUnits | None = None
    # forwarding to the units and their page (None: tickets stay `new`, as in desk-only tests)
    matters: MatterService | None = None
    # Parts with async start()/stop() that live as long as the application.
    lifecycle: list[Any] = field(default_factory=list)


def units_file(services: Services) -> Path:
    """The installation's units.yaml (`kck serve` refuses to start without it)."""
    return services.settings.config_dir / "units.yaml"


def create_app(
    services: Services, health: HealthSource, desk: DeskParts | None = None
) -> web.Application:
    """Build the web application around already-started services.

    Sign-in, roles, CSRF, the status page and health are always there; the desk (pages, socket,
    state, tickets, KB search) is mounted when its parts are given. Other screens add their
    routes with `agentdesk.security.add_route` and its access rule.
    """
    prefix = services.settings.redis.key_prefix
    app = web.Application()
    install_security(app)
    install_browser_policy(app)
    app[services_key] = services
    app[health_key] = health
    texts()  # the catalogues are read and checked now: a broken one stops the start, not a page
    app[templates_key] = page_templates()
    app[sessions_key] = SessionStore(services.redis, prefix)
    app[accounts_key] = Accounts(services.sessions)
    http = services.settings.http
    app[throttle_key] = LoginThrottle(
        services.redis,
        prefix,
        ThrottleLimits(
            http.login_failures_per_account, http.login_failures_per_address, http.login_lockout_s
        ),
    )
    app[extensions_key] = ExtensionRegistry(services.redis, prefix)
    install_sockets(app)

    add_route(app, "GET", "/", home_routes.home_redirect, Access(frozenset(Role)))
    add_route(app, "GET", STATUS, status_page, Access(STAFF_ROLES))
    add_route(app, "GET", SUPERVISOR_HOME, home_routes.supervisor_home, Access(SUPERVISOR_ROLES))
    mount_editor(app, KnowledgeBase(services.engine, memory_index=True))
    add_route(app, "GET", "/health", health_json, PUBLIC)
    register_openapi_route(app, services.settings.mail.public_url)
    add_route(app, "GET", "/login", auth_routes.login_page, PUBLIC)
    add_route(app, "POST", "/login", auth_routes.login_submit, Access(None, login_form=True))
    add_route(app, "POST", "/logout", auth_routes.logout, Access(frozenset(Role)))
    if desk is not None:
        mount_desk(app, services, desk)
    app.router.add_static("/static", STATIC)
    return app


def mount_desk(app: web.Application, services: Services, desk: DeskParts) -> None:
    """The agent desk: page, screen-pop socket, state and wrap-up API, tickets, KB search."""
    units = desk.units or load_units(units_file(services))
    app[backend_key] = desk.backend
    app[knowledge_key] = desk.knowledge
    app[units_key] = units
    app[tickets_key] = TicketStore(services.sessions, services.settings.tz)
    app[pops_key] = ScreenPopBuilder(
        services.sessions,
        app[tickets_key],
        desk.knowledge,
        units,
        services.settings.tz,
        queue_names=desk.backend,
    )

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        for part in desk.lifecycle:
            await part.start()
        yield
        for part in reversed(desk.lifecycle):
            await part.stop()

    app.cleanup_ctx.append(lifecycle)
    on_desk = Access(DESK_ROLES)
    add_route(app, "GET", "/desk", desk_routes.desk_page, on_desk)
    add_route(app, "GET", "/desk/ws", desk_socket, on_desk)
    add_route(app, "GET", "/api/desk/state", desk_routes.get_state, on_desk)
    add_route(app, "POST", "/api/desk/state", desk_routes.set_state, on_desk)
    add_route(app, "POST", "/api/desk/wrap-up", desk_routes.save_wrap_up, on_desk)
    add_route(app, "POST", "/api/desk/transfer", desk_routes.transfer_call, on_desk)
    add_route(app, "POST", "/api/desk/consult", desk_routes.consult_call, on_desk)
    add_route(app, "GET", "/api/desk/transfer/targets", desk_routes.transfer_targets, on_desk)
    add_route(app, "GET", "/api/kb/search", desk_routes.kb_search, on_desk)
    add_route(app, "GET", "/api/kb/card/{slug}", desk_routes.kb_card, on_desk)
    if desk.matters is not None:
        app[matters_key] = desk.matters
        register_unit_routes(app)
        register_matter_routes(app)
        register_unit_inbox_routes(app)
        register_reply_routes(app)
        register_matter_page_routes(app)
        register_open311_routes(app)  # its matters live the same life
    register_duplicate_routes(app)
    add_route(app, "POST", "/api/tickets", desk_routes.create_ticket, Access(TICKET_ROLES))
    add_route(app, "GET", "/api/tickets/{number}", desk_routes.find_ticket, Access(TICKET_ROLES))


async def status_page(request: web.Request) -> web.Response:
    health = await request.app[health_key]()
    return render(
        request,
        "status.html",
        health=health,
        centre=request.app[services_key].settings.centre,
    )


async def health_json(request: web.Request) -> web.Response:
    """200 when every part is up, 503 otherwise; the parts' detail only for monitoring."""
    health = await request.app[health_key]()
    ok = all(part.get("up", False) for part in health["parts"].values())
    body = health if may_read_monitoring(request) else {"status": "up" if ok else "down"}
    return web.json_response(body, status=200 if ok else 503)
