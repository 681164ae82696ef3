"""One resident's export holds everything kck keeps about them; their erasure leaves none of
their number, name or e-mail in any table, the Redis keyspace, the recordings folder or kck's log,
touches no one else and changes no statistic; a legal hold refuses it unless forced."""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tasks.models import AgentTask
from agentdesk.tickets.models import Ticket
from kck.db.models import AuditEntry, Call, CallOutcome
from kck.services import Services
from matters.models import MatterEvent, OutboxMessage
from matters.outbox import PENDING, SENT
from privacy.erasure import ERASED, ErasureRefused, erase
from privacy.export import Where, collect, write_export
from privacy.live_state import StillBeingWritten
from privacy.person import Person
from tests.privacy.conftest import recordings_retention
from tests.privacy.desk_world import BOX, add_desk_traces, photo_of, unit_info_key, voicemail_folder
from tests.privacy.world import (
    ANNA,
    ANNA_EMAIL,
    ANNA_NAME,
    BOLEK,
    NOW,
    Resident,
    add_resident,
    everything_in_redis,
    everything_in_the_database,
    history_read_by_writer,
    kck_log_file,
    statistics,
    text_forms,
)


async def two_residents(services: Services) -> tuple[Resident, Resident]:
    anna = await add_resident(services, "anna", ANNA, ANNA_NAME, ANNA_EMAIL)
    bolek = await add_resident(services, "bolek", BOLEK, "Bolesław Lis", "bolek@example.pl")
    await add_desk_traces(services, anna, "anna")
    await add_desk_traces(services, bolek, "bolek")
    await history_read_by_writer(services)
    return anna, bolek


async def erase_anna(services: Services, **kwargs: str) -> dict[str, int]:
    counts = await erase(
        services.sessions,
        Where.of(services),
        recordings_retention(services),
        services.clock,
        Person(ANNA),
        by="iod@um",
        reason="wniosek RODO 17/2026",
        **kwargs,
    )
    return vars(counts)


async def test_the_export_holds_calls_paths_tickets_recordings_callbacks_audit_and_live_state(
    people: Services, tmp_path: Path
) -> None:
    anna, bolek = await two_residents(people)
    document = await collect(people.sessions, Where.of(people), Person(ANNA), NOW, by="iod")

    assert [c["id"] for c in document["calls"]] == list(anna.calls)
    assert document["calls"][0]["ivr_path"][1]["digits"] == "600100200"
    assert document["calls"][0]["transcript"] == "chodzi o dziurę w jezdni"
    assert document["callbacks"] == [anna.calls[2]]
    [ticket] = document["tickets"]
    assert (ticket["number"], ticket["caller_email"]) == (anna.ticket, ANNA_EMAIL)
    assert ticket["units"][0]["unit_code"] == "ZDMK"
    steps = [(e["unit_code"], e["to_status"]) for e in document["matter_events"]]
    assert steps == [(None, "forwarded"), ("ZDMK", "answered"), (None, "answered"),
                     (None, "resident_informed")]  # fmt: skip
    assert ANNA_NAME in document["matter_events"][1]["detail"]
    notice, answer, sms, question, info = document["outbox"]
    assert notice["recipient"] == "zgloszenia@zdmk.test" and "body" not in notice  # its link
    assert answer["recipient"] == ANNA_EMAIL and ANNA_NAME in answer["body"]
    assert (sms["channel"], sms["recipient"]) == ("sms", ANNA) and anna.ticket in sms["body"]
    assert question["recipient"] == ANNA_EMAIL and ANNA_NAME in question["body"]
    assert info["key"] == unit_info_key(anna) and "body" not in info  # to the unit, its link
    tasks = [(t["kind"], t["call_id"], t["number"]) for t in document["agent_tasks"]]
    assert tasks == [("voicemail", anna.calls[0], ANNA), ("callback", anna.calls[1], ANNA)]
    assert ANNA_NAME in document["agent_tasks"][1]["note"]
    assert document["voicemail"] == [f"{BOX}/{anna.calls[0]}.wav"]
    [request] = document["open311_requests"]
    assert (request["media_url"], request["service_code"]) == (photo_of("anna"), "roads")
    assert "klatka anna-B" in request["attributes"]
    [recording] = document["recordings"]
    assert recording["call_id"] == anna.recorded and ANNA_NAME in recording["transcript"]
    # who heard her voicemail (its task's entry), who played her recording
    assert [a["action"] for a in document["audit"]] == ["task.played", "recording.play"]
    live = {entry["key"] for entry in document["live_state"]}
    assert live == {"kck:stream:queues", "kck:desk:last-call:agent-of-anna"}
    [stream] = [e for e in document["live_state"] if e["type"] == "stream"]
    assert len(stream["holds"]) == 4  # her three arrivals and her callback's attempt, not Bolek's
    assert BOLEK not in json.dumps(document) and bolek.ticket not in json.dumps(document)
    async with people.sessions() as db:
        [audit] = await db.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.export"))
    assert (audit.actor, audit.details["calls"], audit.details["tickets"]) == ("iod", 3, 1)
    assert ANNA not in str(audit.details) and audit.target is None

    archive = tmp_path / "anna.zip"
    audio = write_export(document, archive, Where.of(people), with_audio=True)
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == [
            "audio/anna2.wav",
            f"audio/voicemail/{BOX}/{anna.calls[0]}.wav",
            "export.json",
        ]
        assert json.loads(z.read("export.json"))["tickets"][0]["number"] == anna.ticket
    assert [p.name for p in audio] == ["anna2.wav", f"{anna.calls[0]}.wav"]


