"""The waiting loop speaks the caller's language: kck's own prompts from <sounds>/<language>/…,
Asterisk's queue sounds through the channel's language."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from queues.model import RoutingRequest
from queues.router import Router
from queues.waiting import QueueOutcome, WaitingPrompts, wait_in_queue
from tests.ivr.agi_double import ScriptedAGISession
from tests.queues.conftest import make_config

_ids = itertools.count(1)


@pytest.mark.parametrize("language", ["uk", "en"])
async def test_queue_announcement_and_callback_are_in_the_callers_language(
    redis: aioredis.Redis, tmp_path: Path, language: str
) -> None:
    router = Router(redis, make_config(), prefix=f"wp{next(_ids)}")
    await router.waiters.start()
    sounds = tmp_path / "sounds"
    request = RoutingRequest(
        call_id=f"call-{language}",
        uniqueid="1700000000.1",
        channel="PJSIP/trunk-00000001",
        caller="+48126165555",
        language=language,
        queue="city",
        skills={"taxes": 1},
        priority=0,
        arrived_at=datetime.now(UTC).isoformat(),
    )
    session = ScriptedAGISession(["1"])  # the caller presses 1 for a callback while waiting
    try:
        result = await wait_in_queue(
            session, router, request, prompts=WaitingPrompts(sounds_dir=str(sounds))
        )
    finally:
        await router.waiters.stop()
    assert result.outcome is QueueOutcome.CALLBACK
    assert session.variables["CHANNEL(language)"] == language
    played = [line.split()[2] for line in session.sent("STREAM FILE")]
    assert played == [
        "queue-youarenext",  # Asterisk's, in the channel language set above
        f"{sounds}/{language}/queue_press_1_callback",
        f"{sounds}/{language}/queue_callback_confirmed",
    ]
    # the language was set before anything was played
    assert session.commands.index(f'SET VARIABLE CHANNEL(language) "{language}"') < min(
        i for i, c in enumerate(session.commands) if c.startswith("STREAM FILE")
    )
