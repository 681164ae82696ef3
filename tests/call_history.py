"""Write what is on the `queues` stream to SQL now, as the call-history writer would, for asserting.

The IVR and the router publish call-row changes on the stream; in a running controller the
leaseholder's `QueueRecorder` writes them within milliseconds. A test calls this instead of
waiting: it reads the stream through the same consumer group, in order, and acknowledges.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.bus import BusEvent, EventBus
from kck.call_events import CALLS_STREAM
from queues.config import RoutingConfig
from queues.recorder import QueueRecorder

NO_ROUTING = RoutingConfig(skills={}, queues={}, agents={})


async def record_call_history(
    bus: EventBus,
    sessions: async_sessionmaker[AsyncSession],
    config: RoutingConfig = NO_ROUTING,
) -> int:
    """Apply every event not yet recorded; returns how many were written."""
    recorder = QueueRecorder(sessions, config)
    await bus.ensure_group(CALLS_STREAM, QueueRecorder.GROUP, "0")
    key = bus.key(CALLS_STREAM)
    written = 0
    while True:
        reply: Any = await bus.redis.xreadgroup(QueueRecorder.GROUP, "test", {key: ">"}, count=500)
        entries = [entry for _stream, batch in reply or [] for entry in batch]
        if not entries:
            return written
        events = [BusEvent.from_stream(key, raw_id, fields) for raw_id, fields in entries]
        await recorder.handle_batch(events)
        await bus.redis.xack(key, QueueRecorder.GROUP, *(event.id for event in events))
        written += len(events)
