"""The editor's home (`/editor`): the way to the service cards and the menus, the IVR's live
version, and the cards whose review date has come, by unit."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from agentdesk.editor.scope import editor_scope
from agentdesk.i18n import translate
from agentdesk.keys import editor_kb_key, health_key, services_key
from agentdesk.pages import render
from agentdesk.refusals import language_of
from kb import ReviewItem

CARDS = "/editor/cards"
MENUS = "/editor/menus"  # the IVR menus' screens (agentdesk.editor.menus…)


@dataclass(frozen=True)
class DueUnit:
    """One unit's cards past their review date, most overdue first."""

    unit: str
    items: tuple[ReviewItem, ...]


def due_by_unit(items: list[ReviewItem]) -> list[DueUnit]:
    units: dict[str, list[ReviewItem]] = {}
    for item in items:
        units.setdefault(item.unit, []).append(item)
    return [DueUnit(unit, tuple(units[unit])) for unit in sorted(units)]


async def editor_home(request: web.Request) -> web.Response:
    scope = await editor_scope(request)
    services = request.app[services_key]
    today = services.clock.now().astimezone(services.settings.tz).date()
    due = await request.app[editor_kb_key].review_due(today)
    parts = (await request.app[health_key]()).get("parts", {})
    ivr = parts.get("ivr")
    lang = language_of(request)
    return render(
        request,
        "editor/home.html",
        title=translate(lang, "editor.home.title"),
        intro=translate(lang, "editor.home.intro"),
        cards_path=CARDS,
        menus_path=MENUS,
        ivr=ivr if isinstance(ivr, dict) else None,
        due=due_by_unit([item for item in due if scope.sees_due(item.unit)]),
        scope=scope,
        today=today,
    )
