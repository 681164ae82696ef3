"""Who may change which service cards: editors and administrators (an editor perhaps only some
units' cards, `kck users kb-units`); supervisors read; agents see nothing of the editor."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from agentdesk.keys import accounts_key
from agentdesk.security import current_principal
from kck.db.models import Role

WRITERS = frozenset({Role.EDITOR, Role.ADMIN})
READERS = WRITERS | {Role.SUPERVISOR}


@dataclass(frozen=True)
class EditorScope:
    """What the signed-in person may do with cards: `units` None = every unit."""

    username: str
    writes: bool
    units: frozenset[str] | None

    def may_edit(self, unit: str) -> bool:
        return self.writes and (self.units is None or unit in self.units)

    def sees_due(self, unit: str) -> bool:
        """Whether `unit`'s overdue cards are this person's work (all of them for readers)."""
        return self.units is None or unit in self.units


async def editor_scope(request: web.Request) -> EditorScope:
    principal = current_principal(request)
    writes = principal.role in {role.value for role in WRITERS}
    units = None
    if principal.role == Role.EDITOR.value:
        units = await request.app[accounts_key].kb_units(principal.username)
    return EditorScope(principal.username, writes, units)
