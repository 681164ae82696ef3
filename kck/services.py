"""What every part of a running kck shares: settings, database, Redis, event bus, clock."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from kck.bus import EventBus
from kck.clock import Clock, SystemClock
from kck.settings import Settings


@dataclass
class Services:
    """Built once by the runtime and handed to each component's factory."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: aioredis.Redis
    bus: EventBus
    clock: Clock = field(default_factory=SystemClock)
