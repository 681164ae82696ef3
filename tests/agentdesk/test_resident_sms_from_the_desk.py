"""From the desk to the resident's phone: a ticket saved with SMS consent over HTTP puts the
resident's SMS in the outbox, and the outbox worker writes it through the file gateway (the
demo's) — once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from agentdesk.tickets.matters import UnitAction
from kck.clock import ManualClock
from matters.gateways import MailFolder
from matters.links import UnitGrant
from matters.outbox import OutboxWorker
from matters.sms_gateways import SMSFolder
from tests.agentdesk.conftest import DeskWorld
from tests.agentdesk.matters_app import matter_service, matters_app
from tests.agentdesk.test_unit_page import START, agent_saves_ticket
from tests.matters.world import SMS_ONLY

Client = TestClient[web.Request, web.Application]


async def test_a_ticket_with_sms_consent_reaches_the_residents_phone_folder(
    world: DeskWorld,
    tmp_path: Path,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> None:
    clock = ManualClock(START)
    matters = matter_service(world, clock)
    client = await aiohttp_client(matters_app(world, matters, clock))
    number = await agent_saves_ticket(world, client, units=["ZZM"], language="uk", **SMS_ONLY)
    phone = SMSFolder(tmp_path / "sms")
    worker = OutboxWorker(
        world.services.sessions, MailFolder(tmp_path / "mail"), "kck@test", clock, sms=phone
    )
    assert await worker.send_due() == 2  # the unit's e-mail and the resident's SMS
    await matters.unit_act(UnitGrant(number, "ZZM", START), UnitAction.ANSWER, "Зроблено.")
    assert await worker.send_due() == 1  # the answer's SMS only: nothing sent again
    assert await worker.send_due() == 0
    texts = sorted(p.name for p in (tmp_path / "sms").iterdir())
    assert texts == [
        f"resident_sms_{number}_answered_phone_1.txt",
        f"resident_sms_{number}_forwarded_1.txt",
    ]
    forwarded = (tmp_path / "sms" / texts[1]).read_text(encoding="utf-8")
    assert forwarded.startswith("To: +48600123456\n\nЗвернення ")


@pytest.mark.parametrize("consent", [False, True])
async def test_the_desk_shows_the_sms_consent_it_saved(
    world: DeskWorld,
    consent: bool,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> None:
    clock = ManualClock(START)
    client = await aiohttp_client(matters_app(world, matter_service(world, clock), clock))
    number = await agent_saves_ticket(world, client, units=["ZZM"], sms_consent=consent)
    found = await client.get(f"/api/tickets/{number}")
    assert (await found.json())["sms_consent"] is consent
