"""The phone rings once the agent's desk shows the pop — even when the desk said so before the
caller's loop got round to the offer (seen on the real Asterisk: 2 of 120 offers waited the
whole 0.5 s although the desk had shown the pop; bench/real_asterisk.py)."""

from __future__ import annotations

import itertools
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
import redis.asyncio as aioredis

from asterisk.agi import AGISession
from queues.model import RoutingRequest
from queues.router import Router
from queues.waiting import QueueOutcome, WaitingPrompts, wait_in_queue
from tests.ivr.agi_double import ScriptedAGISession
from tests.polling import until
from tests.queues.conftest import make_config

_ids = itertools.count(1)


class _DeskShowsThePopDuringTheMusicSlice(ScriptedAGISession):
    """While the caller hears music, agent `ala` (desk open) becomes available, the offer is
    made and her desk shows the pop — all before the music slice returns (the stop that should
    cut it short came late), so the loop finds the offer and the `shown` signal together."""

    def __init__(self, router: Router, call_id: str) -> None:
        super().__init__([])
        self.router = router
        self.call_id = call_id

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        first = not self.sent("WAIT FOR DIGIT")
        digit = await super().wait_for_digit(timeout_ms)
        if first:
            events = self.router.waiters.register(self.call_id)  # the loop's own queue
            await self.router.desk_open("ala", ttl_s=60)
            [offer] = await self.router.agent_login("ala")
            await self.router.pop_shown("ala", offer.offer_id, self.call_id)
            await until(lambda: events.qsize() >= 2)  # the offer and `shown`, both delivered
        return digit


async def test_pop_shown_before_the_loop_reads_the_offer_rings_at_once(
    redis: aioredis.Redis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    router = Router(redis, make_config(), prefix=f"pbr{next(_ids)}")
    request = RoutingRequest(
        call_id="call-shown-early",
        uniqueid="1700000000.1",
        channel="PJSIP/kck-trunk-00000001",
        caller="+48126165555",
        language="pl",
        queue="city",
        skills={"taxes": 1},
        priority=0,
        arrived_at=datetime.now(UTC).isoformat(),
    )
    session = _DeskShowsThePopDuringTheMusicSlice(router, request.call_id)
    await router.waiters.start()
    try:
        with caplog.at_level(logging.INFO, logger="queues.waiting"):
            result = await wait_in_queue(
                cast(AGISession, session),  # the double answers every command the loop sends
                router,
                request,
                prompts=WaitingPrompts(sounds_dir=str(tmp_path)),
            )
    finally:
        await router.waiters.stop()
    assert (result.outcome, result.agent) == (QueueOutcome.ANSWERED, "ala")
    assert len(session.sent("EXEC Dial")) == 1
    assert [r.message for r in caplog.records if "did not show" in r.message] == []
