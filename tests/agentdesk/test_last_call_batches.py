"""The last call of many desks popped at once (issue 20, point 4): every desk's remembered, for a
day, in a few round trips instead of one pooled connection each."""

from __future__ import annotations

import asyncio

from agentdesk.last_call import _TTL_S, _sets, last_call_of, remember_last_call
from kck.services import Services


async def test_pops_shown_at_once_remember_each_desks_call_in_few_round_trips(
    services: Services,
) -> None:
    desks = [f"agent{n:02d}" for n in range(40)]
    await remember_last_call(services, "agent00", "older")
    before = _sets(services.redis).round_trips
    await asyncio.gather(*(remember_last_call(services, d, f"call-{d}") for d in desks))
    assert _sets(services.redis).round_trips - before <= 3  # was 40
    assert [await last_call_of(services, d) for d in desks] == [f"call-{d}" for d in desks]
    prefix = services.settings.redis.key_prefix
    for d in desks:
        assert _TTL_S - 60 < await services.redis.ttl(f"{prefix}:desk:last-call:{d}") <= _TTL_S
