"""The IVR's changes to a call row as bus events, and how the call-history writer applies them.

The IVR does not write SQL on the call path: it publishes `call_arrived` and `call_progress` on
the `queues` stream, the stream the router publishes `call_queued` / `call_answered` /
`call_ended` on. One writer (`queues.recorder.QueueRecorder`, under a lease) applies them in
stream order, so a call's row sees its changes in the order they happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kck.db.models import Call, CallOutcome

CALLS_STREAM = "queues"
CALL_ARRIVED = "call_arrived"
CALL_PROGRESS = "call_progress"

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
        return _encode_times(asdict(self))


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


def _decode_times(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name in _TIME_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = datetime.fromisoformat(out[name])
    return out


_ARRIVAL_COLUMNS = (
    "uniqueid",
    "channel",
    "caller_number",
    "caller_name",
    "dialled_number",
    "language",
    "menu_version",
)


async def apply_call_arrived(session: AsyncSession, data: dict[str, Any]) -> None:
    """Insert the row; if something else created it first, fill in only what is missing."""
    values = _decode_times(data)
    call_id = str(values["call_id"])
    call = await session.get(Call, call_id)
    if call is None:
        session.add(
            Call(
                id=call_id,
                arrived_at=values["arrived_at"],
                outcome=CallOutcome.IN_PROGRESS.value,
                **{name: values.get(name) for name in _ARRIVAL_COLUMNS},
            )
        )
        return
    for name in _ARRIVAL_COLUMNS:
        if not getattr(call, name) and values.get(name):
            setattr(call, name, values[name])
    call.arrived_at = values["arrived_at"]


async def apply_call_progress(session: AsyncSession, data: dict[str, Any]) -> None:
    """Set the IVR's columns and, when the call ended in the IVR, its outcome."""
    call_id = str(data["call_id"])
    values = _decode_times(dict(data.get("values") or {}))
    ended = _decode_times(dict(data.get("ended") or {}))
    call = await session.get(Call, call_id)
    if call is None:
        # the arrival event comes first in the stream; never lose the record if it is gone
        call = Call(
            id=call_id,
            uniqueid=str(data.get("uniqueid") or call_id),
            outcome=CallOutcome.IN_PROGRESS.value,
        )
        session.add(call)
    outcome = values.pop("outcome", None)
    ended_at = values.pop("ended_at", None)
    for name, value in values.items():
        setattr(call, name, value)
    if outcome is not None:
        # the call ended outside a queue (self-service, voicemail after no agent...): the IVR's
        # word is the last one, even over the router's `call_ended` for its earlier wait
        call.outcome = str(outcome)
        call.ended_at = ended_at
    if ended and call.outcome == CallOutcome.IN_PROGRESS.value:
        call.outcome = str(ended["outcome"])
        call.ended_at = ended["ended_at"]
