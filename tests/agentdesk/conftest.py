"""Desk fixtures: the real app on SQLite + the test Redis, accounts, calls as the IVR stores them."""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from agentdesk.accounts import Accounts
from agentdesk.app import DeskParts, create_app
from agentdesk.kb_adapter import KbKnowledge
from agentdesk.ports import Offer
from agentdesk.router_backend import RouterDeskBackend
from agentdesk.tickets.matters import MatterService
from agentdesk.tickets.units import load_units
from kb import KnowledgeBase, load_polish_analyzer, read_folder
from kck.clock import Clock, ManualClock
from kck.config_files import SHIPPED_CONFIG
from kck.db import create_engine, upgrade
from kck.db.models import Call, Role
from kck.health import fixed_health
from kck.services import Services
from queues.config import AgentConfig, EscalationStep, QueueConfig, RoutingConfig, Skill
from queues.model import EndCause, RoutingRequest
from queues.router import Router
from queues.timer import RouterTimer

PASSWORD = "correct horse battery"
KB_FOLDER = Path(__file__).resolve().parents[2] / "config" / "kb" / "pl"
KB_TRANSLATIONS = (KB_FOLDER.parent / "en", KB_FOLDER.parent / "uk")
_offers = itertools.count(1)


def routing_config() -> RoutingConfig:
    """Two queues like the shipped ones: a short wrap-up (2 s) and a long one (5 min)."""

    def queue(name: str, name_pl: str, name_en: str, wrap_up_s: int) -> QueueConfig:
        return QueueConfig(
            id=name,
            name_pl=name_pl,
            name_en=name_en,
            escalation=(EscalationStep(after_s=0),),
            wrap_up_s=wrap_up_s,
            ring_timeout_s=20,
        )

    skills = ("greenery", "roads", "waste", "general")
    agents = {"anowak": "101", "pkowal": "102", "mwojcik": "104"}
    return RoutingConfig(
        skills={s: Skill(id=s, name_pl=s, name_en=s) for s in skills},
        queues={
            "city_issues": queue("city_issues", "Zgłoszenia miejskie", "City issues", 2),
            "long_wrap_up": queue("long_wrap_up", "Zieleń miejska", "City greenery", 300),
        },
        agents={
            name: AgentConfig(
                username=name,
                name=name.title(),
                extension=ext,
                skills={"greenery": 3, "roads": 3, "waste": 3, "general": 3},
            )
            for name, ext in agents.items()
        },
    )


