"""Sign-in throttling per account and per address, kept in Redis so every node sees it.

Each wrong password counts against the account and against the address it came from (a counter
living `lockout_s`); when either reaches its limit, sign-in for that account (or from that
address) is refused until `lockout_s` has passed on the application's clock — even with the
right password, which is then not even checked. A successful sign-in clears the account's count.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

import redis.asyncio as aioredis

# KEYS: count, blocked-until; ARGV: limit, lockout_s, now (epoch s). Returns the new count.
_COUNT_FAILURE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if n >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[2]), 'EX', ARGV[2])
  redis.call('DEL', KEYS[1])
end
return n
"""


@dataclass(frozen=True)
class ThrottleLimits:
    per_account: int
    per_address: int
    lockout_s: int


class LoginThrottle:
    def __init__(self, redis: aioredis.Redis, prefix: str, limits: ThrottleLimits) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:login"
        self.limits = limits
        self._count_failure = redis.register_script(_COUNT_FAILURE)

    def _keys(self, kind: str, who: str) -> tuple[str, str]:
        # hashed: a user name or address typed by anyone never becomes a key as it is
        digest = hashlib.sha256(who.casefold().encode("utf-8", "replace")).hexdigest()[:32]
        return f"{self.prefix}:failures:{kind}:{digest}", f"{self.prefix}:blocked:{kind}:{digest}"

    async def retry_after_s(self, username: str, address: str, now: datetime) -> int | None:
        """Seconds until this account may sign in from this address again; None: it may now."""
        until = await self.redis.mget(
            [self._keys("account", username)[1], self._keys("address", address)[1]]
        )
        left = max((float(u) - now.timestamp() for u in until if u is not None), default=0.0)
        return math.ceil(left) if left > 0 else None

    async def failed(self, username: str, address: str, now: datetime) -> None:
        for kind, who, limit in (
            ("account", username, self.limits.per_account),
            ("address", address, self.limits.per_address),
        ):
            await self._count_failure(
                keys=list(self._keys(kind, who)),
                args=[limit, self.limits.lockout_s, now.timestamp()],
            )

    async def succeeded(self, username: str) -> None:
        await self.redis.delete(self._keys("account", username)[0])
