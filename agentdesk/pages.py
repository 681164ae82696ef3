"""HTML pages: the template environment every screen shares, and rendering in the reader's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from agentdesk.i18n import catalogue
from agentdesk.keys import templates_key
from agentdesk.security import language_of

TEMPLATES = Path(__file__).parent / "templates"


def page_templates() -> jinja2.Environment:
    """The templates of `agentdesk/templates`, HTML-escaped."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, enable_async=False
    )


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    context.setdefault("lang", language_of(request))
    context.setdefault("strings", catalogue(context["lang"]))
    html = request.app[templates_key].get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html")
