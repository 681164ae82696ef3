"""The screen-pop: everything the agent sees about a call before the phone rings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.i18n import code_in_words, translate
from agentdesk.pop_history import CallHistory
from agentdesk.pop_tickets import TicketHistory
from agentdesk.ports import CardSuggestion, KnowledgePort, Offer, QueueNames
from agentdesk.tickets.categories import category_from_routing
from agentdesk.tickets.questions import open_questions
from agentdesk.tickets.store import HISTORY_WINDOW, TicketStore, TicketView
from agentdesk.tickets.units import CityUnits
from kck import phone

log = logging.getLogger(__name__)


def ivr_path_in_words(request: dict[str, Any]) -> str:
    """The contract's ready text, else the step labels joined the same way."""
    if text := request.get("ivr_path_text"):
        return str(text)
    labels = [
        str(step.get("label"))
        for step in request.get("ivr_path") or []
        if isinstance(step, dict) and step.get("label")
    ]
    return " → ".join(labels)


def recording_on_pop(request: dict[str, Any], language: str) -> dict[str, Any]:
    """Whether the agent is told the call is recorded: only when the caller heard the
    announcement and did not refuse (docs/recordings.md)."""
    recorded = request.get("recording_consent") is True
    return {
        "on": recorded,
        "text": translate(language, "pop.recorded" if recorded else "pop.not_recorded"),
    }


def _handover_view(handover: Any, language: str) -> dict[str, str] | None:
    """Who transferred the call and their notes, for the next agent's pop (None: not
    transferred)."""
    if not isinstance(handover, dict):
        return None
    agent = str(handover.get("from") or "")
    return {
        "from": agent,
        "from_text": translate(language, "transfer.from", agent=agent),
        "notes": str(handover.get("notes") or ""),
    }


@dataclass
class ScreenPopBuilder:
    sessions: async_sessionmaker[AsyncSession]
    tickets: TicketStore
    knowledge: KnowledgePort
    units: CityUnits
    tz: ZoneInfo
    queue_names: QueueNames

    def __post_init__(self) -> None:
        # one query for the callers of all the pops being built at the same moment
        self._history = CallHistory(self.sessions)
        self._ticket_history = TicketHistory(self.sessions)

    async def build(self, offer: Offer, language: str, now: datetime) -> dict[str, Any]:
        request = offer.request
        caller = request.get("caller") or None
        since = now - HISTORY_WINDOW
        # The three reads are independent: run them at once, the pop waits for the slowest
        # instead of their sum (bench/screen_pop.py: the KB suggestions alone were ~half of it).
        calls, tickets, suggestions = await asyncio.gather(
            self._calls(offer, caller, since, language),
            self._tickets(caller, since, language),
            self._suggestions(offer, language),
        )
        found = category_from_routing(request.get("ticket_category"))
        category = found.value if found else ""
        queue = str(request.get("queue") or "")
        form: dict[str, Any] = {
            "call_id": offer.call_id,
            "category": category,
            "caller_number": phone.display(caller, "") if caller else "",
            "units": [u.code for u in self.units.for_category(category)][:1],
        }
        handover = request.get("handover")
        if isinstance(handover, dict):
            # a transferred call: the previous agent's ticket draft fills the form
            draft = handover.get("draft")
            form.update(draft if isinstance(draft, dict) else {})
            form["call_id"] = offer.call_id
        caller_language = str(request.get("language") or "pl")
        return {
            "offer_id": offer.offer_id,
            "call_id": offer.call_id,
            "kind": offer.kind,
            "offered_at": offer.offered_at,
            "ring_timeout_s": offer.ring_timeout_s,
            "caller": {
                "e164": caller,
                "display": phone.display(caller, translate(language, "pop.withheld")),
                "withheld": caller is None,
            },
            "caller_language": caller_language,
            "caller_language_text": code_in_words(language, "language", caller_language),
            "queue": queue,  # the id (kept in data attributes); the page shows queue_name
            "queue_name": self.queue_names.queue_name(queue, language) if queue else "",
            "ivr_path": ivr_path_in_words(request),
            "recording": recording_on_pop(request, language),
            "transcript": request.get("transcript") or "",
            "history": {"calls": calls, "tickets": tickets},
            "suggestions": [
                {
                    "slug": s.slug,
                    "title": s.title,
                    "reason": s.reason,
                    "reason_code": s.reason_code,
                    "summary": s.summary,
                }
                for s in suggestions
            ],
            "form": form,
            "handover": _handover_view(handover, language),
        }

    async def _calls(
        self, offer: Offer, caller: str | None, since: datetime, language: str
    ) -> list[dict[str, Any]]:
        if not caller:
            return []
        return [
            {
                "at": call.arrived_at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M"),
                "outcome": call.outcome,
                "outcome_text": translate(language, f"call.{call.outcome}"),
                "wrapup": translate(language, f"outcome.{call.wrapup_outcome}")
                if call.wrapup_outcome
                else "",
                "queue": call.queue or "",
                "queue_name": self.queue_names.queue_name(call.queue, language)
                if call.queue
                else "",
            }
            for call in await self._history.recent(caller, since, offer.call_id)
        ]

    async def _tickets(
        self, caller: str | None, since: datetime, language: str
    ) -> list[dict[str, Any]]:
        if not caller:
            return []
        return await self.ticket_rows(
            await self._ticket_history.for_caller(caller, since), language
        )

    async def ticket_rows(self, tickets: list[TicketView], language: str) -> list[dict[str, Any]]:
        """The pop's history rows of `tickets` (a non-voice matter's pop shows them too)."""
        # a unit's open question: the agent asks the caller and records the answer on the
        # matter's page (/matters/<number>)
        asked = await open_questions(self.sessions, [t.number for t in tickets]) if tickets else []
        return [
            {
                "number": ticket.number,
                "category": translate(language, f"category.{ticket.category}"),
                "at": ticket.created_at.astimezone(self.tz).strftime("%Y-%m-%d"),
                "status": ticket.status,
                "status_text": " ".join(
                    [code_in_words(language, "matter.status", ticket.status)]
                    + [
                        translate(language, "pop.unit_asks", unit=q.unit, question=q.question)
                        for q in asked
                        if q.number == ticket.number
                    ]
                ),
                "location": ticket.location_text or "",
            }
            for ticket in tickets
        ]

    async def _suggestions(self, offer: Offer, language: str) -> list[CardSuggestion]:
        try:
            return list(await self.knowledge.suggest(offer.request, language))
        except Exception:  # the pop without cards is better than no pop
            log.exception("KB suggestions failed for call %s", offer.call_id)
            return []
