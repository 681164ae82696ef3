"""The router's script writes a run's statistics and live messages at its end (issue 20, point 6):
the same events, live messages and counters as writing each at once.

The script "at once" is made from the current one by putting the direct writes back (each
`live` a PUBLISH, each `count` an HINCRBY and an EXPIRE, the agent's state read back from Redis),
so the comparison follows the script as it changes. Both scripts run the same operations at the
same (manual) time on their own key prefix; what their subscribers receive, their streams and
their counters must be equal.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from kck.bus import Subscription
from kck.clock import ManualClock
from queues.model import AgentState, EndCause, TransferKind, TransferTarget
from queues.router import Router
from queues.script_batches import ScriptBatches
from queues.store import ROUTER_LUA, STATS_TTL_S
from tests.queues.conftest import make_config, request
from tests.redis_replies import stream_events, text

AGENTS = ("ala", "bob", "cyd", "dan")


def _between(source: str, start: str, end: str) -> tuple[int, int]:
    begin = source.index(start)
    return begin, source.index(end, begin) + len(end)


def unbatched_script() -> str:
    """router.lua with every live message published and every count's key given its lifetime
    where it is made."""
    lua = ROUTER_LUA
    begin, end = _between(lua, "local LIVE_CHANNELS, LIVE  -- per run", "\nend\nlocal function nz")
    lua = (
        lua[:begin]
        + "local LIVE_CHANNELS, LIVE\n"
        + "local function live(channel, typ, json)\n"
        + "  redis.call('PUBLISH', P .. ':live:' .. channel,"
        + " '{\"type\":' .. cjson.encode(typ) .. ',\"data\":' .. json .. '}')\n"
        + "end\nlocal function flush_live() end\nlocal function nz"
        + lua[end:]
    )
    old_count = (
        "  redis.call('HINCRBY', key, field, by)\n"
        "  if not EXPIRING[key] then\n"
        "    EXPIRING[key] = true\n"
        "    redis.call('EXPIRE', key, STATS_TTL)\n"
        "  end\n"
    )
    assert old_count in lua
    lua = lua.replace(
        old_count,
        "  redis.call('HINCRBY', key, field, by)\n  redis.call('EXPIRE', key, STATS_TTL)\n",
    )
    assert "AGENT_STATE[name] or " in lua
    return lua.replace("AGENT_STATE[name] or ", "")


async def scenario(router: Router, clock: ManualClock, requests: list[Any]) -> list[Any]:
    """Logins, matches, answers, a no-answer, pauses, a wrap-up ended by time, transfers, a
    callback, abandons; every operation's answer and the counters after it."""
    taxes, roads, waste, english, general, late = requests
    out: list[Any] = []

    async def step(op: Callable[[], Awaitable[Any]]) -> None:
        out.append(await op())
        out.append(await counters(router.store.redis, router.store.prefix))  # after each step
        clock.advance(7)

    await step(lambda: router.enqueue(taxes))  # waits for ala
    for name in AGENTS:  # ala is offered the call as she logs in: 0 ms available, counted
        await step(functools.partial(router.agent_login, name, paused=name == "dan"))
    await step(lambda: router.offer_answered(f"{taxes.call_id}-1"))
    await step(lambda: router.enqueue(roads))  # bob
    await step(lambda: router.offer_not_answered(f"{roads.call_id}-1"))  # bob paused, requeued
    await step(lambda: router.set_agent_state("dan", AgentState.AVAILABLE))  # dan takes roads
    await step(lambda: router.enqueue(waste))  # nobody free for waste: waits
    await step(lambda: router.set_agent_state("bob", AgentState.PAUSED, "lunch"))
    await step(lambda: router.set_agent_state("bob", AgentState.AVAILABLE))
    await step(lambda: router.call_ended(taxes.call_id, EndCause.COMPLETED))  # ala wraps up
    await step(lambda: router.offer_answered(f"{roads.call_id}-2"))
    await step(
        lambda: router.transfer(
            roads.call_id, "dan", TransferTarget(TransferKind.SKILL, "taxes"), {"note": "x"}
        )
    )
    clock.advance(40)
    await step(router.tick)  # ala's wrap-up ends: she takes what waits for her
    await step(lambda: router.enqueue(english))
    await step(lambda: router.request_callback(english.call_id, "+48126160000"))
    await step(lambda: router.enqueue(general))
    await step(lambda: router.call_ended(general.call_id, EndCause.CALLER_HANGUP))
    await step(lambda: router.device_state("PJSIP/101", "INUSE"))
    await step(lambda: router.enqueue(late))
    clock.advance(100)
    await step(router.tick)  # escalation
    await step(lambda: router.call_ended(waste.call_id, EndCause.VOICEMAIL))
    for name in AGENTS:
        status = await router.agent_status(name)
        out.append(None if status is None else status.state)
    return out


