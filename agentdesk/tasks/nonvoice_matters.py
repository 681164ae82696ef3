"""Matters that arrive without a call (a portal, the city's app, e-mail) join the non-voice queue
(`queues.nonvoice`): the ticket is saved as any other, then waits for an idle agent with the
skill of its category."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from agentdesk.tickets.form import TicketForm
from agentdesk.tickets.store import TicketStore, TicketView
from queues.nonvoice import NonVoiceItem, NonVoiceQueue

# a ticket category → the skill of the agents who take it (skills.yaml); others: `general`
CATEGORY_SKILLS = {
    "greenery": "greenery",
    "roads_pavements": "roads",
    "small_architecture": "roads",
    "waste": "waste",
    "transport": "transport",
}
FALLBACK_SKILL = "general"
PHONE = "phone"


class NotNonVoice(ValueError):
    """A matter that came by phone is the call's: it never waits in the non-voice queue."""


def skill_for(category: str, skills: Collection[str]) -> str:
    skill = CATEGORY_SKILLS.get(category, FALLBACK_SKILL)
    return skill if skill in skills else FALLBACK_SKILL


async def queue_matter(
    queue: NonVoiceQueue, ticket: TicketView, source: str, skills: Collection[str], now: datetime
) -> str | None:
    """Queue a saved ticket that came from `source`; returns the agent offered it at once."""
    if not source or source == PHONE:
        raise NotNonVoice(f"ticket {ticket.number}: source {source!r} is not a non-voice channel")
    item = NonVoiceItem(
        item_id=ticket.number,
        skill=skill_for(ticket.category, skills),
        ref=ticket.number,
        source=source,
        category=ticket.category,
        summary=ticket.description[:200],
        queued_at=now.isoformat(),
    )
    return await queue.add(item)


async def create_nonvoice_matter(
    tickets: TicketStore,
    queue: NonVoiceQueue,
    form: TicketForm,
    *,
    source: str,
    skills: Collection[str],
    now: datetime,
) -> TicketView:
    """Save the matter as a ticket (no call, no agent) and queue it for the agents."""
    if not source or source == PHONE:
        raise NotNonVoice(f"a matter from {source!r} is not non-voice work")
    ticket = await tickets.create(form, created_by=None, now=now)
    await queue_matter(queue, ticket, source, skills, now)
    return ticket
