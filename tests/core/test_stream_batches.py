"""The ordered, batching stream sender the calls' history goes through, against a real Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import redis.asyncio as aioredis

from kck.stream_batches import StreamBatches
from tests.redis_replies import stream_events


def _ignore(_error: BaseException) -> None:
    return None


async def _on_stream(redis: aioredis.Redis, key: str) -> list[tuple[str, str]]:
    return [(event.type, event.data["call"]) for event in await stream_events(redis, key)]


async def test_events_of_many_calls_handed_in_together_share_one_round_trip_in_their_order(
    redis: aioredis.Redis,
) -> None:
    sender = StreamBatches(redis, "t:stream:queues")
    handed = [("call_arrived", "a"), ("call_arrived", "b"), ("call_progress", "a")]
    sent = [sender.publish(kind, {"call": call}, _ignore) for kind, call in handed]
    await asyncio.gather(*sent)
    later = sender.publish("call_progress", {"call": "b"}, _ignore)  # after the first went
    await later
    assert await _on_stream(redis, "t:stream:queues") == [*handed, ("call_progress", "b")]
    assert sender.round_trips == 2


async def test_events_handed_in_while_a_batch_may_be_out_keep_their_order(
    redis: aioredis.Redis,
) -> None:
    sender = StreamBatches(redis, "t:stream:queues")
    first = sender.publish("call_arrived", {"call": "a"}, _ignore)
    await asyncio.sleep(0)  # the sender has taken the first batch and is waiting for Redis
    rest = [sender.publish("call_progress", {"call": c}, _ignore) for c in "ab"]
    await asyncio.gather(first, *rest)
    assert await _on_stream(redis, "t:stream:queues") == [
        ("call_arrived", "a"),
        ("call_progress", "a"),
        ("call_progress", "b"),
    ]


async def test_each_event_that_cannot_be_sent_is_reported_and_the_sender_goes_on(
    tmp_path: Path, redis: aioredis.Redis
) -> None:
    away = aioredis.Redis(unix_socket_path=str(tmp_path / "no-redis.sock"))
    failed: list[str] = []

    def report(call: str) -> Callable[[BaseException], None]:
        def lost(error: BaseException) -> None:
            failed.append(call)
            raise RuntimeError("a report that fails must not stop the sender")

        return lost

    sender = StreamBatches(away, "t:stream:queues")
    done = [sender.publish("call_arrived", {"call": c}, report(c)) for c in "ab"]
    await asyncio.wait_for(asyncio.gather(*done), 10)
    assert failed == ["a", "b"]
    sender.redis = redis  # Redis is back: the next event goes
    await asyncio.wait_for(sender.publish("call_arrived", {"call": "c"}, _ignore), 10)
    assert await _on_stream(redis, "t:stream:queues") == [("call_arrived", "c")]
    await away.aclose()


async def test_an_event_sent_alone_is_on_the_stream_as_one_sent_in_a_batch(
    redis: aioredis.Redis,
) -> None:
    """Alone an event goes as a plain XADD, in a batch through a pipeline: the same entry."""
    data = {"call": "a", "path": [{"step_id": "welcome", "at": "2026-11-24T10:00:00+01:00"}]}
    alone, batched = StreamBatches(redis, "t:alone"), StreamBatches(redis, "t:batched")
    await alone.publish("call_progress", data, _ignore)
    await asyncio.gather(*(batched.publish("call_progress", data, _ignore) for _ in range(2)))
    assert (alone.round_trips, batched.round_trips) == (1, 1)
    one, two = await stream_events(redis, "t:alone"), await stream_events(redis, "t:batched")
    assert len(one) == 1 and len(two) == 2
    assert (one[0].type, one[0].data) == (two[0].type, two[0].data) == (two[1].type, two[1].data)
    assert one[0].data == data


async def test_an_event_refused_by_redis_is_reported_alone_as_in_a_batch(
    redis: aioredis.Redis,
) -> None:
    await redis.set("t:not-a-stream", "x")  # XADD answers WRONGTYPE
    sender = StreamBatches(redis, "t:not-a-stream")
    failed: list[tuple[str, str]] = []

    def report(how: str) -> Callable[[BaseException], None]:
        return lambda error: failed.append((how, type(error).__name__))

    await sender.publish("call_arrived", {"call": "a"}, report("alone"))
    await asyncio.gather(
        *(sender.publish("call_arrived", {"call": c}, report("batched")) for c in "bc")
    )
    refused = ("batched", "ResponseError")
    assert failed == [("alone", "ResponseError"), refused, refused]
