"""Server-side sign-in sessions in Redis: the cookie carries only a random id."""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass

import redis.asyncio as aioredis

from kck.db.models import Role

COOKIE_NAME = "kck_session"
SESSION_TTL_S = 12 * 3600  # one long shift; every request extends it


@dataclass(frozen=True)
class DeskSession:
    """Who is signed in on this browser, their extension for this shift and the CSRF token."""

    id: str
    user_id: int
    username: str
    display_name: str
    role: Role
    extension: str | None
    csrf_token: str


class SessionStore:
    def __init__(self, redis: aioredis.Redis, prefix: str, ttl_s: int = SESSION_TTL_S) -> None:
        self.redis = redis
        self.prefix = f"{prefix}:desk:session"
        self.ttl_s = ttl_s

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}:{session_id}"

    async def create(
        self,
        *,
        user_id: int,
        username: str,
        display_name: str,
        role: Role,
        extension: str | None,
    ) -> DeskSession:
        session = DeskSession(
            id=secrets.token_urlsafe(32),
            user_id=user_id,
            username=username,
            display_name=display_name,
            role=role,
            extension=extension,
            csrf_token=secrets.token_urlsafe(32),
        )
        await self.redis.set(self._key(session.id), json.dumps(asdict(session)), ex=self.ttl_s)
        return session

    async def get(self, session_id: str) -> DeskSession | None:
        if not session_id or len(session_id) > 100:
            return None
        raw = await self.redis.getex(self._key(session_id), ex=self.ttl_s)
        if raw is None:
            return None
        data = json.loads(raw)
        data["role"] = Role(data["role"])
        return DeskSession(**data)

    async def delete(self, session_id: str) -> None:
        await self.redis.delete(self._key(session_id))
