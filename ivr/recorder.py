"""Writes the IVR's call-row events (stream `ivr`) into SQL: arrival, hand-over and end of a call."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.bus import BusEvent, EventBus
from kck.bus import _decode as decode_event
from kck.db.models import Call, CallOutcome

log = logging.getLogger(__name__)

STREAM = "ivr"
ARRIVED = "call_arrived"
PROGRESS = "call_progress"

_ARRIVAL_FIELDS = (
    "uniqueid",
    "channel",
    "caller_number",
    "caller_name",
    "dialled_number",
    "language",
    "menu_version",
)
_TIME_FIELDS = ("arrived_at", "ended_at")


def encode_times(values: dict[str, Any]) -> dict[str, Any]:
    """Datetimes as ISO text, so the event decodes back to the same instant with its offset."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def _decode_times(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name in _TIME_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = datetime.fromisoformat(out[name])
    return out


class IVRRecorder:
    """Idempotent upserts keyed by call id; a redelivered or late event never moves a row back.

    One transaction per batch: events are acknowledged only after their transaction commits, so a
    crash between publish and write leaves them pending for the next consumer to claim.
    """

    GROUP = "ivr-recorder"

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def handle(self, event: BusEvent) -> None:
        await self.handle_batch([event])

    async def handle_batch(self, events: list[BusEvent]) -> None:
        async with self.sessions() as session, session.begin():
            for event in events:
                await self._apply(session, event)

    async def _apply(self, session: AsyncSession, event: BusEvent) -> None:
        data = event.data
        if "call_id" not in data:
            log.error("IVR event %s (%s) has no call_id; skipped", event.id, event.type)
        elif event.type == ARRIVED:
            await self._arrived(session, data)
        elif event.type == PROGRESS:
            await self._progress(session, data)
        else:
            log.warning("unknown IVR event type %r (%s) skipped", event.type, event.id)
        await session.flush()  # the next event of the batch may be about the same call

    async def _arrived(self, session: AsyncSession, data: dict[str, Any]) -> None:
        values = _decode_times(data)
        call = await session.get(Call, str(data["call_id"]))
        if call is None:
            session.add(
                Call(
                    id=str(data["call_id"]),
                    arrived_at=values["arrived_at"],
                    outcome=CallOutcome.IN_PROGRESS.value,
                    **{name: values.get(name) for name in _ARRIVAL_FIELDS},
                )
            )
            return
        # a later event (or the queues recorder) wrote the row first: fill only what is missing
        for name in _ARRIVAL_FIELDS:
            if not getattr(call, name) and values.get(name):
                setattr(call, name, values[name])
        call.arrived_at = values["arrived_at"]

    async def _progress(self, session: AsyncSession, data: dict[str, Any]) -> None:
        call_id = str(data["call_id"])
        values = _decode_times(dict(data.get("values") or {}))
        ended = _decode_times(dict(data.get("ended") or {}))
        call = await session.get(Call, call_id)
        if call is None:
            # the arrival event is normally first; never lose the record if it was not
            call = Call(
                id=call_id,
                uniqueid=str(data.get("uniqueid") or call_id),
                outcome=CallOutcome.IN_PROGRESS.value,
            )
            session.add(call)
        path = values.pop("ivr_path", None)
        if path is not None and len(path) < len(call.ivr_path or []):
            # a hand-over event retried after the end event: keep the longer, later path
            path = None
            for name in ("language", "intent", "transcript"):
                values.pop(name, None)
        if path is not None:
            call.ivr_path = list(path)
        outcome = values.pop("outcome", None)
        ended_at = values.pop("ended_at", None)
        for name, value in values.items():
            setattr(call, name, value)
        if outcome is not None and call.outcome in (CallOutcome.IN_PROGRESS.value, outcome):
            call.outcome = str(outcome)
            call.ended_at = ended_at
        if ended and call.outcome == CallOutcome.IN_PROGRESS.value:
            call.outcome = str(ended["outcome"])
            call.ended_at = ended["ended_at"]


async def run_ivr_recorder(
    bus: EventBus,
    sessions: async_sessionmaker[AsyncSession],
    consumer: str,
    *,
    batch: int = 200,
    block_ms: int = 1000,
    claim_idle_ms: int = 30_000,
) -> None:
    """Consume stream `ivr` forever in batches (group created at the stream's start).

    First this consumer's own pending events (a restart after a crash), then every
    `claim_idle_ms` those a dead consumer of the group left unacknowledged, then new ones.
    """
    recorder = IVRRecorder(sessions)
    key = bus.key(STREAM)
    await bus.ensure_group(STREAM, IVRRecorder.GROUP, "0")
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    reply: Any = await bus.redis.xreadgroup(IVRRecorder.GROUP, consumer, {key: "0"}, count=10_000)
    for _stream, entries in reply or []:
        await _write(bus, recorder, key, entries)
    last_claim = loop.time()
    while True:
        # redis-py can swallow a cancellation landing in a blocking read (see EventBus.consume)
        if task is not None and task.cancelling():
            raise asyncio.CancelledError
        if loop.time() - last_claim > claim_idle_ms / 1000:
            last_claim = loop.time()
            claimed: Any = await bus.redis.xautoclaim(
                key, IVRRecorder.GROUP, consumer, min_idle_time=claim_idle_ms, count=batch
            )
            await _write(bus, recorder, key, [e for e in claimed[1] if e[1]])
        reply = await bus.redis.xreadgroup(
            IVRRecorder.GROUP, consumer, {key: ">"}, count=batch, block=block_ms
        )
        for _stream, entries in reply or []:
            await _write(bus, recorder, key, entries)


async def _write(bus: EventBus, recorder: IVRRecorder, key: str, entries: list[Any]) -> None:
    if not entries:
        return
    events = [decode_event(key, raw_id, fields) for raw_id, fields in entries]
    try:
        await recorder.handle_batch(events)
        await bus.redis.xack(key, IVRRecorder.GROUP, *(e.id for e in events))
        return
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("IVR batch of %d events failed; writing them one by one", len(events))
    for event in events:  # one bad event must not hold back the rest of its batch
        try:
            await recorder.handle(event)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("IVR event %s stays pending", event.id)
            continue
        await bus.redis.xack(key, IVRRecorder.GROUP, event.id)


async def recorder_caught_up(bus: EventBus) -> bool:
    """True once every event on stream `ivr` has been written and acknowledged by the recorder."""
    key = bus.key(STREAM)
    if not await bus.redis.exists(key):
        return True
    stream: Any = await bus.redis.xinfo_stream(key)
    groups: Any = await bus.redis.xinfo_groups(key)
    for group in groups:
        if _text(group.get("name")) == IVRRecorder.GROUP:
            return bool(
                int(group.get("pending") or 0) == 0
                and _text(group.get("last-delivered-id")) == _text(stream.get("last-generated-id"))
            )
    return False


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
