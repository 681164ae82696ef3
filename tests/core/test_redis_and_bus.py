"""The private Redis server and the event bus, against real redis-server processes."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from kck.bus import BusEvent, EventBus, GroupBacklog
from kck.redis_server import PrivateRedis, RedisUnavailable, connect
from kck.writer_state import WAITING, WRITING, Backoff, WriterState
from tests.polling import until


async def test_private_redis_starts_answers_and_stops(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path / "redis", persistent=False)
    url = await server.start()
    client = await connect(url)
    try:
        await client.set("k", "v")
        assert await client.get("k") == b"v"
    finally:
        await client.aclose()
        await server.stop()
    with pytest.raises(RedisUnavailable):
        await connect(url)


async def test_wrong_redis_url_is_one_clear_error() -> None:
    with pytest.raises(
        RedisUnavailable, match=r"Redis at redis://127\.0\.0\.1:1/0 does not answer"
    ):
        await connect("redis://127.0.0.1:1/0")


async def test_stream_event_is_delivered_and_acknowledged(redis: aioredis.Redis) -> None:
    bus = EventBus(redis, prefix="t1")
    got: list[BusEvent] = []
    done = asyncio.Event()

    async def handler(event: BusEvent) -> None:
        got.append(event)
        done.set()

    await bus.ensure_group("offers", "routers")
    task = asyncio.create_task(bus.consume("offers", "routers", "r1", handler, block_ms=50))
    await bus.publish("offers", "offer", {"call": "c1", "agent": "anna", "name": "Łukasz"})
    await asyncio.wait_for(done.wait(), 5)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert got[0].type == "offer" and got[0].data == {
        "call": "c1",
        "agent": "anna",
        "name": "Łukasz",
    }
    pending = await redis.xpending(bus.key("offers"), "routers")
    assert pending["pending"] == 0


async def test_event_whose_handler_failed_is_redelivered_to_the_next_consumer(
    redis: aioredis.Redis,
) -> None:
    bus = EventBus(redis, prefix="t2")
    await bus.ensure_group("calls", "g")
    await bus.publish("calls", "arrived", {"n": 1})

    failed = asyncio.Event()

    async def failing(_event: BusEvent) -> None:
        failed.set()
        raise RuntimeError("boom")

    first = asyncio.create_task(bus.consume("calls", "g", "dead", failing, block_ms=50))
    await asyncio.wait_for(failed.wait(), timeout=30)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert (await redis.xpending(bus.key("calls"), "g"))["pending"] == 1

    got: list[BusEvent] = []

    async def ok(event: BusEvent) -> None:
        got.append(event)

    second = asyncio.create_task(
        bus.consume("calls", "g", "alive", ok, block_ms=50, claim_idle_ms=100)
    )
    for _ in range(100):
        if got:
            break
        await asyncio.sleep(0.05)
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert [e.data for e in got] == [{"n": 1}]
    assert (await redis.xpending(bus.key("calls"), "g"))["pending"] == 0


async def test_batch_consumer_gets_events_in_stream_order_and_acknowledges_them_together(
    redis: aioredis.Redis,
) -> None:
    bus = EventBus(redis, prefix="t5")
    for n in range(7):
        await bus.publish("calls", "changed", {"n": n})
    batches: list[list[int]] = []

    async def handler(events: list[BusEvent]) -> None:
        batches.append([int(e.data["n"]) for e in events])

    task = asyncio.create_task(
        bus.consume_batches("calls", "g", "w", handler, count=3, block_ms=50, start="0")
    )
    for _ in range(100):
        if sum(map(len, batches)) == 7:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert (await redis.xpending(bus.key("calls"), "g"))["pending"] == 0


async def test_a_bad_event_in_a_batch_stays_pending_and_the_rest_are_written(
    redis: aioredis.Redis,
) -> None:
    bus = EventBus(redis, prefix="t6")
    for n in range(4):
        await bus.publish("calls", "changed", {"n": n})
    written: list[int] = []

    async def handler(events: list[BusEvent]) -> None:
        if any(e.data["n"] == 2 for e in events):
            raise ValueError("row 2 cannot be written")
        written.extend(int(e.data["n"]) for e in events)

    task = asyncio.create_task(
        bus.consume_batches("calls", "g", "w", handler, block_ms=50, start="0")
    )
    for _ in range(100):
        if len(written) == 3:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert written == [0, 1, 3]
    pending = await redis.xpending_range(bus.key("calls"), "g", min="-", max="+", count=10)
    assert len(pending) == 1


async def test_live_broadcast_reaches_listeners(redis: aioredis.Redis) -> None:
    bus = EventBus(redis, prefix="t3")
    received: list[tuple[str, dict[str, object]]] = []

    async with bus.subscription("board") as live:  # entered once Redis has acknowledged
        await bus.broadcast("board", "queue_stats", {"waiting": 3})
        received.append(await asyncio.wait_for(anext(live), 5))
    assert received == [("queue_stats", {"waiting": 3})]


async def test_more_concurrent_commands_than_pool_connections_wait_instead_of_failing(
    redis_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kck.redis_server

    monkeypatch.setattr(kck.redis_server, "POOL_CONNECTIONS", 4)
    client = await connect(redis_server_url)
    try:
        # 20 commands that each hold a connection for 0.1 s, with only 4 connections
        replies = await asyncio.gather(*(client.blpop([f"t-pool-{n}"], 0.1) for n in range(20)))
        assert replies == [None] * 20
        assert client.connection_pool.max_connections == 4
    finally:
        await client.aclose()


async def test_new_connections_do_not_read_the_redis_package_metadata_each(
    redis_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # redis-py looked its own version up on disk for every new connection (≈2 ms each: 0.4 s of
    # the event loop for the 200 connections a burst of 200 pops opened)
    import redis.utils

    looked_up: list[str] = []
    version = redis.utils.metadata.version

    def counting(name: str) -> str:
        looked_up.append(name)
        return version(name)

    monkeypatch.setattr(redis.utils.metadata, "version", counting)
    client = await connect(redis_server_url)
    try:
        await asyncio.gather(*(client.blpop([f"t-meta-{n}"], 0.05) for n in range(10)))
        assert len(client.connection_pool._available_connections) >= 10  # ten new ones
        assert looked_up == []
    finally:
        await client.aclose()


async def test_a_groups_backlog_says_how_far_behind_it_is_in_stream_time(
    redis: aioredis.Redis,
) -> None:
    bus = EventBus(redis, prefix="t7")
    assert await bus.backlog("calls", "writer") is None  # no stream, no group yet
    await bus.ensure_group("calls", "writer", "0")
    for ms in (1000, 3000, 6000):  # events published at 1 s, 3 s and 6 s (stream time)
        await redis.xadd(bus.key("calls"), {"type": "x", "data": "{}"}, id=f"{ms}-0")
    behind = await bus.backlog("calls", "writer")
    assert behind is not None and behind.unread and behind.pending == 0
    assert behind.behind_s == 5.0  # the oldest unhandled event is 5 s older than the newest
    reply = await redis.xreadgroup("writer", "w", {bus.key("calls"): ">"}, count=2)
    assert isinstance(reply, list)  # RESP2: [[stream, entries]] (RESP3 would be a dict)
    [(_key, entries)] = reply
    await redis.xack(bus.key("calls"), "writer", entries[1][0])  # the first stays pending
    behind = await bus.backlog("calls", "writer")
    assert behind is not None and behind.pending == 1 and behind.behind_s == 5.0
    await redis.xack(bus.key("calls"), "writer", entries[0][0])
    behind = await bus.backlog("calls", "writer")
    # only the newest is left to read: nothing older than it waits
    assert behind is not None and (behind.pending, behind.unread, behind.behind_s) == (0, True, 0)
    assert behind.unread_events == 1 and behind.oldest_age_s > 0  # published at 6 s in 1970
    await redis.xreadgroup("writer", "w", {bus.key("calls"): ">"})
    await redis.xack(bus.key("calls"), "writer", "6000-0")
    caught_up = await bus.backlog("calls", "writer")
    assert caught_up == GroupBacklog(pending=0, unread=False, behind_s=0.0)


async def test_a_writer_whose_database_is_away_retries_in_order_and_reads_nothing_new(
    redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus(redis, prefix="t8")
    for n in range(3):
        await bus.publish("calls", "changed", {"n": n})
    away = True
    attempts: list[list[int]] = []
    written: list[int] = []

    async def handler(events: list[BusEvent]) -> None:
        numbers = [int(e.data["n"]) for e in events]
        if away:
            attempts.append(numbers)
            raise ConnectionRefusedError("database away")
        written.extend(numbers)

    def bad_data(error: Exception) -> bool:
        return isinstance(error, ValueError)

    state = WriterState("test writer", lambda: datetime.now(UTC), Backoff(0.001, 0.004))
    caplog.set_level(logging.DEBUG)
    task = asyncio.create_task(
        bus.consume_batches(
            "calls", "g", "w", handler, block_ms=50, start="0", poison=bad_data, state=state
        )
    )
    try:
        await until(lambda: len(attempts) >= 4)
        for n in range(3, 5):
            await bus.publish("calls", "changed", {"n": n})
        await until(lambda: len(attempts) >= 12)
        backlog = await bus.backlog("calls", "g")
        # the batch read before stays pending; the later events are not even read
        assert backlog is not None and (backlog.pending, backlog.unread_events) == (3, 2)
        assert state.health()["state"] == WAITING and state.health()["attempts"] >= 6
        assert all(batch[0] == 0 for batch in attempts)  # always from the first not written
        away = False
        await until(lambda: len(written) == 5)
        assert state.health() == {"state": WRITING, "since": state.since.isoformat()}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert written == [0, 1, 2, 3, 4]
    assert (await redis.xpending(bus.key("calls"), "g"))["pending"] == 0
    assert not [r for r in caplog.records if r.exc_info]
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(":")[0] for r in warned] == ["test writer"]
