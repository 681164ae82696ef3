"""Redis for a `kck` command run beside the controller: the configured URL, else the running
controller's private Redis (its socket under var/redis), else a private one of the command's own
for as long as it runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from kck.redis_server import PrivateRedis, _answers, connect
from kck.settings import Settings


@asynccontextmanager
async def command_redis(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    url = settings.redis.url
    private: PrivateRedis | None = None
    try:
        if url is None:
            running = PrivateRedis(settings.var_dir / "redis")
            if running.socket.exists() and await _answers(running.url):
                url = running.url  # the controller's own private Redis
            else:
                private = running
                url = await private.start()
        redis = await connect(url)
        try:
            yield redis
        finally:
            await redis.aclose()
    finally:
        if private is not None:
            await private.stop()
