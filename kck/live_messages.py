"""What a consumer of live (pub/sub) channels reads: the decoded `(type, data)` messages of its
channels in a bounded queue of its own, readiness, and the `RESUBSCRIBED` gap after an outage.

Two sources fill it: `kck.bus.Subscription` (a pub/sub connection of its own) and
`kck.live_channels.SharedSubscription` (one connection per process shared by every consumer).
A consumer sees the same behaviour from either.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any, Protocol, Self

from kck.writer_state import Backoff

# the live half of the bus logs as the bus (one name for operators to filter on)
log = logging.getLogger("kck.bus")

# What a subscription yields once it is subscribed again after a lost connection, as
# `(RESUBSCRIBED, {"channels": [...], "lost_s": seconds})`: live channels keep nothing, so what
# was broadcast in between is gone; a consumer that shows state reads it afresh.
RESUBSCRIBED = "bus.resubscribed"

LiveMessage = tuple[str, dict[str, Any]]

LIVE_BACKOFF = Backoff()  # a lost subscription is retried after 0.1 s, doubling up to 5 s

# How many messages a consumer may be behind before it loses the oldest.
LIVE_BACKLOG = 10_000


class NotSubscribed(TimeoutError):
    """Redis did not acknowledge a subscription in time (the message names the channels)."""


class PubSubConnection(Protocol):
    """What a subscription uses of one redis-py pub/sub connection (`PubSub`)."""

    async def subscribe(self, *channels: str) -> None: ...
    async def get_message(self, *, timeout: float) -> dict[str, Any] | None: ...
    async def aclose(self) -> None: ...


class PubSubClient(Protocol):
    """What a subscription uses of the Redis client: a new pub/sub connection per attempt."""

    def pubsub(self) -> PubSubConnection: ...


class LiveSubscription:
    """Live messages on pub/sub channels, as `(type, data)`, from the moment Redis says so.

        async with bus.subscription("agents") as live:  # entered once SUBSCRIBE is acknowledged
            ...                                          # so whatever is broadcast now arrives
            async for kind, data in live:
                ...

    `open()` / `close()` do the same for a subscription that outlives one block (a component's
    start and stop); `open()` raises `NotSubscribed` when Redis has not acknowledged within
    `ready_within_s`. After a lost connection the subscription yields `RESUBSCRIBED` once it is
    subscribed again. The consumer waits on a queue of its own, never inside redis-py, so its
    cancel always lands; a consumer more than `backlog` messages behind loses the oldest (one
    warning): a live view is repaired by the next message, and nobody else waits for it.
    """

    def __init__(
        self,
        channels: Sequence[str],
        *,
        ready_within_s: float = 10.0,
        backlog: int = LIVE_BACKLOG,
    ) -> None:
        if not channels:
            raise ValueError("a subscription needs at least one channel")
        self.channels = tuple(dict.fromkeys(channels))
        self.ready_within_s = ready_within_s
        self._queue: asyncio.Queue[LiveMessage | None] = asyncio.Queue(backlog)
        self._subscribed = asyncio.Event()
        self._closed = False
        self._behind = False
        self._was_subscribed = False  # a gap can only follow a subscription
        self._lost_at: float | None = None

    @property
    def names(self) -> str:
        return ", ".join(self.channels)

    @property
    def subscribed(self) -> bool:
        """Whether Redis has acknowledged the subscription to every channel (and not lost it)."""
        return self._subscribed.is_set()

    async def wait_subscribed(self, within_s: float | None = None) -> None:
        """Return once subscribed to every channel; NotSubscribed after `within_s` seconds."""
        try:
            async with asyncio.timeout(within_s):
                await self._subscribed.wait()
        except TimeoutError:
            raise NotSubscribed(
                f"live subscription to {self.names}: not subscribed within {within_s} s"
            ) from None

    async def open(self) -> Self:
        """Start receiving; return once subscribed (NotSubscribed after `ready_within_s`)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Unsubscribe; an `async for` over this subscription ends after the messages it got."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return await self.open()

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> LiveMessage:
        item = await self._queue.get()
        if item is None:
            self._queue.put_nowait(None)  # a later read ends too
            raise StopAsyncIteration
        if self._queue.empty():
            self._behind = False
        return item

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise RuntimeError(f"live subscription to {self.names} is closed")

    def _end(self) -> None:
        """No more messages: the consumer's `async for` ends after those it has."""
        self._subscribed.clear()
        if not self._closed:
            self._closed = True
            self._put(None)

    def _put(self, item: LiveMessage | None) -> None:
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
            if not self._behind:
                self._behind = True
                log.warning(
                    "live subscription to %s: the consumer is %d messages behind; "
                    "dropping the oldest",
                    self.names,
                    self._queue.maxsize,
                )
        self._queue.put_nowait(item)

    def _not_subscribed(self, now: float) -> None:
        """The connection was lost: not subscribed until Redis acknowledges again."""
        self._subscribed.clear()
        if self._lost_at is None:
            self._lost_at = now

    def _now_subscribed(self, now: float) -> None:
        """Redis acknowledged every channel: ready, and after a gap the consumer is told."""
        if self._lost_at is not None:
            lost_s, self._lost_at = now - self._lost_at, None
            if self._was_subscribed:
                self._put(
                    (RESUBSCRIBED, {"channels": list(self.channels), "lost_s": round(lost_s, 1)})
                )
        self._was_subscribed = True
        self._subscribed.set()


def live_messages(channel: str, raw: Any) -> list[LiveMessage]:
    """The `(type, data)` of a broadcast: one `{"type", "data"}` object, or a JSON array of them
    in their order (the router's script sends a run's messages to a channel as one, see
    queues/lua/router.lua `flush_live`). A malformed message is dropped with one warning naming
    the channel; the well-formed messages of an array are kept."""
    try:
        body = json.loads(raw)
    except ValueError as exc:
        _malformed(channel, exc, raw)
        return []
    items = body if isinstance(body, list) else [body]
    out: list[LiveMessage] = []
    problem: Exception | None = None
    for item in items:
        try:
            kind, data = item["type"], item["data"]
            if not isinstance(kind, str) or not isinstance(data, dict):
                raise TypeError("type must be text and data an object")
        except (KeyError, TypeError) as exc:
            problem = problem or exc
            continue
        out.append((kind, data))
    if problem is not None:
        _malformed(channel, problem, raw)
    return out


def _malformed(channel: str, exc: Exception, raw: Any) -> None:
    log.warning(
        "malformed live message on %s dropped (%s): %.80r",
        channel,
        exc,
        raw,
        extra={"channel": channel},
    )


async def release(pubsub: PubSubConnection) -> None:
    """Close a pub/sub connection, whatever state it is in (at most 2 s)."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2):
            await pubsub.aclose()


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
