"""Which tickets a person may read, and which calls they may attach a ticket to: what their work
needs. Supervisors and administrators: every ticket and call. An agent: the tickets they wrote,
the tickets of calls they took, the tickets of the caller on their current (last popped)
call, and the matter without a call they hold (`queues.nonvoice`); they attach tickets to that call or to calls they took. Anything else is answered exactly
like a ticket or call that does not exist (404), so numbers cannot be probed."""

from __future__ import annotations

from sqlalchemy import select

from agentdesk.last_call import last_call_of
from agentdesk.sessions import DeskSession
from agentdesk.tickets.store import TicketView
from kck.db.models import Call, Role
from kck.services import Services
from queues.nonvoice import NonVoiceQueue

SEE_EVERY_TICKET = frozenset({Role.SUPERVISOR, Role.ADMIN})


class TicketScope:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def may_attach(self, session: DeskSession, call_id: str) -> bool:
        """Whether `session` may link a ticket to the call `call_id`."""
        if session.role in SEE_EVERY_TICKET:
            return True
        if call_id == await last_call_of(self.services, session.username):
            return True
        async with self.services.sessions() as db:
            taker = await db.scalar(select(Call.agent_id).where(Call.id == call_id))
        return taker is not None and taker == session.user_id

    async def may_read(self, session: DeskSession, ticket: TicketView) -> bool:
        if session.role in SEE_EVERY_TICKET or ticket.created_by == session.user_id:
            return True
        if ticket.call_id is not None and await self.may_attach(session, ticket.call_id):
            return True
        if ticket.call_id is None and await self._holds_matter(session.username, ticket.number):
            return True
        current = await last_call_of(self.services, session.username)
        if current is None or ticket.caller_number is None:
            return False
        async with self.services.sessions() as db:
            caller = await db.scalar(select(Call.caller_number).where(Call.id == current))
        return caller is not None and caller == ticket.caller_number

    async def _holds_matter(self, username: str, number: str) -> bool:
        # the router's prefix (queues.component: the bus's), where the non-voice queue lives
        matters = NonVoiceQueue(self.services.redis, self.services.clock, self.services.bus.prefix)
        held = await matters.held(username)
        return held is not None and held.ref == number
