"""A site on a real Asterisk, as the tests (and `bench/real_asterisk.py`) assemble it.

`start_pbx_site`: one Asterisk loaded with exactly what `kck asterisk config` writes for a test
installation (plus free ports and an observer AMI user), a template installation with its
prompts built and desk accounts in its database. `open_site`: on that Asterisk, a fresh
`kck serve` on a copy of the template (its own database and private Redis), an AMI observer,
and then SIPp phones and callers and agents signed in through the desk (`Site`).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from sqlalchemy import select

from agentdesk.accounts import Accounts
from kck.db import create_engine, session_factory, upgrade
from kck.db.models import Call, Role
from tests.polling import until_true
from tests.real_asterisk.controller import PASSWORD, DeskAgent, Installation, KckServe
from tests.real_asterisk.observer import AMIObserver, agi_command
from tests.real_asterisk.pbx import (
    OBSERVER_SECRET,
    OBSERVER_USER,
    AsteriskInstall,
    PBXPorts,
    RealAsterisk,
    free_tcp_port,
    test_additions,
)
from tests.real_asterisk.sipp import (
    OPERATOR_HOST,
    PhoneBehaviour,
    SippCaller,
    SippPhone,
    free_udp_port,
)
from tests.redis_replies import text

HOTLINE = "126165555"
PREFIX = "kck"  # redis.key_prefix of the test installation (the default)
# the agents the tests sign in (agents.yaml as shipped): extension and skills decide who is offered
AGENTS = {
    "anowak": "101",  # id_cards 5, civil_registry 4, general 3
    "pkowalski": "102",  # vehicles 5, driving_licences 4, transport 2, general 2
    "kwisniewska": "103",  # taxes 5, general 3, english 3
    "akaminska": "105",  # social_welfare 5, civil_registry 2, ukrainian 4
    "mzielinska": "107",  # id_cards 3, civil_registry 5, general 4
}
# main menu 1 (ID cards, queue citizens_affairs, id_cards ≥ 3 at first): anowak and mzielinska


@dataclass
class PBXSite:
    """What one test run shares: the Asterisk, its ports, the template installation."""

    pbx: RealAsterisk
    ports: PBXPorts
    template: Installation
    phone_passwords: dict[str, str]
    citizen_port: int
    agents: dict[str, str] = field(default_factory=lambda: dict(AGENTS))

    @property
    def agi_ports(self) -> tuple[int, ...]:
        """The FastAGI ports the dialplan lists (spread, then failover): one per node."""
        urls = self.template.agi_urls
        if not urls:
            return (self.template.agi_port,)
        return tuple(int(url.split(":")[2].split("/")[0]) for url in urls)

    def installation(
        self,
        root: Path,
        recordings: dict[str, float] | None = None,
        *,
        node: int = 0,
        redis_url: str | None = None,
        database_url: str | None = None,
    ) -> Installation:
        """A fresh installation on the same ports (Asterisk's dialplan names the AGI port).

        `recordings`: prompts replaced by "real recordings" of these lengths (a tone, s), e.g.
        a long announcement, in a copy of the built sounds. `node` 1: the dialplan's second
        FastAGI address and a web port of its own; `redis_url`, `database_url`: shared ones."""
        sounds = self.template.sounds
        if recordings:
            sounds = root / "sounds"
            shutil.copytree(self.template.sounds, sounds)
            for name, seconds in recordings.items():
                tone(sounds / f"{name}.wav", seconds)
        inst = Installation(
            root,
            sounds,
            agi_port=self.agi_ports[node],
            http_port=self.template.http_port if node == 0 else free_tcp_port(),
            shared_redis_url=redis_url,
            database_url=database_url,
        )
        inst.write(
            self.ports, trunk_host=f"{OPERATOR_HOST}:{self.citizen_port}", trunk_match=OPERATOR_HOST
        )
        if database_url is None:
            shutil.copy(self.template.var / "kck.db", inst.var / "kck.db")
        return inst


def start_pbx_site(
    install: AsteriskInstall,
    root: Path,
    *,
    ports: PBXPorts | None = None,
    agents: Mapping[str, str] = AGENTS,
    additions: Mapping[str, str] | None = None,
    nodes: int = 1,
) -> PBXSite:
    """Build the template installation (prompts, desk accounts for `agents`), generate the
    Asterisk configuration into `root/asterisk-conf` with the tests' additions (and the caller's
    own `additions`, appended per file), and start Asterisk. Blocking (minutes on a first build).
    `nodes` > 1: the dialplan lists that many FastAGI addresses, spread with failover (the
    template's first; `PBXSite.installation(node=i)` for the others)."""
    ports = ports or PBXPorts.free()
    citizen_port = free_udp_port(OPERATOR_HOST)
    template = Installation(root / "template", root / "sounds")
    if nodes > 1:  # (tests.real_asterisk.nodes); a test with one node: the others' addresses
        # are refused at once and the dialplan fails over to the first (AGISTATUS=FAILURE)
        ports_of_nodes = [template.agi_port] + [free_tcp_port() for _ in range(nodes - 1)]
        template.agi_urls = tuple(f"agi://127.0.0.1:{port}/ivr" for port in ports_of_nodes)
        template.agi_spread = True
    template.write(ports, trunk_host=f"{OPERATOR_HOST}:{citizen_port}", trunk_match=OPERATOR_HOST)
    template.kck("prompts", "build", timeout=600)
    asyncio.run(template_database(template.sql_url, agents))
    confdir = root / "asterisk-conf"
    passwords = template.asterisk_config(confdir)
    for extra in (test_additions(ports), additions or {}):
        for name, addition in extra.items():
            with (confdir / name).open("a", encoding="utf-8") as out:
                out.write(addition)
    pbx = RealAsterisk(install, root / "asterisk-run", confdir, ports)
    pbx.start()
    return PBXSite(pbx, ports, template, passwords, citizen_port, dict(agents))


def tone(path: Path, seconds: float) -> None:
    """A "recording" of `seconds`: a 440 Hz tone as 8 kHz mono WAV."""
    subprocess.run(
        ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(path), "synth", str(seconds),
         "sine", "440", "vol", "0.2"],
        check=True,
    )  # fmt: skip


