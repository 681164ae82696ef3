"""`kck demo`: the PBX simulator, agents' phones, simulated agents and a stream of callers.

Everything here drives the real controller from outside, as Asterisk and people would: callers
reach the real FastAGI server, the real AMI client talks to the simulator's AMI server, and
simulated agents change state through the router like the desk does. Two agents of agents.yaml
are left for people: sign in as them at the desk to take calls yourself.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agentdesk.accounts import DemoAccount, create_demo_accounts
from agentdesk.open311.clients import ApiClients
from demo.simulator import (
    CITY_HALL_HOURLY_SHAPE,
    CallerScript,
    CallStream,
    DigitPress,
    PBXSimulator,
    PhoneBehaviour,
)
from kck.controller import Controller
from kck.services import Services
from kck.stopping import TASK_STOP_S, stop_tasks
from queues.config import load_routing_config
from queues.router import Router

log = logging.getLogger(__name__)

HUMAN_AGENTS = 2  # the first agents of agents.yaml are left for people at the desk
# A person's simulated phone answers within seconds and the caller says little: the person sees
# a whole call (pop, call, wrap-up, outcome) in under half a minute, not after minutes of silence.
HUMAN_TALK_S = (8.0, 15.0)

# Keys a caller presses through the shipped menu, with how often (language, topic, sub-topic).
DECLINE_SHARE = 0.05  # callers who refuse to be recorded
# the demo's Open311 client: a known key, printed at the start (a real one: kck open311 keys add)
DEMO_PORTAL = "demo-portal"
DEMO_PORTAL_KEY = "kck311_demo-portal"
CALLER_PATHS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("1", "1"), 14),  # ID cards and passports
    (("1", "2", "1"), 6),  # vehicle registration
    (("1", "2", "2"), 5),  # driving licences
    (("1", "3", "1"), 4),  # births
    (("1", "3", "2"), 2),  # marriages
    (("1", "3", "3"), 2),  # deaths
    (("1", "4", "1"), 6),  # local taxes
    (("1", "4", "2"), 8),  # waste fees
    (("1", "5", "1"), 8),  # roads and pavements
    (("1", "5", "2"), 5),  # greenery
    (("1", "5", "3"), 5),  # rubbish
    (("1", "5", "4"), 2),  # small architecture
    (("1", "5", "5"), 3),  # public transport
    (("1", "6"), 5),  # social welfare
    (("1", "7"), 6),  # opening hours, self-service
    (("1", "0"), 6),  # other matters
    (("2", "1"), 2),  # English: ID cards
    (("3", "6"), 2),  # Ukrainian: social welfare
)


@dataclass
class DemoCallers:
    """Builds simulated callers: a pool of residents (some call again), some withhold their number."""

    seed: int = 7
    residents: int = 300
    rng: random.Random = field(init=False)
    numbers: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.numbers = [f"+4860{self.rng.randrange(10**7):07d}" for _ in range(self.residents // 2)]
        self.numbers += [
            f"+4812{self.rng.randrange(10**7):07d}" for _ in range(self.residents // 2)
        ]

    def script(self, n: int, rng: random.Random) -> CallerScript:
        paths = [p for p, _ in CALLER_PATHS]
        weights = [w for _, w in CALLER_PATHS]
        keys = rng.choices(paths, weights)[0]
        # the recording announcement listens first: most let it pass, a few press 9 to decline
        consent = DigitPress("9" if rng.random() < DECLINE_SHARE else "", after=2.0)
        presses = (consent, *(DigitPress(k, after=rng.uniform(1.0, 3.5)) for k in keys))
        number = None if rng.random() < 0.05 else rng.choice(self.numbers)
        return CallerScript(
            number=number,
            digits=presses,
            patience=rng.uniform(45.0, 400.0),
            label=f"demo-{n}:{'-'.join(keys)}",
        )


class DemoComponent:
    """Simulated Asterisk + phones + agents + callers around the real controller."""

    name = "simulator"

    def __init__(
        self, services: Services, controller: Controller, *, calls_per_hour: float = 240.0
    ) -> None:
        self.services = services
        self.router: Router = controller.router.router
        self.agi_port = controller.ivr.agi_port
        self.calls_per_hour = calls_per_hour
        self.pbx: PBXSimulator | None = None
        self.notes: list[str] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._outcomes: collections.Counter[str] = collections.Counter()
        self._stream: CallStream | None = None
        self._simulated: list[str] = []

    async def start(self) -> None:
        settings = self.services.settings
        if self.agi_port is None:
            raise RuntimeError("the demo needs the IVR's FastAGI server")
        self.pbx = PBXSimulator(
            ami_host=settings.ami.host,
            ami_port=settings.ami.port,
            users={settings.ami.username: settings.ami.secret.get_secret_value()},
            agi_url=f"agi://127.0.0.1:{self.agi_port}/ivr",
        )
        await self.pbx.start()
        loop = asyncio.get_running_loop()
        config = await loop.run_in_executor(None, load_routing_config, settings.config_dir)
        rng = random.Random(11)
        agents = list(config.agents.values())
        humans = {a.username for a in agents[:HUMAN_AGENTS]}
        for agent in agents:
            talk = HUMAN_TALK_S if agent.username in humans else (40.0, 150.0)
            behaviour = PhoneBehaviour(
                answer_after=rng.uniform(2.0, 5.0), talk_for=rng.uniform(*talk)
            )
            self.pbx.add_phone(agent.extension, behaviour)
        accounts = await demo_accounts(self.services)
        await ApiClients(self.services.sessions).keep(
            DEMO_PORTAL, DEMO_PORTAL_KEY, self.services.clock.now()
        )
        self._simulated = [a.username for a in agents if a.username not in humans]
        for username in self._simulated:
            await self.router.agent_login(username)
        self._tasks.append(asyncio.create_task(self._breaks(self.router), name="demo-breaks"))
        shape_now = CITY_HALL_HOURLY_SHAPE[10] / sum(CITY_HALL_HOURLY_SHAPE)
        self._stream = CallStream(
            self.pbx,
            DemoCallers().script,
            calls_per_day=self.calls_per_hour / shape_now,
            start_hour=10.0,
            seed=3,
        )
        self._tasks.append(asyncio.create_task(self._run_stream(self._stream), name="demo-calls"))
        self._tasks.append(asyncio.create_task(self._seed_knowledge_base(), name="demo-kb"))
        self.notes = [
            f"simulated PBX: AMI on {settings.ami.host}:{self.pbx.ami_port}, "
            f"{len(agents)} agent phones, ~{self.calls_per_hour:.0f} calls/hour",
            f"simulated agents: {', '.join(self._simulated)}",
            "demo accounts (sign in at /login; agents left for you to play take real calls):",
            *(
                f"  {a.username:14} {a.password:14} {a.role.value}"
                + (f" ext {a.extension}" if a.extension else "")
                + ("  ← for you" if a.username in humans else "")
                for a in accounts
            ),
            f"Open311 for a portal or an app: /open311/v2/ with api_key={DEMO_PORTAL_KEY} "
            "(docs/open311.md)",
        ]

    async def _run_stream(self, stream: CallStream) -> None:
        watchers: set[asyncio.Task[None]] = set()

        async def watch(call: Any) -> None:
            with contextlib.suppress(Exception):
                outcome = await call
                self._outcomes[outcome.result.value] += 1

        known = 0
        runner = asyncio.create_task(stream.run(hours=24 * 365))
        try:
            while not runner.done():
                await asyncio.sleep(0.5)
                for call in stream.calls[known:]:
                    task = asyncio.create_task(watch(call))
                    watchers.add(task)
                    task.add_done_callback(watchers.discard)
                known = len(stream.calls)
        finally:
            await stop_tasks([runner, *watchers], within=TASK_STOP_S, what="caller stream")

    async def _seed_knowledge_base(self) -> None:
        """An empty knowledge base gets the shipped service cards, so screen-pops have cards."""
        from kb import KnowledgeBase, import_folder

        knowledge = KnowledgeBase(self.services.engine)
        if await knowledge.cards():
            return
        folder = self.services.settings.path(self.services.settings.paths.kb)
        report = await import_folder(knowledge, folder, author="demo")
        log.info("knowledge base seeded from %s: %d cards", folder, len(report.created))

    async def _breaks(self, router: Any) -> None:
        """Now and then a simulated agent takes a short break, as people do."""
        from queues.model import AgentState

        rng = random.Random(5)
        while True:
            await asyncio.sleep(rng.uniform(60.0, 180.0))
            username = rng.choice(self._simulated)
            with contextlib.suppress(Exception):
                await router.set_agent_state(username, AgentState.PAUSED, "break")
                await asyncio.sleep(rng.uniform(30.0, 120.0))
                await router.set_agent_state(username, AgentState.AVAILABLE)

    async def stop(self) -> None:
        await stop_tasks(self._tasks, within=TASK_STOP_S, what="demo")
        self._tasks.clear()
        if self.pbx is not None:
            await self.pbx.stop()
            self.pbx = None

    def health(self) -> dict[str, Any]:
        placed = len(self._stream.calls) if self._stream else 0
        return {
            "up": self.pbx is not None,
            "calls_placed": placed,
            "calls_ended": sum(self._outcomes.values()),
            **{f"ended_{k}": v for k, v in sorted(self._outcomes.items())},
        }


def demo_part(calls_per_hour: float) -> Callable[[Services, Controller], Awaitable[DemoComponent]]:
    """The demo as an extra part of the runtime (`Runtime(extras=...)`), after the controller."""

    async def create(services: Services, controller: Controller) -> DemoComponent:
        return DemoComponent(services, controller, calls_per_hour=calls_per_hour)

    return create


async def demo_accounts(services: Services) -> list[DemoAccount]:
    """Accounts for the agents of agents.yaml plus staff, new passwords at every start."""
    loop = asyncio.get_running_loop()
    config = await loop.run_in_executor(None, load_routing_config, services.settings.config_dir)
    agents = [(a.username, a.name, a.extension) for a in config.agents.values()]
    return await create_demo_accounts(services.sessions, agents)
