"""Arrivals of simulated calls with a given hourly shape (for `kck demo` and benchmarks)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .call import CallOutcome, SimulatedCall
from .pbx import PBXSimulator
from .scripts import CallerScript, DigitPress

# Share of a day's calls per hour 0..23 (Europe/Warsaw), shaped like a city hall hotline:
# quiet night, a morning peak at 9-11, a smaller one after lunch.
CITY_HALL_HOURLY_SHAPE: tuple[float, ...] = (
    0.2,
    0.1,
    0.1,
    0.1,
    0.1,
    0.2,
    0.6,
    2.5,
    8.0,
    11.0,
    11.5,
    10.0,
    8.5,
    8.0,
    8.5,
    7.5,
    6.0,
    4.5,
    3.0,
    2.5,
    2.0,
    1.5,
    1.0,
    0.5,
)


@dataclass(frozen=True)
class CityHallCallers:
    """A `make_script` for `CallStream`: varied, plausible callers of a city hotline.

    Polish mobile or landline numbers in E.164 (a share withheld), a menu choice from
    `menu_digits` pressed `think` seconds into the first prompt (some callers press nothing and
    wait), now and then a second digit, and patience drawn between `patience` bounds.
    """

    menu_digits: str = "123456"
    withheld_share: float = 0.08
    no_input_share: float = 0.1
    second_digit_share: float = 0.3
    patience: tuple[float, float] = (45.0, 420.0)
    think: tuple[float, float] = (0.8, 4.0)
    utterance: Path | None = None

    def __call__(self, n: int, rng: random.Random) -> CallerScript:
        number: str | None
        if rng.random() < self.withheld_share:
            number = None
        elif rng.random() < 0.8:
            number = f"+48{rng.choice('5678')}{rng.randrange(10**7, 10**8)}"
        else:
            number = f"+4812{rng.randrange(10**6, 10**7)}"
        presses = [DigitPress("")]  # the recording announcement passes without a key
        if rng.random() >= self.no_input_share:
            presses.append(DigitPress(rng.choice(self.menu_digits), rng.uniform(*self.think)))
            if rng.random() < self.second_digit_share:
                presses.append(DigitPress(rng.choice(self.menu_digits), rng.uniform(*self.think)))
        return CallerScript(
            number=number,
            digits=tuple(presses),
            patience=rng.uniform(*self.patience),
            utterance=self.utterance,
            label=f"caller-{n}",
        )


@dataclass
class CallStream:
    """Places calls as a Poisson process whose rate follows `hourly_shape`.

    `calls_per_day` calls spread over 24 simulated hours; `start_hour` is where the simulated day
    begins; `make_script(n, rng)` builds the n-th caller. Run `await stream.run(hours)`.
    """

    pbx: PBXSimulator
    make_script: Callable[[int, random.Random], CallerScript]
    calls_per_day: float = 800.0
    hourly_shape: Sequence[float] = CITY_HALL_HOURLY_SHAPE
    start_hour: float = 8.0
    seed: int = 1
    calls: list[SimulatedCall] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.hourly_shape) != 24 or any(w < 0 for w in self.hourly_shape):
            raise ValueError("hourly_shape needs 24 non-negative weights (hours 0..23)")
        if sum(self.hourly_shape) <= 0:
            raise ValueError("hourly_shape must not be all zero")
        # arrivals and callers draw from their own generators: the arrivals are drawn one at a
        # time as the stream runs (a year of them, as the demo asks for, took tens of seconds
        # of the event loop when drawn up front), and they stay the same for a seed
        self._rng = random.Random(f"callers:{self.seed}")

    def rate_per_second(self, hour_of_day: float) -> float:
        weight = self.hourly_shape[int(hour_of_day) % 24] / sum(self.hourly_shape)
        return self.calls_per_day * weight / 3600.0

    def arrivals(self, hours: float) -> Iterator[float]:
        """Simulated seconds (from the start) of the arrivals in the next `hours`, by thinning,
        one at a time."""
        rng = random.Random(self.seed)
        peak = max(self.rate_per_second(h) for h in range(24))
        t, end = 0.0, hours * 3600.0
        while True:
            t += rng.expovariate(peak)
            if t >= end:
                return
            if rng.random() * peak <= self.rate_per_second(self.start_hour + t / 3600.0):
                yield t

    def arrival_times(self, hours: float) -> list[float]:
        return list(self.arrivals(hours))

    async def run(self, hours: float) -> list[CallOutcome]:
        """Place the calls of `hours` simulated hours and wait for all of them to end."""
        clock = self.pbx.clock
        began = clock.elapsed()
        for n, at in enumerate(self.arrivals(hours)):
            delay = at - (clock.elapsed() - began)
            if delay > 0:
                await clock.sleep(delay)
            self.calls.append(self.pbx.place_call(self.make_script(n, self._rng)))
        results = await asyncio.gather(*(asyncio.ensure_future(_outcome(c)) for c in self.calls))
        return list(results)


async def _outcome(call: SimulatedCall) -> CallOutcome:
    return await call
