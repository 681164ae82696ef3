"""The test's own eyes on Asterisk: an AMI user that reads every event, each kept with the time it
arrived, and waits on them (what the IVR asks, when a phone starts ringing, who hung up)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from asterisk.ami import AMIClient
from asterisk.ami.events import AMIEvent


@dataclass(frozen=True)
class Seen:
    at: float  # time.time() when it arrived: comparable with kck's own wall-clock stamps
    event: AMIEvent

    @property
    def name(self) -> str:
        return self.event.name

    def get(self, header: str) -> str:
        return self.event.get(header) or ""


EventTest = Callable[[Seen], bool]


class AMIObserver:
    def __init__(self, port: int, username: str, secret: str) -> None:
        self.client = AMIClient(
            host="127.0.0.1", port=port, username=username, secret=secret, ping_interval=2.0
        )
        self.seen: list[Seen] = []
        self._changed = asyncio.Condition()

    async def start(self) -> None:
        self.client.add_event_handler(self._on_event)
        self.client.start()
        await self.client.wait_connected(30)

    async def close(self) -> None:
        await self.client.close()

    async def _on_event(self, event: AMIEvent) -> None:
        self.seen.append(Seen(time.time(), event))
        async with self._changed:
            self._changed.notify_all()

    def find(self, test: EventTest, since: float = 0.0) -> list[Seen]:
        return [s for s in self.seen if s.at >= since and test(s)]

    async def wait_for(self, test: EventTest, timeout: float, since: float = 0.0) -> Seen:
        """The first event (received at or after `since`) that passes `test`."""
        async with asyncio.timeout(timeout), self._changed:
            checked = 0  # events before this index did not pass: only new ones are looked at
            while True:
                for index in range(checked, len(self.seen)):
                    seen = self.seen[index]
                    if seen.at >= since and test(seen):
                        return seen
                checked = len(self.seen)
                await self._changed.wait()


def named(name: str, **headers: str) -> EventTest:
    """Events called `name` whose headers have these values (`Channel__startswith` style keys
    compare prefixes)."""

    def test(seen: Seen) -> bool:
        if seen.name != name:
            return False
        for key, value in headers.items():
            header, _, how = key.partition("__")
            got = seen.get(header)
            if how == "startswith":
                if not got.startswith(value):
                    return False
            elif how == "contains":
                if value not in got:
                    return False
            elif got != value:
                return False
        return True

    return test


def agi_command(caller_number: str, contains: str) -> EventTest:
    """The IVR sent a command to this caller's channel, e.g. `GET DATA …/main_menu`."""
    return named("AGIExecStart", CallerIDNum=caller_number, Command__contains=contains)
