"""The aiohttp application factory: status page and health; the desk and board add their routes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from kck.services import Services

HealthSource = Callable[[], dict[str, Any]]

services_key = web.AppKey("services", Services)
health_key: web.AppKey[HealthSource] = web.AppKey("health")
templates_key = web.AppKey("templates", jinja2.Environment)

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def create_app(services: Services, health: HealthSource) -> web.Application:
    """Build the web application around already-started services."""
    app = web.Application()
    app[services_key] = services
    app[health_key] = health
    app[templates_key] = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, enable_async=False
    )
    app.router.add_get("/", status_page)
    app.router.add_get("/health", health_json)
    app.router.add_static("/static", STATIC)
    return app


async def status_page(request: web.Request) -> web.Response:
    health = request.app[health_key]()
    html = (
        request.app[templates_key]
        .get_template("status.html")
        .render(health=health, centre=request.app[services_key].settings.centre)
    )
    return web.Response(text=html, content_type="text/html")


async def health_json(request: web.Request) -> web.Response:
    health = request.app[health_key]()
    ok = all(part.get("up", False) for part in health["parts"].values())
    return web.json_response(health, status=200 if ok else 503)
