"""The bus's one live subscription: readiness, decoding, resubscription, cancellation."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from kck.bus import (
    RESUBSCRIBED,
    Backoff,
    EventBus,
    NotSubscribed,
    PubSubConnection,
    Subscription,
)
from kck.live_channels import LiveChannels

QUICK = Backoff(first_s=0.001, max_s=0.004)


async def test_entered_subscription_is_acknowledged_by_redis_and_gone_after_exit(
    redis: aioredis.Redis,
) -> None:
    bus = EventBus(redis, prefix="s1")
    channel = bus.channel("board")
    async with bus.subscription("board") as live:
        assert live.subscribed
        assert dict(await redis.pubsub_numsub(channel))[channel.encode()] == 1
        assert await bus.broadcast("board", "queue_stats", {"waiting": 3}) == 1
        assert await asyncio.wait_for(anext(live), 5) == ("queue_stats", {"waiting": 3})
    assert not live.subscribed
    assert dict(await redis.pubsub_numsub(channel))[channel.encode()] == 0
    with pytest.raises(StopAsyncIteration):
        await anext(live)  # a closed subscription ends its `async for`


async def test_malformed_messages_are_dropped_with_a_warning_naming_the_channel(
    redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus(redis, prefix="s2")
    channel = bus.channel("board")
    async with bus.subscription("board") as live:
        with caplog.at_level(logging.WARNING, logger="kck.bus"):
            for raw in ("not json", '{"type": "x"}', '{"type": 1, "data": {}}', '["x", {}]'):
                await redis.publish(channel, raw)
            await bus.broadcast("board", "fine", {"n": 1})
            assert await asyncio.wait_for(anext(live), 5) == ("fine", {"n": 1})
    dropped = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert len(dropped) == 4
    assert all(channel in message for message in dropped)


async def test_an_array_of_messages_is_handed_on_one_by_one_in_its_order(
    redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    # the router's script sends what one run says on a channel as one array (flush_live)
    bus = EventBus(redis, prefix="s2b")
    channel = bus.channel("agent:ala")
    batch = [
        {"type": "agent_state", "data": {"state": "available"}},
        {"type": "bad"},
        {"type": "agent_state", "data": {"state": "offered"}},
        {"type": "offer", "data": {"offer_id": "c1-1"}},
    ]
    async with bus.subscription("agent:ala") as live:
        with caplog.at_level(logging.WARNING, logger="kck.bus"):
            await redis.publish(channel, json.dumps(batch))
            await bus.broadcast("agent:ala", "after", {"n": 1})
            got = [await asyncio.wait_for(anext(live), 5) for _ in range(4)]
    assert got == [
        ("agent_state", {"state": "available"}),
        ("agent_state", {"state": "offered"}),
        ("offer", {"offer_id": "c1-1"}),
        ("after", {"n": 1}),
    ]
    dropped = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert len(dropped) == 1 and channel in dropped[0]


async def test_a_killed_connection_is_subscribed_again_and_says_so(
    redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    # the process's shared connection: its pauses and polling are its own, not a subscription's
    bus = EventBus(redis, prefix="s3", live=LiveChannels(redis, backoff=QUICK, poll_s=0.05))
    async with bus.subscription("board") as live:
        with caplog.at_level(logging.INFO, logger="kck.bus"):
            await redis.client_kill_filter(_type="pubsub")
            kind, gap = await asyncio.wait_for(anext(live), 10)
        assert (kind, gap["channels"]) == (RESUBSCRIBED, [bus.channel("board")])
        assert live.subscribed
        await bus.broadcast("board", "after", {"n": 2})
        assert await asyncio.wait_for(anext(live), 5) == ("after", {"n": 2})
    lost = [r for r in caplog.records if "lost" in r.getMessage()]
    assert len(lost) == 1 and lost[0].levelno == logging.WARNING


class _Unreachable:
    """A pub/sub connection to a Redis that does not answer."""

    async def subscribe(self, *_channels: str) -> None:
        raise RedisConnectionError("Connection refused")

    async def get_message(self, *, timeout: float) -> dict[str, Any] | None:
        raise RedisConnectionError("Connection refused")

    async def aclose(self) -> None:
        pass


class _FlakyRedis:
    """The test Redis, unreachable for the first `failures` attempts to subscribe."""

    def __init__(self, redis: aioredis.Redis, failures: int) -> None:
        self.redis = redis
        self.failures = failures
        self.attempts = 0

    def pubsub(self) -> PubSubConnection:
        self.attempts += 1
        if self.attempts <= self.failures:
            return _Unreachable()
        return self.redis.pubsub()


async def test_an_outage_is_logged_once_however_many_attempts_it_takes(
    redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = _FlakyRedis(redis, failures=8)
    with caplog.at_level(logging.INFO, logger="kck.bus"):
        async with Subscription(flaky, ["s4:live:x"], backoff=QUICK) as live:
            assert live.subscribed and flaky.attempts == 9
    messages = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "kck.bus"]
    assert [level for level, _ in messages] == [logging.WARNING, logging.INFO]
    assert "s4:live:x lost" in messages[0][1] and "back after" in messages[1][1]


def test_the_pause_between_attempts_doubles_up_to_its_bound() -> None:
    pauses = Backoff(first_s=0.1, max_s=1.0).pauses()
    assert [round(next(pauses), 3) for _ in range(7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]


async def test_no_acknowledgement_in_time_is_an_error_naming_the_channel(
    redis: aioredis.Redis,
) -> None:
    never = _FlakyRedis(redis, failures=10**9)
    subscription = Subscription(never, ["s5:live:x"], backoff=QUICK, ready_within_s=0.05)
    with pytest.raises(NotSubscribed, match="s5:live:x"):
        await subscription.open()
    assert not subscription.subscribed


class _SwallowingPubSub:
    """redis-py at its worst: a cancel landing while a read times out becomes a normal return."""

    def __init__(self) -> None:
        self.channels: tuple[str, ...] = ()
        self.closed = False

    async def subscribe(self, *channels: str) -> None:
        self.channels = channels

    async def get_message(self, timeout: float) -> dict[str, Any] | None:
        if self.channels:
            channel, self.channels = self.channels[0], ()
            return {"type": "subscribe", "channel": channel.encode(), "data": 1}
        try:
            await asyncio.sleep(timeout)
        except asyncio.CancelledError:
            return None
        return None

    async def aclose(self) -> None:
        self.closed = True


class _SwallowingRedis:
    def __init__(self) -> None:
        self.made: list[_SwallowingPubSub] = []

    def pubsub(self) -> _SwallowingPubSub:
        self.made.append(_SwallowingPubSub())
        return self.made[-1]


async def test_a_cancel_swallowed_inside_redis_py_still_ends_the_subscription(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = _SwallowingRedis()
    live = await Subscription(fake, ["s6:live:x"], poll_s=0.05).open()
    consumer = asyncio.create_task(anext(live))
    started = asyncio.get_running_loop().time()
    with caplog.at_level(logging.ERROR, logger="kck.stopping"):
        await live.close()
    assert asyncio.get_running_loop().time() - started < 1.0  # at the first check, not by force
    assert [p.closed for p in fake.made] == [True]
    assert not [r for r in caplog.records if "did not stop" in r.getMessage()]
    with pytest.raises(StopAsyncIteration):
        await consumer  # the consumer is told, not left waiting
