"""The FastAGI route over an object with the AGISession shape: commands sent, call row written."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from asterisk.agi import FastAGIServer
from ivr.agi_route import (
    CALL_ID_VARIABLE,
    OUTCOME_VARIABLE,
    IVRFailure,
    IVRRoute,
    create_ivr_route,
)
from ivr.dialplan_gateway import DialplanQueueGateway
from ivr.memory_gateway import InMemoryQueueGateway
from ivr.router_gateway import RouterQueueGateway
from ivr.routing import QueueGateway
from ivr.versions import MenuLibrary, NoMenuVersion
from kck.bus import EventBus
from kck.clock import ManualClock
from kck.db import Call, create_engine, session_factory
from kck.logs import CallIdsFilter, JSONFormatter, PlainFormatter
from kck.phone import TrunkDial
from queues.config import load_routing_config
from queues.model import QueueOutcome, RoutingRequest
from queues.router import Router
from tests.asterisk.agi_caller import AsteriskSideCall
from tests.call_history import record_call_history
from tests.ivr.agi_double import Env, PeerHungUp, ScriptedAGISession
from tests.ivr.support import SHIPPED, local
from tests.log_records import call_ids
from tests.polling import until
from tests.redis_replies import stream_events


@dataclass
class Rig:
    library: MenuLibrary
    sessions: async_sessionmaker[AsyncSession]
    clock: ManualClock
    sounds: Path
    recordings: Path
    redis: aioredis.Redis

    @property
    def bus(self) -> EventBus:
        return EventBus(self.redis, "t")

    def route(self, gateway: QueueGateway | None = None) -> IVRRoute:
        return create_ivr_route(
            self.library,
            gateway or DialplanQueueGateway(self.bus),
            self.bus,
            clock=self.clock,
            sounds_dir=self.sounds,
            recordings_dir=self.recordings,
            dial=TrunkDial(),
            hangup_errors=(PeerHungUp,),
        )

    async def call_row(self, session: ScriptedAGISession) -> Call:
        call_id = session.variables[CALL_ID_VARIABLE]
        await record_call_history(self.bus, self.sessions)
        async with self.sessions() as db:
            row = await db.get(Call, call_id)
        assert row is not None
        return row


@pytest.fixture
async def rig(sqlite_url: str, redis: aioredis.Redis, tmp_path: Path) -> AsyncIterator[Rig]:
    engine = create_engine(sqlite_url)
    menus = tmp_path / "menus"
    shutil.copytree(SHIPPED, menus)
    sessions = session_factory(engine)
    library = MenuLibrary(sessions, redis, menus_dir=menus, key_prefix="t")
    await library.reload(by="test")
    try:
        yield Rig(
            library,
            sessions,
            ManualClock(local("2026-11-24 10:00")),
            tmp_path / "sounds",
            tmp_path / "rec",
            redis,
        )
    finally:
        await engine.dispose()


async def test_problem_report_call_goes_to_the_dialplan_queue_with_routing_on_the_channel(
    rig: Rig,
) -> None:
    session = ScriptedAGISession(["1", "5", "2"])
    await rig.route()(session)
    assert session.commands[1] == "ANSWER"
    assert f"GET DATA {rig.sounds}/pl/choose_language 4000 1" in session.commands
    assert session.variables["KCK_QUEUE"] == "city_issues"
    assert json.loads(session.variables["KCK_SKILLS"]) == {"greenery": 1}
    assert session.variables["KCK_TICKET_CATEGORY"] == "greenery"
    assert session.variables[OUTCOME_VARIABLE] == "queued_dialplan"
    row = await rig.call_row(session)
    assert row.caller_number == "+48600100200" and row.uniqueid == "1764000000.1"
    assert row.queue == "city_issues" and row.ticket_category == "greenery"
    assert (
        row.kb_topic == "report-greenery"
        and row.menu_version is not None
        and row.menu_version.startswith("v1@")
    )
    steps = [(s["step_id"], s["digits"]) for s in row.ivr_path]
    assert ("main_menu", "5") in steps and ("problem_menu", "2") in steps
    assert row.outcome == "in_progress"  # the queue owns what happens next
    assert row.recording_consent is True  # heard the announcement, pressed nothing


async def test_english_caller_hears_english_sounds(rig: Rig) -> None:
    session = ScriptedAGISession(["2", "7", ""])
    await rig.route()(session)
    assert f'STREAM FILE {rig.sounds}/en/opening_hours ""' in session.commands
    assert session.variables["CHANNEL(language)"] == "en"
    row = await rig.call_row(session)
    assert row.language == "en" and row.outcome == "self_service" and row.ended_at is not None
    assert session.commands[-2:] == ["HANGUP", f'SET VARIABLE {OUTCOME_VARIABLE} "self_service"']


async def test_caller_hang_up_is_recorded_with_the_step(rig: Rig) -> None:
    session = ScriptedAGISession(["1"], hang_up_after=5)
    await rig.route()(session)  # no exception: a hang-up is a normal end
    row = await rig.call_row(session)
    assert row.outcome == "hung_up_in_ivr"
    assert row.hangup_cause is not None and row.hangup_cause.startswith("caller hung up in ")
    assert session.variables[OUTCOME_VARIABLE] == "hung_up_in_ivr"


async def test_closed_hours_call_on_christmas(rig: Rig) -> None:
    rig.clock = ManualClock(local("2026-12-25 11:00"))
    session = ScriptedAGISession(["1", ""])
    await rig.route()(session)
    row = await rig.call_row(session)
    assert row.outcome == "closed_hours"
    assert f'STREAM FILE {rig.sounds}/pl/closed ""' in session.commands


async def test_voicemail_records_under_the_recordings_folder(rig: Rig) -> None:
    rig.clock = ManualClock(local("2026-11-24 20:00"))
    session = ScriptedAGISession(["1", "2"])
    await rig.route()(session)
    [record] = session.sent("RECORD FILE")
    assert record.startswith(f"RECORD FILE {rig.recordings}/voicemail/general/")
    assert (rig.recordings / "voicemail" / "general").is_dir()
    assert (await rig.call_row(session)).outcome == "voicemail"


async def test_callback_request_is_published_for_the_queues(rig: Rig) -> None:
    rig.clock = ManualClock(local("2026-11-24 20:00"))
    session = ScriptedAGISession(["1", "1", "1"])
    await rig.route()(session)
    # the caller's number read back with kck's Polish digits, not Asterisk's (English) SAY DIGITS
    readback = [f'STREAM FILE {rig.sounds}/pl/num/{digit} ""' for digit in "600100200"]
    start = session.commands.index(readback[0])
    assert session.commands[start : start + len(readback)] == readback
    assert not session.sent("SAY ")
    events = await stream_events(rig.redis, "t:stream:callbacks")
    assert len(events) == 1
    data = events[0].data
    assert data["number"] == "+48600100200" and data["request"]["queue"] == "general"
    assert (await rig.call_row(session)).outcome == "callback"


async def test_transfer_dials_the_number_through_the_configured_trunk(rig: Rig) -> None:
    session = ScriptedAGISession(["1", "5", "5", "2"])
    await rig.route()(session)
    assert session.sent('EXEC Dial "PJSIP/48126167000@kck-trunk,30"')
    assert (await rig.call_row(session)).outcome == "transferred"


async def test_queue_gateway_gets_the_routing_request_and_answer_ends_the_route(rig: Rig) -> None:
    gateway = InMemoryQueueGateway(answer_at_once=QueueOutcome.ANSWERED)
    session = ScriptedAGISession(["3", "1"], env=Env(callerid="anonymous", language="uk"))
    await rig.route(gateway)(session)
    [request] = gateway.handed_over
    assert isinstance(request, RoutingRequest)
    assert (
        request.caller is None and request.language == "uk" and request.queue == "foreign_language"
    )
    assert request.skills == {"ukrainian": 1, "id_cards": 1}
    assert request.ivr_path_text == "Język → Menu główne → Dowody osobiste i paszporty"


class Exploding(InMemoryQueueGateway):
    async def enqueue(self, request: RoutingRequest) -> None:
        raise ConnectionError("router unreachable")


async def test_a_bug_fails_the_route_so_the_dialplan_falls_back_and_the_path_is_kept(
    rig: Rig,
) -> None:
    session = ScriptedAGISession(["1", "1"])
    with pytest.raises(IVRFailure, match="queue_documents"):
        await rig.route(Exploding())(session)
    row = await rig.call_row(session)
    assert row.outcome == "failed" and row.ivr_path[-1]["step_id"] == "queue_documents"


async def test_no_live_menu_fails_the_route(rig: Rig) -> None:
    await rig.redis.flushdb()
    async with rig.sessions() as db, db.begin():
        from sqlalchemy import update

        from ivr.models import MenuVersionRow

        await db.execute(update(MenuVersionRow).values(activated_at=None))
    library = MenuLibrary(rig.sessions, rig.redis, menus_dir=Path("/nonexistent"), key_prefix="t")
    rig.library = library
    with pytest.raises(NoMenuVersion):
        await rig.route()(ScriptedAGISession([]))


async def test_call_row_shows_the_path_and_queue_while_the_caller_waits(rig: Rig) -> None:
    gateway = InMemoryQueueGateway()
    session = ScriptedAGISession(["1", "5", "1"])
    call = asyncio.ensure_future(rig.route(gateway)(session))  # the route is an Awaitable
    call_id = (await gateway.arrivals.get()).call_id
    await gateway.until_waiting(call_id)
    await record_call_history(rig.bus, rig.sessions)
    async with rig.sessions() as db:
        row = await db.get(Call, call_id)
    assert row is not None and row.queue == "city_issues" and row.outcome == "in_progress"
    assert row.ivr_path[-1]["step_id"] == "problem_roads"
    gateway.finish(call_id, QueueOutcome.ABANDONED)
    await call
    await record_call_history(rig.bus, rig.sessions)
    async with rig.sessions() as db:
        row = await db.get(Call, call_id)
    assert row is not None and row.outcome == "abandoned" and row.ended_at is not None


async def test_the_calls_changes_reach_the_stream_in_the_order_they_happened(rig: Rig) -> None:
    session = ScriptedAGISession(["1", "5", "2"])
    await rig.route()(session)  # returns once its changes are on the stream
    kinds = [event.type for event in await stream_events(rig.redis, rig.bus.key("queues"))]
    assert kinds == ["call_arrived", "call_progress"]  # arrival, then the hand-over


async def test_a_call_is_served_when_its_history_cannot_be_published(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = EventBus(
        aioredis.Redis(unix_socket_path=str(rig.recordings / "no-redis.sock")), "t"
    )
    route = create_ivr_route(
        rig.library,
        DialplanQueueGateway(rig.bus),
        unreachable,
        clock=rig.clock,
        sounds_dir=rig.sounds,
        recordings_dir=rig.recordings,
        dial=TrunkDial(),
        hangup_errors=(PeerHungUp,),
    )
    session = ScriptedAGISession(["1", "5", "2"])
    await route(session)
    assert session.variables[OUTCOME_VARIABLE] == "queued_dialplan"
    assert session.variables["KCK_QUEUE"] == "city_issues"
    assert "could not record call_arrived" in caplog.text


class CallLines(logging.Handler):
    """kck's log records, with the call ids `kck serve`'s handler puts on them."""

    PACKAGES = ("asterisk", "ivr", "queues", "kck", "agentdesk", "kb")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(CallIdsFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in self.PACKAGES:
            self.records.append(record)


async def test_every_line_of_a_call_through_the_fastagi_route_carries_our_id_and_asterisks(
    rig: Rig,
) -> None:
    router = Router(rig.redis, load_routing_config(SHIPPED.parent), prefix="t", clock=rig.clock)
    await router.waiters.start()  # nobody is logged in: the caller waits until they hang up
    route = create_ivr_route(
        rig.library,
        RouterQueueGateway(router),
        rig.bus,
        clock=rig.clock,
        sounds_dir=rig.sounds,
        recordings_dir=rig.recordings,
        dial=TrunkDial(),
    )
    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    lines = CallLines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(lines)
    root.setLevel(logging.DEBUG)
    call = AsteriskSideCall(server.port, uniqueid="1795527000.42", keys=["1", "5", "2"])
    try:
        caller = asyncio.create_task(call.run())
        await until(lambda: call.held >= 1)  # on music in the queue
        call.hang_up()
        await caller
        await until(lambda: server.active_sessions == 0)
    finally:
        root.removeHandler(lines)
        root.setLevel(level)
        await server.stop()
        await router.waiters.stop()
    ours = call.variables[CALL_ID_VARIABLE].strip('"')
    ids = [call_ids(r) for r in lines.records]
    messages = [r.getMessage() for r in lines.records]
    assert any("FastAGI ivr" in m for m in messages) and any("caller gone" in m for m in messages)
    assert any("call ended in the IVR" in m for m in messages)
    # before our id exists the lines carry Asterisk's; from then on, both, on every line (also
    # those of the session's reader, a task started before the route named our id)
    named = next(n for n, (call_id, _) in enumerate(ids) if call_id)
    assert named >= 1 and ids[:named] == [(None, "1795527000.42")] * named
    assert ids[named:] == [(ours, "1795527000.42")] * (len(ids) - named), messages
    last = lines.records[-1]
    assert f"[call={ours} uniqueid=1795527000.42]: " in PlainFormatter().format(last)
    payload = json.loads(JSONFormatter().format(last))
    assert payload["call_id"] == ours and payload["uniqueid"] == "1795527000.42"


async def test_a_call_after_a_menu_publish_streams_the_prompt_files_of_the_new_version(
    rig: Rig,
) -> None:
    first = ScriptedAGISession(["1", "5", "2"])
    await rig.route()(first)
    assert f"GET DATA {rig.sounds}/pl/choose_language 4000 1" in first.commands
    prompts = rig.library.menus_dir / "prompts.yaml"
    text = prompts.read_text(encoding="utf-8")
    prompts.write_text(
        text.replace("  choose_language:\n", "  choose_language:\n    sound: language_v2\n", 1),
        encoding="utf-8",
    )
    assert (await rig.library.reload(by="test")).changed
    second = ScriptedAGISession(["1", "5", "2"])
    await rig.route()(second)
    assert f"GET DATA {rig.sounds}/pl/language_v2 4000 1" in second.commands
    assert f"GET DATA {rig.sounds}/pl/choose_language 4000 1" not in second.commands
