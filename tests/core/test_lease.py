"""The Redis lease: one process of the installation runs the call-history writer at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import redis.asyncio as aioredis

from kck.lease import RedisLease, run_as_leaseholder
from tests.polling import until


class Job:
    """Counts how many copies of the job run at once, and how many ever started."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.started: list[str] = []
        self.most_at_once = 0

    def for_holder(self, holder: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def run() -> None:
            self.running.add(holder)
            self.started.append(holder)
            self.most_at_once = max(self.most_at_once, len(self.running))
            try:
                await asyncio.Event().wait()
            finally:
                self.running.discard(holder)

        return run


async def test_only_one_holder_runs_the_job_and_the_other_takes_over_when_it_stops(
    redis: aioredis.Redis,
) -> None:
    job = Job()
    leases = {name: RedisLease(redis, "l1", "writer", name, ttl=0.3) for name in ("a", "b")}
    tasks = {
        name: asyncio.create_task(run_as_leaseholder(lease, job.for_holder(name)))
        for name, lease in leases.items()
    }
    await until(lambda: len(job.started) == 1)
    await asyncio.sleep(0.5)  # more than a ttl: the holder renews, the other keeps waiting
    assert len(job.started) == 1 and job.most_at_once == 1
    first = job.started[0]
    assert await leases[first].current_holder() == first
    tasks[first].cancel()
    await asyncio.gather(tasks[first], return_exceptions=True)
    other = "b" if first == "a" else "a"
    await until(lambda: job.running == {other})
    assert job.most_at_once == 1
    tasks[other].cancel()
    await asyncio.gather(tasks[other], return_exceptions=True)
    assert await redis.get("l1:lease:writer") is None  # released on stop


async def test_a_holder_whose_lease_was_taken_stops_its_job(redis: aioredis.Redis) -> None:
    job = Job()
    lease = RedisLease(redis, "l2", "writer", "slow", ttl=0.3)
    task = asyncio.create_task(run_as_leaseholder(lease, job.for_holder("slow")))
    await until(lambda: job.running == {"slow"})
    # as if the holder had been paused past its ttl and another node took the lease
    await redis.set("l2:lease:writer", "other", px=60_000)
    await until(lambda: not job.running)
    assert await redis.get("l2:lease:writer") == b"other"  # not released by the loser
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


class LeaseHeldElsewhere(RedisLease):
    """`acquire` is a Redis round trip into which the stop's cancel lands, and which swallows it
    as redis-py can (a cancel that meets a read timeout comes back as an ordinary answer)."""

    def __init__(self, redis: aioredis.Redis) -> None:
        super().__init__(redis, "l9", "writer", "a", ttl=0.3)
        self.asking = asyncio.Event()
        self.swallowing = True

    async def acquire(self) -> bool:
        self.asking.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            if not self.swallowing:
                raise
        return False


async def test_a_cancel_swallowed_while_taking_the_lease_still_ends_the_loop(
    redis: aioredis.Redis,
) -> None:
    lease = LeaseHeldElsewhere(redis)
    task = asyncio.create_task(run_as_leaseholder(lease, Job().for_holder("a")))
    await asyncio.wait_for(lease.asking.wait(), 5)
    task.cancel()
    await asyncio.wait({task}, timeout=5)  # a few of its 0.1 s periods
    done = task.done()
    if not done:  # leave nothing running behind the failed test
        lease.swallowing = False
        task.cancel()
        await asyncio.wait({task})
    assert done and task.cancelled()
