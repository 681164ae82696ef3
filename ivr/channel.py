"""The channel port: what the interpreter needs from a call, whatever carries it (FastAGI, terminal, test)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class CallerHungUp(Exception):
    """The caller is gone; any channel method may raise it. The interpreter records it and ends."""


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt ready to play: the sound to stream and the text it says (for terminals and logs)."""

    prompt_id: str
    language: str
    sound: str  # e.g. "pl/kck/welcome": language folder + sound name, no extension
    text: str


@dataclass(frozen=True)
class KeyInput:
    """Keys read after a prompt: '' with timed_out=True when the caller pressed nothing."""

    digits: str
    timed_out: bool


class DialStatus(enum.StrEnum):
    ANSWER = "ANSWER"
    BUSY = "BUSY"
    NOANSWER = "NOANSWER"
    CONGESTION = "CONGESTION"
    CHANUNAVAIL = "CHANUNAVAIL"
    CANCEL = "CANCEL"
    FAILED = "FAILED"


@dataclass(frozen=True)
class Recording:
    """A message the caller left: where it is stored and how it ended."""

    path: str
    ended_by: str  # "silence", "dtmf", "timeout", "hangup"


class Channel(Protocol):
    """One call as the interpreter sees it. Implementations: AGIChannel, TerminalChannel, ScriptedChannel."""

    async def answer(self) -> None: ...

    async def play(self, prompt: RenderedPrompt, *, interruptible: bool = False) -> str | None:
        """Play a prompt; returns the key that interrupted it (only when interruptible)."""
        ...

    async def read_keys(
        self, prompt: RenderedPrompt | None, *, timeout_s: float, max_digits: int
    ) -> KeyInput:
        """Play a prompt (may be interrupted by the first key) and collect up to max_digits keys."""
        ...

    async def say_digits(self, digits: str, language: str) -> None: ...

    async def record(self, name: str, *, max_seconds: int) -> Recording:
        """Record the caller (after a beep) into storage named `name` (no extension)."""
        ...

    async def dial(self, target: str, *, timeout_s: int) -> DialStatus:
        """Connect the caller to `target` (a phone number in E.164 or a device like PJSIP/101)."""
        ...

    async def music(self, on: bool) -> None: ...

    async def set_variable(self, name: str, value: str) -> None: ...

    async def hangup(self) -> None: ...
