"""Editors' scripted tests (`config/menus/tests/*.yaml`): at this time, press these keys, expect this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ivr.channel import DialStatus
from ivr.interpreter import CallInfo, CallResult, Interpreter
from ivr.loader import MenuSet
from ivr.memory_gateway import InMemoryQueueGateway
from ivr.scripted_channel import ScriptedChannel
from ivr.speech_port import IntentRecogniser
from kck.clock import ManualClock
from kck.yamlsource import SourcePos, YAMLSourceError, load_yaml_file, position_of
from queues.model import QueueOutcome


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expectation(_Strict):
    outcome: str | None = None
    queue: str | None = None
    skills: dict[str, int] | None = None
    priority: int | None = None
    ticket_category: str | None = None
    kb_topic: str | None = None
    language: str | None = None
    last_step: str | None = None
    path: list[str] | None = None
    heard: list[str] | None = None
    variables: dict[str, str] | None = None
    callback_number: str | None = None

    @field_validator("variables", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): str(v) for k, v in value.items()}
        return value


class ScriptedCase(_Strict):
    name: str
    at: datetime
    keys: list[str] = Field(default_factory=list)
    caller: str | None = "+48600100200"
    language: Literal["pl", "en", "uk"] | None = None
    hang_up_on: list[str] = Field(default_factory=list)
    dial_status: DialStatus = DialStatus.ANSWER
    queue_outcome: QueueOutcome = QueueOutcome.ANSWERED
    expect: Expectation

    @field_validator("keys", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",")]
        if isinstance(value, list):
            return ["" if k is None else str(k) for k in value]
        return value


class ScriptFileError(Exception):
    """A test file is malformed; the message names file:line:column."""


@dataclass(frozen=True)
class LoadedCase:
    case: ScriptedCase
    pos: SourcePos


@dataclass
class CaseResult:
    case: ScriptedCase
    pos: SourcePos
    failures: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    result: CallResult | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def load_cases(path: Path) -> list[LoadedCase]:
    """Read one test file (blocking I/O)."""
    try:
        doc = load_yaml_file(path)
    except YAMLSourceError as exc:
        raise ScriptFileError(f"{exc.pos}: not valid YAML: {exc.reason}") from None
    items = doc.get("tests") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ScriptFileError(f"{path}:1:1: a test file needs a `tests:` list")
    cases: list[LoadedCase] = []
    for index, raw in enumerate(items):
        pos = items.where(index)  # type: ignore[attr-defined]
        try:
            cases.append(LoadedCase(ScriptedCase.model_validate(raw), pos))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = position_of(raw, tuple(err["loc"])) or pos
            loc = ".".join(str(p) for p in err["loc"])
            raise ScriptFileError(
                f"{where}: test #{index + 1} field `{loc}`: {err['msg']}"
            ) from None
    return cases


def _subsequence(wanted: Sequence[str], seen: Sequence[str]) -> bool:
    it = iter(seen)
    return all(any(w == s for s in it) for w in wanted)


def _compare(expect: Expectation, result: CallResult, channel: ScriptedChannel) -> list[str]:
    failures: list[str] = []
    routing = result.routing

    def check(name: str, wanted: Any, got: Any) -> None:
        if wanted is not None and wanted != got:
            failures.append(f"{name}: expected {wanted!r}, got {got!r}")

    check("outcome", expect.outcome, result.outcome.value)
    check("queue", expect.queue, routing.queue if routing else None)
    check("skills", expect.skills, routing.skills if routing else None)
    check("priority", expect.priority, routing.priority if routing else None)
    check("ticket_category", expect.ticket_category, routing.ticket_category if routing else None)
    check("kb_topic", expect.kb_topic, routing.kb_topic if routing else None)
    check("language", expect.language, result.language)
    check("last_step", expect.last_step, result.last_step)
    check(
        "callback_number",
        expect.callback_number,
        result.callback.number if result.callback else None,
    )
    steps = [s.step_id for s in result.path]
    if expect.path is not None and not _subsequence(expect.path, steps):
        failures.append(
            f"path: expected to pass {' → '.join(expect.path)}, went {' → '.join(steps)}"
        )
    heard = [p.prompt_id for p in channel.heard]
    if expect.heard is not None and not _subsequence(expect.heard, heard):
        failures.append(f"heard: expected {', '.join(expect.heard)}, heard {', '.join(heard)}")
    for name, value in (expect.variables or {}).items():
        if result.variables.get(name) != value:
            failures.append(
                f"variable {name}: expected {value!r}, got {result.variables.get(name)!r}"
            )
    if result.error is not None:
        failures.append(f"the menu failed: {result.error}")
    return failures


async def run_case(
    menu: MenuSet,
    case: ScriptedCase,
    pos: SourcePos,
    *,
    version: str = "test",
    timezone: str = "Europe/Warsaw",
    speech: IntentRecogniser | None = None,
) -> CaseResult:
    at = case.at if case.at.tzinfo else case.at.replace(tzinfo=ZoneInfo(timezone))
    clock = ManualClock(at)
    channel = ScriptedChannel(
        keys=case.keys, hang_up_on=frozenset(case.hang_up_on), dial_status=case.dial_status
    )
    gateway = InMemoryQueueGateway(answer_at_once=case.queue_outcome)
    interpreter = Interpreter(menu, version, gateway=gateway, clock=clock, speech=speech)
    call = CallInfo("scripted", "scripted", "Local/test", case.caller, clock.now(), case.language)
    result = await interpreter.run(channel, call)
    return CaseResult(
        case, pos, _compare(case.expect, result, channel), list(channel.events), result
    )


def script_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.yaml"))
