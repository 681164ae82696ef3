"""A Channel driven by a script of key presses: the caller of `kck ivr test`, `try --digits` and tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ivr.channel import CallerHungUp, DialStatus, KeyInput, Recording, RenderedPrompt

HANGUP = "hangup"
NOTHING = ("", "timeout", "-")


@dataclass
class ScriptedChannel:
    """Answers each request for keys with the next scripted entry.

    An entry is the keys pressed ("1", "12345#"), "timeout" (nothing pressed) or "hangup".
    When the script runs out the caller presses nothing, so menus go to their timeouts.
    `hang_up_on` names prompts during which the caller hangs up ("@music": while on hold);
    `press_during` the key pressed while a prompt that may be interrupted plays (the recording
    announcement: {"welcome": "9"}).
    """

    keys: Sequence[str] = ()
    hang_up_on: frozenset[str] = frozenset()
    press_during: Mapping[str, str] = field(default_factory=dict)
    dial_status: DialStatus = DialStatus.ANSWER
    record_ends_by: str = "silence"
    on_event: Callable[[str], None] | None = None
    events: list[str] = field(default_factory=list)
    heard: list[RenderedPrompt] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    hung_up: bool = False
    music_on: bool = False

    def __post_init__(self) -> None:
        self._next = 0

    def _event(self, text: str) -> None:
        self.events.append(text)
        if self.on_event is not None:
            self.on_event(text)

    def _check(self) -> None:
        if self.hung_up:
            raise CallerHungUp("the caller has hung up")

    def _hear(self, prompt: RenderedPrompt) -> None:
        self._check()
        self.heard.append(prompt)
        self._event(f"play {prompt.prompt_id}: {prompt.text}")
        if prompt.prompt_id in self.hang_up_on:
            self.hung_up = True
            self._event(f"caller hangs up during {prompt.prompt_id}")
            raise CallerHungUp(f"hung up during {prompt.prompt_id}")

    def _take(self) -> str:
        if self._next >= len(self.keys):
            return ""
        entry = str(self.keys[self._next]).strip()
        self._next += 1
        return entry

    async def answer(self) -> None:
        self._check()
        self._event("answer")

    async def play(self, prompt: RenderedPrompt, *, interruptible: bool = False) -> str | None:
        self._hear(prompt)
        key = self.press_during.get(prompt.prompt_id) if interruptible else None
        if key:
            self._event(f"keys {key} during {prompt.prompt_id}")
        return key

    async def read_keys(
        self, prompt: RenderedPrompt | None, *, timeout_s: float, max_digits: int
    ) -> KeyInput:
        if prompt is not None:
            self._hear(prompt)
        self._check()
        entry = self._take()
        if entry == HANGUP:
            self.hung_up = True
            self._event("caller hangs up instead of pressing a key")
            raise CallerHungUp("hung up while asked for keys")
        if entry in NOTHING:
            self._event(f"no key within {timeout_s:g} s")
            return KeyInput("", True)
        self._event(f"keys {entry}")
        return KeyInput(entry[:max_digits], False)

    async def say_digits(self, digits: str, language: str) -> None:
        self._check()
        self._event(f"say digits {digits}")

    async def record(self, name: str, *, max_seconds: int) -> Recording:
        self._check()
        self._event(f"record {name} (up to {max_seconds} s)")
        return Recording(name, self.record_ends_by)

    async def dial(self, target: str, *, timeout_s: int) -> DialStatus:
        self._check()
        self._event(f"dial {target}: {self.dial_status.value}")
        return self.dial_status

    async def music(self, on: bool) -> None:
        self._check()
        if on and "@music" in self.hang_up_on:  # the caller gives up while waiting
            self.hung_up = True
            self._event("caller hangs up while waiting")
            raise CallerHungUp("hung up while waiting")
        self.music_on = on
        self._event("music on hold" if on else "music off")

    async def set_variable(self, name: str, value: str) -> None:
        self._check()
        self.variables[name] = value

    async def hangup(self) -> None:
        self._event("hang up")
        self.hung_up = True
