"""What simulated people do: caller scripts (digits, patience, speech) and agent phone behaviour."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_DTMF = re.compile(r"^[0-9*#A-D]+$")
_NUMBER = re.compile(r"^\+?[0-9]{2,15}$")  # E.164 expected; national digits tolerated


class ScriptError(ValueError):
    """A caller script or phone description is invalid; the message names the file and field."""


@dataclass(frozen=True)
class DigitPress:
    """Digits the caller presses at the next prompt that listens for digits ("": none, the
    caller lets that prompt pass).

    `after` is the delay (simulated seconds) from the start of that AGI command (STREAM FILE with
    escape digits, GET DATA, WAIT FOR DIGIT, SAY ... with escape digits, RECORD FILE with escape
    digits); further digits follow every `gap` seconds.
    """

    digits: str
    after: float = 1.0
    gap: float = 0.3

    def __post_init__(self) -> None:
        # "" lets that prompt pass without a key (e.g. the recording announcement)
        if self.digits and not _DTMF.match(self.digits):
            raise ScriptError(f"digits {self.digits!r}: only 0-9 * # A-D may be pressed")
        if self.after < 0 or self.gap < 0:
            raise ScriptError(f"digits {self.digits!r}: after/gap must not be negative")


@dataclass(frozen=True)
class CallerScript:
    """One simulated caller.

    `number` is E.164 (`+48...`) or None for a withheld number; `patience` is how long (simulated
    seconds from the call's start) the caller stays before hanging up, None = until the other side
    ends the call; `utterance` is the audio file written when the IVR records the caller.
    """

    number: str | None = "+48600100200"
    name: str | None = None
    dialed: str = "126165555"
    digits: tuple[DigitPress, ...] = ()
    patience: float | None = None
    utterance: Path | None = None
    label: str = ""
    channel: str = "PJSIP"  # "PJSIP" (a SIP caller on the trunk) or "Local" (Originate)

    def __post_init__(self) -> None:
        if self.channel not in ("PJSIP", "Local"):
            raise ScriptError(f"channel {self.channel!r}: must be 'PJSIP' or 'Local'")
        if self.number is not None and not _NUMBER.match(self.number):
            raise ScriptError(f"number {self.number!r} is not E.164 (+48...); None withholds it")
        if self.patience is not None and self.patience <= 0:
            raise ScriptError(f"patience must be > 0 seconds, got {self.patience}")

    @property
    def withheld(self) -> bool:
        return self.number is None


class PhoneMode(enum.Enum):
    """How a simulated agent phone reacts to an incoming call."""

    ANSWER = "answer"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    UNREGISTERED = "unregistered"


@dataclass(frozen=True)
class PhoneBehaviour:
    """`answer_after`: ring time before answering; `talk_for`: the agent hangs up after that many
    seconds of conversation (None = the agent waits for the caller to hang up)."""

    mode: PhoneMode = PhoneMode.ANSWER
    answer_after: float = 1.0
    talk_for: float | None = 3.0

    def __post_init__(self) -> None:
        if self.answer_after < 0:
            raise ScriptError(f"answer_after must not be negative, got {self.answer_after}")
        if self.talk_for is not None and self.talk_for <= 0:
            raise ScriptError(f"talk_for must be > 0 seconds, got {self.talk_for}")


def caller_script_from_mapping(data: Mapping[str, Any], where: str = "<script>") -> CallerScript:
    """Build a script from its YAML form::

    number: "+48600123456"      # or null for a withheld number
    name: "Łukasz Żółć"
    patience: 120
    utterance: sounds/dowod.wav
    digits:
      - {press: "2", after: 1.5}
      - {press: "1234#", after: 0.5, gap: 0.4}
    """
    known = {"number", "name", "dialed", "digits", "patience", "utterance", "label", "channel"}
    unknown = set(data) - known
    if unknown:
        raise ScriptError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(known)}")
    presses: list[DigitPress] = []
    for i, item in enumerate(data.get("digits") or []):
        if not isinstance(item, Mapping) or "press" not in item:
            raise ScriptError(f"{where}: digits[{i}] must be a mapping with 'press'")
        try:
            presses.append(
                DigitPress(
                    str(item["press"]), float(item.get("after", 1.0)), float(item.get("gap", 0.3))
                )
            )
        except (TypeError, ValueError) as exc:
            raise ScriptError(f"{where}: digits[{i}]: {exc}") from exc
    try:
        number = data.get("number", "+48600100200")
        patience = data.get("patience")
        utterance = data.get("utterance")
        return CallerScript(
            number=None if number is None else str(number),
            name=None if data.get("name") is None else str(data["name"]),
            dialed=str(data.get("dialed", "126165555")),
            digits=tuple(presses),
            patience=None if patience is None else float(patience),
            utterance=None if utterance is None else Path(str(utterance)),
            label=str(data.get("label", "")),
            channel=str(data.get("channel", "PJSIP")),
        )
    except (TypeError, ValueError) as exc:
        raise ScriptError(f"{where}: {exc}") from exc


def load_caller_scripts(path: Path) -> list[CallerScript]:
    """A YAML file holding one script (a mapping) or a list of them under `callers:`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ScriptError(f"{path}{line}: invalid YAML: {exc}") from exc
    except OSError as exc:
        raise ScriptError(f"{path}: cannot read: {exc}") from exc
    if isinstance(data, Mapping) and "callers" in data:
        items = data["callers"]
        if not isinstance(items, list):
            raise ScriptError(f"{path}: 'callers' must be a list")
        return [
            caller_script_from_mapping(item, f"{path}: callers[{i}]")
            for i, item in enumerate(items)
        ]
    if isinstance(data, Mapping):
        return [caller_script_from_mapping(data, str(path))]
    raise ScriptError(f"{path}: expected a mapping or 'callers:' list, got {type(data).__name__}")


@dataclass(frozen=True)
class SoundLibrary:
    """Durations (seconds) of the sound files the simulated Asterisk "has".

    Unknown names play for `default_duration` (kck's number words, `…/num/<token>`, for
    `word_duration`) unless `strict`, in which case they are missing (`STREAM FILE` answers
    `200 result=-1 endpos=0`, like Asterisk for a missing file).
    """

    durations: Mapping[str, float] = field(default_factory=lambda: dict(KNOWN_SOUNDS))
    default_duration: float = 2.0
    # one word of a number as `kck prompts build` makes it (0.3-1.1 s, 0.6-0.8 s on average)
    word_duration: float = 0.7
    strict: bool = False

    def duration(self, name: str) -> float | None:
        if name in self.durations:
            return self.durations[name]
        if self.strict or name.startswith("no-such"):
            return None
        if "/num/" in f"/{name}":
            return self.word_duration
        return self.default_duration


# Lengths of stock Asterisk sounds measured in the captures (endpos / 8000 samples per second).
KNOWN_SOUNDS: dict[str, float] = {
    "demo-congrats": 242214 / 8000,
    "demo-thanks": 44140 / 8000,
    "pls-hold-while-try": 19398 / 8000,
    "beep": 0.4,
    "silence/1": 1.0,
    "silence/10": 10.0,
    "hello-world": 1.4,
}
