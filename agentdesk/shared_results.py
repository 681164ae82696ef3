"""Work shared between screen-pops built at once: one computation per key, one query per batch.

A burst of offers (a queue drained after an outage: 200 calls at once) builds 200 pops on one
event loop. Built one by one, each repeats what another is doing at the same moment: the same
KB suggestions for the same IVR topic, one history query per caller. `SharedResults` runs a
computation once per key for everyone asking meanwhile and keeps the result a short while;
`Batcher` gathers the keys asked while a query is running into the next single query.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    result: asyncio.Future[V]
    at: float


class SharedResults(Generic[K, V]):
    """Callers asking for the same key at the same time share one computation; a finished result
    is reused for `ttl` seconds. A failure is not kept: the next caller computes again."""

    def __init__(
        self, ttl: float, *, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[K, _Entry[V]] = {}

    async def get(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or (entry.result.done() and now - entry.at >= self._ttl):
            if len(self._entries) >= self._max_entries:
                self._drop_old(now)
            entry = _Entry(asyncio.ensure_future(compute()), now)
            self._entries[key] = entry
            entry.result.add_done_callback(lambda done: self._forget_failure(key, done))
        return await asyncio.shield(entry.result)

    def _forget_failure(self, key: K, done: asyncio.Future[V]) -> None:
        if done.cancelled() or done.exception() is not None:
            entry = self._entries.get(key)
            if entry is not None and entry.result is done:
                del self._entries[key]

    def _drop_old(self, now: float) -> None:
        for key, entry in list(self._entries.items()):
            if entry.result.done() and now - entry.at >= self._ttl:
                del self._entries[key]
        while len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]


class Batcher(Generic[K, V]):
    """`get(key)` answered by `fetch(keys)` for many keys at once: keys asked while a fetch runs
    wait for the next one, so there is at most one fetch in flight and no waiting when idle."""

    def __init__(self, fetch: Callable[[list[K]], Awaitable[dict[K, V]]]) -> None:
        self._fetch = fetch
        self._waiting: dict[K, list[asyncio.Future[V]]] = {}
        self._running: asyncio.Task[None] | None = None

    async def get(self, key: K) -> V:
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._drain(), name="batched reads")
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            await asyncio.sleep(0)  # let the pops started in this same moment add their keys
            batch, self._waiting = self._waiting, {}
            try:
                found = await self._fetch(list(batch))
            except Exception as exc:
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for key, futures in batch.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found[key])
