"""Desk fixtures: the real app on SQLite + the test Redis, accounts, calls as the IVR stores them."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from agentdesk.accounts import Accounts
from agentdesk.app import SHIPPED_UNITS, DeskParts, create_app
from agentdesk.interim_knowledge import InterimCard, InterimKnowledge
from agentdesk.interim_queues import InterimQueues
from agentdesk.ports import Offer
from agentdesk.tickets.units import load_units
from kck.db.models import Call, Role
from kck.services import Services

PASSWORD = "correct horse battery"
_offers = itertools.count(1)

CARDS = [
    InterimCard(
        "wycinka-drzew",
        "Zgłoszenie uszkodzonego lub niebezpiecznego drzewa",
        "Złamane gałęzie, pochylone drzewo: ZZM przyjmuje zgłoszenia, pilne — Straż Miejska.",
        ("greenery", "zielen", "tree-damaged"),
    ),
    InterimCard(
        "dziura-w-jezdni",
        "Ubytki w jezdni i chodniku",
        "Dziura w drodze lub chodniku: zgłoszenie do Zarządu Dróg Miasta Krakowa.",
        ("roads_pavements", "drogi", "pothole"),
    ),
    InterimCard(
        "wywoz-odpadow",
        "Nieodebrane odpady komunalne",
        "Harmonogram wywozu, reklamacje nieodebranych śmieci: MPO.",
        ("waste", "odpady"),
    ),
]


def routing_request(
    call_id: str,
    caller: str | None = "+48600123456",
    *,
    category: str = "greenery",
    intent: str | None = "tree-damaged",
    transcript: str | None = "przy ulicy Lubicz złamało się drzewo i gałęzie leżą na chodniku",
) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "uniqueid": f"1732450000.{call_id[:4]}",
        "channel": "PJSIP/trunk-00000001",
        "caller": caller,
        "language": "pl",
        "queue": "miasto",
        "skills": {"greenery": 1},
        "priority": 0,
        "ivr_path": [
            {"step_id": "lang-pl", "label": "Polski", "digits": "1", "at": "2026-11-24T09:00:00Z"},
            {
                "step_id": "report",
                "label": "Zgłoszenie problemu",
                "digits": "2",
                "at": "2026-11-24T09:00:05Z",
            },
            {"step_id": "zielen", "label": "Zieleń", "digits": "1", "at": "2026-11-24T09:00:09Z"},
        ],
        "ivr_path_text": "Polski → Zgłoszenie problemu → Zieleń",
        "intent": intent,
        "transcript": transcript,
        "kb_topic": None,
        "ticket_category": category,
        "menu_version": "2026-11-01",
        "arrived_at": "2026-11-24T09:00:00Z",
    }


@dataclass
class DeskWorld:
    """The running desk app and the router's side of the contract, for one test."""

    services: Services
    queues: InterimQueues
    accounts: Accounts
    app: web.Application

    async def add_user(
        self, name: str, role: Role = Role.AGENT, extension: str | None = "101"
    ) -> None:
        await self.accounts.add(
            name, PASSWORD, role, extension=extension, display_name=name.title()
        )

    async def store_call(self, caller: str | None = "+48600123456", **fields: Any) -> str:
        """A call row as the IVR writes it when the caller reaches the queue."""
        call_id = uuid.uuid4().hex
        async with self.services.sessions.begin() as db:
            db.add(
                Call(
                    id=call_id,
                    uniqueid=f"1732450000.{next(_offers)}",
                    caller_number=caller,
                    arrived_at=fields.pop("arrived_at", datetime.now(UTC)),
                    **fields,
                )
            )
        return call_id

    async def offer(self, agent: str, call_id: str, request: dict[str, Any] | None = None) -> Offer:
        caller = request["caller"] if request else "+48600123456"
        offer = Offer(
            offer_id=f"offer-{next(_offers)}",
            call_id=call_id,
            agent=agent,
            extension="101",
            dial="PJSIP/101",
            ring_timeout_s=15,
            offered_at=datetime.now(UTC).isoformat(),
            kind="inbound",
            request=request or routing_request(call_id, caller),
        )
        await self.queues.make_offer(offer)
        return offer


@pytest.fixture
async def world(services: Services) -> AsyncIterator[DeskWorld]:
    queues = InterimQueues(services, wrap_up_s=2.0)
    parts = DeskParts(
        backend=queues,
        knowledge=InterimKnowledge(CARDS),
        units=load_units(SHIPPED_UNITS),
        lifecycle=[queues],
    )
    app = create_app(services, lambda: {"mode": "test", "parts": {"web": {"up": True}}}, parts)
    yield DeskWorld(services, queues, Accounts(services.sessions), app)


Client = TestClient  # type: ignore[type-arg]


@pytest.fixture
async def client(
    world: DeskWorld, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    return await aiohttp_client(world.app)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


async def sign_in(
    client: Client, username: str, extension: str = "101", password: str = PASSWORD
) -> str:
    """Sign in through the login form; returns the session's CSRF token (from the desk or status page)."""
    page = await client.get("/login")
    token = csrf_of(await page.text())
    response = await client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "extension": extension,
            "csrf_token": token,
        },
    )
    assert response.status == 200, await response.text()
    return csrf_of(await response.text())
