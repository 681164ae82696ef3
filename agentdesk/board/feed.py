"""Fans the bus's live channels `stats` and `agents` out to every open board, recounting on change.

One listener per application, however many boards are open. An agent event goes to the boards
at once (a row changes colour); any event also asks for a recount of today's numbers, which runs
at most once per `min_interval_s` so a burst of events costs one query round.

A recount reads today's calls from SQL, so its cost grows through the day; the pause between
two recounts grows with it (`cost_factor` times the last recount's duration) so the recount
never takes more than a small share of the event loop the calls are served on; the live router
fields (waiting, longest wait, agents) keep arriving between recounts. With no board open,
nothing is recounted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from agentdesk.board.snapshot import apply_agent_event, merge_live
from agentdesk.reports.metrics import CountingRules
from kck.bus import RESUBSCRIBED, EventBus, LiveSubscription
from kck.clock import Clock
from kck.stopping import stop_tasks
from queues.events import AgentStateChanged, decode_event

log = logging.getLogger(__name__)

STATS_CHANNEL = "stats"
AGENTS_CHANNEL = "agents"
# How long stopping the feed gives its listeners and a running recount.
FEED_STOP_S = 5.0
Message = dict[str, Any]
Counter = Callable[[], Awaitable[dict[str, Any]]]


class BoardFeed:
    def __init__(
        self,
        bus: EventBus,
        count: Counter,
        clock: Clock,
        *,
        rules: CountingRules | None = None,
        min_interval_s: float = 1.0,
        client_backlog: int = 64,
        cost_factor: float = 20.0,
    ) -> None:
        self.bus = bus
        self.rules = rules
        self.count = count
        self.clock = clock
        self.min_interval_s = min_interval_s
        self.cost_factor = cost_factor
        self.last_recount_s = 0.0
        self.client_backlog = client_backlog
        self._clients: set[asyncio.Queue[Message]] = set()
        self._subscriptions: list[LiveSubscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._recount: asyncio.Task[None] | None = None
        self._again = False
        self._last_count = float("-inf")
        self._live_stats: dict[str, Any] | None = None
        # The latest live event per agent: the SQL recorder writes the same change a moment
        # later, so a recount must not show an agent's older state from the table.
        self._agent_events: dict[str, dict[str, Any]] = {}
        self.events = 0  # live messages handled
        self.recounts = 0

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Return once subscribed: boards opened right after start miss no event."""
        # one subscription per channel: an event's meaning depends on the channel it came on
        try:
            for channel in (STATS_CHANNEL, AGENTS_CHANNEL):
                live = await self.bus.subscription(channel).open()
                self._subscriptions.append(live)
                self._tasks.append(
                    asyncio.create_task(self._listen(channel, live), name=f"board-{channel}")
                )
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        for live in self._subscriptions:
            await live.close()
        self._subscriptions = []
        tasks = [*self._tasks, *([self._recount] if self._recount else [])]
        await stop_tasks(tasks, within=FEED_STOP_S, what="board feed")
        self._tasks = []

    def health(self) -> dict[str, Any]:
        return {
            "up": bool(self._tasks) and not any(t.done() for t in self._tasks),
            "boards": len(self._clients),
            "recount_interval_s": round(self.interval_s(), 1),
        }

    # --- boards ---------------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self.client_backlog)
        self._clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Message]) -> None:
        self._clients.discard(queue)

    async def snapshot(self) -> dict[str, Any]:
        """Today's board counted now, with the latest live router fields laid over it."""
        board = merge_live(await self.count(), self._live_stats, self.rules)
        for event in list(self._agent_events.values()):
            row = next((r for r in board["agents"] if r["agent"] == event.get("agent")), None)
            if row is None or _not_older(event.get("since"), row.get("since")):
                apply_agent_event(board, event)
        return board

    def _send(self, message: Message) -> None:
        for queue in list(self._clients):
            if queue.full():
                # A board that cannot keep up loses old frames; the next snapshot repairs it.
                with contextlib.suppress(asyncio.QueueEmpty):
                    while True:
                        queue.get_nowait()
            queue.put_nowait(message)

    # --- events ---------------------------------------------------------------------------

    async def _listen(self, channel: str, live: LiveSubscription) -> None:
        async for event_type, data in live:
            self._on_event(channel, event_type, data)

    def _on_event(self, channel: str, event_type: str, data: dict[str, Any]) -> None:
        self.events += 1
        if event_type == RESUBSCRIBED:
            self.request_recount()  # events were missed while Redis was away: count afresh
            return
        if channel == AGENTS_CHANNEL:
            try:
                change = decode_event(event_type, data)
            except ValueError as bad:
                log.warning("board: %s", bad)
                return
            if isinstance(change, AgentStateChanged):
                row = agent_row(change)
                self._agent_events[change.agent] = row
                self._send({"type": "agent", "data": row})
        else:
            self._live_stats = data
        self.request_recount()

    def request_recount(self) -> None:
        """Recount soon (coalesced: at most one running and one more queued); not for nobody."""
        if not self._clients:
            return
        if self._recount is not None and not self._recount.done():
            self._again = True
            return
        self._recount = asyncio.create_task(self._run_recount(), name="board-recount")

    async def _run_recount(self) -> None:
        while True:
            self._again = False
            wait = self._last_count + self.interval_s() - self.clock.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_count = self.clock.monotonic()
            started = time.perf_counter()  # real CPU-bound time, whatever clock the centre runs on
            try:
                board = await self.snapshot()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("board recount failed; the boards keep their last numbers")
            else:
                self.recounts += 1
                self._send({"type": "snapshot", "data": board})
            self.last_recount_s = time.perf_counter() - started
            if not self._again:
                return

    def interval_s(self) -> float:
        """The pause between recounts: at least `min_interval_s`, more when recounts got slow."""
        return max(self.min_interval_s, self.cost_factor * self.last_recount_s)


def _not_older(event_since: Any, row_since: Any) -> bool:
    """Whether a live event is at least as recent as the state the table shows."""
    if not row_since:
        return True
    if not event_since:
        return False
    try:
        return datetime.fromisoformat(str(event_since)) >= datetime.fromisoformat(str(row_since))
    except ValueError:
        return True


__all__ = ["AGENTS_CHANNEL", "STATS_CHANNEL", "BoardFeed", "apply_agent_event"]


def agent_row(change: AgentStateChanged) -> dict[str, Any]:
    """What a board shows of an agent's `agent_state` (the browser's `agent` message)."""
    return {
        "agent": change.agent,
        "state": change.state.value,
        "reason": change.reason,
        "since": change.since.isoformat(),
        "call_id": change.call_id,
    }
