"""Call rows nobody will close: after an AMI (re)login, the rows still `in_progress` are checked
against what Asterisk has now.

A row stays `in_progress` when the controller that held its caller died (kill -9, a crash, a
host lost) before it could say how the call ended — also for a call still in the IVR, which the
router never knew. With the snapshot of live channels: a caller in the dialplan's fallback queue
is marked `fallback` (the queue's AMI events then say whether an agent's phone answered); a
call whose channel is gone and that no controller holds is closed as `interrupted`. A live
channel is left alone: another controller may hold it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from asterisk.ami import AMISnapshot
from kck.bus import EventBus
from kck.call_events import CALL_INTERRUPTED, CALLS_STREAM
from kck.db.models import Call, CallOutcome
from queues.ami_events import FALLBACK_QUEUE, in_fallback_queue
from queues.router import Router

log = logging.getLogger(__name__)


class CallRowResync:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        router: Router,
        bus: EventBus,
        *,
        fallback_queue: str = FALLBACK_QUEUE,
        window: timedelta = timedelta(days=1),
    ) -> None:
        self.sessions = sessions
        self.router = router
        self.bus = bus
        self.fallback_queue = fallback_queue
        self.window = window
        self.closed = 0

    async def reconcile(self, snapshot: AMISnapshot) -> None:
        live = snapshot.channel_ids()
        fallback = {
            c.uniqueid for c in snapshot.channels if in_fallback_queue(c, self.fallback_queue)
        }
        async with self.sessions() as db:
            rows = (
                await db.execute(
                    select(Call.id, Call.uniqueid).where(
                        Call.outcome == CallOutcome.IN_PROGRESS.value,
                        Call.arrived_at >= snapshot.taken_at - self.window,
                        Call.arrived_at <= snapshot.taken_at,
                    )
                )
            ).all()
        interrupted = 0
        for call_id, uniqueid in rows:
            if not uniqueid:
                continue
            if uniqueid in fallback:
                await self.router.fallback_event(uniqueid, "joined")
            elif uniqueid in live or await self.router.store.call_id_for_uniqueid(uniqueid):
                continue  # on the line, or the router's own resync deals with it
            else:
                await self.bus.publish(
                    CALLS_STREAM,
                    CALL_INTERRUPTED,
                    {"call_id": call_id, "at": snapshot.taken_at.isoformat()},
                )
                interrupted += 1
        if interrupted:
            self.closed += interrupted
            log.warning(
                "resync closed %d call rows whose controller stopped holding them", interrupted
            )
