"""The process's one pub/sub connection shared by its live subscriptions (`kck.live_channels`):
one connection however many subscribe, order per channel, subscriptions leaving and coming
back, a reconnect, and a slow consumer that holds nobody up."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
import redis.asyncio as aioredis

from kck.bus import RESUBSCRIBED, Backoff, EventBus, LiveSubscription, NotSubscribed
from kck.live_channels import LiveChannels

QUICK = Backoff(first_s=0.001, max_s=0.004)


async def _pubsub_clients(redis: aioredis.Redis) -> list[dict[str, Any]]:
    """The pub/sub connections Redis has now (a killed one may take a moment to go)."""
    return [c for c in await redis.client_list(_type="pubsub") if int(c.get("sub", 0)) > 0]


async def _next(live: LiveSubscription) -> tuple[str, dict[str, Any]]:
    return await asyncio.wait_for(anext(live), 5)


async def test_many_subscriptions_share_one_connection_and_it_closes_with_the_last(
    redis: aioredis.Redis,
) -> None:
    bus = EventBus(redis, prefix="lc1")
    desks = [await bus.subscription(f"agent:a{n}").open() for n in range(20)]
    boards = [await bus.subscription("agents").open() for _ in range(3)]
    clients = await _pubsub_clients(redis)
    assert [int(c["sub"]) for c in clients] == [21]  # 20 desks' channels + `agents`, once
    assert (
        dict(await redis.pubsub_numsub(bus.channel("agents")))[bus.channel("agents").encode()] == 1
    )
    assert sorted(bus.live.channels) == sorted(
        [bus.channel(f"agent:a{n}") for n in range(20)] + [bus.channel("agents")]
    )
    assert await bus.broadcast("agents", "agent_state", {"agent": "a3"}) == 1
    for board in boards:  # decoded once, handed to each
        assert await _next(board) == ("agent_state", {"agent": "a3"})
    for live in (*desks, *boards):
        await live.close()
    assert await _pubsub_clients(redis) == []
    assert bus.live.channels == ()


async def test_each_channel_keeps_its_order_for_every_subscription(redis: aioredis.Redis) -> None:
    bus = EventBus(redis, prefix="lc2")
    ala = [await bus.subscription("agent:ala").open() for _ in range(2)]
    both = await bus.subscription("agent:ala", "agent:ola").open()
    ola = await bus.subscription("agent:ola").open()
    async with redis.pipeline(transaction=False) as pipe:  # interleaved, as the router's runs
        for n in range(50):
            for who in ("ala", "ola"):
                body = {"type": "agent_state", "data": {"agent": who, "n": n}}
                pipe.publish(bus.channel(f"agent:{who}"), json.dumps(body))
        await pipe.execute()
    for live, who in ((ala[0], "ala"), (ala[1], "ala"), (ola, "ola")):
        got = [await _next(live) for _ in range(50)]
        assert [(d["agent"], d["n"]) for _, d in got] == [(who, n) for n in range(50)]
    mixed = [await _next(both) for _ in range(100)]
    for who in ("ala", "ola"):
        assert [d["n"] for _, d in mixed if d["agent"] == who] == list(range(50))
    for live in (*ala, both, ola):
        await live.close()


async def test_a_desk_that_leaves_is_unsubscribed_and_the_others_go_on(
    redis: aioredis.Redis,
) -> None:
    bus = EventBus(redis, prefix="lc3")
    leaving = await bus.subscription("agent:ala").open()
    staying = await bus.subscription("agent:ola").open()
    await leaving.close()
    with pytest.raises(StopAsyncIteration):
        await anext(leaving)  # its `async for` ends
    numsub = dict(await redis.pubsub_numsub(bus.channel("agent:ala"), bus.channel("agent:ola")))
    assert numsub == {bus.channel("agent:ala").encode(): 0, bus.channel("agent:ola").encode(): 1}
    assert await bus.broadcast("agent:ala", "offer", {"n": 1}) == 0
    await bus.broadcast("agent:ola", "offer", {"n": 2})
    assert await _next(staying) == ("offer", {"n": 2})
    # the same agent's desk opened again: its channel is subscribed again
    back = await bus.subscription("agent:ala").open()
    await bus.broadcast("agent:ala", "offer", {"n": 3})
    assert await _next(back) == ("offer", {"n": 3})
    with pytest.raises(RuntimeError, match="closed"):
        await leaving.open()  # a closed subscription is not reopened: make a new one
    await back.close()
    await staying.close()


async def test_a_desk_reloading_leaves_and_joins_its_channel_at_once(
    redis: aioredis.Redis,
) -> None:
    bus = EventBus(redis, prefix="lc4")
    keeper = await bus.subscription("agents").open()  # keeps the connection up
    for n in range(5):
        old = await bus.subscription("agent:ala").open()
        new = bus.subscription("agent:ala", ready_within_s=2)
        # another desk opening meanwhile holds the connection's commands: the reloading desk
        # leaves and joins before its UNSUBSCRIBE could be sent (so it is never sent)
        other = bus.subscription(f"agent:o{n}", ready_within_s=2)
        await asyncio.gather(other.open(), old.close(), new.open())
        assert new.subscribed
        await bus.broadcast("agent:ala", "offer", {"n": 1})
        assert await _next(new) == ("offer", {"n": 1})
        await new.close()
        await other.close()
    # and the other way round: the UNSUBSCRIBE is out when the desk is back
    old = await bus.subscription("agent:ala").open()
    new = bus.subscription("agent:ala", ready_within_s=2)
    await asyncio.gather(old.close(), new.open())
    await bus.broadcast("agent:ala", "offer", {"n": 2})
    assert await _next(new) == ("offer", {"n": 2})
    await new.close()
    await keeper.close()


async def test_a_killed_connection_is_made_again_and_every_subscription_is_told(
    redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus(redis, prefix="lc5", live=LiveChannels(redis, backoff=QUICK, poll_s=0.05))
    desks = [await bus.subscription(f"agent:a{n}").open() for n in range(5)]
    board = await bus.subscription("agents", "stats").open()
    with caplog.at_level(logging.INFO, logger="kck.bus"):
        await redis.client_kill_filter(_type="pubsub")
        for n, desk in enumerate(desks):
            kind, gap = await _next(desk)
            assert (kind, gap["channels"]) == (RESUBSCRIBED, [bus.channel(f"agent:a{n}")])
        kind, gap = await _next(board)
        assert (kind, gap["channels"]) == (
            RESUBSCRIBED,
            [bus.channel("agents"), bus.channel("stats")],
        )
    assert all(live.subscribed for live in (*desks, board))
    for n in range(5):
        await bus.broadcast(f"agent:a{n}", "offer", {"n": n})
    await bus.broadcast("stats", "queue_stats", {"waiting": 1})
    assert [await _next(desk) for desk in desks] == [("offer", {"n": n}) for n in range(5)]
    assert await _next(board) == ("queue_stats", {"waiting": 1})
    lost = [r for r in caplog.records if "lost" in r.getMessage()]
    assert len(lost) == 1 and lost[0].levelno == logging.WARNING  # once, not once per desk
    assert any("back after" in r.getMessage() for r in caplog.records)
    assert len(await _pubsub_clients(redis)) == 1
    for live in (*desks, board):
        await live.close()


async def test_a_slow_consumer_loses_its_own_oldest_and_holds_nobody_up(
    redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus(redis, prefix="lc6")
    slow = await bus.subscription("agents", backlog=5).open()  # never read while it happens
    quick = await bus.subscription("agents").open()
    desk = await bus.subscription("agent:ala").open()
    with caplog.at_level(logging.WARNING, logger="kck.bus"):
        for n in range(50):
            await bus.broadcast("agents", "agent_state", {"n": n})
        await bus.broadcast("agent:ala", "offer", {"n": 0})
        assert [(await _next(quick))[1]["n"] for _ in range(50)] == list(range(50))
        assert await _next(desk) == ("offer", {"n": 0})
    assert [(await _next(slow))[1]["n"] for _ in range(5)] == list(range(45, 50))  # the newest
    behind = [r for r in caplog.records if "behind" in r.getMessage()]
    assert len(behind) == 1 and bus.channel("agents") in behind[0].getMessage()
    for live in (slow, quick, desk):
        await live.close()


async def test_a_subscription_redis_does_not_acknowledge_in_time_is_an_error() -> None:
    never = _NeverAnswers()
    hub = LiveChannels(never, backoff=QUICK, poll_s=0.05)
    with pytest.raises(NotSubscribed, match="lc7:live:x"):
        await hub.subscription(["lc7:live:x"], ready_within_s=0.05).open()
    assert never.attempts >= 1
    assert hub.channels == ()  # a subscription that gave up leaves


class _SwallowingPubSub:
    """redis-py at its worst: a cancel landing while a read times out becomes a normal return;
    and a connection it made again by itself acknowledges the channels a second time."""

    def __init__(self, acknowledge_twice: bool = False) -> None:
        self.acks: list[str] = []
        self.acknowledge_twice = acknowledge_twice
        self.closed = False

    async def subscribe(self, *channels: str) -> None:
        self.acks += channels
        if self.acknowledge_twice:
            self.acks += channels
            self.acknowledge_twice = False

    async def unsubscribe(self, *_channels: str) -> None:
        pass

    async def get_message(self, *, timeout: float | None) -> dict[str, Any] | None:
        if self.acks:
            return {"type": "subscribe", "channel": self.acks.pop(0).encode(), "data": 1}
        try:
            await asyncio.sleep(timeout or 0)
        except asyncio.CancelledError:
            return None
        return None

    async def aclose(self) -> None:
        self.closed = True


class _SwallowingRedis:
    def __init__(self, acknowledge_twice: bool = False) -> None:
        self.made: list[_SwallowingPubSub] = []
        self.acknowledge_twice = acknowledge_twice

    def pubsub(self) -> _SwallowingPubSub:
        self.made.append(_SwallowingPubSub(self.acknowledge_twice and not self.made))
        return self.made[-1]


class _Unreachable(_SwallowingPubSub):
    async def subscribe(self, *_channels: str) -> None:
        raise ConnectionError("Connection refused")


class _NeverAnswers:
    def __init__(self) -> None:
        self.attempts = 0

    def pubsub(self) -> _Unreachable:
        self.attempts += 1
        return _Unreachable()


async def test_a_cancel_swallowed_inside_redis_py_still_stops_the_reader(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = _SwallowingRedis()
    hub = LiveChannels(fake, poll_s=0.05)
    live = await hub.subscription(["lc8:live:x"]).open()
    consumer = asyncio.create_task(anext(live))
    started = asyncio.get_running_loop().time()
    with caplog.at_level(logging.ERROR, logger="kck.stopping"):
        await live.close()  # the last one: the reader stops and the connection is closed
    assert asyncio.get_running_loop().time() - started < 1.0
    assert [p.closed for p in fake.made] == [True]
    assert not [r for r in caplog.records if "did not stop" in r.getMessage()]
    with pytest.raises(StopAsyncIteration):
        await consumer


async def test_redis_py_subscribing_again_by_itself_counts_as_a_gap() -> None:
    fake = _SwallowingRedis(acknowledge_twice=True)
    hub = LiveChannels(fake, backoff=QUICK, poll_s=0.01)
    live = await hub.subscription(["lc9:live:x"]).open()
    kind, gap = await _next(live)
    assert (kind, gap["channels"]) == (RESUBSCRIBED, ["lc9:live:x"])
    assert live.subscribed and len(fake.made) == 2  # a fresh connection, not redis-py's
    await live.close()
