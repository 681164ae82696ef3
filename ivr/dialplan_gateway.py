"""A QueueGateway for a controller without the router: the dialplan's Queue() takes the call.

The routing request goes onto the channel as variables (KCK_QUEUE, KCK_SKILLS, KCK_PRIORITY…)
and the route ends, so the dialplan continues to its queue. Callback requests are published on
the event bus stream "callbacks" (kept until a consumer acknowledges them).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from ivr.channel import Channel
from queues.model import CallbackRequest, QueueOutcome, RoutingRequest

log = logging.getLogger(__name__)

CALLBACK_STREAM = "callbacks"


class EventPublisher(Protocol):
    async def publish(self, stream: str, event_type: str, data: Mapping[str, Any]) -> Any: ...


class DialplanQueueGateway:
    def __init__(self, bus: EventPublisher | None = None) -> None:
        self.bus = bus

    async def enqueue(self, request: RoutingRequest) -> None:
        log.info("queue %s (skills %s) is handed to the dialplan", request.queue, request.skills)

    async def wait(self, request: RoutingRequest, channel: Channel) -> QueueOutcome:
        await channel.set_variable("KCK_QUEUE", request.queue)
        await channel.set_variable("KCK_SKILLS", json.dumps(request.skills, separators=(",", ":")))
        await channel.set_variable("KCK_PRIORITY", str(request.priority))
        if request.ticket_category:
            await channel.set_variable("KCK_TICKET_CATEGORY", request.ticket_category)
        return QueueOutcome.DIALPLAN

    async def request_callback(self, callback: CallbackRequest) -> None:
        if self.bus is None:
            raise RuntimeError("no event bus to store the callback request on")
        await self.bus.publish(
            CALLBACK_STREAM,
            "callback_requested",
            {
                "number": callback.number,
                "confirmed_caller_id": callback.confirmed_caller_id,
                "request": callback.request.to_dict(),
            },
        )
