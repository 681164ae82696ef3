"""Unit accounts: an officer of a unit working by account (`works_by: account`) signs in, sees
the inbox of their units' matters and opens one — the same unit page and the same steps as the
signed link (`agentdesk.unit_routes`), with the session's CSRF token instead of the link's.
Another unit's matter answers 403."""

from __future__ import annotations

from datetime import date, datetime

from aiohttp import web

from agentdesk.i18n import translate
from agentdesk.keys import accounts_key, matters_key, services_key, units_key
from agentdesk.pages import render
from agentdesk.refusals import language_of, refusal
from agentdesk.security import CSRF_FIELD, Access, add_route, current_principal
from agentdesk.tickets.matters import UNIT_INBOX, MatterNotFound, MatterState
from agentdesk.tickets.unit_inbox import unit_inbox
from agentdesk.unit_routes import (
    UnitForm,
    done_text,
    refused_page,
    take_unit_step,
    unit_matter_page,
)
from kck.business_days import BusinessCalendar
from kck.db.models import Role
from matters.links import UnitGrant

UNIT_MATTER = UNIT_INBOX + "/{number}/{unit}"
ON_ACCOUNT = Access(frozenset({Role.UNIT}))
# an account's grant is its session: it lasts as long as that (the date is never shown)
SESSION_GRANT = datetime.max


def register_unit_inbox_routes(app: web.Application) -> None:
    add_route(app, "GET", UNIT_INBOX, inbox_page, ON_ACCOUNT)
    add_route(app, "GET", UNIT_MATTER, account_unit_page, ON_ACCOUNT)
    add_route(app, "POST", UNIT_MATTER, account_unit_step, ON_ACCOUNT)


async def _my_units(request: web.Request) -> frozenset[str]:
    return await request.app[accounts_key].unit_codes(current_principal(request).username)


async def inbox_page(request: web.Request) -> web.Response:
    services = request.app[services_key]
    lang = language_of(request)
    mine = await _my_units(request)
    units = request.app[units_key]
    calendar = BusinessCalendar(services.settings.tz)
    rows = await unit_inbox(
        services.sessions, mine, services.clock.now(), rules=units, calendar=calendar
    )
    tz = services.settings.tz

    def day(moment: datetime | date | None) -> str:
        if isinstance(moment, datetime):
            return moment.astimezone(tz).strftime("%Y-%m-%d")
        return moment.isoformat() if moment else ""

    names = [units.get(c).name(lang) if units.get(c) else c for c in sorted(mine)]  # type: ignore[union-attr]
    return render(
        request,
        "unit_inbox.html",
        title=translate(lang, "unitinbox.title"),
        units_text=", ".join(names),
        rows=rows,
        day=day,
    )


async def _grant_and_state(
    request: web.Request,
) -> tuple[UnitGrant, MatterState] | web.Response:
    number = request.match_info["number"].strip().upper()
    unit = request.match_info["unit"].strip().upper()
    if unit not in await _my_units(request):
        return refusal(request, 403, "forbidden")
    grant = UnitGrant(number, unit, SESSION_GRANT)
    try:
        return grant, await request.app[matters_key].for_unit(grant)
    except MatterNotFound:
        return refused_page(request, "not_found", 404)


def _form(request: web.Request) -> UnitForm:
    token = current_principal(request).csrf_token or ""
    return UnitForm(CSRF_FIELD, token, back=UNIT_INBOX)


async def account_unit_page(request: web.Request) -> web.Response:
    found = await _grant_and_state(request)
    if isinstance(found, web.Response):
        return found
    grant, state = found
    return await unit_matter_page(request, grant, state, _form(request), done=done_text(request))


async def account_unit_step(request: web.Request) -> web.Response:
    """CSRF is checked by the security middleware (the session's token in the form)."""
    found = await _grant_and_state(request)
    if isinstance(found, web.Response):
        return found
    return await take_unit_step(request, found[0], _form(request))
