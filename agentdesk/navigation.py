"""Where each role starts after signing in, and the top navigation: only pages the role may open.

What a role may open is read from the routes' own access rules (`agentdesk.security.add_route`),
so a link appears only where the page is mounted and the role passes its check.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from agentdesk.keys import access_key
from kck.db.models import Role

DESK = "/desk"
SUPERVISOR_HOME = "/supervisor"
EDITOR_HOME = "/editor"
STATUS = "/status"
UNIT_INBOX = "/unit/inbox"

HOMES: dict[Role, str] = {
    Role.AGENT: DESK,
    Role.SUPERVISOR: SUPERVISOR_HOME,
    Role.ADMIN: SUPERVISOR_HOME,
    Role.EDITOR: EDITOR_HOME,
    Role.UNIT: UNIT_INBOX,
}


@dataclass(frozen=True)
class NavLink:
    """One entry of the top navigation: its path and the catalogue key of its label."""

    path: str
    label: str

    @property
    def about(self) -> str:
        """The catalogue key of the one line a home page says about it."""
        return self.label + ".about"


LINKS = (
    NavLink(SUPERVISOR_HOME, "nav.supervisor_home"),
    NavLink(DESK, "nav.desk"),
    NavLink("/board", "nav.board"),
    NavLink("/board/wall", "nav.wall"),
    NavLink("/reports", "nav.reports"),
    NavLink(EDITOR_HOME, "nav.editor_home"),  # editors' home; supervisors read the cards there
    NavLink("/editor/menus", "nav.editor_menus"),
    NavLink("/matters", "nav.matters"),
    NavLink(STATUS, "nav.status"),
    NavLink(UNIT_INBOX, "nav.unit_inbox"),
)


def home_of(role: Role | str) -> str:
    """The page a role lands on after signing in."""
    return HOMES.get(Role(role), STATUS)


def links_for(app: web.Application, role: Role | str, *, takes_calls: bool) -> list[NavLink]:
    """The links `role` may open in `app`, in menu order.

    `takes_calls`: the person signed in with a phone extension; the desk is useless without one
    (a supervisor signs in with an extension only to take calls)."""
    rules = app.get(access_key, {})
    links = []
    for link in LINKS:
        rule = rules.get(("GET", link.path))
        if rule is None or rule.roles is None or Role(role) not in rule.roles:
            continue
        if link.path == DESK and not takes_calls:
            continue
        links.append(link)
    return links
