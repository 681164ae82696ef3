"""The event bus on Redis: Streams for events that must not be lost, pub/sub for live views.

Every live (pub/sub) reader is a `LiveSubscription` (readiness, resubscription, decoding, see
`kck.live_messages`); `EventBus.subscription` hands out ones that share the process's one
pub/sub connection (`kck.live_channels`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from kck.live_channels import LiveChannels, SharedSubscription
from kck.live_messages import (
    LIVE_BACKLOG,
    LIVE_BACKOFF,
    RESUBSCRIBED,
    LiveMessage,
    LiveSubscription,
    NotSubscribed,
    PubSubClient,
    PubSubConnection,
    live_messages,
    release,
    text,
)
from kck.stopping import TASK_STOP_S, raise_if_cancel_requested, stop_task
from kck.writer_state import Backoff, WriterState

__all__ = [
    "RESUBSCRIBED",
    "Backoff",
    "BusEvent",
    "EventBus",
    "GroupBacklog",
    "LiveMessage",
    "LiveSubscription",
    "NotSubscribed",
    "PubSubClient",
    "PubSubConnection",
    "SharedSubscription",
    "Subscription",
]

log = logging.getLogger(__name__)

Handler = Callable[["BusEvent"], Awaitable[None]]
BatchHandler = Callable[[list["BusEvent"]], Awaitable[None]]
# Whether a handler's error belongs to the event itself (it would fail the same way forever),
# as opposed to a passing fault (a database away) after which the event must be retried.
IsPoison = Callable[[Exception], bool]

SET_ASIDE_SUFFIX = ":set-aside"
SET_ASIDE_MAXLEN = 10_000


@dataclass(frozen=True)
class BusEvent:
    """One event read from a stream: its stream id, type and JSON payload."""

    stream: str
    id: str
    type: str
    data: dict[str, Any]

    @classmethod
    def from_stream(cls, key: str, raw_id: Any, fields: Mapping[Any, Any]) -> BusEvent:
        """Decode an entry as XREAD/XRANGE return it (bytes or text; bad JSON is kept aside)."""
        return _decode(key, raw_id, fields)


@dataclass(frozen=True)
class GroupBacklog:
    """How far a consumer group is behind its stream.

    `pending`: read but not acknowledged; `unread`: whether newer events wait to be read;
    `behind_s`: stream time between the oldest event not yet handled and the newest published
    (stream ids are Redis's milliseconds), 0 when the group is up to date; `unread_events`: how
    many wait to be read (counted up to `UNREAD_COUNT_CAP` on Redis < 7); `oldest_age_s`: how
    long ago (Redis's clock) the oldest event not yet handled was published, 0 when none waits.
    """

    pending: int
    unread: bool
    behind_s: float
    unread_events: int = 0
    oldest_age_s: float = 0.0


# Redis < 7 does not say how many events a group has not read: they are counted with XRANGE,
# at most this many per /metrics scrape.
UNREAD_COUNT_CAP = 10_000


def _id_ms(raw: Any) -> int:
    """The milliseconds part of a stream id."""
    return int(_text(raw).split("-", 1)[0])


class WriteTimeout(TimeoutError):
    """A writer's batch had no answer in time: its database is away (hung, not refusing)."""


async def _answered_within(
    timeout_s: float | None, handler: BatchHandler, events: list[BusEvent]
) -> None:
    """`handler(events)`, given up after `timeout_s` (None: no limit): a database that accepts
    the connection and never answers must not hold the writer forever."""
    if timeout_s is None:
        await handler(events)
        return
    try:
        async with asyncio.timeout(timeout_s):
            await handler(events)
    except TimeoutError as timed_out:
        raise WriteTimeout(f"the database did not answer within {timeout_s:g} s") from timed_out


class EventBus:
    """Publish/consume typed JSON events; stream and channel names are prefixed per installation."""

    def __init__(
        self,
        redis: aioredis.Redis,
        prefix: str = "kck",
        maxlen: int = 100_000,
        *,
        live: LiveChannels | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.maxlen = maxlen
        # the process's one pub/sub connection, shared by every live subscription made here
        self.live = live if live is not None else LiveChannels(redis)

    def key(self, name: str) -> str:
        return f"{self.prefix}:stream:{name}"

    def channel(self, name: str) -> str:
        return f"{self.prefix}:live:{name}"

    def set_aside_key(self, stream: str) -> str:
        """The stream where `stream`'s poison events are kept (see `consume_batches`)."""
        return self.key(stream) + SET_ASIDE_SUFFIX

    async def set_aside_count(self, stream: str) -> int:
        """How many of `stream`'s events were set aside as poison (kept up to SET_ASIDE_MAXLEN)."""
        return int(await self.redis.xlen(self.set_aside_key(stream)))

    async def publish(self, stream: str, event_type: str, data: Mapping[str, Any]) -> str:
        """Append an event to a stream (kept until trimmed past `maxlen`); returns its id."""
        fields: dict[Any, Any] = {
            "type": event_type,
            "data": json.dumps(data, ensure_ascii=False, default=str),
        }
        event_id = await self.redis.xadd(
            self.key(stream), fields, maxlen=self.maxlen, approximate=True
        )
        return _text(event_id)

    async def backlog(self, stream: str, group: str) -> GroupBacklog | None:
        """The group's backlog (None when the stream or the group does not exist yet)."""
        key = self.key(stream)
        try:
            groups: Any = await self.redis.xinfo_groups(key)
            info: Any = await self.redis.xinfo_stream(key)
        except ResponseError:
            return None
        mine = next((g for g in groups if _text(g.get("name")) == group), None)
        if mine is None:
            return None
        newest = _id_ms(info["last-generated-id"])
        delivered = _text(mine["last-delivered-id"])
        unread = delivered != _text(info["last-generated-id"])
        pending = int(mine.get("pending") or 0)
        oldest: int | None = None
        unread_events = 0
        if unread:
            first: Any = await self.redis.xrange(key, min=f"({delivered}", count=1)
            if first:
                oldest = _id_ms(first[0][0])
                unread_events = await self._unread_count(key, delivered, mine.get("lag"))
        if pending:
            summary: Any = await self.redis.xpending(key, group)
            if summary.get("min"):
                oldest = min(oldest or newest, _id_ms(summary["min"]))
        if oldest is None:
            return GroupBacklog(pending, unread, 0.0)
        seconds, micro = await self.redis.time()
        age_ms = int(seconds) * 1000 + int(micro) // 1000 - oldest
        return GroupBacklog(
            pending, unread, max(0, newest - oldest) / 1000, unread_events, max(0, age_ms) / 1000
        )

    async def _unread_count(self, key: str, delivered: str, lag: Any) -> int:
        if lag is not None:  # Redis 7 keeps the count
            return int(lag)
        entries: Any = await self.redis.xrange(key, min=f"({delivered}", count=UNREAD_COUNT_CAP)
        return len(entries)

    async def ensure_group(self, stream: str, group: str, start: str = "$") -> None:
        try:
            await self.redis.xgroup_create(self.key(stream), group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def consume(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        *,
        block_ms: int = 1000,
        count: int = 100,
        claim_idle_ms: int = 30_000,
        start: str = "$",
    ) -> None:
        """Run forever: deliver each event to `handler`, acknowledge it once handled.

        Events a crashed consumer of the same group left unacknowledged are claimed after
        `claim_idle_ms`; an event whose handler raises stays pending and is retried.
        """

        async def deliver(key: str, entries: list[Any]) -> None:
            for raw_id, fields in entries:
                await self._deliver(key, group, raw_id, fields, handler)

        await self._read_group(
            stream, group, consumer, deliver, block_ms, count, claim_idle_ms, start
        )

    async def consume_batches(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: BatchHandler,
        *,
        block_ms: int = 1000,
        count: int = 200,
        claim_idle_ms: int = 30_000,
        start: str = "$",
        linger_ms: int = 0,
        poison: IsPoison | None = None,
        state: WriterState | None = None,
    ) -> None:
        """Like `consume`, but `handler` gets up to `count` events at once, in stream order.

        `linger_ms`: after a batch smaller than `count`, wait this long before reading again so
        the next batch gathers more events (fewer, larger transactions; events wait that long).

        The batch is acknowledged once the handler returns (one SQL transaction per batch for a
        recorder). If it raises, the events are handed over one at a time so one bad event does
        not hold back the others. With a `poison` rule, an event whose error is its own is moved,
        with the error, to the stream `set_aside_key(stream)` and acknowledged, so the writer
        never wedges on it (`set_aside_count` tells monitoring; an operator reads it with
        XRANGE); an error that is not the event's (the database away) stops the writer where it
        is: it retries the rest of the batch after `state`'s pauses (bounded, one warning per
        outage, no traceback per event) and reads nothing new meanwhile, so later events wait
        unread in the stream, in order (`backlog` counts them). Without a rule, the failing
        events stay pending and are retried when claimed again.
        """
        writer = state or WriterState(f"writer {group}", _no_clock)

        async def deliver(key: str, entries: list[Any]) -> None:
            events = [_decode(key, raw_id, fields) for raw_id, fields in entries]
            if poison is None:
                await self._write_or_leave_pending(key, group, events, handler)
            else:
                while events:
                    events, pause = await self._write_or_wait(
                        key, group, events, handler, poison, writer
                    )
                    if events:
                        await asyncio.sleep(pause)
            if linger_ms and len(entries) < count:
                await asyncio.sleep(linger_ms / 1000)

        await self._read_group(
            stream, group, consumer, deliver, block_ms, count, claim_idle_ms, start
        )

    async def _write_or_leave_pending(
        self, key: str, group: str, events: list[BusEvent], handler: BatchHandler
    ) -> None:
        try:
            await handler(events)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning(
                "batch handler failed; retrying its %d events one by one",
                len(events),
                exc_info=True,
                extra={"stream": key},
            )
            for event in events:
                await self._deliver_event(key, group, event, lambda e: handler([e]))
            return
        await self.redis.xack(key, group, *(event.id for event in events))

    async def _write_or_wait(
        self,
        key: str,
        group: str,
        events: list[BusEvent],
        handler: BatchHandler,
        poison: IsPoison,
        writer: WriterState,
    ) -> tuple[list[BusEvent], float]:
        """Write `events` (poison ones set aside); the ones left when the database is away, with
        the pause before trying them again."""
        try:
            await _answered_within(writer.timeout_s, handler, events)
        except asyncio.CancelledError:
            raise
        except WriteTimeout as hung:  # the database is away: one by one would wait as long
            return events, writer.failed(hung)
        except Exception as exc:
            log.debug("batch of %d failed (%r); one by one", len(events), exc)
            for n, event in enumerate(events):
                try:
                    await _answered_within(writer.timeout_s, handler, [event])
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if poison(error):
                        await self._set_aside(key, group, event, error)
                        continue
                    return events[n:], writer.failed(error)
                await self.redis.xack(key, group, event.id)
            writer.wrote()
            return [], 0.0
        await self.redis.xack(key, group, *(event.id for event in events))
        writer.wrote()
        return [], 0.0

    async def _read_group(
        self,
        stream: str,
        group: str,
        consumer: str,
        deliver: Callable[[str, list[Any]], Awaitable[None]],
        block_ms: int,
        count: int,
        claim_idle_ms: int,
        start: str,
    ) -> None:
        """The consumer-group loop: own pending entries first, then claimed and new ones."""
        await self.ensure_group(stream, group, start)
        key = self.key(stream)
        reply: Any = await self.redis.xreadgroup(group, consumer, {key: "0"}, count=10_000)
        for _stream, entries in reply or []:
            own_pending = [entry for entry in entries if entry[1]]  # trimmed ones have no fields
            if own_pending:
                await deliver(key, own_pending)
        last_claim = 0.0
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        while True:
            # redis-py can swallow a cancellation that lands while a blocking read times out
            # (it returns None then); a cancel that was asked for must still end the loop.
            if task is not None and task.cancelling():
                raise asyncio.CancelledError
            if loop.time() - last_claim > claim_idle_ms / 1000:
                last_claim = loop.time()
                claimed: Any = await self.redis.xautoclaim(
                    key, group, consumer, min_idle_time=claim_idle_ms, start_id="0-0", count=count
                )
                stale = [entry for entry in claimed[1] if entry[1]]
                if stale:
                    await deliver(key, stale)
            reply = await self.redis.xreadgroup(
                group, consumer, {key: ">"}, count=count, block=block_ms
            )
            for _stream, entries in reply or []:
                if entries:
                    await deliver(key, entries)

    async def _deliver(
        self, key: str, group: str, raw_id: Any, fields: Mapping[Any, Any], handler: Handler
    ) -> None:
        await self._deliver_event(key, group, _decode(key, raw_id, fields), handler)

    async def _deliver_event(
        self,
        key: str,
        group: str,
        event: BusEvent,
        handler: Handler,
        poison: IsPoison | None = None,
    ) -> None:
        try:
            await handler(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if poison is not None and poison(exc):
                await self._set_aside(key, group, event, exc)
                return
            log.exception(
                "event handler failed; event stays pending",
                extra={"stream": key, "event_id": event.id},
            )
            return
        await self.redis.xack(key, group, event.id)

    async def _set_aside(self, key: str, group: str, event: BusEvent, error: Exception) -> None:
        """Keep a poison event (and why) on the set-aside stream and acknowledge it, at once."""
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        fields: dict[Any, Any] = {
            "type": event.type,
            "data": json.dumps(event.data, ensure_ascii=False, default=str),
            "id": event.id,
            "group": group,
            "error": reason[:1000],
        }
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(key + SET_ASIDE_SUFFIX, fields, maxlen=SET_ASIDE_MAXLEN, approximate=True)
            pipe.xack(key, group, event.id)
            await pipe.execute()
        log.error(
            "event %s %s set aside (it fails by itself: %s); the others go on",
            event.id,
            event.type,
            reason[:200],
            extra={"stream": key, "event_id": event.id},
        )

    async def broadcast(self, channel: str, event_type: str, data: Mapping[str, Any]) -> int:
        """Fire-and-forget for live views (wall board): receivers that are not listening miss it."""
        payload = json.dumps({"type": event_type, "data": data}, ensure_ascii=False, default=str)
        return int(await self.redis.publish(self.channel(channel), payload))

    def subscription(
        self, *channels: str, ready_within_s: float = 10.0, backlog: int = LIVE_BACKLOG
    ) -> SharedSubscription:
        """A live subscription to `channels` (names as given to `broadcast`) on the process's
        shared pub/sub connection (`self.live`); see `LiveSubscription`."""
        return self.live.subscription(
            [self.channel(c) for c in channels], ready_within_s=ready_within_s, backlog=backlog
        )


class Subscription(LiveSubscription):
    """A live subscription on a pub/sub connection of its own (see `LiveSubscription`).

    What a process's components use is `EventBus.subscription`, which shares one connection
    (`kck.live_channels`); this one is for a reader that must not share (and for tests of the
    behaviour both give). A task of its own reads Redis: it decodes each `{"type", "data"}`
    message once (a malformed one is dropped with a warning naming its channel) and, when the
    connection is lost, subscribes again after a pause that doubles up to `backoff.max_s`,
    warning once per outage; then it yields `RESUBSCRIBED`. The reader is stopped with
    `stop_task`, which cancels again when redis-py swallowed a cancel.
    """

    def __init__(
        self,
        redis: PubSubClient,
        channels: Sequence[str],
        *,
        backoff: Backoff = LIVE_BACKOFF,
        ready_within_s: float = 10.0,
        backlog: int = LIVE_BACKLOG,
        poll_s: float = 1.0,
    ) -> None:
        super().__init__(channels, ready_within_s=ready_within_s, backlog=backlog)
        self.redis = redis
        self.backoff = backoff
        self.poll_s = poll_s
        self._task: asyncio.Task[None] | None = None
        self._pauses: Iterator[float] | None = None

    async def open(self) -> Self:
        """Start reading; return once subscribed (NotSubscribed after `ready_within_s`)."""
        self._refuse_if_closed()
        if self._task is None:
            self._task = asyncio.create_task(self._read(), name=f"live subscription {self.names}")
        try:
            await self.wait_subscribed(self.ready_within_s)
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            await stop_task(task, within=TASK_STOP_S, what=f"live subscription to {self.names}")
        self._end()

    async def _read(self) -> None:
        """Subscribe, read until the connection is lost, pause, subscribe again; until cancelled."""
        while True:
            raise_if_cancel_requested()  # redis-py may have swallowed the cancel of a stop
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(*self.channels)
                await self._receive(pubsub)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away, or redis-py tripped over its connection
                self._lost(exc)
                if self._pauses is None:
                    self._pauses = self.backoff.pauses()
                await asyncio.sleep(next(self._pauses))
            finally:
                await asyncio.shield(release(pubsub))

    async def _receive(self, pubsub: PubSubConnection) -> None:
        acknowledged: set[str] = set()
        while True:
            raise_if_cancel_requested()
            message = await pubsub.get_message(timeout=self.poll_s)
            if message is None:
                continue
            kind = message.get("type")
            channel = text(message.get("channel"))
            if kind == "subscribe":
                if channel in acknowledged:
                    # a second acknowledgement: redis-py reconnected and subscribed again by
                    # itself, so messages may have been missed in between
                    self._lost(ConnectionError("connection lost; redis-py reconnected"))
                    acknowledged.clear()
                acknowledged.add(channel)
                if acknowledged.issuperset(self.channels):
                    self._acknowledged_all()
            elif kind == "message":
                for decoded in live_messages(channel, message.get("data")):
                    self._put(decoded)

    def _lost(self, error: BaseException) -> None:
        if self._lost_at is None:
            log.warning(
                "live subscription to %s lost (%s); subscribing again (pauses up to %s s)",
                self.names,
                error or type(error).__name__,
                self.backoff.max_s,
            )
        self._not_subscribed(asyncio.get_running_loop().time())

    def _acknowledged_all(self) -> None:
        self._pauses = None
        now = asyncio.get_running_loop().time()
        if self._lost_at is not None:
            log.info(
                "live subscription to %s is back after %.1f s", self.names, now - self._lost_at
            )
        self._now_subscribed(now)


def _no_clock() -> datetime:
    return datetime.now().astimezone()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(key: str, raw_id: Any, fields: Mapping[Any, Any]) -> BusEvent:
    plain = {_text(k): _text(v) for k, v in fields.items()}
    try:
        data = json.loads(plain.get("data", "{}"))
    except ValueError:
        data = {"_malformed": plain.get("data")}
    return BusEvent(
        stream=key,
        id=_text(raw_id),
        type=plain.get("type", "?"),
        data=data if isinstance(data, dict) else {"value": data},
    )
