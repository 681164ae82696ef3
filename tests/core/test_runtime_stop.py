"""`Runtime.stop`, what SIGTERM runs: live callers go back to the dialplan first, within the
FastAGI hand-back bound, and no component whose stop hangs keeps the process from exiting."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from asterisk.agi.server import STOP_HANDBACK_S, STRAGGLER_GRACE_S
from kck.clock import ManualClock
from kck.config_files import SHIPPED_CONFIG
from kck.controller import Controller
from kck.runtime import COMPONENT_CANCEL_S, Runtime
from kck.services import Services
from kck.settings import Settings
from tests.asterisk.agi_caller import AsteriskSideCall
from tests.ivr.support import local
from tests.polling import until

# Shorter than the shipped 5 s to keep the test quick; long enough for the router's stop, which
# may be finishing an SQLite write of the calls the hand-back ended.
COMPONENT_STOP_S = 2.0


class StuckComponent:
    """A part whose stop does not return: it swallows the first cancel (as redis-py can) and
    then waits for the test to let it go."""

    name = "stuck"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.stop_began = False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.stop_began = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.release.wait()
        await self.release.wait()

    def health(self) -> dict[str, Any]:
        return {"up": True}


STUCK: list[StuckComponent] = []


async def stuck_part(services: Services, controller: Controller) -> StuckComponent:
    STUCK.append(StuckComponent())
    return STUCK[-1]


@pytest.fixture
def runtime_settings(settings: Settings, sqlite_url: str, redis_server_url: str) -> Settings:
    return settings.model_copy(
        update={
            "database": settings.database.model_copy(update={"url": sqlite_url}),
            "redis": settings.redis.model_copy(
                update={"url": redis_server_url, "key_prefix": "runtime-stop"}
            ),
            "ami": settings.ami.model_copy(update={"enabled": False}),
            "agi": settings.agi.model_copy(update={"port": 0}),
            "http": settings.http.model_copy(update={"port": 0}),
            "paths": settings.paths.model_copy(
                update={"config": SHIPPED_CONFIG, "menus": SHIPPED_CONFIG / "menus"}
            ),
        }
    )


@pytest.fixture
async def runtime(runtime_settings: Settings, redis: aioredis.Redis) -> AsyncIterator[Runtime]:
    # The router and the IVR hold the caller; the stuck part is started last (an extra, after
    # the controller's parts), so it is the first to stop in reverse order.
    STUCK.clear()
    rt = Runtime(
        runtime_settings,
        component_stop_s=COMPONENT_STOP_S,
        clock=ManualClock(local("2026-11-24 10:00")),  # office hours
        extras=(stuck_part,),
    )
    await rt.start()
    try:
        yield rt
    finally:
        for stuck in STUCK:
            stuck.release.set()
        await rt.stop()


def agi_port(rt: Runtime) -> int:
    assert rt.controller is not None and rt.controller.ivr.agi_port is not None
    return rt.controller.ivr.agi_port


async def test_stop_hands_a_queued_caller_back_first_and_returns_within_its_bound(
    runtime: Runtime,
) -> None:
    # Polish (1), then "other matters" (0) in the main menu: the caller waits in the router.
    call = AsteriskSideCall(agi_port(runtime), uniqueid="1795527000.95", keys=["1", "0"])
    caller = asyncio.create_task(call.run())
    assert runtime.controller is not None
    router = runtime.controller.router.router
    try:
        await until(lambda: any(c.startswith("WAIT FOR DIGIT") for c in call.commands), 15)
        call_id = call.variables["KCK_CALL_ID"]
        assert (await router.call_state(call_id) or {}).get("state") == "waiting"

        loop = asyncio.get_running_loop()
        began = loop.time()
        stopping = asyncio.create_task(runtime.stop())
        await until(lambda: call.ended, STOP_HANDBACK_S + STRAGGLER_GRACE_S + 5)
        handed_back = loop.time() - began
        # what Runtime.stop documents: the hand-back, then each of 3 components at worst
        bound = STOP_HANDBACK_S + STRAGGLER_GRACE_S + 3 * (COMPONENT_STOP_S + COMPONENT_CANCEL_S)
        await asyncio.wait({stopping}, timeout=bound + 5)
        assert stopping.done(), "Runtime.stop() did not return"
        took = loop.time() - began
    finally:
        call.hang_up()
        await asyncio.wait({caller})
    assert call.variables.get("KCK_AGI_FAILURE") == "shutdown" and call.dialplan_falls_back
    assert handed_back < STOP_HANDBACK_S
    assert STUCK[0].stop_began  # it was stopped (and given up on), after the caller left
    assert await router.call_state(call_id) is None
    # Generous: the bound Runtime.stop documents, plus slack for closing Redis and the database.
    assert took < bound + 2.0
