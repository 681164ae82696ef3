"""Skills, queues and agents as configured in config/*.yaml, validated with file:line errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kck.errors import UserError
from kck.phone import checked_e164
from kck.sip import SIP_URI_FORM, sip_uri_host
from kck.yamlsource import YAMLSourceError, as_plain, load_yaml_file, position_of

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class QueueConfigError(UserError):
    """A skills/queues/agents file is wrong; the message names the file, line and field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Skill(_Model):
    id: str
    name_pl: str
    name_en: str

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("skill id must be lower-case letters, digits and _")
        return value


class EscalationStep(_Model):
    """From `after_s` seconds of waiting on: the primary skill needs `min_level` (None = the
    request's own level), and agents with any of `add_skills` (skill → level) qualify too."""

    after_s: int = Field(ge=0)
    min_level: int | None = Field(default=None, ge=1, le=5)
    add_skills: dict[str, int] = Field(default_factory=dict)

    @field_validator("add_skills")
    @classmethod
    def _levels(cls, value: dict[str, int]) -> dict[str, int]:
        for skill, level in value.items():
            if not 1 <= level <= 5:
                raise ValueError(f"level of {skill!r} must be 1–5")
        return value


class ServiceLevel(_Model):
    """`target_pct` % of calls answered within `within_s` seconds."""

    target_pct: float = Field(default=80.0, gt=0, le=100)
    within_s: int = Field(default=20, gt=0)


class QueueConfig(_Model):
    id: str
    name_pl: str
    name_en: str
    escalation: tuple[EscalationStep, ...] = (EscalationStep(after_s=0),)
    max_wait_s: int = Field(default=600, gt=0)
    on_max_wait: Literal["callback", "voicemail"] = "callback"
    service_level: ServiceLevel = ServiceLevel()
    wrap_up_s: int = Field(default=30, ge=0)
    ring_timeout_s: int = Field(default=20, gt=0, le=300)
    announce_every_s: int = Field(default=45, gt=0)
    moh_class: str = "default"
    # a callback that does not reach the citizen (busy, no answer, unreachable) is tried again
    # after `callback_retry_s`, `callback_attempts` times in all; then it is a failed callback
    # that supervisors see on the wall board
    callback_attempts: int = Field(default=3, ge=1, le=10)
    callback_retry_s: int = Field(default=300, ge=10)

    @model_validator(mode="after")
    def _steps(self) -> QueueConfig:
        if not self.escalation or self.escalation[0].after_s != 0:
            raise ValueError("escalation must start with a step at after_s: 0")
        times = [s.after_s for s in self.escalation]
        if times != sorted(set(times)):
            raise ValueError("escalation steps must have increasing after_s")
        return self


class AgentConfig(_Model):
    username: str
    name: str
    extension: str
    dial: str | None = None
    skills: dict[str, int]
    # a desk phone at a fixed address, called there without registering (kck asterisk config)
    static_contact: str | None = None

    @field_validator("static_contact")
    @classmethod
    def _sip_uri(cls, value: str | None) -> str | None:
        if value is not None and sip_uri_host(value) is None:
            raise ValueError(f"must be a SIP URI {SIP_URI_FORM}")
        return value

    @field_validator("skills")
    @classmethod
    def _levels(cls, value: dict[str, int]) -> dict[str, int]:
        for skill, level in value.items():
            if not 1 <= level <= 5:
                raise ValueError(f"level of {skill!r} must be 1–5")
        return value

    @property
    def dial_string(self) -> str:
        return self.dial or f"PJSIP/{self.extension}"


class _SkillsFile(_Model):
    skills: tuple[Skill, ...]


class SecondLineNumber(_Model):
    """A number outside the centre an agent may transfer a caller to (a city unit's desk)."""

    number: str  # E.164
    name_pl: str
    name_en: str

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return checked_e164(value)


class _QueuesFile(_Model):
    short_abandon_s: int = Field(default=5, ge=0)
    queues: tuple[QueueConfig, ...]
    second_line: tuple[SecondLineNumber, ...] = ()


class _AgentsFile(_Model):
    agents: tuple[AgentConfig, ...]


@dataclass(frozen=True)
class RoutingConfig:
    """Everything the router is configured with."""

    skills: dict[str, Skill]
    queues: dict[str, QueueConfig]
    agents: dict[str, AgentConfig]
    short_abandon_s: int = 5
    # numbers agents may transfer callers to, by E.164 number
    second_line: dict[str, SecondLineNumber] = field(default_factory=dict)

    def queue(self, name: str) -> QueueConfig:
        try:
            return self.queues[name]
        except KeyError:
            raise QueueConfigError(f"no queue {name!r} (known: {', '.join(self.queues)})") from None


def _load(path: Path, model: type[_Model]) -> Any:
    try:
        raw = load_yaml_file(path)
    except FileNotFoundError:
        raise QueueConfigError(f"{path}: file not found") from None
    except YAMLSourceError as exc:
        raise QueueConfigError(str(exc)) from None
    try:
        return model.model_validate(as_plain(raw) if raw is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        pos = position_of(raw, loc)
        where = str(pos) if pos else str(path)
        field = ".".join(str(p) for p in loc) or "(top level)"
        reason = "no such field" if first["type"] == "extra_forbidden" else first["msg"]
        raise QueueConfigError(f"{where}: {field}: {reason}") from None


def _check_unique(items: list[str], what: str, path: Path) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise QueueConfigError(f"{path}: {what} {item!r} is defined twice")
        seen.add(item)


def load_routing_config(config_dir: Path) -> RoutingConfig:
    """Read skills.yaml, queues.yaml and agents.yaml (blocking: run in an executor)."""
    skills_path = config_dir / "skills.yaml"
    queues_path = config_dir / "queues.yaml"
    agents_path = config_dir / "agents.yaml"
    skills_file: _SkillsFile = _load(skills_path, _SkillsFile)
    queues_file: _QueuesFile = _load(queues_path, _QueuesFile)
    agents_file: _AgentsFile = _load(agents_path, _AgentsFile)
    _check_unique([s.id for s in skills_file.skills], "skill", skills_path)
    _check_unique([q.id for q in queues_file.queues], "queue", queues_path)
    _check_unique([a.username for a in agents_file.agents], "agent", agents_path)
    _check_unique([a.extension for a in agents_file.agents], "extension", agents_path)
    skills = {s.id: s for s in skills_file.skills}
    for queue in queues_file.queues:
        for n, step in enumerate(queue.escalation):
            for skill in step.add_skills:
                if skill not in skills:
                    raise QueueConfigError(
                        f"{queues_path}: queue {queue.id!r} escalation[{n}]: unknown skill {skill!r}"
                    )
    for agent in agents_file.agents:
        for skill in agent.skills:
            if skill not in skills:
                raise QueueConfigError(
                    f"{agents_path}: agent {agent.username!r}: unknown skill {skill!r}"
                )
    return RoutingConfig(
        skills=skills,
        queues={q.id: q for q in queues_file.queues},
        agents={a.username: a for a in agents_file.agents},
        short_abandon_s=queues_file.short_abandon_s,
        second_line={n.number: n for n in queues_file.second_line},
    )
