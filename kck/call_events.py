"""The IVR's changes to a call row as bus events (`kck.call_rows` writes them to SQL).

The IVR does not write SQL on the call path: it publishes `call_arrived` and `call_progress` on
the `queues` stream, the stream the router publishes `call_queued` / `call_answered` /
`call_ended` on. One writer (`queues.recorder.QueueRecorder`, under a lease) applies them in
stream order, so a call's row sees its changes in the order they happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CALLS_STREAM = "queues"
CALL_ARRIVED = "call_arrived"
CALL_PROGRESS = "call_progress"
# a row left `in_progress` by a controller that died: closed by the resync (queues.call_resync)
CALL_INTERRUPTED = "call_interrupted"

_TIME_FIELDS = ("arrived_at", "ended_at")


@dataclass(frozen=True)
class CallArrived:
    """A call entered the IVR: what Asterisk told us about it."""

    call_id: str
    uniqueid: str
    channel: str | None
    caller_number: str | None
    caller_name: str | None
    dialled_number: str | None
    language: str
    arrived_at: datetime
    menu_version: str | None

    def as_data(self) -> dict[str, Any]:
        # flat fields: a shallow copy, not `asdict`'s deep one (once per call, on its path)
        return _encode_times(dict(vars(self)))


@dataclass(frozen=True)
class CallProgress:
    """What the IVR learnt (path, routing, outcome); `ended` is set only while still in progress.

    `values` are column values to set; `outcome`/`ended_at` among them are the outcome of a call
    that ended in the IVR (self-service, closed hours...). `ended` is the IVR's view of an abandon in the wait: applied
    only if the router has not already recorded how the call ended.
    """

    call_id: str
    uniqueid: str
    values: dict[str, Any]
    ended: dict[str, Any] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "uniqueid": self.uniqueid,
            "values": _encode_times(self.values),
            "ended": _encode_times(self.ended),
        }


def _encode_times(values: dict[str, Any]) -> dict[str, Any]:
    """Datetimes as ISO text with their offset, so they decode to the same instant."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def decode_times(values: dict[str, Any]) -> dict[str, Any]:
    """The inverse of the encoding in `as_data`: ISO text back to aware datetimes."""
    out = dict(values)
    for name in _TIME_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = datetime.fromisoformat(out[name])
    return out
