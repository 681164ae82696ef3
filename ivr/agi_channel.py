"""The Channel port over a FastAGI session (the `asterisk.agi` AGISession API)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ivr.channel import CallerHungUp, DialStatus, KeyInput, Recording, RenderedPrompt
from kck import spoken_numbers

ALL_KEYS = "0123456789*#"
T = TypeVar("T")


class AGISessionLike(Protocol):
    """The part of `asterisk.agi.AGISession` the IVR uses."""

    env: Any
    hung_up: bool

    async def answer(self) -> None: ...
    async def stream_file(self, sound: str, escape_digits: str = "") -> str | None: ...
    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> Any: ...
    async def wait_for_digit(self, timeout_ms: int) -> str | None: ...
    async def record_file(
        self,
        path_no_ext: str,
        fmt: str,
        escape_digits: str,
        timeout_ms: int,
        *,
        beep: bool = True,
        silence_s: int | None = None,
    ) -> Any: ...
    async def set_variable(self, name: str, value: str) -> None: ...
    async def get_variable(self, name: str) -> str | None: ...
    async def exec(self, app: str, args: str = "") -> int: ...
    async def set_music(self, on: bool, moh_class: str = "default") -> None: ...
    async def hangup(self) -> None: ...


@functools.lru_cache(maxsize=4096)
def _sound_path(sounds_dir: Path, sound: str) -> str:
    """A prompt's path as Asterisk streams it: the same few per menu version, made once."""
    return str(sounds_dir / sound)


def agi_hangup_errors() -> tuple[type[BaseException], ...]:
    """`asterisk.agi.CallerHungUp` when that package is installed (it raises it on hang-up)."""
    try:
        module = importlib.import_module("asterisk.agi")
    except ImportError:
        return ()
    error = getattr(module, "CallerHungUp", None)
    return (error,) if isinstance(error, type) else ()


class AGIChannel:
    """Plays prompts from the sounds folder, reads DTMF, records, dials — over one AGI session.

    `sounds_dir` is kck's sounds folder as Asterisk sees it (`asterisk.sounds`); `dial` makes the
    dial string of an outside (E.164) number through the operator's trunk (`kck.phone.TrunkDial`).
    """

    def __init__(
        self,
        session: AGISessionLike,
        *,
        sounds_dir: Path,
        recordings_dir: Path,
        dial: Callable[[str], str],
        moh_class: str = "default",
        hangup_errors: tuple[type[BaseException], ...] | None = None,
    ) -> None:
        self.session = session
        self.sounds_dir = sounds_dir
        self.recordings_dir = recordings_dir
        self.dial_number = dial
        self.moh_class = moh_class
        self._hangups = (agi_hangup_errors() if hangup_errors is None else hangup_errors) + (
            CallerHungUp,
        )

    # The commands of every call (play, read, set a variable) await the session themselves, one
    # coroutine less per command than through `_do` (issue 20 point 2); the others use `_do`.
    def _live(self) -> AGISessionLike:
        session = self.session
        if session.hung_up:
            raise CallerHungUp("the caller has hung up")
        return session

    async def _do(self, action: Callable[[], Awaitable[T]]) -> T:
        self._live()
        try:
            return await action()
        except self._hangups as exc:
            raise CallerHungUp(str(exc)) from exc

    def _sound(self, prompt: RenderedPrompt) -> str:
        return _sound_path(self.sounds_dir, prompt.sound)

    async def answer(self) -> None:
        await self._do(self.session.answer)

    async def play(self, prompt: RenderedPrompt, *, interruptible: bool = False) -> str | None:
        sound = self._sound(prompt)
        session = self._live()
        try:
            return await session.stream_file(sound, ALL_KEYS if interruptible else "")
        except self._hangups as exc:
            raise CallerHungUp(str(exc)) from exc

    async def read_keys(
        self, prompt: RenderedPrompt | None, *, timeout_s: float, max_digits: int
    ) -> KeyInput:
        timeout_ms = int(timeout_s * 1000)
        if prompt is not None:
            sound = self._sound(prompt)
            session = self._live()
            try:
                got = await session.get_data(sound, timeout_ms, max_digits)
            except self._hangups as exc:
                raise CallerHungUp(str(exc)) from exc
            return KeyInput(str(got.digits or ""), bool(got.timed_out) and not got.digits)
        digits = ""
        while len(digits) < max_digits:
            key = await self._do(lambda: self.session.wait_for_digit(timeout_ms))
            if key is None:
                return KeyInput(digits, not digits)
            if key == "#":
                break
            digits += key
        return KeyInput(digits, False)

    async def say_digits(self, digits: str, language: str) -> None:
        """Read digits back one by one with kck's own number words, never SAY DIGITS: Asterisk has
        no Polish or Ukrainian digits and would say them in English."""
        if not (digits.isascii() and digits.isdigit()):
            return
        for sound in spoken_numbers.say_digits(digits, language):
            path = str(self.sounds_dir / language / sound)
            await self._do(functools.partial(self.session.stream_file, path))

    async def record(self, name: str, *, max_seconds: int) -> Recording:
        target = self.recordings_dir / name
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: target.parent.mkdir(parents=True, exist_ok=True)
        )
        result = await self._do(
            lambda: self.session.record_file(
                str(target), "wav", "#", max_seconds * 1000, beep=True, silence_s=5
            )
        )
        return Recording(f"{target}.wav", str(result.reason or "timeout"))

    async def dial(self, target: str, *, timeout_s: int) -> DialStatus:
        device = self.dial_number(target) if target.startswith("+") else target
        await self._do(lambda: self.session.exec("Dial", f"{device},{int(timeout_s)}"))
        status = await self._do(lambda: self.session.get_variable("DIALSTATUS"))
        try:
            return DialStatus(status or "FAILED")
        except ValueError:
            return DialStatus.FAILED

    async def music(self, on: bool) -> None:
        await self._do(lambda: self.session.set_music(on, self.moh_class))

    async def set_variable(self, name: str, value: str) -> None:
        session = self._live()
        try:
            await session.set_variable(name, value)
        except self._hangups as exc:
            raise CallerHungUp(str(exc)) from exc

    async def hangup(self) -> None:
        if not self.session.hung_up:
            with contextlib.suppress(*self._hangups):  # already gone: that is what we wanted
                await self.session.hangup()
