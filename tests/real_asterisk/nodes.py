"""Two `kck serve` nodes behind the one real Asterisk, on one Redis and one PostgreSQL.

The test Asterisk's dialplan lists two FastAGI addresses, spread (each call starts with the next
one) with failover (`tests.real_asterisk.sites.start_pbx_site`): node 0 listens on the first,
node 1 on the second. Each node is a `Site` of its own (own port, var/ and log) sharing the
observer; desks sign in to either node's web port. Redis is a redis-server of the test's own
(so a test may kill and restart it), the database a fresh PostgreSQL database with the accounts.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.real_asterisk.controller import PASSWORD, KckServe
from tests.real_asterisk.observer import AMIObserver, Seen, named
from tests.real_asterisk.pbx import OBSERVER_SECRET, OBSERVER_USER
from tests.real_asterisk.sipp import SippCaller
from tests.real_asterisk.sites import PREFIX, PBXSite, Site, template_database
from tests.services import RedisProcess

WRITER_LEASE = f"{PREFIX}:lease:queues-recorder"


@dataclass
class Nodes:
    """Two nodes of one installation; `nodes[i]` serves the dialplan's i-th FastAGI address."""

    nodes: list[Site]
    redis_server: RedisProcess
    database_url: str

    @property
    def observer(self) -> AMIObserver:
        return self.nodes[0].observer

    def port_of(self, node: Site) -> int:
        return node.installation.agi_port

    async def node_of(self, caller: SippCaller, timeout: float = 30.0) -> Site:
        """The node that holds the caller's FastAGI session: the last AGI() the dialplan ran
        for it before the IVR's first command (an unreachable node's AGI() runs no command)."""
        first = await self.observer.wait_for(
            named("AGIExecStart", CallerIDNum=caller.number), timeout
        )
        tried = [
            s
            for s in self.observer.find(
                named("Newexten", CallerIDNum=caller.number, Application="AGI")
            )
            if s.at <= first.at
        ]
        assert tried, f"no AGI() seen for {caller.number}"
        return self.node_at(tried[-1])

    def node_at(self, seen: Seen) -> Site:
        port = int(re.findall(r":(\d+)/", seen.get("AppData"))[0])
        return next(n for n in self.nodes if self.port_of(n) == port)

    def agi_attempts(self, caller: SippCaller) -> list[Site]:
        """The nodes the dialplan tried for this caller, in order."""
        return [
            self.node_at(s)
            for s in self.observer.find(
                named("Newexten", CallerIDNum=caller.number, Application="AGI")
            )
        ]

    async def writer(self) -> str | None:
        """Who holds the call-history writer's lease (`host-pid`)."""
        value = await self.nodes[0].redis().get(WRITER_LEASE)
        return str(value) if value is not None else None

    def holder_of(self, node: Site) -> str:
        """The node's name as a leaseholder (kck.lease.holder_name)."""
        return f"{socket.gethostname()}-{self.pid_of(node)}"

    async def writer_node(self) -> Site:
        """The node holding the call-history writer's lease."""
        holder = await self.writer()
        found = [n for n in self.nodes if n.serve.running and self.holder_of(n) == holder]
        assert found, f"the writer's lease is held by {holder}, none of the nodes"
        return found[0]

    def pid_of(self, node: Site) -> int:
        assert node.serve.process is not None
        return node.serve.process.pid


async def board(node: Site) -> dict[str, Any]:
    """The supervisor's board (`/api/board`) as one node gives it."""
    return dict(json.loads(await supervisor_get(node, "/api/board")))


async def supervisor_get(node: Site, path: str) -> str:
    """GET `path` on one node as the supervisor (signed in for this request)."""
    base = node.installation.base_url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/login") as page:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
        assert token, "no CSRF field on the sign-in page"
        form = {"username": "supervisor", "password": PASSWORD, "csrf_token": token[1]}
        async with http.post(f"{base}/login", data=form) as response:
            assert response.status == 200, await response.text()
        async with http.get(f"{base}{path}") as response:
            assert response.status == 200, f"{path}: {response.status} {await response.text()}"
            return await response.text()


def comparable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A board without what depends on the moment it was taken (times, waits, occupancy)."""
    moving = re.compile(r"(^at$|_s$|since|_pct$|longest|oldest|wait)")

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not moving.search(k)}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return dict(strip(snapshot))


@asynccontextmanager
async def open_nodes(
    shared: PBXSite,
    folder: Path,
    redis_server: RedisProcess,
    database_url: str,
    *,
    failed: Callable[[], bool] | None = None,
) -> AsyncIterator[Nodes]:
    """Both nodes running (started together: either may hold the writer's lease, see
    `Nodes.writer_node`); all stopped and every channel hung up on the way out."""
    await template_database(database_url, shared.agents)
    observer = AMIObserver(shared.ports.ami, OBSERVER_USER, OBSERVER_SECRET)
    await observer.start()
    nodes: list[Site] = []
    for index in range(len(shared.agi_ports)):
        installation = shared.installation(
            folder / f"node{index}",
            node=index,
            redis_url=redis_server.url,
            database_url=database_url,
        )
        site = Site(shared, installation, KckServe(installation), observer, folder)
        site.owns_observer = index == 0
        site._numbers = 200 + 100 * index  # callers' numbers differ from node to node
        nodes.append(site)
    world = Nodes(nodes, redis_server, database_url)
    try:
        # together: a process's start (imports, config, migrations check) is most of the wait
        await asyncio.gather(*(site.serve.start() for site in nodes))
        yield world
    finally:
        if failed is not None and failed():
            for index, site in enumerate(nodes):
                print(f"########## node {index}\n{site.report()}")
        for site in reversed(nodes):  # node 0 last: it closes the shared observer
            await site.close()
