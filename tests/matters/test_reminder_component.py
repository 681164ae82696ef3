"""The reminders as a part of the controller: at start it reads the installation's units.yaml and
runs a round in one process (the lock in Redis), waking the outbox; a second process skips it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from agentdesk.reminder_component import ReminderComponent
from kck.clock import ManualClock
from kck.services import Services
from matters.models import OutboxMessage
from tests.matters.world import SIGNER, START, matter_service, new_matter
from tests.polling import until_true


async def test_the_part_reminds_a_late_unit_once_across_two_processes(
    configured_services: Services,
) -> None:
    clock = ManualClock(START)  # Monday 7 December 2026
    services = replace(configured_services, clock=clock)
    number = await new_matter(services.engine, clock, units=["ZZM"])
    await matter_service(services.engine, clock).forward(number, "agent:anowak")
    # greenery: 14 business days, the deadline Tuesday 29 December; 3 business days late
    clock.advance((datetime(2027, 1, 4, 9, 0, tzinfo=UTC) - START).total_seconds())
    woken: list[str] = []
    first = ReminderComponent(services, SIGNER, lambda: woken.append("first"))
    second = ReminderComponent(services, SIGNER, lambda: woken.append("second"))
    await first.start()
    try:

        async def reminded() -> bool:
            return first.reminded == 1

        await until_true(reminded, seconds=30)
        await second.start()  # the round's lock is taken: the second process skips it
        assert second.health()["up"] is True
    finally:
        await first.stop()
        await second.stop()
    assert (first.reminded, first.escalated, second.reminded) == (1, 0, 0)
    assert woken == ["first"]
    async with services.sessions() as db:
        keys = list(await db.scalars(select(OutboxMessage.key).order_by(OutboxMessage.id)))
    assert len(keys) == 2 and keys[1].startswith(f"remind:{number}:ZZM:")
    assert first.health() == {"up": False, "reminded": 1, "escalated": 0}
