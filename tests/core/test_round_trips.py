"""kck.round_trips: commands made while one is out share a pipeline; a refused batch retried once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from kck.round_trips import SharedRoundTrips


def _incr(redis: aioredis.Redis, *, refused: Any, before_retry: Any) -> SharedRoundTrips[str]:
    async def direct(key: str) -> Any:
        return await redis.incr(key)

    def add(pipe: Pipeline, key: str) -> None:
        pipe.incr(key)

    return SharedRoundTrips(
        redis, direct, add, name="test-incr", refused=refused, before_retry=before_retry
    )


async def test_a_refused_batch_is_sent_again_after_before_retry_and_its_failure_told(
    redis: aioredis.Redis,
) -> None:
    retries: list[str] = []

    async def fix() -> None:
        retries.append("fixed")

    # replies of 2 are "refused" once: those commands go again after `fix` (and count on)
    shared = _incr(redis, refused=lambda reply: reply == 2, before_retry=fix)
    first = asyncio.create_task(shared.run("k"))
    await asyncio.sleep(0)
    later = [asyncio.create_task(shared.run("k")) for _ in range(3)]
    assert await first == 1
    # the batch's first reply (2) is refused: that command alone goes again, after `fix`
    assert [await t for t in later] == [5, 3, 4]
    assert retries == ["fixed"] and shared.round_trips == 3

    async def broken() -> None:
        raise ConnectionError("could not fix")

    failing = _incr(redis, refused=lambda reply: True, before_retry=broken)
    first = asyncio.create_task(failing.run("j"))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(failing.run("j"))
    assert await first == 1
    with pytest.raises(ConnectionError, match="could not fix"):
        await waiting