async def test_found_by_the_e_mail_or_the_name_on_a_ticket_too(people: Services) -> None:
    anna, _ = await two_residents(people)
    by_email = await collect(
        people.sessions, Where.of(people), Person(email="ANNA.W@example.pl"), NOW, by="iod"
    )
    by_name = await collect(
        people.sessions, Where.of(people), Person(name=ANNA_NAME), NOW, by="iod"
    )
    # the ticket, and through the number written on it all her calls; Bolek's none
    for document in (by_email, by_name):
        assert [c["id"] for c in document["calls"]] == list(anna.calls)
        assert [t["number"] for t in document["tickets"]] == [anna.ticket]


async def test_erasure_leaves_nothing_of_her_anywhere_and_everything_of_the_others(
    people: Services, engine: AsyncEngine, tmp_path: Path
) -> None:
    anna, bolek = await two_residents(people)
    before = await statistics(engine)
    database_before = await everything_in_the_database(engine)
    log_file = tmp_path / "kck.log"
    with kck_log_file(log_file):
        # what a line of kck may carry: a dial string, a database error quoting parameters
        logging.getLogger("queues.callbacks").warning(
            "callback %s: Originate failed: Dial(PJSIP/%s@kck-trunk)", anna.calls[2], ANNA[1:]
        )
        logging.getLogger("queues.recorder").error("INSERT failed [parameters: (%r,)]", ANNA)
        counts = await erase_anna(people)

    assert counts == {
        "calls": 3,
        "tickets": 1,
        "matter_events": 1,  # the unit's answer; the other steps have no text
        # the answer e-mailed to her, her SMS, the unit's question to her, her answer to it sent
        # on to the unit; the unit's notice names her not
        "outbox_messages": 4,
        "recordings": 1,
        "speech_answers": 0,
        "audit_entries": 1,
        "redis_entries": 5,  # 4 stream events, the agent's last call
        "holds_overridden": 0,
        "matter_residents": 0,
        "agent_tasks": 2,  # her voicemail's and her callback's
        "voicemail_files": 1,
        "open311_requests": 1,
    }
    database = await everything_in_the_database(engine)
    keyspace = await everything_in_redis(people.redis)
    logged = log_file.read_text(encoding="utf-8")
    traces = [
        *text_forms(ANNA),
        *text_forms(ANNA_NAME),
        ANNA_EMAIL,
        "dom anna",
        "klatka anna",
        "dzielnicy anna",
    ]
    for trace in [*traces, photo_of("anna")]:
        assert trace not in database, trace
        assert trace not in keyspace, trace
        assert trace not in logged, trace
    assert [p.name for p in people.settings.recordings_dir.rglob("*.wav")] == ["bolek2.wav"]
    assert [p.name for p in voicemail_folder(people).rglob("*.wav")] == [f"{bolek.calls[0]}.wav"]
    assert "+***200" in logged and "erasure by iod@um" in logged

    # Bolek: every trace of him as it was
    his = [*text_forms(BOLEK)[:1], "Bolesław Lis", "bolek@example.pl", bolek.ticket]
    for trace in [*his, photo_of("bolek"), "klatka bolek-B", "dzielnicy bolek"]:
        assert database.count(trace) == database_before.count(trace), trace
    assert BOLEK in keyspace and "kck:desk:last-call:agent-of-bolek" in keyspace
    # the statistics: the same calls per queue and outcome, durations, IVR steps, tickets per unit
    assert await statistics(engine) == before

    async with people.sessions() as db:
        [entry] = await db.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase"))
        path = (await db.get(Call, anna.calls[0])).ivr_path  # type: ignore[union-attr]
    assert entry.actor == "iod@um" and entry.details["reason"] == "wniosek RODO 17/2026"
    assert entry.details["calls"] == 3 and entry.target is None
    async with people.sessions() as db:
        ticket = await db.scalar(select(Ticket).where(Ticket.number == anna.ticket))
        assert ticket is not None
        steps = list(
            await db.scalars(select(MatterEvent).where(MatterEvent.ticket_id == ticket.id))
        )
        mails = list(
            await db.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
        )
    # her matter's steps and e-mails stay, with their states: only the texts about her go
    assert [e.to_status for e in steps] == [
        "forwarded",
        "answered",
        "answered",
        "resident_informed",
    ]
    assert steps[1].detail == ERASED and [m.state for m in mails] == [SENT] * 5
    for to_her in mails[1:4]:  # the answer, the SMS, the unit's question
        assert (to_her.recipient, to_her.body) == ("[erased]", ERASED), to_her.key
    assert mails[0].recipient == "zgloszenia@zdmk.test"
    # her answer to the unit's question, as the unit got it: the row stays, her words go
    assert (mails[4].key, mails[4].recipient, mails[4].body) == (
        unit_info_key(anna),
        "zgloszenia@zdmk.test",
        ERASED,
    )
    async with people.sessions() as db:
        tasks = list(await db.scalars(select(AgentTask).where(AgentTask.call_id.in_(anna.calls))))
    assert [(t.kind, t.state, t.number, t.note) for t in tasks] == [
        ("voicemail", "closed", None, None),
        ("callback", "closed", None, None),
    ]
    assert [s["digits"] for s in path] == ["2", None]  # the menu choice kept, the typed number not


