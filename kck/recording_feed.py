"""The router's events as the recordings need them (composition root: the one place that knows
both `queues.events` and `recordings`, which do not import each other)."""

from __future__ import annotations

from kck.bus import BusEvent
from queues.events import CallAnswered, CallQueued, decode_event
from recordings.lifecycle import AnsweredCall, QueuedCall


def recording_input(event: BusEvent) -> QueuedCall | AnsweredCall | None:
    typed = decode_event(event.type, event.data)
    if isinstance(typed, CallQueued):
        request = typed.request
        return QueuedCall(
            typed.call_id, request.uniqueid, request.channel, typed.queue, request.recording_consent
        )
    if isinstance(typed, CallAnswered) and typed.kind == "inbound":
        return AnsweredCall(typed.call_id, typed.agent)
    return None
