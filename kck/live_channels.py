"""One pub/sub connection per process for every live subscription made in it.

Each desk, the wall board, the statistics and the waiting loops want a channel or two; with a
connection of their own, 200 desks were 200 connections, each read by its own task, and the
`agents` channel was read and decoded once for each of its three readers. `LiveChannels` holds
one connection: SUBSCRIBE and UNSUBSCRIBE as subscriptions come and go, and one reader task
that decodes each message once and hands it to every subscription to its channel.

- Order: a channel's messages reach each of its subscriptions in the order Redis sent them
  (one connection, one reader, handed out in that order).
- A slow consumer holds nobody up: the reader never waits for a consumer. Each subscription
  keeps up to `backlog` messages; beyond that it loses its own oldest (one warning, see
  `LiveSubscription`) while the others and the reader go on.
- A lost connection: no subscription is `subscribed` any more; the reader connects again after
  pauses doubling up to `backoff.max_s` (one warning per outage), subscribes every channel still
  wanted, and each subscription yields `RESUBSCRIBED` once all its channels are back. redis-py
  reconnecting by itself (a second acknowledgement of a channel) counts as a lost connection.
- A channel nobody wants any more is unsubscribed; what was already on its way is dropped.
- The connection is opened with the first subscription and closed with the last.
- The decoded `data` of a message is the same object for every subscription to its channel:
  consumers read it and never change it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any, Protocol, Self

from kck.live_messages import (
    LIVE_BACKLOG,
    LIVE_BACKOFF,
    LiveSubscription,
    live_messages,
    release,
    text,
)
from kck.stopping import TASK_STOP_S, raise_if_cancel_requested, stop_task
from kck.writer_state import Backoff

# the live half of the bus logs as the bus (one name for operators to filter on)
log = logging.getLogger("kck.bus")


class SharedPubSubConnection(Protocol):
    """What the shared connection uses of redis-py's `PubSub`."""

    async def subscribe(self, *channels: str) -> None: ...
    def unsubscribe(self, *channels: str) -> Awaitable[Any]: ...
    async def get_message(self, *, timeout: float | None) -> dict[str, Any] | None: ...
    async def aclose(self) -> None: ...


class SharedPubSubClient(Protocol):
    """The Redis client: a new pub/sub connection for each attempt to connect."""

    def pubsub(self) -> SharedPubSubConnection: ...


class ReconnectedByItself(ConnectionError):
    """redis-py connected again and resubscribed on its own: messages may have been missed."""


class _Link:
    """One pub/sub connection and the channels asked for and acknowledged on it."""

    __slots__ = ("acknowledged", "asked", "pubsub")

    def __init__(self, pubsub: SharedPubSubConnection) -> None:
        self.pubsub = pubsub
        self.asked: set[str] = set()  # SUBSCRIBE sent (and no UNSUBSCRIBE since)
        self.acknowledged: set[str] = set()  # ... and Redis said so


