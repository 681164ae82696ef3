"""The waiting loop speaks the caller's language, and only from kck's own sounds under
<sounds>/<language>/…: no Asterisk core sound, no SAY NUMBER or SAY DIGITS (Asterisk has no Polish
or Ukrainian set and plays the English one without a warning)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
import redis.asyncio as aioredis

from asterisk.agi import AGISession
from queues.model import RoutingRequest
from queues.router import Router
from queues.waiting import QueueOutcome, WaitingPrompts, wait_in_queue
from tests.ivr.agi_double import ScriptedAGISession
from tests.queues.conftest import make_config

_ids = itertools.count(1)


def _request(call_id: str, language: str) -> RoutingRequest:
    return RoutingRequest(
        call_id=call_id,
        uniqueid=f"1700000000.{next(_ids)}",
        channel="PJSIP/trunk-00000001",
        caller="+48126165555",
        language=language,
        queue="city",
        skills={"taxes": 1},
        priority=0,
        arrived_at=datetime.now(UTC).isoformat(),
    )


def _played(session: ScriptedAGISession) -> list[str]:
    return [line.split()[2] for line in session.sent("STREAM FILE")]


async def _wait(
    router: Router, request: RoutingRequest, session: ScriptedAGISession, sounds: Path
) -> QueueOutcome:
    await router.waiters.start()
    try:
        # the double answers every AGISession command the waiting loop sends (tests.ivr.agi_double)
        result = await wait_in_queue(
            cast(AGISession, session),
            router,
            request,
            prompts=WaitingPrompts(sounds_dir=str(sounds)),
        )
    finally:
        await router.waiters.stop()
    return result.outcome


@pytest.mark.parametrize("language", ["uk", "en"])
async def test_queue_announcement_and_callback_are_in_the_callers_language(
    redis: aioredis.Redis, tmp_path: Path, language: str
) -> None:
    router = Router(redis, make_config(), prefix=f"wp{next(_ids)}")
    sounds = tmp_path / "sounds"
    session = ScriptedAGISession(["1"])  # the caller presses 1 for a callback while waiting
    outcome = await _wait(router, _request(f"call-{language}", language), session, sounds)
    assert outcome is QueueOutcome.CALLBACK
    assert session.variables["CHANNEL(language)"] == language
    assert _played(session) == [
        f"{sounds}/{language}/queue_you_are_next",
        f"{sounds}/{language}/queue_press_1_callback",
        f"{sounds}/{language}/queue_callback_confirmed",
    ]
    # the language was set before anything was played
    assert session.commands.index(f'SET VARIABLE CHANNEL(language) "{language}"') < min(
        i for i, c in enumerate(session.commands) if c.startswith("STREAM FILE")
    )


async def test_polish_caller_third_in_line_hears_only_polish_sounds_of_kck(
    redis: aioredis.Redis, tmp_path: Path
) -> None:
    router = Router(redis, make_config(), prefix=f"wp{next(_ids)}")
    for ahead in ("ahead-1", "ahead-2"):  # no agent is signed in: they stay in the queue
        assert await router.enqueue(_request(ahead, "pl")) is None
    # recent history: 100 s per place, so the third caller is told about five minutes
    await redis.lpush(router.store.key("recent", "city"), "100000:1")
    sounds = tmp_path / "sounds"
    session = ScriptedAGISession(["1"])
    outcome = await _wait(router, _request("call-pl", "pl"), session, sounds)
    assert outcome is QueueOutcome.CALLBACK
    # no SAY NUMBER / SAY DIGITS / Playback of a core sound: Asterisk would say them in English
    spoken_by_asterisk = ("SAY ", "EXEC Playback", "EXEC Background")
    assert [c for c in session.commands if c.startswith(spoken_by_asterisk)] == []
    assert [p for p in _played(session) if not p.startswith(f"{sounds}/pl/")] == []
    assert _played(session) == [
        f"{sounds}/pl/{name}"
        for name in (
            "queue_people_ahead",  # "Liczba osób przed Tobą w kolejce:"
            "num/2",  # "dwa"
            "queue_estimated_wait",  # "Przewidywany czas oczekiwania to"
            "num/5",  # "pięć"
            "num/minute_many",  # "minut"
            "queue_press_1_callback",
            "queue_callback_confirmed",
        )
    ]
    # the whole announcement can be cut short by the callback key
    announcement = session.sent("STREAM FILE")[:-1]
    assert all(line.endswith(' "1"') for line in announcement)


class _PressesDuringSecondSound(ScriptedAGISession):
    """A caller who presses the callback key while the second sound of the announcement plays."""

    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None:
        await super().stream_file(sound, escape_digits)
        return "1" if len(self.sent("STREAM FILE")) == 2 and "1" in escape_digits else None


async def test_callback_key_during_the_announcement_stops_it_and_asks_for_a_callback(
    redis: aioredis.Redis, tmp_path: Path
) -> None:
    router = Router(redis, make_config(), prefix=f"wp{next(_ids)}")
    assert await router.enqueue(_request("ahead", "pl")) is None
    await redis.lpush(router.store.key("recent", "city"), "100000:1")
    sounds = tmp_path / "sounds"
    session = _PressesDuringSecondSound([])
    outcome = await _wait(router, _request("call-pl-key", "pl"), session, sounds)
    assert outcome is QueueOutcome.CALLBACK
    assert _played(session) == [
        f"{sounds}/pl/queue_people_ahead",
        f"{sounds}/pl/num/1",  # interrupted here: the estimate is not said
        f"{sounds}/pl/queue_callback_confirmed",
    ]
