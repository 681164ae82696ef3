"""What the desk and Open311 keep about a resident (their voicemail and its task, a callback's
note, the Open311 request's photo and attributes) and the matters they were attached to: in
their export; an open task refuses their erasure; past the retention the purge clears them."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from agentdesk.open311.models import Open311Request
from agentdesk.tasks.models import AgentTask, TaskState
from agentdesk.tickets.models import Ticket
from kck.services import Services
from privacy.component import identity_retention
from privacy.erasure import ErasureRefused
from privacy.export import Where, collect
from privacy.person import Person
from tests.privacy.desk_world import BOX, add_desk_traces, photo_of, voicemail_folder
from tests.privacy.test_attached_residents import attach
from tests.privacy.test_export_and_erasure import erase_anna, two_residents
from tests.privacy.world import ANNA, ANNA_EMAIL, ANNA_NAME, NOW, add_resident


async def test_the_matters_she_was_attached_to_are_in_her_export(people: Services) -> None:
    _, bolek = await two_residents(people)
    resident = await attach(people, bolek.ticket, ANNA, ANNA_NAME, ANNA_EMAIL)

    document = await collect(people.sessions, Where.of(people), Person(ANNA), NOW, by="iod")

    [row] = document["matter_residents"]
    async with people.sessions() as db:
        ticket_id = await db.scalar(select(Ticket.id).where(Ticket.number == bolek.ticket))
    assert (row["id"], row["ticket_id"], row["email"]) == (resident, ticket_id, ANNA_EMAIL)
    assert row["name"] == ANNA_NAME and row["caller_number"] == ANNA


async def test_a_task_of_hers_still_open_at_the_desk_refuses_the_erasure(
    people: Services,
) -> None:
    anna, _ = await two_residents(people)
    async with people.sessions.begin() as db:
        callback = await db.scalar(
            select(AgentTask).where(
                AgentTask.call_id == anna.calls[1], AgentTask.kind == "callback"
            )
        )
        assert callback is not None
        callback.state = TaskState.SCHEDULED.value
    with pytest.raises(ErasureRefused, match=rf"task {callback.id} \(callback, scheduled\)"):
        await erase_anna(people)
    assert (voicemail_folder(people) / BOX / f"{anna.calls[0]}.wav").is_file()
    async with people.sessions() as db:
        numbers = set(await db.scalars(select(AgentTask.number)))
    assert ANNA in numbers


async def test_past_the_retention_tasks_voicemail_and_open311_requests_lose_the_resident(
    people: Services,
) -> None:
    # 180 / 730 days by default: a resident of 10 days ago, one of 800 days ago
    new = await add_resident(
        people, "new", "+48600000001", "Nowa Osoba", "n@example.pl", days_ago=10
    )
    old = await add_resident(people, "old", "+48600000003", "Stara Osoba", "o@example.pl", days_ago=800)  # fmt: skip
    await add_desk_traces(people, new, "new", days_ago=10)
    await add_desk_traces(people, old, "old", days_ago=800)
    long_ago = NOW - timedelta(days=800)
    unheard = voicemail_folder(people) / BOX / "old9.wav"  # an old message no one has heard yet
    unheard.write_bytes(b"RIFF....WAVE")
    os.utime(unheard, (long_ago.timestamp(), long_ago.timestamp()))
    async with people.sessions.begin() as db:
        db.add(AgentTask(kind="voicemail", call_id="old9", state=TaskState.OPEN.value,
                         number="+48600000003", created_by="system", created_at=long_ago))  # fmt: skip

    counts = await identity_retention(people).purge()

    assert (counts.agent_tasks, counts.voicemail_files, counts.open311_requests) == (2, 1, 1)
    left = sorted(p.name for p in voicemail_folder(people).rglob("*.wav"))
    assert left == sorted([f"{new.calls[0]}.wav", "old9.wav"])
    async with people.sessions() as db:
        tasks = {
            (t.call_id, t.kind): (t.number, t.note) for t in await db.scalars(select(AgentTask))
        }
        requests = {r.client_request_id: r for r in await db.scalars(select(Open311Request))}
    assert tasks[(old.calls[0], "voicemail")] == (None, None)
    assert tasks[(old.calls[1], "callback")] == (None, None)
    assert tasks[("old9", "voicemail")] == ("+48600000003", None)  # still open: kept
    assert tasks[(new.calls[1], "callback")] == (new.number, "Nowa Osoba prosi o telefon po 17")
    assert (requests["portal-old"].media_url, requests["portal-old"].attributes) == (None, None)
    assert requests["portal-new"].media_url == photo_of("new")
