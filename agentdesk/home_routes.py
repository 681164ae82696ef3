"""Each role's home: `/` sends the signed-in person to theirs; the supervisor's page (the
editor's is `agentdesk.editor.home_routes`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.navigation import home_of
from agentdesk.pages import navigation, render, viewer_of
from agentdesk.refusals import language_of
from agentdesk.security import current_principal


@dataclass(frozen=True)
class Card:
    """A link on a home page with one line on what is behind it."""

    path: str
    label: str
    about: str


async def home_redirect(request: web.Request) -> web.StreamResponse:
    """`/`: the signed-in person's home (anyone else is sent to sign in first)."""
    raise web.HTTPFound(home_of(current_principal(request).role))


def _cards(request: web.Request) -> list[Card]:
    lang = language_of(request)
    viewer = viewer_of(request)
    extension = viewer.extension if viewer is not None else ""
    cards = []
    for link in navigation(request):
        if link.path == request.path:
            continue
        about = translate(lang, link.about, extension=extension)
        cards.append(Card(link.path, translate(lang, link.label), about))
    return cards


def _home_page(
    request: web.Request, title: str, intro: str, template: str, **extra: Any
) -> web.Response:
    lang = language_of(request)
    return render(
        request,
        template,
        title=translate(lang, title),
        intro=translate(lang, intro),
        cards=_cards(request),
        **extra,
    )


async def supervisor_home(request: web.Request) -> web.Response:
    role = current_principal(request).role
    return _home_page(request, f"home.{role}.title", "home.supervisor.intro", "home.html")


__all__ = ["home_redirect", "supervisor_home"]
