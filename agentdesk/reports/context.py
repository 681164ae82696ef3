"""What the board and report handlers need from the application: its services and templates.

The desk's factory (`agentdesk.app.create_app`) stores both; an application built without it
(the reports alone) gets them here, from the services it is given.
"""

from __future__ import annotations

from aiohttp import web

from agentdesk.keys import services_key, templates_key
from agentdesk.pages import page_templates
from kck.services import Services


def bind_context(app: web.Application, services: Services | None = None) -> Services:
    """The application's services (stored from `services` if it has none yet) and templates."""
    if services_key not in app:
        if services is None:
            raise ValueError("no services: give them, or build the application with create_app")
        app[services_key] = services
    if templates_key not in app:
        app[templates_key] = page_templates()
    return app[services_key]
