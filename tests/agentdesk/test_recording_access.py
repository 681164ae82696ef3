"""Recordings in the browser: supervisors play them (range requests for seeking) after giving a
reason, each play and download is audited and listed in the supervisors' report, and everybody
else gets 404 — by the page, the API or a guessed or borrowed URL."""

from __future__ import annotations

import wave
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select

from agentdesk.recording_routes import register_recording_routes
from kb import polish_analyzer
from kck.db.models import AuditEntry, Role
from recordings.access import RecordingAccess
from recordings.models import Recording, RecordingState
from recordings.transcription import TranscriptRow
from tests.agentdesk.conftest import Client, DeskWorld, sign_in
from tests.recordings.conftest import recording_rig

RECORDED_BY = "anowak"


async def store_recording(world: DeskWorld, call_id: str = "c0ffee01") -> int:
    services = world.services
    relative = f"2026/12/07/{call_id}.wav"
    path = services.settings.recordings_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(range(256)) * 125)  # 2 s
    row = Recording(
        call_id=call_id,
        uniqueid="1796653285.1",
        channel="PJSIP/kck-trunk-00000001",
        agent=RECORDED_BY,
        queue="city_issues",
        consent=True,
        path=relative,
        state=RecordingState.DONE.value,
        started_at=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        duration_s=2.0,
        size_bytes=path.stat().st_size,
    )
    async with services.sessions() as db, db.begin():
        db.add(row)
    return row.id


def access_of(world: DeskWorld, *, agent_may_play: bool = False) -> RecordingAccess:
    services = world.services
    return RecordingAccess(
        services.sessions,
        services.redis,
        services.bus.prefix,
        services.settings.recordings_dir,
        services.clock,
        agent_may_play=agent_may_play,
    )


def make_client(
    agent_may_play: bool,
) -> Callable[[DeskWorld, Callable[[web.Application], Awaitable[Client]]], Awaitable[Client]]:
    async def build(
        world: DeskWorld, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
    ) -> Client:
        register_recording_routes(world.app, access_of(world, agent_may_play=agent_may_play), None)
        await world.add_user("boss", Role.SUPERVISOR, extension=None)
        await world.add_user(RECORDED_BY, extension="101")
        await world.add_user("pkowal", extension="102")
        return await aiohttp_client(world.app)

    return build