async def template_database(url: str, agents: Mapping[str, str] = AGENTS) -> None:
    """Migrate the database at `url` and add the desk accounts (agents and a supervisor)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        accounts = Accounts(session_factory(engine))
        for username, extension in agents.items():
            await accounts.add(username, PASSWORD, Role.AGENT, extension=extension)
        await accounts.add("supervisor", PASSWORD, Role.SUPERVISOR)
    finally:
        await engine.dispose()


@dataclass
class Site:
    """One test's world: the shared Asterisk, a fresh kck, the phones, callers and desks."""

    shared: PBXSite
    installation: Installation
    serve: KckServe
    observer: AMIObserver
    folder: Path
    callers: list[SippCaller] = field(default_factory=list)
    phones: list[SippPhone] = field(default_factory=list)
    desks: list[DeskAgent] = field(default_factory=list)
    _numbers: int = 200
    _redis: aioredis.Redis | None = None
    owns_observer: bool = True  # False: another node's Site (tests.real_asterisk.nodes) closes it

    @property
    def pbx(self) -> RealAsterisk:
        return self.shared.pbx

    async def phone(
        self,
        extension: str,
        behaviour: PhoneBehaviour = PhoneBehaviour.ANSWERS,
        *,
        answer_ms: int = 500,
        talk_ms: int = 3000,
        voice: Path | None = None,
    ) -> SippPhone:
        """An agent's desk phone, registered with its generated password, serving calls
        (`voice`: a pcap of RTP it plays once it has answered)."""
        phone = SippPhone(
            extension,
            self.folder / "sipp",
            behaviour,
            answer_ms=answer_ms,
            talk_ms=talk_ms,
            voice=voice,
        )
        self.phones.append(phone)
        await phone.register(self.pbx.sip, self.shared.phone_passwords[extension])
        await phone.serve()
        return phone

    async def citizen_phone(
        self, behaviour: PhoneBehaviour = PhoneBehaviour.ANSWERS, *, talk_ms: int = 3000
    ) -> SippPhone:
        """The phone a callback reaches: the trunk's far end (the operator) answers for it."""
        phone = SippPhone(
            "citizen", self.folder / "sipp", behaviour, host=OPERATOR_HOST, talk_ms=talk_ms
        )
        phone.port = self.shared.citizen_port
        self.phones.append(phone)
        await phone.serve()
        await self.trunk_reachable()
        return phone

    async def trunk_reachable(self, timeout: float = 10.0) -> None:
        """Asterisk qualifies the trunk every 60 s and sends nothing to a contact it found
        unreachable ("Could not create dialog to invalid URI 'kck-trunk'"): with the operator's
        side just up, ask it to qualify now, as an operator would (`pjsip qualify kck-trunk`)."""

        async def reachable() -> bool:
            await asyncio.to_thread(self.pbx.cli, "pjsip qualify kck-trunk")
            contacts = await asyncio.to_thread(self.pbx.cli, "pjsip show contacts")
            return any("kck-trunk/" in line and "Avail" in line for line in contacts.splitlines())

        await until_true(reachable, timeout)

    async def agent(self, username: str, *, available: bool = True) -> DeskAgent:
        desk = DeskAgent(self.installation.base_url, username, self.shared.agents[username])
        self.desks.append(desk)
        await desk.sign_in()
        if available:
            await desk.set_state("available")
        return desk

    async def call(self, number: str | None = None) -> SippCaller:
        """A citizen calls the hotline; returns once Asterisk has answered."""
        if number is None:
            self._numbers += 1
            number = f"+48600100{self._numbers}"
        caller = SippCaller(number, self.folder / "sipp")
        self.callers.append(caller)
        await caller.dial(self.pbx.sip, HOTLINE)
        await caller.answered()
        return caller

    async def answer_menu(
        self, caller: SippCaller, prompt: str, keys: str, timeout: float = 30.0
    ) -> None:
        """When the IVR plays `prompt` to this caller (and waits for keys), press `keys`."""
        await self.observer.wait_for(agi_command(caller.number, f"/{prompt} "), timeout)
        caller.press(keys)

    # what kck recorded --------------------------------------------------------------------
    def redis(self) -> aioredis.Redis:
        """kck's own (private) Redis."""
        if self._redis is None:
            self._redis = aioredis.from_url(self.installation.redis_url, decode_responses=True)
        return self._redis

    async def live_calls(self) -> set[str]:
        """Calls the router holds now (waiting, offered or on a call)."""
        return {text(m) for m in await self.redis().smembers(f"{PREFIX}:q:calls")}

    async def counter(self, queue: str, name: str) -> int:
        """Today's statistics counter of a queue (docs/statistics.md)."""
        day = datetime.now(ZoneInfo("Europe/Warsaw")).strftime("%Y-%m-%d")
        value = await self.redis().hget(f"{PREFIX}:q:st:d:{day}:q:{queue}", name)
        return int(value or 0)

    async def call_rows(self) -> list[Call]:
        """The calls table, as the call-history writer left it."""
        engine = create_engine(self.installation.sql_url)
        try:
            async with session_factory(engine)() as db:
                return list(await db.scalars(select(Call).order_by(Call.arrived_at)))
        finally:
            await engine.dispose()

    async def call_row(self, caller: SippCaller, timeout: float = 10.0, **expected: Any) -> Call:
        """The caller's row once it has the `expected` column values (the writer lags ~50 ms)."""
        found: list[Call] = []

        async def written() -> bool:
            found[:] = [r for r in await self.call_rows() if r.caller_number == caller.number]
            return bool(found) and all(getattr(found[-1], k) == v for k, v in expected.items())

        try:
            await until_true(written, timeout)
        except TimeoutError:
            rows = [(r.caller_number, r.outcome, r.hangup_cause) for r in await self.call_rows()]
            raise AssertionError(f"no row of {caller.number} with {expected}: {rows}") from None
        return found[-1]

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
        for desk in self.desks:
            await desk.close()
        for caller in self.callers:
            await caller.close()
        for phone in self.phones:
            await phone.close()
        await self.serve.stop()
        if self.owns_observer:
            await self.observer.close()
        await asyncio.to_thread(self.pbx.hang_up_everything)

    def report(self) -> str:
        parts = [f"===== kck serve log (tail)\n{self.serve.log_tail(6000)}"]
        for caller in self.callers:
            if text := caller.errors():
                parts.append(f"===== caller {caller.number}\n{text}")
        for phone in self.phones:
            if text := phone.errors():
                parts.append(f"===== phone {phone.extension}\n{text}")
        parts.append(f"===== Asterisk full.log (tail)\n{self.pbx.log_text()[-6000:]}")
        return "\n".join(parts)


@asynccontextmanager
async def open_site(
    shared: PBXSite,
    folder: Path,
    recordings: dict[str, float] | None = None,
    *,
    failed: Callable[[], bool] | None = None,
    configure: Callable[[Installation], None] | None = None,
) -> AsyncIterator[Site]:
    """A fresh installation in `folder/kck`, the observer, `kck serve` running (AMI up); all of
    it stopped and every channel hung up on the way out. `configure(installation)`, if given,
    changes its config/ before kck starts; `failed()`, if given, says whether to print the
    site's report (logs) on the way out."""
    installation = shared.installation(folder / "kck", recordings)
    if configure is not None:
        configure(installation)
    observer = AMIObserver(shared.ports.ami, OBSERVER_USER, OBSERVER_SECRET)
    await observer.start()
    serve = KckServe(installation)
    world = Site(shared, installation, serve, observer, folder)
    try:
        await serve.start()
        yield world
    finally:
        if failed is not None and failed():
            print(world.report())
        await world.close()
