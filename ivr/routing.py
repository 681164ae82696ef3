"""The IVR's port to the queues: what the `queue` and `callback` steps need, typed with the values
`queues.model` owns (RoutingRequest, CallbackRequest, QueueOutcome)."""

from __future__ import annotations

from typing import Protocol

from ivr.channel import Channel
from queues.model import CallbackRequest, QueueOutcome, RoutingRequest


class QueueGateway(Protocol):
    """The port the `queue` and `callback` steps use: over the router (`ivr.router_gateway`), over
    the dialplan's own queue (`ivr.dialplan_gateway`) or in memory (tests, `kck ivr try`)."""

    async def enqueue(self, request: RoutingRequest) -> None: ...

    async def wait(self, request: RoutingRequest, channel: Channel) -> QueueOutcome:
        """Hold the caller (music, announcements, offers, dialling) until the wait ends."""
        ...

    async def request_callback(self, callback: CallbackRequest) -> None: ...
