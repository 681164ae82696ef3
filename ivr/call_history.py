"""A call's row changes onto the bus, in order, without holding the caller up.

The route tells `CallHistory` what happened (arrival, hand-over to a queue, end); each change
is one XADD on the `queues` stream, sent in the background through the process's one ordered
sender (`kck.stream_batches`: the changes of all calls gathered meanwhile share a round trip),
so the writer sees them in the order they happened. `flush()` waits for what is still being
sent (the route calls it before it returns). Nothing here can fail a call: a change that cannot
be published is logged and the caller is served all the same.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from ivr.interpreter import CallInfo, CallResult, IVROutcome
from kck.bus import EventBus
from kck.call_events import CALL_ARRIVED, CALL_PROGRESS, CALLS_STREAM, CallArrived, CallProgress
from kck.clock import Clock
from kck.db.models import CallOutcome
from kck.stream_batches import StreamBatches
from queues.model import QueueOutcome

log = logging.getLogger(__name__)

_CALL_OUTCOMES = {
    IVROutcome.SELF_SERVICE: CallOutcome.SELF_SERVICE,
    IVROutcome.CLOSED_HOURS: CallOutcome.CLOSED_HOURS,
    IVROutcome.CALLBACK: CallOutcome.CALLBACK,
    IVROutcome.VOICEMAIL: CallOutcome.VOICEMAIL,
    IVROutcome.TRANSFERRED: CallOutcome.TRANSFERRED,
    IVROutcome.HUNG_UP_IN_IVR: CallOutcome.HUNG_UP_IN_IVR,
    IVROutcome.FAILED: CallOutcome.FAILED,
}


def calls_stream_sender(bus: EventBus | None) -> StreamBatches | None:
    """The one sender of call-history changes for a route (None: record nothing)."""
    if bus is None:
        return None
    return StreamBatches(bus.redis, bus.key(CALLS_STREAM), maxlen=bus.maxlen)


class CallHistory:
    """One call's changes, published in order in the background; `sender=None` records nothing."""

    def __init__(self, sender: StreamBatches | None, call: CallInfo, clock: Clock) -> None:
        self.sender = sender
        self.call = call
        self.clock = clock
        self._last: asyncio.Future[None] | None = None

    def arrived(
        self, menu_version: str, caller_name: str | None, dialled_number: str | None
    ) -> None:
        call = self.call
        arrival = CallArrived(
            call_id=call.call_id,
            uniqueid=call.uniqueid,
            channel=call.channel,
            caller_number=call.caller,
            caller_name=caller_name,
            dialled_number=dialled_number,
            language=call.language or "pl",
            arrived_at=call.arrived_at,
            menu_version=menu_version,
        )
        self._publish(CALL_ARRIVED, arrival.as_data())

    def progressed(self, result: CallResult) -> None:
        """The path so far, the routing and, once the call has ended here, its outcome."""
        values: dict[str, Any] = {
            "language": result.language,
            "ivr_path": [step.as_dict() for step in result.path],
            "intent": result.intent,
            "transcript": result.transcript,
            "recording_consent": result.recording_consent,
        }
        routing = result.routing
        if routing is not None:
            values.update(
                queue=routing.queue,
                skills=dict(routing.skills),
                priority=routing.priority,
                kb_topic=routing.kb_topic,
                ticket_category=routing.ticket_category,
            )
        if result.hung_up_at is not None:
            values["hangup_cause"] = f"caller hung up in {result.hung_up_at}"[:64]
        ended: dict[str, Any] = {}
        if result.outcome is IVROutcome.QUEUED:
            # queues own the outcome of a queued call; we only record an abandon in the wait
            if result.queue_outcome is QueueOutcome.ABANDONED:
                ended = {"outcome": CallOutcome.ABANDONED.value, "ended_at": self.clock.now()}
        else:
            values["outcome"] = _CALL_OUTCOMES[result.outcome].value
            values["ended_at"] = self.clock.now()
        progress = CallProgress(self.call.call_id, self.call.uniqueid, values, ended)
        self._publish(CALL_PROGRESS, progress.as_data())

    async def flush(self) -> None:
        """Wait until every change so far is on the stream (or was logged as lost)."""
        if self._last is not None:
            await asyncio.shield(self._last)

    def _publish(self, event_type: str, data: dict[str, Any]) -> None:
        if self.sender is not None:
            self._last = self.sender.publish(event_type, data, partial(self._lost, event_type))

    def _lost(self, event_type: str, error: BaseException) -> None:
        # the caller is served even when history cannot be written
        log.error(
            "could not record %s of call %s",
            event_type,
            self.call.call_id,
            exc_info=(type(error), error, error.__traceback__),
        )