@pytest.fixture(scope="session")
def kb_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with the shipped KB cards (Polish and their translations), made once
    (the stemmer loads once)."""
    path = tmp_path_factory.mktemp("desk-template") / "template.db"

    async def make() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
            kb = KnowledgeBase(engine, await load_polish_analyzer())
            for folder in (KB_FOLDER, *KB_TRANSLATIONS):  # originals before their translations
                for _, card in await asyncio.get_running_loop().run_in_executor(
                    None, read_folder, folder
                ):
                    await kb.save(card, author="tests")
        finally:
            await engine.dispose()

    asyncio.run(make())
    return path


@pytest.fixture
def sqlite_url(kb_sqlite_template: Path, tmp_path: Path) -> str:
    """The desk's tests run on a copy of the KB-seeded database."""
    path = tmp_path / "kck.db"
    shutil.copy(kb_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def routing_request(
    call_id: str,
    caller: str | None = "+48600123456",
    *,
    category: str = "greenery",
    intent: str | None = "fallen-tree",
    transcript: str | None = "przy ulicy Lubicz złamało się drzewo i gałęzie leżą na chodniku",
    recording_consent: bool | None = True,
) -> dict[str, Any]:
    return {
        "call_id": call_id,
        "uniqueid": f"1732450000.{call_id[:4]}",
        "channel": "PJSIP/trunk-00000001",
        "caller": caller,
        "language": "pl",
        "queue": "city_issues",
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
        "recording_consent": recording_consent,
    }


@dataclass
class DeskWorld:
    """The running desk app and the real router (the PBX's side is played by the test)."""

    services: Services
    router: Router
    backend: RouterDeskBackend
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

    async def offer(
        self,
        agent: str,
        call_id: str,
        request: dict[str, Any] | None = None,
        queue: str = "city_issues",
    ) -> Offer:
        """The IVR queues the call; the router offers it to `agent` (the only one available)."""
        data = request or routing_request(call_id)
        data = {**data, "queue": queue, "skills": {"greenery": 1}}
        offer = await self.router.enqueue(RoutingRequest.from_dict(data))
        assert offer is not None and offer.agent == agent, f"router offered {offer} instead"
        return offer

    async def answer(self, offer: Offer) -> None:
        assert await self.router.offer_answered(offer.offer_id)

    async def hang_up(self, call_id: str) -> None:
        await self.router.call_ended(call_id, EndCause.COMPLETED)

    async def ring_out(self, offer: Offer) -> None:
        await self.router.offer_not_answered(offer.offer_id)

    def advance(self, seconds: float) -> None:
        """Time passes for the router and the desk (tests marked `on_manual_clock`)."""
        clock = self.services.clock
        assert isinstance(clock, ManualClock), "only a test marked on_manual_clock moves time"
        clock.advance(seconds)


async def stop_timer(timer: RouterTimer) -> None:
    """RouterTimer.stop can wait forever on Python 3.11: `asyncio.wait_for` may swallow a
    cancel that lands as its timeout fires, and the timer sleeps in such waits. Cancel again."""
    task = timer._task
    for _ in range(200):
        if task is None or task.done():
            break
        task.cancel()
        await asyncio.sleep(0.02)
    timer._task = None


# The router's and the desk's clock is the real one; a test with this mark gets a ManualClock
# (`world.services.clock`) and moves time by hand: the router's timer ends wrap-up only then.
on_manual_clock = pytest.mark.parametrize("desk_clock", ["manual"], indirect=True)


@pytest.fixture
def desk_clock(request: pytest.FixtureRequest, services: Services) -> Clock:
    return ManualClock() if getattr(request, "param", None) == "manual" else services.clock


@pytest.fixture
async def world(services: Services, desk_clock: Clock) -> AsyncIterator[DeskWorld]:
    services = replace(services, clock=desk_clock)
    router = Router(
        services.redis,
        routing_config(),
        prefix=services.settings.redis.key_prefix,
        clock=services.clock,
        tz=services.settings.tz,
    )
    # The router's and the desk's live messages must meet on the same channels.
    services.bus.prefix = services.settings.redis.key_prefix
    timer = RouterTimer(router, safety_s=0.5)
    timer.start()
    backend = RouterDeskBackend(router, services.clock)
    parts = DeskParts(
        backend=backend,
        knowledge=KbKnowledge(KnowledgeBase(services.engine, await load_polish_analyzer())),
        units=load_units(SHIPPED_CONFIG / "units.yaml"),
    )
    app = create_app(
        services, fixed_health({"mode": "test", "parts": {"web": {"up": True}}}), parts
    )
    try:
        yield DeskWorld(services, router, backend, Accounts(services.sessions), app)
    finally:
        await stop_timer(timer)


Client = TestClient[web.Request, web.Application]


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


# The unit pages' tests (test_unit_*.py): the desk with its matters wired, on a clock of the test's
# own; a module may override `matters` (e.g. with units working by account).
MATTERS_START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MATTERS_START)


@pytest.fixture
def matters(world: DeskWorld, clock: ManualClock) -> MatterService:
    from tests.agentdesk.matters_app import matter_service  # it imports this module

    return matter_service(world, clock)


@pytest.fixture
async def unit_client(
    world: DeskWorld,
    clock: ManualClock,
    matters: MatterService,
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
) -> Client:
    from tests.agentdesk.matters_app import matters_app  # it imports this module

    return await aiohttp_client(matters_app(world, matters, clock))
