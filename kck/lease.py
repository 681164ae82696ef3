"""A lease in Redis: at most one process of the installation runs a job at a time.

The call history has one writer so that a call's row changes reach SQL in the order they were
published (the IVR's arrival before the router's `call_queued`, the router's `call_ended` after
the IVR's hand-over). Every node runs `run_as_leaseholder`; the one holding the lease does the
work, the others wait and take over within `ttl` seconds when the holder stops or dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from kck.stopping import TASK_STOP_S, raise_if_cancel_requested, stop_task

log = logging.getLogger(__name__)

# extend only if we still hold it: a holder that was paused past its ttl must not steal it back
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def holder_name() -> str:
    """Who holds a lease: host and process, as operators see it in `GET <prefix>:lease:<job>`."""
    return f"{socket.gethostname()}-{os.getpid()}"


class RedisLease:
    """One named lease (`<prefix>:lease:<job>`) held for `ttl` seconds and renewed by its holder."""

    def __init__(
        self, redis: aioredis.Redis, prefix: str, job: str, holder: str, ttl: float = 10.0
    ) -> None:
        self.redis = redis
        self.key = f"{prefix}:lease:{job}"
        self.holder = holder
        self.ttl_ms = int(ttl * 1000)

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.holder, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        result: Any = await self.redis.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms)
        return bool(result)

    async def release(self) -> None:
        await self.redis.eval(_RELEASE, 1, self.key, self.holder)

    async def current_holder(self) -> str | None:
        value = await self.redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value


async def run_as_leaseholder(
    lease: RedisLease, job: Callable[[], Coroutine[Any, Any, None]]
) -> None:
    """Forever: wait for the lease, run `job` while holding it, stop the job if the lease is lost.

    Renewal runs every third of the ttl; a failed renewal (Redis down, lease taken after a long
    pause) cancels the job, which is then started again once the lease is held again.
    """
    period = lease.ttl_ms / 3000
    while True:
        raise_if_cancel_requested()  # a Redis call below may have swallowed our stop's cancel
        if not await _held(lease.acquire(), lease, "taking it"):
            await asyncio.sleep(period)
            continue
        log.info("lease %s taken by %s", lease.key, lease.holder)
        work: asyncio.Task[None] = asyncio.create_task(job(), name=f"leased:{lease.key}")
        try:
            while not work.done():
                await asyncio.wait({work}, timeout=period)
                if work.done():
                    break
                if not await _held(lease.renew(), lease, "renewing it"):
                    log.warning("lease %s lost by %s; stopping its job", lease.key, lease.holder)
                    break
        finally:
            try:
                if not work.done():
                    await stop_task(work, within=TASK_STOP_S, what=f"leased job {lease.key}")
            finally:  # released even if our own stop cancels us again meanwhile
                with contextlib.suppress(RedisError, OSError):
                    await lease.release()
        if work.done() and not work.cancelled() and work.exception() is not None:
            log.error("leased job %s failed", lease.key, exc_info=work.exception())
        await asyncio.sleep(period)


async def _held(attempt: Coroutine[Any, Any, bool], lease: RedisLease, doing: str) -> bool:
    """The answer of `acquire` or `renew`; False (not held) when Redis cannot be asked."""
    try:
        return await attempt
    except RedisError as exc:
        log.warning("lease %s: Redis unavailable while %s (%s)", lease.key, doing, exc)
        return False
