"""The editors' screens: their home and the service cards (the IVR menus' screens sit beside them,
under `/editor/menus`). Editors and administrators change cards, supervisors read them."""

from __future__ import annotations

from aiohttp import web

from agentdesk.editor import card_routes, home_routes
from agentdesk.editor.scope import READERS, WRITERS
from agentdesk.keys import editor_kb_key
from agentdesk.navigation import EDITOR_HOME
from agentdesk.security import Access, add_route
from kb import KnowledgeBase


def mount_editor(app: web.Application, kb: KnowledgeBase) -> None:
    """The editor's home and the card screens, on the same security path as the desk."""
    app[editor_kb_key] = kb
    read, write = Access(READERS), Access(WRITERS)
    card = "/editor/cards/{slug}"
    add_route(app, "GET", EDITOR_HOME, home_routes.editor_home, read)
    add_route(app, "GET", home_routes.CARDS, card_routes.card_list, read)
    add_route(app, "GET", card_routes.NEW_CARD, card_routes.new_card_page, write)
    add_route(app, "POST", card_routes.NEW_CARD, card_routes.new_card_submit, write)
    add_route(app, "GET", card, card_routes.card_page, read)
    add_route(app, "POST", card, card_routes.card_submit, write)
    add_route(app, "GET", card + "/card.md", card_routes.card_file, read)
    add_route(app, "GET", card + "/history", card_routes.card_history, read)
    add_route(app, "GET", card + "/revisions/{number}", card_routes.card_revision, read)
    add_route(app, "POST", card + "/revisions/{number}/restore", card_routes.card_restore, write)


__all__ = ["mount_editor"]
