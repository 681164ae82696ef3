"""The screen-pop of a non-voice matter an agent holds: built by the call's pop builder (the
resident's history, the knowledge base's cards for the matter's category and words) with the
matter itself in place of the empty form (docs/desk.md "Tasks for agents")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agentdesk.i18n import code_in_words, translate
from agentdesk.ports import Offer
from agentdesk.screenpop import ScreenPopBuilder
from agentdesk.tickets.store import HISTORY_WINDOW, TicketStore, TicketView
from queues.model import OfferKind
from queues.nonvoice import NonVoiceItem

MATTER = "matter"


def matter_offer(item: NonVoiceItem, ticket: TicketView) -> Offer:
    """The matter in the shape the pop builder reads: its resident's phone as the caller, its
    category and description for the cards."""
    return Offer(
        offer_id=f"{MATTER}:{item.item_id}",
        call_id=f"{MATTER}:{ticket.number}",
        agent="",
        extension="",
        dial="",
        ring_timeout_s=0,
        offered_at=item.queued_at,
        kind=OfferKind.INBOUND,
        request={
            "caller": ticket.caller_number,
            "ticket_category": ticket.category,
            "transcript": ticket.description,
            "language": "pl",
        },
    )


async def _history(
    pops: ScreenPopBuilder, tickets: TicketStore, ticket: TicketView, since: datetime, lang: str
) -> list[dict[str, Any]]:
    """The resident's other matters, by phone and by e-mail, newest first."""
    found: dict[str, TicketView] = {}
    if ticket.caller_number:
        found.update((t.number, t) for t in await tickets.for_caller(ticket.caller_number, since))
    if ticket.caller_email:
        found.update((t.number, t) for t in await tickets.for_email(ticket.caller_email, since))
    found.pop(ticket.number, None)
    others = sorted(found.values(), key=lambda t: t.created_at, reverse=True)
    return await pops.ticket_rows(others, lang)


async def build_matter_pop(
    pops: ScreenPopBuilder,
    tickets: TicketStore,
    item: NonVoiceItem,
    ticket: TicketView,
    lang: str,
    now: datetime,
) -> dict[str, Any]:
    pop = await pops.build(matter_offer(item, ticket), lang, now)
    pop["kind"] = MATTER
    pop["ivr_path"] = ""
    pop["recording"] = {"on": False, "text": ""}
    pop["transcript"] = ""
    pop["history"]["tickets"] = await _history(pops, tickets, ticket, now - HISTORY_WINDOW, lang)
    if ticket.caller_email and not ticket.caller_number:
        pop["caller"]["display"] = ticket.caller_email
        pop["caller"]["withheld"] = False
    states = list(ticket.unit_states) + [""] * (len(ticket.units) - len(ticket.unit_states))
    pop["form"] = {
        "call_id": "",
        "kind": ticket.kind,
        "category": ticket.category,
        "caller_number": pop["form"]["caller_number"],
        "caller_name": ticket.caller_name or "",
        "caller_email": ticket.caller_email or "",
        "location_text": ticket.location_text or "",
        "description": ticket.description,
        "units": list(ticket.units),
    }
    pop["matter"] = {
        "id": item.item_id,
        "number": ticket.number,
        "source": item.source,
        "category_text": translate(lang, f"category.{ticket.category}"),
        "description": ticket.description,
        "location": ticket.location_text or "",
        "status": ticket.status,
        "status_text": code_in_words(lang, "matter.status", ticket.status),
        "units": [
            {
                "code": code,
                "status": state,
                "status_text": code_in_words(lang, "unit.status", state) if state else "",
            }
            for code, state in zip(ticket.units, states, strict=True)
        ],
        "needs_units": not ticket.units,
    }
    return pop
