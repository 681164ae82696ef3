"""A short Redis pause (SIGSTOP … SIGCONT of a real redis-server of this test's own): waiting
callers keep hearing music in their place and order, a caller who arrives meanwhile is queued
when Redis answers again; a pause longer than the bound hands callers to the dialplan's
fallback queue, and only then. Real FastAGI sockets, the caller's side as res_agi answers."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from asterisk.agi import AGISession, FastAGIServer
from kck.logs import CallIdsFilter
from kck.redis_server import connect
from kck.settings import RedisSettings
from queues.router import Router
from queues.waiting import wait_in_queue
from tests.asterisk.agi_caller import AsteriskSideCall
from tests.polling import until, until_true
from tests.queues.conftest import make_config, waiting_request
from tests.services import RedisProcess, start_redis

SLICE_MS = 300  # music in short slices: the loops come back to Redis often


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A redis-server for this test alone: pausing it pauses nobody else's."""
    server = start_redis()
    try:
        yield server
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
        server.stop()


@pytest.fixture
async def router(own_redis: RedisProcess) -> AsyncIterator[Router]:
    defaults = RedisSettings()  # the shipped timeouts
    client: aioredis.Redis = await connect(
        own_redis.url,
        socket_timeout_s=defaults.socket_timeout_s,
        connect_timeout_s=defaults.connect_timeout_s,
    )
    router = Router(client, make_config({"ala": {"taxes": 5}}), prefix="pause")
    await router.waiters.start()
    try:
        yield router
    finally:
        await router.waiters.stop()
        await client.aclose()


async def serve(router: Router, outage_hold_s: float) -> FastAGIServer:
    async def route(session: AGISession) -> None:
        request = waiting_request(session)
        await wait_in_queue(
            session, router, request, digit_slice_ms=SLICE_MS, outage_hold_s=outage_hold_s
        )

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    return server


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """INFO and up, each record with the ids of its call."""
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(CallIdsFilter())
    return caplog


def felt_the_outage(caplog: pytest.LogCaptureFixture, call_id: str) -> bool:
    return any(
        "Redis does not answer" in r.getMessage() and getattr(r, "call_id", None) == call_id
        for r in caplog.records
    )


async def test_waiting_callers_keep_music_and_order_and_a_new_caller_is_queued_after_a_pause(
    router: Router, own_redis: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    server = await serve(router, outage_hold_s=60)  # the bound is not what this test is about
    calls = [AsteriskSideCall(server.port, uniqueid=f"1795527100.{n}") for n in range(6)]
    ids = [f"call-{call.uniqueid}" for call in calls]
    tasks: list[asyncio.Task[None]] = []
    try:
        for call, call_id in zip(calls[:5], ids, strict=False):  # five callers, one after another
            tasks.append(asyncio.create_task(call.run()))

            async def queued(call_id: str = call_id) -> bool:
                return (await router.call_state(call_id) or {}).get("state") == "waiting"

            await until_true(queued, 10)
        os.kill(own_redis.process.pid, signal.SIGSTOP)
        heard = [len(call.commands) for call in calls[:5]]
        tasks.append(asyncio.create_task(calls[5].run()))  # a sixth calls during the pause
        # every loop, the newcomer's too, has come to Redis and found it away
        await until(lambda: all(felt_the_outage(caplog, call_id) for call_id in ids), 30)
        os.kill(own_redis.process.pid, signal.SIGCONT)

        async def all_queued() -> bool:
            return all([await router.position(call_id) is not None for call_id in ids])

        await until_true(all_queued, 20)
        positions = [await router.position(call_id) for call_id in ids]
        assert positions == [1, 2, 3, 4, 5, 6]  # the order of arrival, the newcomer last
        for call, before in zip(calls[:5], heard, strict=True):
            assert not call.ended and "KCK_AGI_FAILURE" not in call.variables
            during = call.commands[before:]
            assert during and all(c.startswith(("WAIT FOR DIGIT", "SET MUSIC ON")) for c in during)
        assert any(c.startswith("WAIT FOR DIGIT") for c in calls[5].commands)  # music meanwhile
        assert not calls[5].ended
    finally:
        for call in calls:
            call.hang_up()
        await asyncio.wait(tasks)
        await server.stop()


async def test_a_pause_longer_than_the_bound_hands_callers_to_the_fallback_after_music(
    router: Router, own_redis: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    server = await serve(router, outage_hold_s=1.0)
    waiting = AsteriskSideCall(server.port, uniqueid="1795527200.1")
    newcomer = AsteriskSideCall(server.port, uniqueid="1795527200.2")
    tasks = [asyncio.create_task(waiting.run())]
    try:

        async def queued() -> bool:
            return (await router.call_state("call-1795527200.1") or {}).get("state") == "waiting"

        await until_true(queued, 10)
        os.kill(own_redis.process.pid, signal.SIGSTOP)
        heard = len(waiting.commands)
        tasks.append(asyncio.create_task(newcomer.run()))
        await until(lambda: waiting.ended and newcomer.ended, 60)
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
        for call in (waiting, newcomer):
            call.hang_up()
        await asyncio.wait(tasks)
        await server.stop()
    for call in (waiting, newcomer):
        assert call.dialplan_falls_back
    # held on music after Redis went away, before being handed back
    assert any(c.startswith("WAIT FOR DIGIT") for c in waiting.commands[heard:])
    assert any(c.startswith("WAIT FOR DIGIT") for c in newcomer.commands)
    assert sum("Redis away for over 1 s" in r.getMessage() for r in caplog.records) == 2


class KeyPressingCall(AsteriskSideCall):
    """A caller who presses `key` at the first WAIT FOR DIGIT after `press` is set."""

    def __init__(self, port: int, uniqueid: str, key: str) -> None:
        super().__init__(port, uniqueid=uniqueid)
        self.key = key
        self.press = asyncio.Event()

    async def _answer(self, line: str) -> str:
        if line.upper().startswith("WAIT FOR DIGIT") and self.press.is_set():
            self.press.clear()
            return f"200 result={ord(self.key)}"
        return await super()._answer(line)


async def test_a_callback_key_pressed_while_redis_is_paused_is_kept_and_confirmed(
    router: Router, own_redis: RedisProcess, caplog: pytest.LogCaptureFixture
) -> None:
    server = await serve(router, outage_hold_s=60)  # the pause is shorter than the bound
    call = KeyPressingCall(server.port, "1795527300.1", key="1")
    call_id = f"call-{call.uniqueid}"
    task = asyncio.create_task(call.run())
    try:

        async def queued() -> bool:
            return (await router.call_state(call_id) or {}).get("state") == "waiting"

        await until_true(queued, 10)
        os.kill(own_redis.process.pid, signal.SIGSTOP)
        call.press.set()  # the caller presses 1 for a callback during the outage
        await until(lambda: not call.press.is_set() and felt_the_outage(caplog, call_id), 30)
        heard_during = len(call.commands)
        os.kill(own_redis.process.pid, signal.SIGCONT)
        await until(lambda: call.ended, 30)
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
        call.hang_up()
        await asyncio.wait({task})
        await server.stop()
    assert "KCK_AGI_FAILURE" not in call.variables  # not handed to the fallback queue
    confirmed = [c for c in call.commands if "queue_callback_confirmed" in c]
    assert confirmed and call.commands.index(confirmed[0]) >= heard_during - 1
    assert call.commands[-1].upper().startswith("HANGUP")
    state = await router.call_state(call_id)
    assert state is not None and state.get("kind") == "callback", state
