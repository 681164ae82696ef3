"""What the router's Redis indexes should hold, derived from the live call and agent hashes.

Used by the tests to check that every operation leaves the indexes exactly in step with the
state (see the index layout at the top of queues/lua/router.lua)."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from queues.config import RoutingConfig
from queues.policy import ANY_SKILL, requirement_at
from tests.redis_replies import scored_members, text

BAND = 10**13
NOT_OFFERABLE = {"INUSE", "BUSY", "UNAVAILABLE", "RINGING", "RINGINUSE", "ONHOLD", "INVALID"}


async def _hash(redis: aioredis.Redis, key: str) -> dict[str, str]:
    return {text(k): text(v) for k, v in (await redis.hgetall(key)).items()}


async def actual_indexes(redis: aioredis.Redis, prefix: str) -> dict[str, dict[str, float]]:
    """Every match index (wait:*, avail:*, and walt:* of the previous layout) with its members
    and scores."""
    out: dict[str, dict[str, float]] = {}
    for pattern in ("wait:*", "walt:*", "avail:*"):
        for key in await redis.keys(f"{prefix}:q:{pattern}"):
            out[text(key).split(":q:", 1)[1]] = await scored_members(redis, text(key))
    return out


async def expected_indexes(
    redis: aioredis.Redis, prefix: str, config: RoutingConfig, now_ms: int
) -> dict[str, dict[str, float]]:
    """The indexes as the policy says they must be for the calls and agents in Redis now."""
    out: dict[str, dict[str, float]] = {}

    def put(key: str, member: str, score: float) -> None:
        out.setdefault(key, {})[member] = score

    for call_id in sorted(text(x) for x in await redis.smembers(f"{prefix}:q:calls")):
        call = await _hash(redis, f"{prefix}:q:call:{call_id}")
        if call.get("state") != "waiting":
            continue
        steps = config.queues[call["queue"]].escalation
        skills = json.loads(call["request"])["skills"]
        req = requirement_at(skills, steps, (now_ms - int(call["qms"])) / 1000)
        score = float(call["score"])
        if req.primary == ANY_SKILL:
            put(f"wait:{ANY_SKILL}", call_id, score)
        else:
            for level in range(req.primary_level, 6):
                put(f"wait:{req.primary}:{level}", call_id, score)
        for skill, at_least in req.alternatives.items():
            for level in range(at_least, 6):
                put(f"wait:{skill}:{level}", call_id, score)

    devices = await _hash(redis, f"{prefix}:q:devices")
    for name in sorted(text(x) for x in await redis.smembers(f"{prefix}:q:agents")):
        agent = await _hash(redis, f"{prefix}:q:agent:{name}")
        if agent.get("state") != "available" or devices.get(name) in NOT_OFFERABLE:
            continue
        idle = int(agent["idle"])
        for skill, agent_level in (await _hash(redis, f"{prefix}:q:askills:{name}")).items():
            put(f"avail:{skill}", name, float(-int(agent_level) * BAND + idle))
        put(f"avail:{ANY_SKILL}", name, float(-5 * BAND + idle))
    return out
