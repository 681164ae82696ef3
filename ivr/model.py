"""The menu language as typed values: prompts, calendars and the step types an editor writes."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kck.phone import checked_e164
from matters.lifecycle import MatterStatus

Language = Literal["pl", "en", "uk"]
LANGUAGES: tuple[Language, ...] = ("pl", "en", "uk")
DIGIT_KEYS = frozenset("0123456789*#")
_STEP_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SOUND = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_/-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Prompt(_Strict):
    """Something the caller hears: a sound name and its text in each language."""

    sound: str | None = None
    text: dict[Language, str] = Field(default_factory=dict)

    @field_validator("sound")
    @classmethod
    def _sound_name(cls, value: str | None) -> str | None:
        if value is not None and not _SOUND.match(value):
            raise ValueError(
                "a sound name uses letters, digits, _ - and / only (no extension), e.g. kck/welcome"
            )
        return value


class TimeRange(_Strict):
    start: time
    end: time


def _parse_ranges(value: object) -> object:
    """`"08:00-16:00"` or a list of them → [{start, end}, ...]."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return value
    out: list[object] = []
    for item in value:
        if isinstance(item, str):
            start, sep, end = item.partition("-")
            if not sep:
                raise ValueError(f"{item!r} is not a time range like 08:00-16:00")
            out.append({"start": start.strip(), "end": end.strip()})
        else:
            out.append(item)
    return out


class CalendarException(_Strict):
    """One date that differs from the weekly schedule: closed all day, or other hours."""

    date: date
    closed: bool = False
    hours: tuple[TimeRange, ...] = ()
    note: str | None = None

    @field_validator("hours", mode="before")
    @classmethod
    def _ranges(cls, value: object) -> object:
        return _parse_ranges(value)


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Calendar(_Strict):
    """Opening hours: a weekly schedule, public holidays of a country, and dated exceptions."""

    timezone: str = "Europe/Warsaw"
    weekly: dict[Weekday, tuple[TimeRange, ...]] = Field(default_factory=dict)
    public_holidays: str | None = "PL"
    exceptions: tuple[CalendarException, ...] = ()

    @field_validator("weekly", mode="before")
    @classmethod
    def _weekly(cls, value: object) -> object:
        if isinstance(value, dict):
            return {day: _parse_ranges(ranges) for day, ranges in value.items()}
        return value


class LanguageRoute(_Strict):
    """Callers in this language wait in `queue` and need `skill` (the primary skill) first."""

    queue: str
    skill: str
    level: int = Field(default=1, ge=1, le=10)


class MenuHeader(_Strict):
    """The `menu:` block of the main file."""

    name: str
    start: str
    languages: tuple[Language, ...] = ("pl",)
    default_language: Language = "pl"
    goodbye: str | None = None
    invalid: str | None = None
    timeout: float = Field(default=5.0, gt=0, le=60)
    language_routing: dict[Language, LanguageRoute] = Field(default_factory=dict)


class _Step(_Strict):
    label: dict[Language, str] | str | None = None

    def label_in(self, language: str, step_id: str) -> str:
        """How the caller's path shows this step (in the caller's language, else Polish)."""
        if isinstance(self.label, str):
            return self.label
        if isinstance(self.label, dict):
            return self.label.get(language) or self.label.get("pl") or step_id  # type: ignore[call-overload]
        return step_id


def _digit_keys(value: dict[str, str]) -> dict[str, str]:
    for key in value:
        if len(key) != 1 or key not in DIGIT_KEYS:
            raise ValueError(f"{key!r} is not a phone key (one of 0-9, * or #)")
    return value


def _stringify_keys(value: object) -> object:
    # YAML reads `1: documents` with an integer key; phone keys are strings.
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


class SayStep(_Step):
    type: Literal["say"]
    prompt: str
    next: str


class ConsentStep(_Step):
    """The recording announcement: a caller who presses `decline_key` while `prompt` plays is not
    recorded (and hears `declined_prompt`). A call that passes no consent step is not recorded
    either. The announcement never waits for a key: nobody is held up by it."""

    type: Literal["consent"]
    prompt: str
    decline_key: str = "9"
    declined_prompt: str | None = None
    next: str

    @field_validator("decline_key", mode="before")
    @classmethod
    def _key(cls, value: object) -> object:
        value = str(value)
        _digit_keys({value: ""})
        return value


class MenuStep(_Step):
    type: Literal["menu"]
    prompt: str
    choices: dict[str, str]
    timeout: float | None = Field(default=None, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=9)
    invalid_prompt: str | None = None
    timeout_prompt: str | None = None
    fallback: str | None = None

    @field_validator("choices", mode="before")
    @classmethod
    def _string_keys(cls, value: object) -> object:
        return _stringify_keys(value)

    @field_validator("choices")
    @classmethod
    def _check_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return _digit_keys(value)


class DigitsStep(_Step):
    type: Literal["digits"]
    prompt: str
    variable: str
    min_digits: int = Field(default=1, ge=1, le=32)
    max_digits: int = Field(default=16, ge=1, le=32)
    pattern: str | None = None
    timeout: float | None = Field(default=None, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=9)
    invalid_prompt: str | None = None
    next: str
    fallback: str | None = None

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid pattern: {exc}") from None
        return value

    @model_validator(mode="after")
    def _lengths(self) -> DigitsStep:
        if self.min_digits > self.max_digits:
            raise ValueError("min_digits is larger than max_digits")
        return self


