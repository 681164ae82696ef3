"""Services on the database of the test (SQLite and PostgreSQL) and the test Redis, on a manual
clock at `world.NOW`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from kck.bus import EventBus
from kck.clock import ManualClock
from kck.db import session_factory
from kck.services import Services
from kck.settings import Settings
from recordings.retention import Retention
from tests.privacy.world import NOW


@pytest.fixture
async def people(
    settings: Settings, engine: AsyncEngine, redis: aioredis.Redis
) -> AsyncIterator[Services]:
    yield Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        redis=redis,
        bus=EventBus(redis, prefix="kck"),
        clock=ManualClock(NOW),
    )


def recordings_retention(services: Services) -> Retention:
    settings = services.settings
    return Retention(
        services.sessions, settings.recordings_dir, settings.recordings, services.clock
    )
