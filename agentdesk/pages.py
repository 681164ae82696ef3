"""HTML pages: the template environment every screen shares, and rendering in the reader's language
with the top navigation of the signed-in person's role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from agentdesk.i18n import catalogue, switch_to, translate
from agentdesk.keys import session_request_key, templates_key
from agentdesk.navigation import NavLink, links_for
from agentdesk.refusals import language_of
from agentdesk.security import principal_of
from kck.db.models import Role

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Viewer:
    """Who the page is for, as the top bar shows them (name, role, sign-out token)."""

    name: str
    role: str
    csrf_token: str
    extension: str | None


def page_templates() -> jinja2.Environment:
    """The templates of `agentdesk/templates`, HTML-escaped."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, enable_async=False
    )


def viewer_of(request: web.Request) -> Viewer | None:
    principal = principal_of(request)
    if principal is None:
        return None
    session = request.get(session_request_key)
    return Viewer(
        name=session.display_name if session is not None else principal.username,
        role=principal.role,
        csrf_token=principal.csrf_token or "",
        extension=session.extension if session is not None else None,
    )


def navigation(request: web.Request) -> list[NavLink]:
    """The top navigation of whoever is signed in on `request` (none for nobody)."""
    viewer = viewer_of(request)
    if viewer is None:
        return []
    takes_calls = viewer.role == Role.AGENT.value or bool(viewer.extension)
    return links_for(request.app, viewer.role, takes_calls=takes_calls)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    context.setdefault("lang", language_of(request))
    context.setdefault("strings", catalogue(context["lang"]))
    # the language switch: the other language, named in itself
    context.setdefault("switch_lang", switch_to(context["lang"]))
    context.setdefault("switch_label", translate(context["switch_lang"], "lang.self"))
    context.setdefault("viewer", viewer_of(request))
    context.setdefault("nav", navigation(request))
    context.setdefault("here", request.path)
    html = request.app[templates_key].get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html")
