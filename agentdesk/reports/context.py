"""What the board and report handlers need from the application, kept under their own keys.

Read once at registration, so these modules never import the application factory at import
time (the factory imports them to mount the routes).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from kck.services import Services

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

services_key = web.AppKey("board_services", Services)
templates_key = web.AppKey("board_templates", jinja2.Environment)


def bind_context(app: web.Application, services: Services | None = None) -> Services:
    """Remember the services (given, else the application's) and a template environment."""
    if services_key not in app:
        if services is None:
            from agentdesk.app import services_key as application_services

            services = app[application_services]
        app[services_key] = services
        app[templates_key] = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True
        )
    return app[services_key]
