"""The Redis side of the router: key names, the Lua script, and reads of live state."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from kck.clock import Clock
from kck.round_trips import SharedRoundTrips
from queues.script_batches import FunctionLibrary, ScriptBatches

ROUTER_LUA = resources.files("queues").joinpath("lua/router.lua").read_text(encoding="utf-8")

# the two lines of router.lua that make it a script run by EVALSHA (see its head)
_BUILD_ONE = "\nlocal BUILD_ONLY = ARGV[2]\n"
_RUN_CALL = "\nreturn run(ARGV)\n"


def router_library(script: str) -> FunctionLibrary:
    """router.lua (or a script made from it) as a Redis Function library: every operation built
    once at FUNCTION LOAD, the function registered instead of the call run. Named after the
    script's text, so processes of different versions sharing a Redis each call their own."""
    if script.count(_BUILD_ONE) != 1 or not script.endswith(_RUN_CALL):
        raise RuntimeError(
            "queues/lua/router.lua must have the line 'local BUILD_ONLY = ARGV[2]' once and "
            "end with 'return run(ARGV)'"
        )
    name = "kck_router_" + hashlib.sha1(script.encode()).hexdigest()[:16]
    body = script.replace(_BUILD_ONE, "\nlocal BUILD_ONLY = false\n")[: -len(_RUN_CALL)]
    code = (
        f"#!lua name={name}\n{body}\n"
        f"redis.register_function('{name}', function(_, argv) return run(argv) end)\n"
    )
    return FunctionLibrary(name=name, code=code)


class RouterStoreError(Exception):
    """Redis refused or failed a router operation; the message names the operation."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _lua_constant(name: str) -> int:
    """A `local NAME = <integer>` of the router's script: one value for the script and Python."""
    found = re.search(rf"^local {name} = (\d+)\b", ROUTER_LUA, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"queues/lua/router.lua has no line 'local {name} = <integer>'")
    return int(found.group(1))


# The day's and the hour's counters (statistics read today's) expire two days after their
# last change: Redis keeps a few days of them, not one key per hour forever (SQL has history).
# The script sets it; this is the script's value.
STATS_TTL_S = _lua_constant("STATS_TTL")


def period_keys(at: datetime, tz: ZoneInfo) -> tuple[str, str]:
    """('2026-11-24', '2026-11-24T10') in the centre's time zone: statistics periods."""
    local = at.astimezone(tz)
    return local.strftime("%Y-%m-%d"), local.strftime("%Y-%m-%dT%H")


def _add_hmget(pipe: Pipeline, key_names: tuple[str, tuple[str, ...]]) -> None:
    pipe.hmget(*key_names)


class RouterStore:
    """Runs router operations as one atomic script call each; reads live state."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        prefix: str = "kck",
        clock: Clock,
        tz: ZoneInfo | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self.tz = tz or ZoneInfo("Europe/Warsaw")
        # alone a call goes at once; calls made while one is out share the next round trip
        self.scripts = ScriptBatches(redis, ROUTER_LUA, router_library(ROUTER_LUA))
        # the waiting loops' checks of their calls (thousands of callers, one every few seconds
        # each): many to a round trip on one connection, not a pooled connection each
        self._field_reads: SharedRoundTrips[tuple[str, tuple[str, ...]]] = SharedRoundTrips(
            redis, self._hmget, _add_hmget, name="router-call-field-reads"
        )

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, "q", *parts))

    async def run(self, op: str, *args: str | int | float) -> tuple[str, int | None, list[str]]:
        """Run one operation; returns (status, next timer due in ms or None, offer JSONs)."""
        now = self.clock.now()
        day, hour = period_keys(now, self.tz)
        argv: list[str | int | float] = [
            self.prefix,
            op,
            int(now.timestamp() * 1000),
            now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            day,
            hour,
            *args,
        ]
        try:
            reply: Any = await self.scripts.run(argv)
        except RedisError as exc:
            raise RouterStoreError(f"router operation {op!r} failed in Redis: {exc}") from exc
        status = _text(reply[0])
        due = int(reply[1])
        return status, (None if due < 0 else due), [_text(x) for x in reply[2:]]

    async def load_script(self) -> bool:
        """Make sure Redis has the router's script or library (after a restart it may have none:
        load it now, not on the next call's operation); False when it had to be loaded."""
        return await self.scripts.ensure_loaded()

    async def hash(self, *parts: str) -> dict[str, str]:
        raw: Any = await self.redis.hgetall(self.key(*parts))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def call(self, call_id: str) -> dict[str, str] | None:
        data = await self.hash("call", call_id)
        return data or None

    async def call_fields(self, call_id: str, *names: str) -> dict[str, str] | None:
        """Only `names` of the call's hash (those it has); None when the call is not there.
        Every call's hash has `state`: ask for it among `names` to tell the two apart."""
        raw: Any = await self._field_reads.run((self.key("call", call_id), names))
        data = {name: _text(v) for name, v in zip(names, raw, strict=True) if v is not None}
        return data or None

    async def _hmget(self, key_names: tuple[str, tuple[str, ...]]) -> Any:
        return await self.redis.hmget(*key_names)

    @property
    def field_read_round_trips(self) -> int:
        """Round trips the call-field reads have taken so far (benchmarks and tests)."""
        return self._field_reads.round_trips

    async def call_id_for_uniqueid(self, uniqueid: str) -> str | None:
        value = await self.redis.get(self.key("uid", uniqueid))
        return None if value is None else _text(value)

    async def agent(self, username: str) -> dict[str, str] | None:
        data = await self.hash("agent", username)
        return data or None

    async def agents(self) -> list[str]:
        raw: Any = await self.redis.smembers(self.key("agents"))
        return sorted(_text(x) for x in raw)

    async def live_call_ids(self) -> list[str]:
        raw: Any = await self.redis.smembers(self.key("calls"))
        return sorted(_text(x) for x in raw)

    async def offer_json(self, offer_id: str) -> dict[str, Any] | None:
        value = await self.redis.hget(self.key("offer", offer_id), "json")
        return None if value is None else dict(json.loads(_text(value)))

    async def position(self, queue: str, call_id: str) -> int | None:
        rank: Any = await self.redis.zrank(self.key("queue", queue), call_id)
        return None if rank is None else int(rank) + 1

    async def recent_answered(self, queue: str) -> list[tuple[float, int]]:
        """(wait in seconds, position at entry) of the last answered calls of a queue."""
        raw: Any = await self.redis.lrange(self.key("recent", queue), 0, -1)
        return _recent(raw)

    async def place_in(
        self, call_id: str, queue: str
    ) -> tuple[str | None, str | None, int | None, list[tuple[float, int]]]:
        """In one round trip: the call's state and queue, its place in `queue` and `queue`'s
        recent answered calls (the place and the history mean something only if the call is in
        `queue`: the caller checks the queue returned)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hmget(self.key("call", call_id), "state", "queue")
            pipe.zrank(self.key("queue", queue), call_id)
            pipe.lrange(self.key("recent", queue), 0, -1)
            (state, in_queue), rank, recent = await pipe.execute()
        return (
            None if state is None else _text(state),
            None if in_queue is None else _text(in_queue),
            None if rank is None else int(rank) + 1,
            _recent(recent),
        )


def _recent(raw: Any) -> list[tuple[float, int]]:
    out: list[tuple[float, int]] = []
    for item in raw:
        wait_ms, _, pos = _text(item).partition(":")
        out.append((int(wait_ms) / 1000, max(1, int(pos or 1))))
    return out