@pytest.fixture
async def rec_client(
    world: DeskWorld, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    return await make_client(False)(world, aiohttp_client)


@pytest.fixture
async def agents_may_play(
    world: DeskWorld, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    return await make_client(True)(world, aiohttp_client)


async def grant(
    client: Client, token: str, recording: int, **body: str
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        f"/api/recordings/{recording}/access", json=body, headers={"X-CSRF-Token": token}
    )
    if response.content_type != "application/json":
        return response.status, {}
    return response.status, await response.json()


async def audits(world: DeskWorld) -> list[AuditEntry]:
    async with world.services.sessions() as db:
        return list(
            await db.scalars(select(AuditEntry).where(AuditEntry.action.like("recording.%")))
        )


async def test_supervisor_plays_with_a_reason_seeks_by_range_and_the_access_is_audited(
    world: DeskWorld, rec_client: Client
) -> None:
    client = rec_client
    recording = await store_recording(world)
    token = await sign_in(client, "boss", extension="")
    page = await client.get("/recordings")
    assert page.status == 200 and f'data-id="{recording}"' in await page.text()

    status, body = await grant(client, token, recording, action="play", reason="  ")
    assert status == 422 and await audits(world) == []
    assert body["message"] == "Podaj powód odsłuchania lub pobrania nagrania."
    status, body = await grant(client, token, recording, action="play", reason="skarga 17/2026")
    assert status == 200
    whole = await client.get(body["url"])
    data = await whole.read()
    path = world.services.settings.recordings_dir / "2026/12/07/c0ffee01.wav"
    assert whole.status == 200 and data == path.read_bytes()
    assert whole.headers["Accept-Ranges"] == "bytes"
    part = await client.get(body["url"], headers={"Range": "bytes=1000-1099"})
    assert part.status == 206 and await part.read() == data[1000:1100]
    assert part.headers["Content-Range"] == f"bytes 1000-1099/{len(data)}"

    status, body = await grant(client, token, recording, action="download", reason="sąd")
    download = await client.get(body["url"])
    assert download.headers["Content-Disposition"] == 'attachment; filename="c0ffee01.wav"'
    rows = await audits(world)
    assert [(a.actor, a.action, a.target, a.details["reason"]) for a in rows] == [
        ("boss", "recording.play", "c0ffee01", "skarga 17/2026"),
        ("boss", "recording.download", "c0ffee01", "sąd"),
    ]
    report = await (await client.get("/recordings/accesses")).text()
    assert "skarga 17/2026" in report and "sąd" in report and report.count("c0ffee01") == 2
    # both pages have the top bar with its language switch, and speak the chosen language
    client.session.cookie_jar.update_cookies({"kck_lang": "en"})
    for screen in ("/recordings", "/recordings/accesses"):
        english = await (await client.get(screen)).text()
        assert '<html lang="en">' in english and 'id="lang-switch" data-lang="pl"' in english
    status, body = await grant(client, token, recording, action="play", reason="")
    assert body["message"] == "Give a reason to play or download the recording."


async def test_everybody_else_gets_404_even_with_a_borrowed_url(
    world: DeskWorld,
    rec_client: Client,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> None:
    recording = await store_recording(world)
    boss = await sign_in(rec_client, "boss", extension="")
    _, body = await grant(rec_client, boss, recording, action="play", reason="kontrola")
    borrowed = body["url"]

    agent = await aiohttp_client(world.app)
    token = await sign_in(agent, RECORDED_BY, extension="101")
    assert (await agent.get("/recordings")).status == 404
    assert (await agent.get("/recordings/accesses")).status == 404
    status, _ = await grant(agent, token, recording, action="play", reason="ciekawość")
    assert status == 404
    assert (await agent.get(borrowed)).status == 404  # the ticket is the supervisor's
    assert (await agent.get(f"/recordings/{recording}/audio")).status == 404
    assert (await rec_client.get(f"/recordings/{recording + 1}/audio?t=x")).status == 404
    status, _ = await grant(rec_client, boss, recording + 1, action="play", reason="zgadywanie")
    assert status == 404
    anonymous = await aiohttp_client(world.app)
    assert (await anonymous.get(borrowed, allow_redirects=False)).status in (302, 401)
    assert [a.actor for a in await audits(world)] == ["boss"]


async def test_when_configured_the_agent_of_the_call_may_play_it_and_no_other_agent(
    world: DeskWorld,
    agents_may_play: Client,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> None:
    recording = await store_recording(world)
    token = await sign_in(agents_may_play, RECORDED_BY, extension="101")
    status, body = await grant(agents_may_play, token, recording, action="play", reason="notatka")
    assert status == 200 and (await agents_may_play.get(body["url"])).status == 200
    other = await aiohttp_client(world.app)
    other_token = await sign_in(other, "pkowal", extension="102")
    assert f'data-id="{recording}"' not in await (await other.get("/recordings")).text()
    status, _ = await grant(other, other_token, recording, action="play", reason="notatka")
    assert status == 404


async def test_the_agent_pauses_and_resumes_the_recording_of_their_own_call_only(
    world: DeskWorld, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    async for rig in recording_rig(world.services):
        register_recording_routes(world.app, access_of(world), rig.component.lifecycle)
        await world.add_user(RECORDED_BY, extension="101")
        await world.add_user("pkowal", extension="102")
        call = await rig.caller_on_hold()
        call_id = await rig.route(call)  # answered by anowak
        await rig.row_in_state(call_id, "recording")
        agent = await aiohttp_client(world.app)
        token = await sign_in(agent, RECORDED_BY, extension="101")
        other = await aiohttp_client(world.app)
        other_token = await sign_in(other, "pkowal", extension="102")

        async def pause(client: Client, csrf: str, paused: bool, call_id: str = call_id) -> int:
            response = await client.post(
                "/api/desk/recording",
                json={"call_id": call_id, "paused": paused},
                headers={"X-CSRF-Token": csrf},
            )
            return response.status

        assert await pause(other, other_token, True) == 404
        assert await pause(agent, token, True) == 200
        live = rig.pbx.mixmonitors.recording(call.channel.name)
        assert live is not None and live.muted == {"read", "write"}
        assert await pause(agent, token, False) == 200 and live.muted == set()
        row = await rig.row(call_id)
        assert row is not None and row.pauses == 1 and not row.paused


async def test_transcripts_show_beside_the_player_and_are_found_by_the_polish_search(
    world: DeskWorld, rec_client: Client
) -> None:
    pothole = await store_recording(world, "c0ffee02")
    taxes = await store_recording(world, "c0ffee03")
    words = ["chciałbym", "zgłosić", "dziurę", "w", "jezdni", "na", "ulicy", "Długiej"]
    async with world.services.sessions() as db, db.begin():
        db.add(
            TranscriptRow(
                call_id="c0ffee02",
                language="pl",
                state="done",
                text=" ".join(words),
                terms=polish_analyzer().index_text(" ".join(words)),  # as the worker stores it
                words=[
                    {"w": w, "s": i * 0.5, "e": i * 0.5 + 0.4, "c": 1.0}
                    for i, w in enumerate(words)
                ],
                created_at=datetime(2026, 12, 7, 9, 5, tzinfo=UTC),
            )
        )
    await sign_in(rec_client, "boss", extension="")
    page = await (await rec_client.get("/recordings")).text()
    assert 'title="0:01">dziurę</span>' in page  # each word with its time
    found = await (await rec_client.get("/recordings", params={"q": "dziura ulica"})).text()
    assert f'data-id="{pothole}"' in found and f'data-id="{taxes}"' not in found
    none = await (await rec_client.get("/recordings", params={"q": "podatek"})).text()
    assert f'data-id="{pothole}"' not in none