async def received(live: Subscription, redis: aioredis.Redis, channel: str) -> list[Any]:
    """Everything the subscription got, up to a last message published now."""
    await redis.publish(channel, json.dumps({"type": "end", "data": {}}))
    got = []
    while (item := await asyncio.wait_for(anext(live), 5))[0] != "end":
        got.append(item)
    return got


async def counters(redis: aioredis.Redis, prefix: str) -> dict[str, Any]:
    out = {}
    for raw_key in await redis.keys(f"{prefix}:q:st:*"):
        key = text(raw_key)
        fields = {text(k): text(v) for k, v in (await redis.hgetall(key)).items()}
        ttl = await redis.ttl(key)
        # the TTL counts down in Redis's real time: "about two days" is what must be equal
        lifetime = "two days" if STATS_TTL_S - 600 < ttl <= STATS_TTL_S else ttl
        out[key.removeprefix(prefix)] = (fields, lifetime)
    return out


async def test_batched_statistics_and_live_messages_are_what_direct_writes_gave(
    redis: aioredis.Redis,
) -> None:
    clocks = {"old": ManualClock(), "new": ManualClock()}
    routers = {p: Router(redis, make_config(), prefix=p, clock=clocks[p]) for p in clocks}
    routers["old"].store.scripts = ScriptBatches(redis, unbatched_script())
    clock = clocks["new"]
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
        p: {c: await Subscription(redis, [f"{p}:live:{c}"]).open() for c in channels}
        for p in routers
    }
    raw_messages: dict[str, int] = {}
    counting = redis.pubsub()
    await counting.psubscribe("old:live:*", "new:live:*")
    try:
        answers = {p: await scenario(routers[p], clocks[p], requests) for p in routers}
        got = {
            p: {c: await received(live, redis, f"{p}:live:{c}") for c, live in subs.items()}
            for p, subs in subscriptions.items()
        }
        while (message := await counting.get_message(timeout=1)) is not None:
            if message["type"] == "pmessage":
                prefix = text(message["channel"]).split(":")[0]
                raw_messages[prefix] = raw_messages.get(prefix, 0) + 1
    finally:
        for subs in subscriptions.values():
            for live in subs.values():
                await live.close()
        await counting.aclose()

    assert answers["new"] == answers["old"]
    assert got["new"] == got["old"]
    assert sum(len(m) for m in got["new"].values()) > 40  # the scenario says plenty
    # fewer PUBLISHes for as many messages (each channel's `end` counted on both sides)
    assert raw_messages["new"] < raw_messages["old"]
    for stream in ("queues", "offers"):
        old = [(e.type, e.data) for e in await stream_events(redis, f"old:stream:{stream}")]
        new = [(e.type, e.data) for e in await stream_events(redis, f"new:stream:{stream}")]
        assert new == old and len(new) > 5
    old_counters, new_counters = await counters(redis, "old"), await counters(redis, "new")
    assert new_counters == old_counters
    assert len(new_counters) >= 6
    assert all(lifetime == "two days" for _, lifetime in new_counters.values())


def test_the_statistics_lifetime_is_the_scripts() -> None:
    assert f"\nlocal STATS_TTL = {STATS_TTL_S}\n" in ROUTER_LUA
