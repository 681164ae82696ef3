"""The Open311 clients (the portal, the app) and their API keys.

A key is shown once, when made; the database keeps only its SHA-256 (a key is 32 random bytes,
so a plain hash is enough: nothing to guess). A revoked client's key is refused from then on;
its requests and matters stay.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from agentdesk.open311.models import Open311Client
from kck.errors import UserError

KEY_PREFIX = "kck311_"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class ClientError(UserError):
    """A client cannot be added or revoked as asked; the message names the client."""


@dataclass(frozen=True)
class ApiClient:
    id: int
    name: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def source(self) -> str:
        """How a matter this client sent names its source (the actor in matter_events)."""
        return f"open311:{self.name}"


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _client(row: Open311Client) -> ApiClient:
    return ApiClient(row.id, row.name, row.created_at, row.revoked_at)


class ApiClients:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def add(self, name: str, now: datetime) -> tuple[ApiClient, str]:
        """A new client and its key (the only time the key is seen)."""
        if not _NAME.match(name):
            raise ClientError(
                f"Open311 client {name!r}: lower-case letters, digits, '-' and '_' "
                "(at most 40, e.g. portal, app-android)"
            )
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        try:
            async with self.sessions.begin() as session:
                row = Open311Client(name=name, key_hash=key_hash(key), created_at=now)
                session.add(row)
                await session.flush()
                return _client(row), key
        except IntegrityError:
            raise ClientError(f"Open311 client {name!r} exists already") from None

    async def keep(self, name: str, key: str, now: datetime) -> ApiClient:
        """The client `name` with this known key, made or set again (the demo's portal)."""
        async with self.sessions.begin() as session:
            row = await session.scalar(select(Open311Client).where(Open311Client.name == name))
            if row is None:
                row = Open311Client(name=name, key_hash=key_hash(key), created_at=now)
                session.add(row)
            row.key_hash, row.revoked_at = key_hash(key), None
            await session.flush()
            return _client(row)

    async def list(self) -> list[ApiClient]:
        async with self.sessions() as session:
            rows = await session.scalars(select(Open311Client).order_by(Open311Client.name))
            return [_client(r) for r in rows]

    async def revoke(self, name: str, now: datetime) -> ApiClient:
        async with self.sessions.begin() as session:
            row = await session.scalar(select(Open311Client).where(Open311Client.name == name))
            if row is None:
                raise ClientError(f"no Open311 client {name!r} (kck open311 keys list)")
            if row.revoked_at is None:
                row.revoked_at = now
            return _client(row)

    async def by_key(self, key: str) -> ApiClient | None:
        """The active client whose key this is; None for an unknown or revoked key."""
        if not key:
            return None
        async with self.sessions() as session:
            row = await session.scalar(
                select(Open311Client).where(Open311Client.key_hash == key_hash(key))
            )
        return _client(row) if row is not None and row.revoked_at is None else None
