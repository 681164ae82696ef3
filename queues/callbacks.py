"""Outbound callbacks: an offer of kind `callback` becomes one AMI Originate, never two."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from asterisk.ami import AMIError, Originate
from kck.bus import BusEvent
from queues.events import decode_event
from queues.model import EndCause, Offer, OfferKind
from queues.router import Router, callback_channel_id

log = logging.getLogger(__name__)

OriginateFn = Callable[[Originate], Awaitable[Any]]


class CallbackDialer:
    """Consumes the `offers` stream (one consumer group across processes) and rings the agent
    first; once the agent answers, the agent's channel dials the citizen."""

    GROUP = "queues-callbacks"

    def __init__(
        self,
        router: Router,
        originate: OriginateFn,
        *,
        dial: Callable[[str], str],
        caller_id: str = "",
    ) -> None:
        self.router = router
        self.originate = originate
        self.dial_number = dial  # E.164 → the dial string through the operator's trunk
        self.caller_id = caller_id
        self.attempts = 0

    async def handle(self, event: BusEvent) -> None:
        offer = decode_event(event.type, event.data)
        if isinstance(offer, Offer) and offer.kind is OfferKind.CALLBACK:
            await self.dial(offer)

    async def dial(self, offer: Offer) -> bool:
        """Originate the callback of `offer` unless some process already did (each offer is
        one attempt; a failed attempt becomes a new offer after the queue's retry time)."""
        store = self.router.store
        first = await store.redis.set(
            store.key("cbattempt", offer.offer_id), "1", nx=True, ex=7 * 86400
        )
        if not first:
            log.info("callback offer %s was already dialled; not again", offer.offer_id)
            return False
        call = await self.router.call_state(offer.call_id)
        number = (call or {}).get("cbnum", "")
        if not number:
            await self.router.call_ended(offer.call_id, EndCause.CALLBACK_FAILED)
            return False
        action = Originate(
            channel=offer.dial,
            application="Dial",
            data=f"{self.dial_number(number)},60",
            caller_id=self.caller_id or None,
            timeout_ms=offer.ring_timeout_s * 1000,
            channel_id=callback_channel_id(offer.call_id),
            variables={"KCK_CALL_ID": offer.call_id},
        )
        self.attempts += 1
        try:
            response = await self.originate(action)
        except AMIError as exc:
            log.warning("callback %s: Originate failed: %s", offer.call_id, exc)
            await self.router.callback_attempt(offer.call_id, "failed", "originate_failed")
            return False
        if not getattr(response, "success", False):
            log.warning("callback %s: Originate refused", offer.call_id)
            await self.router.callback_attempt(offer.call_id, "failed", "originate_failed")
            return False
        # the agent answering shows as OriginateResponse Success (see RouterAMIAdapter)
        return True
