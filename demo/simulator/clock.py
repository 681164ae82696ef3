"""Simulated time: a wall clock that can run faster than real time, so long scripts end quickly."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass
class SimClock:
    """Simulated seconds pass `speed` times faster than real ones.

    `now()` is a Unix timestamp (what Asterisk puts in uniqueids, `Timestamp:` and `${EPOCH}`),
    `sleep(s)` waits `s` simulated seconds, i.e. `s / speed` real seconds. With speed 1 it is
    the plain wall clock; benchmarks and `kck demo` use e.g. 10, tests 50-200.
    """

    speed: float = 1.0
    epoch: float = field(default_factory=time.time)
    _mono0: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError(f"SimClock speed must be > 0, got {self.speed}")

    def now(self) -> float:
        """Simulated Unix time in seconds."""
        return self.epoch + (time.monotonic() - self._mono0) * self.speed

    def elapsed(self) -> float:
        """Simulated seconds since the clock was made."""
        return (time.monotonic() - self._mono0) * self.speed

    def real_seconds(self, simulated: float) -> float:
        return max(0.0, simulated) / self.speed

    async def sleep(self, simulated: float) -> None:
        await asyncio.sleep(self.real_seconds(simulated))

    async def wait_for(self, event: asyncio.Event, simulated: float) -> bool:
        """Wait for `event` at most `simulated` seconds; True if it was set in time."""
        if event.is_set():
            return True
        try:
            await asyncio.wait_for(event.wait(), self.real_seconds(simulated))
        except TimeoutError:
            return event.is_set()
        return True

    def kck_clock(self) -> KckClockView:
        """The same simulated time in the shape of `kck.clock.Clock` (`now()` as an aware
        datetime, `monotonic()`), so the controller can run on the simulator's time."""
        return KckClockView(self)


@dataclass(frozen=True)
class KckClockView:
    sim: SimClock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.sim.now(), UTC)

    def monotonic(self) -> float:
        return self.sim.elapsed()
