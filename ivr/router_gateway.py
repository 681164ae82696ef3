"""The QueueGateway over the `queues` router: enqueue, keep the caller company, dial the agent.

The waiting loop (`queues.waiting.wait_in_queue`) runs on the caller's own AGI session, so this
gateway needs the AGIChannel the FastAGI route made; any other channel (terminal, tests) cannot
wait in a real queue.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ivr.channel import Channel
from queues.model import CallbackRequest, QueueOutcome, RoutingRequest
from queues.router import Router
from queues.waiting import (
    OUTAGE_HOLD_S,
    PlaybackStop,
    TransferLegs,
    Voicemail,
    WaitingPrompts,
    wait_in_queue,
)

log = logging.getLogger(__name__)


class RouterQueueGateway:
    """Hands routing requests to `queues.router.Router`; one per process.

    `sounds_dir`: the folder `kck prompts build` wrote the waiting loop's prompts to, as Asterisk
    sees it (`asterisk.sounds`); played as the menu's own prompts: <sounds_dir>/<language>/<name>.
    `stop_playback`: cuts short what a waiting caller hears when an offer comes (AMI);
    `transfers`: how an agent's transfer of a caller is carried out (AMI, the trunk);
    `outage_hold_s`: how long a Redis outage is waited out with the caller on music;
    `voicemail`: what a caller who waited `max_wait_s` in a queue with `on_max_wait: voicemail`
    does (None: the call just ends)."""

    def __init__(
        self,
        router: Router,
        sounds_dir: Path | None = None,
        stop_playback: PlaybackStop | None = None,
        transfers: TransferLegs | None = None,
        outage_hold_s: float = OUTAGE_HOLD_S,
        voicemail: Voicemail | None = None,
    ) -> None:
        self.router = router
        self.voicemail = voicemail  # the queue's voicemail exit (queues.queue_voicemail)
        self.sounds_dir = sounds_dir
        self.stop_playback = stop_playback
        self.transfers = transfers
        self.outage_hold_s = outage_hold_s

    async def enqueue(self, request: RoutingRequest) -> None:
        # The waiting loop enqueues itself (so the offer it may return is acted on at once).
        return None

    async def wait(self, request: RoutingRequest, channel: Channel) -> QueueOutcome:
        session = getattr(channel, "session", None)
        if session is None:
            raise TypeError("the router can only hold callers on an AGI channel")
        prompts = WaitingPrompts(sounds_dir=str(self.sounds_dir) if self.sounds_dir else "")
        result = await wait_in_queue(
            session,
            self.router,
            request,
            prompts=prompts,
            stop_playback=self.stop_playback,
            transfers=self.transfers,
            outage_hold_s=self.outage_hold_s,
            voicemail=self.voicemail,
        )
        return result.outcome

    async def request_callback(self, callback: CallbackRequest) -> None:
        # Joins as a callback from the start: an agent free right now is offered the callback
        # (an outbound call), never an inbound call with nobody on the line.
        request = callback.request
        offer = await self.router.enqueue(request, callback_number=callback.number)
        if offer is not None:
            log.info("an agent was free for callback request %s; offered at once", request.call_id)
