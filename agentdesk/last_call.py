"""The call last popped on an agent's desk: the one their wrap-up outcome may be recorded for."""

from __future__ import annotations

from weakref import WeakKeyDictionary

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from kck.round_trips import SharedRoundTrips
from kck.services import Services

_TTL_S = 24 * 3600

# The SETs of the pops shown at the same moment (a burst of offers) share round trips instead of
# taking a pooled connection each (bench/README.md, issue 20 point 4): one sender per client.
_SETS: WeakKeyDictionary[aioredis.Redis, SharedRoundTrips[tuple[str, str]]] = WeakKeyDictionary()


def _key(services: Services, agent: str) -> str:
    return f"{services.settings.redis.key_prefix}:desk:last-call:{agent}"


def _sets(redis: aioredis.Redis) -> SharedRoundTrips[tuple[str, str]]:
    sets = _SETS.get(redis)
    if sets is None:

        async def direct(key_value: tuple[str, str]) -> object:
            return await redis.set(*key_value, ex=_TTL_S)

        def add(pipe: Pipeline, key_value: tuple[str, str]) -> None:
            pipe.set(*key_value, ex=_TTL_S)

        sets = _SETS[redis] = SharedRoundTrips(redis, direct, add, name="desk-last-calls")
    return sets


async def remember_last_call(services: Services, agent: str, call_id: str) -> None:
    await _sets(services.redis).run((_key(services, agent), call_id))


async def last_call_of(services: Services, agent: str) -> str | None:
    raw = await services.redis.get(_key(services, agent))
    return raw.decode() if isinstance(raw, bytes) else raw
