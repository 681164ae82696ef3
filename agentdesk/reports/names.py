"""The report in people's words: table titles, column headers, and the names of the codes in its
cells (city units, ticket categories, IVR steps, the total row) in the reader's language.

The codes stay what programs read: in the CSV (`*_name` columns beside them) and as the cell's
tooltip on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentdesk.i18n import has_text, translate
from agentdesk.reports.records import BRANCH_JOIN, NO_IVR
from agentdesk.reports.report import TOTAL, CodeKind
from agentdesk.tickets.units import CityUnits


@dataclass(frozen=True)
class Shown:
    """A cell as the page shows it: its text, and the code behind it (the tooltip) if any."""

    text: str
    code: str | None = None


def number_text(value: Any) -> str:
    """A number as Polish readers write it (decimal comma); "—" where there was nothing to count."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


@dataclass(frozen=True)
class ReportNames:
    language: str
    units: CityUnits | None = None
    steps: Mapping[str, Mapping[str, str]] | None = None

    def title(self, table: str) -> str:
        return translate(self.language, f"report.table.{table}")

    def header(self, column: str) -> str:
        return translate(self.language, f"report.column.{column}")

    def name(self, kind: str, code: str) -> str:
        """The name of `code` in the reader's language (the code itself when none is known)."""
        if kind == CodeKind.PERIOD:
            return translate(self.language, "report.total") if code == TOTAL else code
        if kind == CodeKind.CATEGORY:
            key = f"category.{code}"
            return translate(self.language, key) if has_text(key) else code
        if kind == CodeKind.UNIT:
            unit = self.units.get(code) if self.units is not None else None
            return unit.name(self.language) if unit is not None else code
        if kind == CodeKind.IVR_BRANCH:
            if code == NO_IVR:
                return translate(self.language, "report.no_ivr")
            return BRANCH_JOIN.join(self._step(step) for step in code.split(BRANCH_JOIN))
        return code

    def _step(self, step_id: str) -> str:
        labels = (self.steps or {}).get(step_id) or {}
        return labels.get(self.language) or labels.get("pl") or step_id

    def cell(self, kind: str | None, value: Any) -> Shown:
        if kind is None or not isinstance(value, str):
            return Shown(number_text(value))
        text = self.name(kind, value)
        return Shown(text, value if text != value else None)
