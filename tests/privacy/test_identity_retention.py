"""The hourly purge clears callers' identity past `privacy.calls_days` (calls without a ticket)
and `privacy.tickets_days` (tickets, the calls they came from, the answers e-mailed to them), nothing younger, nothing
under legal hold, nothing in progress; the statistics stay; Redis events past the days go."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.tickets.models import Ticket
from kck.call_events import CALLS_STREAM
from kck.db.models import AuditEntry, Call, CallOutcome
from kck.services import Services
from kck.settings import PrivacySettings
from matters.models import OutboxMessage
from matters.outbox import RESIDENT_KEY
from privacy.component import PrivacyComponent, identity_retention
from privacy.matters import PURGED
from tests.polling import until_true
from tests.privacy.conftest import recordings_retention
from tests.privacy.world import NOW, add_resident, statistics


async def identities(services: Services) -> dict[str, tuple[str | None, str | None]]:
    async with services.sessions() as db:
        calls = (await db.execute(select(Call.id, Call.caller_number, Call.transcript))).all()
        tickets = (
            await db.execute(select(Ticket.number, Ticket.caller_number, Ticket.caller_email))
        ).all()
    return {row[0]: (row[1], row[2]) for row in [*calls, *tickets]}


async def resident_mails(services: Services) -> dict[str, tuple[str, str]]:
    """The answer e-mailed to each ticket's resident: its recipient and body."""
    async with services.sessions() as db:
        rows = await db.execute(
            select(Ticket.number, OutboxMessage.recipient, OutboxMessage.body)
            .join(OutboxMessage, OutboxMessage.ticket_id == Ticket.id)
            .where(OutboxMessage.key.startswith(RESIDENT_KEY))
        )
    return {number: (recipient, body) for number, recipient, body in rows.all()}


async def test_only_what_is_past_its_days_loses_the_callers_identity(
    people: Services, engine: AsyncEngine
) -> None:
    # 180 / 730 days by default: a resident of 10 days ago, one of 200 days ago (their calls
    # without a ticket are past; the ticket and its call are not), one of 800 days ago
    await add_resident(people, "new", "+48600000001", "Nowa Osoba", "n@example.pl", days_ago=10)
    await add_resident(people, "mid", "+48600000002", "Średnia Osoba", "m@example.pl", days_ago=200)
    await add_resident(people, "old", "+48600000003", "Stara Osoba", "o@example.pl", days_ago=800)
    await add_resident(people, "held", "+48600000004", "Sporna Osoba", "h@example.pl", days_ago=800)
    await recordings_retention(people).hold("held2", "SKO 3/2024", by="legal")
    async with people.sessions() as db, db.begin():
        stuck = await db.get(Call, "old3")  # left in progress by a crash: not touched
        assert stuck is not None
        stuck.outcome = CallOutcome.IN_PROGRESS.value
    before = await statistics(engine)

    counts = await identity_retention(people).purge()

    left = await identities(people)
    assert left["new1"] == ("+48600000001", "chodzi o dziurę w jezdni")
    assert left["KCK-2026-new"] == ("+48600000001", "n@example.pl")
    assert left["mid1"] == (None, None) and left["mid3"] == (None, None)
    assert left["mid2"] == ("+48600000002", None)  # its ticket is 200 days old: kept
    assert left["KCK-2026-mid"] == ("+48600000002", "m@example.pl")
    assert left["old1"] == left["old2"] == (None, None) and left["KCK-2026-old"] == (None, None)
    assert left["old3"] == ("+48600000003", None)
    # a legal hold on the recording keeps its call and its ticket (the other calls are cleared)
    assert left["held2"] == ("+48600000004", None)
    assert left["KCK-2026-held"] == ("+48600000004", "h@example.pl")
    assert left["held1"] == (None, None)
    assert (counts.calls, counts.tickets, counts.outbox_messages) == (6, 1, 1)
    assert await statistics(engine) == before
    # the answer e-mailed with the ticket goes with its identity; the unit's notice stays
    mails = await resident_mails(people)
    assert mails["KCK-2026-old"] == ("[erased]", PURGED)
    assert mails["KCK-2026-held"][0] == "h@example.pl" and "Sporna" in mails["KCK-2026-held"][1]
    assert mails["KCK-2026-mid"][0] == "m@example.pl"

    async with people.sessions() as db:
        old = await db.get(Call, "old1")
        [audit] = await db.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.purge"))
    assert old is not None and old.caller_name is None
    assert [s["digits"] for s in old.ivr_path] == ["2", None]
    assert audit.details["calls"] == 6 and "+48" not in str(audit.details)
    assert await identity_retention(people).purge() == type(counts)(
        0, 0, 0, 0, 0
    )  # nothing left to do


async def test_days_are_settings_and_old_stream_events_go(people: Services) -> None:
    key = people.bus.key(CALLS_STREAM)
    old_ms = int((NOW - timedelta(days=31)).timestamp() * 1000)
    await people.redis.xadd(key, {"type": "call_arrived", "data": "+48600000005"}, id=f"{old_ms}-0")
    await add_resident(people, "a", "+48600000005", "Ktoś Inny", "k@example.pl", days_ago=40)
    settings = people.settings.model_copy(update={"privacy": PrivacySettings(calls_days=30)})
    component = PrivacyComponent(type(people)(**{**vars(people), "settings": settings}))

    counts = await component.retention.purge()

    assert (counts.calls, counts.tickets, counts.stream_events) == (2, 0, 1)
    # the events published now (ids of today's clock) stay: younger than 30 days
    assert await people.redis.xlen(key) == 4
    assert component.health()["calls_days"] == 30


async def test_the_controller_part_purges_at_start_then_hourly_in_one_process(
    people: Services,
) -> None:
    await add_resident(people, "old", "+48600000003", "Stara Osoba", "o@example.pl", days_ago=800)
    first, second = PrivacyComponent(people), PrivacyComponent(people)  # two kck serve processes
    await first.start()
    try:

        async def purged() -> bool:
            return first.cleared_calls == 3

        await until_true(purged, seconds=30)
        await second.start()  # the round's lock is taken: the second process skips it
        assert await people.redis.exists("kck:privacy:purge") == 1
        assert second.health()["up"] is True
    finally:
        await first.stop()
        await second.stop()
    assert (first.cleared_tickets, second.cleared_calls) == (1, 0)
    assert first.health()["up"] is False  # stopped
