"""The call last popped on an agent's desk: the one their wrap-up outcome may be recorded for."""

from __future__ import annotations

from kck.services import Services

_TTL_S = 24 * 3600


def _key(services: Services, agent: str) -> str:
    return f"{services.settings.redis.key_prefix}:desk:last-call:{agent}"


async def remember_last_call(services: Services, agent: str, call_id: str) -> None:
    await services.redis.set(_key(services, agent), call_id, ex=_TTL_S)


async def last_call_of(services: Services, agent: str) -> str | None:
    raw = await services.redis.get(_key(services, agent))
    return raw.decode() if isinstance(raw, bytes) else raw
