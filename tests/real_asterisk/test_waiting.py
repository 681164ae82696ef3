"""Waiting in the queue on the real Asterisk: announcements, an agent freed meanwhile, abandons."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.polling import until_true
from tests.real_asterisk.observer import agi_command, named
from tests.real_asterisk.sites import Site
from tests.real_asterisk.test_call_path import walk_to_id_cards
from tests.redis_replies import stream_events

LONG_ANNOUNCEMENT_S = 25.0


@pytest.mark.recordings({"pl/queue_press_1_callback": LONG_ANNOUNCEMENT_S})
async def test_agent_freed_during_a_long_announcement_is_offered_the_caller_at_once(
    site: Site,
) -> None:
    """Found on the real Asterisk: the caller's heartbeat lapsed during a ~17 s announcement and
    an agent freed in that gap sat idle beside the caller. Here the announcement is a 25 s
    recording and the agent comes free 16 s into it (past the old 15 s heartbeat): the offer
    must cut the announcement short, not wait for its end nor for the next escalation step."""
    await site.phone("101")
    desk = await site.agent("anowak", available=False)  # signed in, paused (login)
    caller = await site.call()
    await walk_to_id_cards(site, caller)
    started = await site.observer.wait_for(
        agi_command(caller.number, "/queue_press_1_callback "), 30
    )
    await asyncio.sleep(16)  # the caller listens; the agent finishes something else
    freed = time.time()
    await desk.set_state("available")
    ring = await site.observer.wait_for(
        named("DialBegin", DestChannel__startswith="PJSIP/101-"), 30, since=freed
    )
    assert ring.at < started.at + LONG_ANNOUNCEMENT_S, "the offer waited for the announcement"
    cut = site.observer.find(
        named("AGIExecEnd", CallerIDNum=caller.number, Command__contains="/queue_press_1_callback ")
    )
    assert cut and cut[0].at < started.at + LONG_ANNOUNCEMENT_S
    await caller.ended(20)


async def test_caller_who_hangs_up_while_waiting_is_recorded_abandoned_once(site: Site) -> None:
    caller = await site.call()
    await walk_to_id_cards(site, caller)
    await site.observer.wait_for(agi_command(caller.number, "WAIT FOR DIGIT"), 60)  # on music
    caller.hang_up()
    assert await caller.ended(10) == "caller"
    row = await site.call_row(caller, outcome="abandoned")
    assert row.hangup_cause == "caller_hangup"

    async def gone() -> bool:
        return not await site.live_calls()

    await until_true(gone, 5)
    assert await site.counter("citizens_affairs", "entered") == 1
    assert await site.counter("citizens_affairs", "abandoned") == 1
    ended = [
        event
        for event in await stream_events(site.redis(), "kck:stream:queues")
        if event.type == "call_ended"
    ]
    assert len(ended) == 1
