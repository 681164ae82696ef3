"""/health tells the truth at the moment it is asked: a paused or killed Redis makes it answer
503 naming Redis (and the router that needs it), and kck's private redis-server, killed, is
started again by kck and reported. A real `Runtime` on its own private redis-server, real HTTP."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from kck.clock import ManualClock
from kck.config_files import SHIPPED_CONFIG
from kck.runtime import Runtime
from kck.settings import Settings
from tests.ivr.support import local
from tests.polling import until_true

MONITORING_TOKEN = "health-probes-token"


@pytest.fixture
async def runtime(settings: Settings, sqlite_url: str) -> AsyncIterator[Runtime]:
    assert settings.redis.url is None  # kck starts its private redis-server
    rt = Runtime(
        settings.model_copy(
            update={
                "database": settings.database.model_copy(update={"url": sqlite_url}),
                "ami": settings.ami.model_copy(update={"enabled": False}),
                "agi": settings.agi.model_copy(update={"port": 0}),
                "http": settings.http.model_copy(
                    update={"port": 0, "monitoring_token": SecretStr(MONITORING_TOKEN)}
                ),
                "paths": settings.paths.model_copy(
                    update={"config": SHIPPED_CONFIG, "menus": SHIPPED_CONFIG / "menus"}
                ),
            }
        ),
        clock=ManualClock(local("2026-11-24 10:00")),
    )
    await rt.start()
    try:
        yield rt
    finally:
        await rt.stop()


async def get_health(rt: Runtime) -> tuple[int, dict[str, Any]]:
    assert rt.controller is not None
    url = rt.controller.web.url + "health"
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http,
        # the parts' detail is for the monitoring token (or a supervisor); the bare status for all
        http.get(url, headers={"Authorization": f"Bearer {MONITORING_TOKEN}"}) as response,
    ):
        return response.status, await response.json()


def redis_pid(health: dict[str, Any]) -> int:
    pid = health["parts"]["redis"]["pid"]
    assert isinstance(pid, int)
    return pid


async def test_a_paused_redis_makes_health_answer_503_naming_it(runtime: Runtime) -> None:
    status, health = await get_health(runtime)
    assert status == 200, health
    assert health["down"] == [] and health["parts"]["redis"]["private"] is True
    pid = redis_pid(health)
    os.kill(pid, signal.SIGSTOP)
    try:
        status, health = await get_health(runtime)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert status == 503
    assert "redis" in health["down"] and "router" in health["down"]
    assert health["parts"]["redis"]["up"] is False
    assert "no answer within" in health["parts"]["redis"]["error"]
    assert health["parts"]["database"]["up"] is True
    status, health = await get_health(runtime)  # resumed: healthy again, nothing restarted
    assert status == 200, health
    assert health["parts"]["redis"]["restarts"] == 0


async def test_a_killed_private_redis_is_started_again_reported_and_the_router_works(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    assert runtime.controller is not None
    router = runtime.controller.router.router
    await router.agent_login("anowak")
    _, health = await get_health(runtime)
    first = redis_pid(health)
    caplog.set_level(logging.WARNING, logger="kck.redis_server")
    os.kill(first, signal.SIGKILL)

    async def healthy_again() -> bool:
        status, health = await get_health(runtime)
        return status == 200 and health["parts"]["redis"]["pid"] != first

    await until_true(healthy_again, 20)
    _, health = await get_health(runtime)
    redis = health["parts"]["redis"]
    assert redis["restarts"] == 1 and redis["last_exit"] == f"(pid {first}) was killed by SIGKILL"
    assert health["parts"]["router"]["up"] is True
    assert any("killed by SIGKILL; starting it again" in r.getMessage() for r in caplog.records)
    # the router's state came back with the server (append-only file) and its script runs
    assert (await router.store.agent("anowak") or {}).get("state")
    assert await router.agent_login("pkowalski") == []  # nobody waits: no offer
    assert (await router.store.agent("pkowalski") or {}).get("state") == "available"
