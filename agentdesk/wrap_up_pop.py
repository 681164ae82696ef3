"""The pop of a call in wrap-up after the page was reloaded: the router forgets a call once it
ends, so the desk rebuilds it from the call's row (the call last popped on this agent's desk)."""

from __future__ import annotations

from agentdesk.last_call import last_call_of
from agentdesk.ports import Offer
from kck.db.models import Call
from kck.services import Services
from queues.model import OfferKind


async def wrap_up_offer(services: Services, agent: str, extension: str | None) -> Offer | None:
    """The agent's last call as an offer to pop again (None when there is none to show)."""
    call_id = await last_call_of(services, agent)
    if not call_id:
        return None
    async with services.sessions() as db:
        call = await db.get(Call, call_id)
    if call is None:
        return None
    request = {
        "call_id": call.id,
        "caller": call.caller_number,
        "language": call.language,
        "queue": call.queue,
        "skills": call.skills,
        "ivr_path": call.ivr_path,
        "intent": call.intent,
        "transcript": call.transcript,
        "kb_topic": call.kb_topic,
        "ticket_category": call.ticket_category,
    }
    return Offer(
        offer_id=f"call-{call.id}",
        call_id=call.id,
        agent=agent,
        extension=extension or "",
        dial="",
        ring_timeout_s=0,
        offered_at="",
        kind=OfferKind.INBOUND,
        request=request,
    )