class MatterStatusStep(_Step):
    """Says the state of the matter whose number the caller keyed in (`variable`): the prompt of
    `prompts` for its state, `unknown_prompt` when there is no such matter."""

    type: Literal["matter_status"]
    variable: str
    prompts: dict[MatterStatus, str]
    unknown_prompt: str
    next: str

    @field_validator("prompts")
    @classmethod
    def _every_state(cls, value: dict[MatterStatus, str]) -> dict[MatterStatus, str]:
        missing = [s.value for s in MatterStatus if s not in value]
        if missing:
            raise ValueError(f"no prompt for the states: {', '.join(missing)}")
        return value


class HoursStep(_Step):
    type: Literal["hours"]
    calendar: str
    open: str
    closed: str


class LanguageStep(_Step):
    type: Literal["language"]
    prompt: str
    choices: dict[str, Language]
    default: Language = "pl"
    timeout: float | None = Field(default=None, gt=0, le=60)
    retries: int = Field(default=1, ge=0, le=9)
    next: str

    @field_validator("choices", mode="before")
    @classmethod
    def _string_keys(cls, value: object) -> object:
        return _stringify_keys(value)

    @field_validator("choices")
    @classmethod
    def _check_keys(cls, value: dict[str, str]) -> dict[str, str]:
        return _digit_keys(value)


class QueueStep(_Step):
    type: Literal["queue"]
    queue: str
    skills: dict[str, int] = Field(default_factory=dict)
    priority: int = Field(default=0, ge=0, le=100)
    ticket_category: str | None = None
    kb_topic: str | None = None
    prompt: str | None = None
    no_agent: str | None = None

    @field_validator("skills")
    @classmethod
    def _levels(cls, value: dict[str, int]) -> dict[str, int]:
        for skill, level in value.items():
            if not 1 <= level <= 10:
                raise ValueError(f"skill {skill!r}: minimum level must be 1..10, got {level}")
        return value


class InfoStep(_Step):
    type: Literal["info"]
    prompt: str
    next: str | None = None


class CallbackStep(_Step):
    type: Literal["callback"]
    confirm_prompt: str
    enter_prompt: str
    done_prompt: str
    queue: str
    skills: dict[str, int] = Field(default_factory=dict)
    ticket_category: str | None = None
    kb_topic: str | None = None
    timeout: float | None = Field(default=None, gt=0, le=60)
    next: str | None = None
    fallback: str | None = None


class VoicemailStep(_Step):
    type: Literal["voicemail"]
    prompt: str
    box: str
    max_seconds: int = Field(default=120, ge=5, le=600)
    done_prompt: str | None = None
    next: str | None = None


class TransferStep(_Step):
    type: Literal["transfer"]
    number: str
    prompt: str | None = None
    dial_timeout: int = Field(default=30, ge=5, le=120)
    failed: str | None = None

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return checked_e164(value)


class SpeechStep(_Step):
    type: Literal["speech"]
    prompt: str
    intents: str
    confidence: float = Field(default=0.6, gt=0, le=1)
    routes: dict[str, str] = Field(default_factory=dict)
    fallback: str
    max_seconds: int = Field(default=6, ge=1, le=30)


class SetStep(_Step):
    type: Literal["set"]
    variables: dict[str, str | int | bool]
    next: str


class GotoStep(_Step):
    type: Literal["goto"]
    target: str


class HangupStep(_Step):
    type: Literal["hangup"]
    prompt: str | None = None
    outcome: Literal["self_service", "closed_hours"] = "self_service"


Step = Annotated[
    SayStep
    | ConsentStep
    | MenuStep
    | DigitsStep
    | MatterStatusStep
    | HoursStep
    | LanguageStep
    | QueueStep
    | InfoStep
    | CallbackStep
    | VoicemailStep
    | TransferStep
    | SpeechStep
    | SetStep
    | GotoStep
    | HangupStep,
    Field(discriminator="type"),
]

# Fields of each step type that name another step (the edges of the menu graph), in reading order.
STEP_TARGET_FIELDS: dict[str, tuple[str, ...]] = {
    "say": ("next",),
    "consent": ("next",),
    "menu": ("fallback",),
    "digits": ("next", "fallback"),
    "matter_status": ("next",),
    "hours": ("open", "closed"),
    "language": ("next",),
    "queue": ("no_agent",),
    "info": ("next",),
    "callback": ("next", "fallback"),
    "voicemail": ("next",),
    "transfer": ("failed",),
    "speech": ("fallback",),
    "set": ("next",),
    "goto": ("target",),
    "hangup": (),
}
PROMPT_FIELDS = (
    "prompt",
    "invalid_prompt",
    "timeout_prompt",
    "confirm_prompt",
    "enter_prompt",
    "done_prompt",
    "declined_prompt",
    "unknown_prompt",
)


def step_edges(step: Step) -> list[tuple[str, str]]:
    """(how, target step) for every way out of a step: `next`, `1`, `fallback`..."""
    edges: list[tuple[str, str]] = []
    if isinstance(step, MenuStep):
        edges.extend((f"key {key}", target) for key, target in step.choices.items())
    if isinstance(step, SpeechStep):
        edges.extend((f"intent {name}", target) for name, target in step.routes.items())
    for field in STEP_TARGET_FIELDS[step.type]:
        target = getattr(step, field)
        if target:
            edges.append((field, target))
    return edges


def step_prompts(step: Step) -> list[tuple[str, str]]:
    """(field, prompt id) for every prompt a step plays."""
    played = [(f, getattr(step, f)) for f in PROMPT_FIELDS if getattr(step, f, None)]
    if isinstance(step, MatterStatusStep):
        played.extend((f"prompts.{state.value}", p) for state, p in step.prompts.items())
    return played


def is_valid_step_id(name: str) -> bool:
    return bool(_STEP_ID.match(name))