async def test_a_legal_hold_refuses_the_erasure_unless_forced_with_a_reason(
    people: Services, engine: AsyncEngine
) -> None:
    anna, _ = await two_residents(people)
    await recordings_retention(people).hold(anna.recorded, "SKO 12/2026", by="legal")
    untouched = await everything_in_the_database(engine)
    with pytest.raises(
        ErasureRefused, match=rf"legal hold .* call {anna.recorded} \(SKO 12/2026\)"
    ):
        await erase_anna(people)
    assert await everything_in_the_database(engine) == untouched

    counts = await erase_anna(people, force="SKO 12/2026 closed, hold left by mistake")
    assert counts["holds_overridden"] == 1 and counts["recordings"] == 1
    assert ANNA not in await everything_in_the_database(engine)
    async with people.sessions() as db:
        actions = list(await db.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        [erasure] = await db.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase"))
    assert actions[-3:] == ["recording.release", "recording.delete", "privacy.erase"]
    assert erasure.details["forced"] == "SKO 12/2026 closed, hold left by mistake"


async def test_an_e_mail_to_her_not_yet_sent_refuses_the_erasure(
    people: Services, engine: AsyncEngine
) -> None:
    anna, _ = await two_residents(people)
    async with people.sessions() as db, db.begin():
        key = f"resident:{anna.ticket}:0"
        mail = await db.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        assert mail is not None
        mail.state = PENDING
    untouched = await everything_in_the_database(engine)
    with pytest.raises(ErasureRefused, match=f"e-mail to this person \\({key}\\) is still in"):
        await erase_anna(people)
    assert await everything_in_the_database(engine) == untouched


async def test_a_call_in_progress_or_history_not_yet_written_refuses_the_erasure(
    people: Services, engine: AsyncEngine
) -> None:
    anna = await add_resident(people, "anna", ANNA, ANNA_NAME, ANNA_EMAIL)
    async with people.sessions() as db, db.begin():
        call = await db.get(Call, anna.calls[2])
        assert call is not None
        call.outcome = CallOutcome.IN_PROGRESS.value
    with pytest.raises(ErasureRefused, match=f"call {anna.calls[2]} .* still in progress"):
        await erase_anna(people)
    async with people.sessions() as db, db.begin():
        call = await db.get(Call, anna.calls[2])
        assert call is not None
        call.outcome = CallOutcome.CALLBACK.value
    # her callback request is still waiting in the router (the row already says callback)
    await people.redis.hset(f"kck:q:call:{anna.calls[2]}", mapping={"cbnum": ANNA})
    with pytest.raises(ErasureRefused, match="a callback not yet made"):
        await erase_anna(people)
    await people.redis.delete(f"kck:q:call:{anna.calls[2]}")
    # the history writer's group exists but has not read her events yet (database away)
    await people.redis.xgroup_create("kck:stream:queues", "recorder", id="0")
    with pytest.raises(StillBeingWritten, match="not yet handled by consumer group 'recorder'"):
        await erase_anna(people)
    assert ANNA in await everything_in_the_database(engine)
