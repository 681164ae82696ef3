"""Which agent holds which phone extension during a shift (bound at sign-in, freed at sign-out)."""

from __future__ import annotations

import redis.asyncio as aioredis


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class ExtensionTaken(Exception):
    def __init__(self, extension: str, holder: str) -> None:
        super().__init__(f"extension {extension} is held by {holder}")
        self.extension = extension
        self.holder = holder


class ExtensionRegistry:
    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:desk:extension"

    async def bind(self, extension: str, agent: str) -> None:
        """Take the extension for `agent`; an agent signing in again keeps their own."""
        key = f"{self.prefix}:{extension}"
        if await self.redis.set(key, agent, nx=True):
            return
        holder = await self.redis.get(key)
        if holder is not None and _text(holder) != agent:
            raise ExtensionTaken(extension, _text(holder))
        await self.redis.set(key, agent)

    async def release(self, extension: str, agent: str) -> None:
        key = f"{self.prefix}:{extension}"
        holder = await self.redis.get(key)
        if holder is not None and _text(holder) == agent:
            await self.redis.delete(key)

    async def holder(self, extension: str) -> str | None:
        raw = await self.redis.get(f"{self.prefix}:{extension}")
        return _text(raw) if raw is not None else None
