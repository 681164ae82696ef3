"""Non-voice work — matters that arrived without a call (the portal, the app, e-mail) — waiting
in a queue of its own and offered to agents with the skill by their own capacity rule
(`lua/nonvoice.lua`, docs/routing.md "Non-voice work"); the router's script is not touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from kck.bus import LiveSubscription
from kck.clock import Clock
from kck.live_channels import LiveChannels
from kck.stopping import TASK_STOP_S, stop_task
from queues.events import AgentStateChanged, decode_event
from queues.model import AgentState

log = logging.getLogger(__name__)

NONVOICE_LUA = resources.files("queues").joinpath("lua/nonvoice.lua").read_text(encoding="utf-8")
# what an event should have offered is offered by the sweep at the latest this much later
SWEEP_S = 5.0


class NonVoiceError(Exception):
    """The non-voice queue's script failed in Redis (names the operation)."""


@dataclass(frozen=True)
class NonVoiceItem:
    """One matter without a call: `ref` is its ticket number, `source` where it came from
    (`open311`, `email`… never `phone`), `skill` the skill of its category."""

    item_id: str
    skill: str
    ref: str
    source: str
    category: str
    summary: str
    queued_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NonVoiceItem:
        try:
            return cls(**{name: str(data[name]) for name in cls.__dataclass_fields__})
        except KeyError as missing:
            raise ValueError(f"non-voice item without {missing}: {data!r}") from None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class NonVoiceQueue:
    """The queue's operations, each one atomic script call; safe in several processes."""

    def __init__(self, redis: aioredis.Redis, clock: Clock, prefix: str = "kck") -> None:
        self.redis = redis
        self.clock = clock
        self.prefix = prefix
        self._script = redis.register_script(NONVOICE_LUA)

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, "nv", *parts))

    async def _run(self, op: str, *args: str | int) -> list[str]:
        now_ms = int(self.clock.now().timestamp() * 1000)
        try:
            reply: Any = await self._script(keys=[], args=[self.prefix, op, now_ms, *args])
        except RedisError as exc:
            raise NonVoiceError(f"non-voice operation {op!r} failed in Redis: {exc}") from exc
        return [_text(x) for x in reply]

    async def add(self, item: NonVoiceItem) -> str | None:
        """Queue `item`; returns the agent it was offered to at once, if any (an item with
        the same id already there: nothing changes)."""
        reply = await self._run("add", item.item_id, item.skill, item.to_json())
        if reply[0] == "duplicate":
            log.info("non-voice item %s is already queued", item.item_id)
        return reply[1] if reply[0] == "offered" else None

    async def agent_free(self, agent: str) -> str | None:
        """`agent` may be idle now: the oldest item of their skills, if they may take one."""
        reply = await self._run("agent_free", agent)
        return reply[2] if reply[0] == "offered" else None

    async def done(self, agent: str, item_id: str) -> bool:
        """`agent` finished the item they hold (the next one may be offered to them)."""
        reply = await self._run("done", agent, item_id)
        return reply[0] != "not_held"

    async def release(self, agent: str) -> str | None:
        """The item `agent` holds goes back to its place (they signed out); returns its id."""
        reply = await self._run("release", agent)
        return None if reply[0] == "none" else reply[2]

    async def sweep(self) -> int:
        reply = await self._run("sweep")
        return int(reply[1])

    async def held(self, agent: str) -> NonVoiceItem | None:
        item_id = await self.redis.hget(self.key("held"), agent)
        if item_id is None:
            return None
        body = await self.redis.hget(self.key("item", _text(item_id)), "json")
        return None if body is None else NonVoiceItem.from_dict(json.loads(_text(body)))

    async def waiting(self, skill: str) -> list[str]:
        raw: Any = await self.redis.zrange(self.key("wait", skill), 0, -1)
        return [_text(x) for x in raw]


class NonVoiceDispatcher:
    """A part beside the router: an agent becoming available is offered an item at once (the
    router's live `agents` channel); one signing out hands theirs back; a sweep every
    `SWEEP_S` offers what a missed message would have."""

    name = "nonvoice"

    def __init__(
        self, queue: NonVoiceQueue, sweep_s: float = SWEEP_S, live: LiveChannels | None = None
    ) -> None:
        self.queue = queue
        self.sweep_s = sweep_s
        # the process's shared pub/sub connection (`EventBus.live`): the `agents` channel is
        # then read once for the wall board, the statistics and this dispatcher
        self.live = live if live is not None else LiveChannels(queue.redis)
        self.offered = 0
        self._subscription: LiveSubscription | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def handle(self, kind: str, data: dict[str, Any]) -> None:
        try:
            event = decode_event(kind, data)
        except ValueError as bad:
            log.warning("%s; ignored", bad)
            return
        if not isinstance(event, AgentStateChanged):
            return
        if event.state is AgentState.AVAILABLE:
            if await self.queue.agent_free(event.agent) is not None:
                self.offered += 1
        elif event.state is AgentState.LOGGED_OUT:
            await self.queue.release(event.agent)

    async def start(self) -> None:
        if self._subscription is None:
            channel = f"{self.queue.prefix}:live:agents"
            self._subscription = await self.live.subscription([channel]).open()
            self._tasks = [
                asyncio.create_task(self._listen(self._subscription), name="nonvoice-listen"),
                asyncio.create_task(self._sweep(), name="nonvoice-sweep"),
            ]

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        for task in self._tasks:
            await stop_task(task, within=TASK_STOP_S, what="non-voice queue")
        self._tasks = []

    def health(self) -> dict[str, Any]:
        return {"up": self._subscription is not None, "offered": self.offered}

    async def _listen(self, live: LiveSubscription) -> None:
        async for kind, data in live:
            try:
                await self.handle(kind, data)
            except NonVoiceError as failed:
                log.warning("%s", failed)

    async def _sweep(self) -> None:
        while True:
            with contextlib.suppress(NonVoiceError):
                self.offered += await self.queue.sweep()
            await asyncio.sleep(self.sweep_s)
