"""An in-test object with the AGISession shape (contract AGI_API.md), answering from a key script.

Used until `asterisk.agi` is merged; it speaks in the same terms (sound paths, GET DATA results,
DIALSTATUS, a CallerHungUp-like error) so the adapter is checked against the contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class PeerHungUp(Exception):
    """Stands for asterisk.agi.CallerHungUp."""


@dataclass(frozen=True)
class Env:
    channel: str = "PJSIP/trunk-00000001"
    uniqueid: str = "1764000000.1"
    language: str = "pl"
    callerid: str | None = "600100200"
    calleridname: str | None = "Jan Kowalski"
    dnid: str | None = "126165555"
    raw: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Digits:
    digits: str
    timed_out: bool


@dataclass(frozen=True)
class Recorded:
    digit: str | None
    reason: str | None
    endpos: int | None = 8000


class ScriptedAGISession:
    """Commands are logged as AGI lines; GET DATA / WAIT FOR DIGIT take the next scripted keys."""

    def __init__(
        self,
        keys: list[str],
        *,
        hang_up_after: int | None = None,
        env: Env | None = None,
        dial_status: str = "ANSWER",
    ) -> None:
        self.env = env or Env()
        self.hung_up = False
        self.keys = list(keys)
        self.commands: list[str] = []
        self.variables: dict[str, str] = {}
        self.hang_up_after = hang_up_after
        self.dial_status = dial_status

    def _cmd(self, line: str) -> None:
        if self.hung_up:
            raise PeerHungUp(f"{line!r}: channel is gone")
        self.commands.append(line)
        if self.hang_up_after is not None and len(self.commands) >= self.hang_up_after:
            self.hung_up = True
            raise PeerHungUp(f"{line!r}: HANGUP")

    async def answer(self) -> None:
        self._cmd("ANSWER")

    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None:
        self._cmd(f'STREAM FILE {sound} "{escape_digits}"')
        return None

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> Digits:
        self._cmd(f"GET DATA {prompt} {timeout_ms} {max_digits}")
        keys = self.keys.pop(0) if self.keys else ""
        return Digits(keys[:max_digits], not keys)

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        self._cmd(f"WAIT FOR DIGIT {timeout_ms}")
        if not self.keys or not self.keys[0]:
            if self.keys:
                self.keys.pop(0)
            return None
        key, rest = self.keys[0][0], self.keys[0][1:]
        if rest:
            self.keys[0] = rest
        else:
            self.keys.pop(0)
        return key

    async def say_digits(self, digits: str, escape_digits: str = "") -> str | None:
        self._cmd(f'SAY DIGITS {digits} "{escape_digits}"')
        return None

    async def say_number(self, number: int, escape_digits: str = "") -> str | None:
        self._cmd(f'SAY NUMBER {number} "{escape_digits}"')
        return None

    async def record_file(
        self,
        path_no_ext: str,
        fmt: str,
        escape_digits: str,
        timeout_ms: int,
        *,
        beep: bool = True,
        silence_s: int | None = None,
    ) -> Recorded:
        self._cmd(f'RECORD FILE {path_no_ext} {fmt} "{escape_digits}" {timeout_ms}')
        return Recorded(None, "silence")

    async def set_variable(self, name: str, value: str) -> None:
        # res_agi allows SET VARIABLE on a dead channel
        self.commands.append(f'SET VARIABLE {name} "{value}"')
        self.variables[name] = value

    async def get_variable(self, name: str) -> str | None:
        self._cmd(f"GET VARIABLE {name}")
        return self.variables.get(name)

    async def exec(self, app: str, args: str = "") -> int:
        self._cmd(f'EXEC {app} "{args}"')
        if app == "Dial":
            self.variables["DIALSTATUS"] = self.dial_status
        return 0

    async def set_music(self, on: bool, moh_class: str = "default") -> None:
        self._cmd(f"SET MUSIC {'ON' if on else 'OFF'} {moh_class}")

    async def hangup(self) -> None:
        self._cmd("HANGUP")
        self.hung_up = True

    def sent(self, prefix: str) -> list[str]:
        return [c for c in self.commands if c.startswith(prefix)]

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"the AGI contract has no {name}")
