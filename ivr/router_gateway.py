"""The QueueGateway over the `queues` router: enqueue, keep the caller company, dial the agent.

The waiting loop (`queues.waiting.wait_in_queue`) runs on the caller's own AGI session, so this
gateway needs the AGIChannel the FastAGI route made; any other channel (terminal, tests) cannot
wait in a real queue.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ivr.channel import Channel
from ivr.routing import CallbackRequest, QueueOutcome, RoutingRequest

log = logging.getLogger(__name__)

_OUTCOMES = {
    "answered": QueueOutcome.ANSWERED,
    "abandoned": QueueOutcome.ABANDONED,
    "callback": QueueOutcome.CALLBACK,
    "voicemail": QueueOutcome.VOICEMAIL,
    "closed": QueueOutcome.ABANDONED,  # the channel was found gone by the AMI resync
}


def _queues_request(request: RoutingRequest) -> Any:
    from queues.model import RoutingRequest as QueuesRoutingRequest

    return QueuesRoutingRequest.from_dict(request.to_dict())


class RouterQueueGateway:
    """Hands routing requests to `queues.router.Router`; one per process.

    `sounds_dir`: the folder `kck prompts build` wrote the waiting loop's prompts to, as Asterisk
    sees it (`asterisk.sounds`); played as the menu's own prompts: <sounds_dir>/<language>/<name>."""

    def __init__(
        self, router: Any, sounds_dir: Path | None = None, stop_playback: Any = None
    ) -> None:
        self.router = router
        self.sounds_dir = sounds_dir
        self.stop_playback = stop_playback

    async def enqueue(self, request: RoutingRequest) -> None:
        # The waiting loop enqueues itself (so the offer it may return is acted on at once).
        return None

    async def wait(self, request: RoutingRequest, channel: Channel) -> QueueOutcome:
        from queues.waiting import WaitingPrompts, wait_in_queue

        session = getattr(channel, "session", None)
        if session is None:
            raise TypeError("the router can only hold callers on an AGI channel")
        prompts = WaitingPrompts(sounds_dir=str(self.sounds_dir) if self.sounds_dir else "")
        result = await wait_in_queue(
            session,
            self.router,
            _queues_request(request),
            prompts=prompts,
            stop_playback=self.stop_playback,
        )
        return _OUTCOMES.get(str(result.outcome), QueueOutcome.ABANDONED)

    async def request_callback(self, callback: CallbackRequest) -> None:
        # Joins as a callback from the start: an agent free right now is offered the callback
        # (an outbound call), never an inbound call with nobody on the line.
        request = _queues_request(callback.request)
        offer = await self.router.enqueue(request, callback_number=callback.number)
        if offer is not None:
            log.info("an agent was free for callback request %s; offered at once", request.call_id)