class LiveChannels:
    """The process's one pub/sub connection, shared by its `SharedSubscription`s."""

    def __init__(
        self,
        redis: SharedPubSubClient,
        *,
        backoff: Backoff = LIVE_BACKOFF,
        poll_s: float = 1.0,
    ) -> None:
        self.redis = redis
        self.backoff = backoff
        # the reader returns from redis-py this often when nothing comes (a stop's cancel that
        # redis-py swallowed is seen then; redis-py's health-check PING is sent then)
        self.poll_s = poll_s
        # channel → its subscriptions, in the order they came (a dict as an ordered set)
        self._members: dict[str, dict[SharedSubscription, None]] = {}
        self._link: _Link | None = None
        self._task: asyncio.Task[None] | None = None
        self._sending = asyncio.Lock()  # one SUBSCRIBE/UNSUBSCRIBE at a time, in order
        self._lost_at: float | None = None
        self._pauses: Iterator[float] | None = None

    def subscription(
        self,
        channels: Sequence[str],
        *,
        ready_within_s: float = 10.0,
        backlog: int = LIVE_BACKLOG,
    ) -> SharedSubscription:
        """A subscription to `channels` (full channel names) on this connection; see
        `LiveSubscription` for `open`, `close` and reading it."""
        return SharedSubscription(self, channels, ready_within_s=ready_within_s, backlog=backlog)

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels some subscription wants now."""
        return tuple(self._members)

    @property
    def connected(self) -> bool:
        """Whether the connection is up and every channel wanted is acknowledged."""
        link = self._link
        return link is not None and link.acknowledged.issuperset(self._members)

    # --- subscriptions come and go ----------------------------------------------------------

    async def _join(self, subscription: SharedSubscription) -> None:
        for channel in subscription.channels:
            self._members.setdefault(channel, {})[subscription] = None
        link = self._link
        if link is not None and link.acknowledged.issuperset(subscription.channels):
            subscription._now_subscribed(asyncio.get_running_loop().time())
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._read(), name="live channels")
        else:
            await self._sync()

    async def _leave(self, subscription: SharedSubscription) -> None:
        for channel in subscription.channels:
            members = self._members.get(channel)
            if members is not None:
                members.pop(subscription, None)
                if not members:
                    del self._members[channel]
        if self._members:
            await self._sync()
        elif self._task is not None:
            task, self._task = self._task, None
            await stop_task(task, within=TASK_STOP_S, what="live channels")

    async def _sync(self) -> None:
        """Tell Redis about the channels wanted since the last time (one SUBSCRIBE and one
        UNSUBSCRIBE for all of them: 200 desks opening at once cost a few commands)."""
        async with self._sending:
            link = self._link
            if link is None:  # (re)connecting: the reader subscribes what is wanted then
                return
            new = [c for c in self._members if c not in link.asked]
            gone = [c for c in link.asked if c not in self._members]
            if not new and not gone:
                return
            link.asked.difference_update(gone)
            link.acknowledged.difference_update(gone)
            link.asked.update(new)
            try:
                if gone:
                    await link.pubsub.unsubscribe(*gone)
                if new:
                    await link.pubsub.subscribe(*new)
            except Exception as exc:  # the connection is broken: have the reader start over
                log.debug("live channels: (un)subscribing failed (%r); connecting again", exc)
                await release(link.pubsub)

    # --- the reader -------------------------------------------------------------------------

    async def _read(self) -> None:
        """Connect and subscribe, read until the connection is lost, pause, again; until
        cancelled or nobody wants a channel."""
        while True:
            raise_if_cancel_requested()  # redis-py may have swallowed the cancel of a stop
            link = _Link(self.redis.pubsub())
            try:
                async with self._sending:
                    channels = list(self._members)
                    if not channels:  # the last subscription left meanwhile
                        return
                    link.asked.update(channels)
                    await link.pubsub.subscribe(*channels)
                    self._link = link
                await self._receive(link)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away, or redis-py tripped over its connection
                self._lost(exc)
                if self._pauses is None:
                    self._pauses = self.backoff.pauses()
                await asyncio.sleep(next(self._pauses))
            finally:
                if self._link is link:
                    self._link = None
                await asyncio.shield(release(link.pubsub))

    async def _receive(self, link: _Link) -> None:
        loop = asyncio.get_running_loop()
        while True:
            raise_if_cancel_requested()
            message = await link.pubsub.get_message(timeout=self.poll_s)
            if message is None:
                continue
            kind = message.get("type")
            channel = text(message.get("channel"))
            if kind == "message":
                members = self._members.get(channel)
                if members and channel in link.acknowledged:
                    decoded = live_messages(channel, message.get("data"))
                    for subscription in members:
                        for item in decoded:
                            subscription._put(item)
            elif kind == "subscribe":
                if channel in link.acknowledged:
                    raise ReconnectedByItself("connection lost; redis-py reconnected")
                if channel in link.asked:
                    link.acknowledged.add(channel)
                    self._acknowledged(link, channel, loop.time())

    def _acknowledged(self, link: _Link, channel: str, now: float) -> None:
        for subscription in self._members.get(channel, ()):
            if not subscription.subscribed and link.acknowledged.issuperset(subscription.channels):
                subscription._now_subscribed(now)
        if self._lost_at is not None and link.acknowledged.issuperset(self._members):
            log.info(
                "live channels (%d) are back after %.1f s", len(self._members), now - self._lost_at
            )
            self._lost_at = None
            self._pauses = None

    def _lost(self, error: BaseException) -> None:
        now = asyncio.get_running_loop().time()
        if self._lost_at is None:
            self._lost_at = now
            log.warning(
                "live channels lost (%s): %s; subscribing again (pauses up to %s s)",
                error or type(error).__name__,
                _some(self._members),
                self.backoff.max_s,
            )
        for members in self._members.values():
            for subscription in members:
                subscription._not_subscribed(now)


class SharedSubscription(LiveSubscription):
    """A live subscription on the process's shared connection (`LiveChannels`)."""

    def __init__(
        self,
        hub: LiveChannels,
        channels: Sequence[str],
        *,
        ready_within_s: float = 10.0,
        backlog: int = LIVE_BACKLOG,
    ) -> None:
        super().__init__(channels, ready_within_s=ready_within_s, backlog=backlog)
        self.hub = hub
        self._joined = False

    async def open(self) -> Self:
        self._refuse_if_closed()
        if not self._joined:
            self._joined = True
            await self.hub._join(self)
        try:
            await self.wait_subscribed(self.ready_within_s)
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        if self._joined:
            self._joined = False
            await self.hub._leave(self)
        self._end()


def _some(channels: Sequence[str] | dict[str, Any], shown: int = 5) -> str:
    """A few channel names for a log line, and how many more."""
    names = list(channels)
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
