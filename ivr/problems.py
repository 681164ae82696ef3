"""Problems found in a menu set: errors that reject it and warnings that do not, each with its place."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kck.yamlsource import SourcePos


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: Severity
    pos: SourcePos | None
    message: str
    code: str

    def __str__(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        return f"{where}{self.severity.value}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "file": self.pos.file if self.pos else None,
            "line": self.pos.line if self.pos else None,
            "column": self.pos.column if self.pos else None,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class ProblemList:
    items: list[Problem] = field(default_factory=list)

    def error(self, pos: SourcePos | None, message: str, code: str) -> None:
        self.items.append(Problem(Severity.ERROR, pos, message, code))

    def warning(self, pos: SourcePos | None, message: str, code: str) -> None:
        self.items.append(Problem(Severity.WARNING, pos, message, code))

    def extend(self, other: ProblemList) -> None:
        self.items.extend(other.items)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Problem]:
        def key(p: Problem) -> tuple[str, int, int, str]:
            if p.pos is None:
                return ("", 0, 0, p.message)
            return (p.pos.file, p.pos.line, p.pos.column, p.message)

        return sorted(self.items, key=key)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
