"""The board feed's recount policy: none for nobody, and slower as recounts get expensive."""

from __future__ import annotations

import asyncio
from typing import Any

from agentdesk.board.feed import BoardFeed
from kck.clock import ManualClock
from kck.services import Services
from tests.board.conftest import MORNING
from tests.polling import until


class SlowCount:
    """A recount that takes `seconds` of real time, as counting a busy day from SQL does."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        await asyncio.sleep(self.seconds)
        return {"total": {}, "queues": [], "agents": []}


async def test_events_with_no_board_open_cost_no_recount(services: Services) -> None:
    count = SlowCount(0.0)
    feed = BoardFeed(services.bus, count, ManualClock(MORNING), min_interval_s=0.0)
    await feed.start()
    try:
        await services.bus.broadcast("stats", "stats", {"queues": {}})
        await until(lambda: feed.events == 1)  # handled: a recount would have started by now
        assert count.calls == 0 and feed.recounts == 0
        board = feed.subscribe()
        await services.bus.broadcast("stats", "stats", {"queues": {}})
        await until(lambda: feed.recounts == 1)
        assert (await board.get())["type"] == "snapshot"
    finally:
        await feed.stop()


async def test_the_pause_between_recounts_grows_with_what_a_recount_costs(
    services: Services,
) -> None:
    count = SlowCount(0.1)
    feed = BoardFeed(services.bus, count, ManualClock(MORNING), min_interval_s=0.5, cost_factor=20)
    assert feed.interval_s() == 0.5
    await feed.start()
    try:
        feed.subscribe()
        feed.request_recount()
        await until(lambda: feed.recounts == 1)
        assert 2.0 <= feed.interval_s() < 10  # 20 × ~0.1 s, not the 0.5 s floor
        assert feed.health()["recount_interval_s"] >= 2.0
    finally:
        await feed.stop()
