"""Health probes: each part's real state, asked when /health is asked (never a flag set at start).

A probe runs one cheap request against the part (Redis PING, `SELECT 1`, the router's script in
Redis) within `PROBE_TIMEOUT_S`: a paused or dead server makes it answer `up: false` with the
error, fast, instead of `/health` hanging with it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# A healthy Redis or database answers in well under a millisecond here; a second is "away".
PROBE_TIMEOUT_S = 1.0


@runtime_checkable
class Probed(Protocol):
    """A part whose health needs a request to something outside the process (the router's Lua
    script in Redis). `probe()` returns at least `"up"`; it is merged over `health()`."""

    async def probe(self) -> dict[str, Any]: ...


async def probe(
    check: Callable[[], Awaitable[object]], timeout_s: float = PROBE_TIMEOUT_S
) -> dict[str, Any]:
    """`{"up": True, "probe_ms": …}` when `check` returns within `timeout_s`, else `{"up":
    False, "error": …}` naming what went wrong."""
    began = time.monotonic()
    try:
        async with asyncio.timeout(timeout_s):
            await check()
    except TimeoutError:
        return {"up": False, "error": f"no answer within {timeout_s:g} s"}
    except Exception as exc:  # the probe reports; it never takes /health down
        return {"up": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"up": True, "probe_ms": round((time.monotonic() - began) * 1000, 1)}


async def select_one(engine: AsyncEngine) -> None:
    """The database answers a query (a connection from the pool, or a new one)."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def fixed_health(body: dict[str, Any]) -> Callable[[], Awaitable[dict[str, Any]]]:
    """A health source that always says `body` (a web application without a controller:
    tests, benchmarks)."""

    async def health() -> dict[str, Any]:
        return body

    return health
