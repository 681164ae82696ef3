"""Work that one process of the installation does at an interval (a purge once an hour): whoever
takes the round's lock in Redis does it, the others skip that round."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from kck.lease import holder_name

log = logging.getLogger(__name__)


async def every_interval_in_one_process(
    redis: aioredis.Redis,
    lock: str,
    every_s: float,
    work: Callable[[], Awaitable[object]],
    what: str,
) -> None:
    """Run `work` once per `every_s` in one process (the holder of `lock` for the round), until
    cancelled. A failed round is logged (naming `what`) and tried again at the next one."""
    while True:
        if await redis.set(lock, holder_name(), nx=True, ex=max(1, int(every_s))):
            try:
                await work()
            except Exception:
                log.exception("%s failed; tried again in %g s", what, every_s)
        await asyncio.sleep(every_s)  # the interval itself: nothing to wait on but the time
