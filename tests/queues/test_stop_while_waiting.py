"""Stopping the FastAGI server while a caller waits in the router's queue: the caller goes back
to the dialplan's fallback queue and the router forgets the call, so no agent is offered a ghost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from asterisk.agi import AGISession, FastAGIServer
from asterisk.agi.server import STOP_HANDBACK_S
from queues.router import Router
from queues.waiting import wait_in_queue
from tests.asterisk.agi_caller import AsteriskSideCall
from tests.polling import until
from tests.queues.conftest import make_config, waiting_request


@pytest.fixture
async def router(redis: aioredis.Redis) -> AsyncIterator[Router]:
    router = Router(redis, make_config({"ala": {"taxes": 5}}), prefix="stop")
    await router.waiters.start()
    try:
        yield router
    finally:
        await router.waiters.stop()


async def test_stop_takes_a_waiting_caller_out_of_the_router_and_hands_them_to_the_fallback(
    router: Router,
) -> None:
    async def route(session: AGISession) -> None:
        request = waiting_request(session)
        # long music-on-hold slices: the caller sits in one WAIT FOR DIGIT when the stop comes
        await wait_in_queue(session, router, request, digit_slice_ms=60_000)

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    call = AsteriskSideCall(server.port, uniqueid="1795527000.91")
    caller = asyncio.create_task(call.run())
    call_id = "call-1795527000.91"
    try:
        await until(lambda: call.held == 1)  # nobody is logged in: the caller waits
        assert (await router.call_state(call_id) or {}).get("state") == "waiting"
        loop = asyncio.get_running_loop()
        began = loop.time()
        stopping = asyncio.create_task(server.stop())
        await asyncio.wait({stopping}, timeout=STOP_HANDBACK_S + 10)
        assert stopping.done(), "FastAGIServer.stop() did not return"
        took = loop.time() - began
        async with asyncio.timeout(5):
            await caller
    finally:
        call.hang_up()
        await asyncio.wait({caller})
        await server.stop()
    assert call.ended
    assert call.commands[-2][: len("WAIT FOR DIGIT")] == "WAIT FOR DIGIT"  # on music
    assert call.commands[-1] == 'SET VARIABLE KCK_AGI_FAILURE "shutdown"'
    assert call.variables.get("KCK_AGI_FAILURE") == "shutdown" and call.dialplan_falls_back
    assert await router.call_state(call_id) is None
    # an agent who logs in now is offered nothing: the caller is in the fallback queue
    assert await router.agent_login("ala") == []
    assert took < STOP_HANDBACK_S
