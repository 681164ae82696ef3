"""The router's script calls from many callers, many to a Redis round trip (`kck.round_trips`).

Each router operation is one EVALSHA. Alone, a call goes at once, as it always did; the calls
made while one is out go together as one pipeline (each script atomic as before, in the order
made). A script Redis does not have (a restarted Redis) is loaded and the calls it refused are
sent again, in their order: Redis ran none of them.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import NoScriptError

from kck.round_trips import SharedRoundTrips


class ScriptBatches:
    """`await run(args)`: the script's reply for `args` (ARGV; the script takes no KEYS), or the
    exception Redis answered with."""

    def __init__(self, redis: aioredis.Redis, source: str) -> None:
        self.redis = redis
        self.source = source
        self._script = redis.register_script(source)
        self._calls: SharedRoundTrips[list[Any]] = SharedRoundTrips(
            redis,
            self._direct,
            self._add,
            name="router-script-batches",
            refused=lambda reply: isinstance(reply, NoScriptError),
            before_retry=self._load,
        )

    @property
    def sha(self) -> str:
        return str(self._script.sha)

    @property
    def round_trips(self) -> int:
        return self._calls.round_trips

    async def run(self, args: list[Any]) -> Any:
        return await self._calls.run(args)

    async def _direct(self, args: list[Any]) -> Any:
        return await self._script(keys=[], args=args)  # redis-py loads a missing script itself

    def _add(self, pipe: Pipeline, args: list[Any]) -> None:
        pipe.evalsha(self.sha, 0, *args)

    async def _load(self) -> None:
        await self.redis.script_load(self.source)
