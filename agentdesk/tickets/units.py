"""The city units a ticket can be forwarded to, read from `config/units.yaml`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agentdesk.tickets.categories import TicketCategory
from kck.errors import UserError
from kck.yamlsource import PosDict, PosList, load_yaml_file


class UnitsFileError(UserError):
    """`config/units.yaml` is wrong; the message names the file, line and field."""


@dataclass(frozen=True)
class UnitDeadline:
    """How long a unit has to answer (business days, per kind of matter: the ticket's category),
    and what happens after: a reminder to the unit the first business day past the deadline, an
    escalation `escalate_after` business days later (docs/units.md, "Deadlines")."""

    business_days: int = 14
    by_kind: tuple[tuple[str, int], ...] = ()
    escalate_after: int = 3
    escalation_emails: tuple[str, ...] = ()

    def days_for(self, kind: str) -> int:
        return dict(self.by_kind).get(kind, self.business_days)


DEFAULT_DEADLINE = UnitDeadline()


@dataclass(frozen=True)
class CityUnit:
    code: str
    name_pl: str
    name_en: str
    categories: tuple[TicketCategory, ...]
    emails: tuple[str, ...] = ()
    # how the unit works on its matters: email_link (a signed link to each matter's page) or
    # account (its officers sign in to an inbox of the unit's matters; the e-mail has no link key)
    works_by: str = "email_link"
    deadline: UnitDeadline = field(default_factory=lambda: DEFAULT_DEADLINE)

    @property
    def by_account(self) -> bool:
        return self.works_by == BY_ACCOUNT

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_pl


@dataclass(frozen=True)
class CityUnits:
    units: tuple[CityUnit, ...]

    def get(self, code: str) -> CityUnit | None:
        return next((u for u in self.units if u.code == code), None)

    def for_category(self, category: str | None) -> list[CityUnit]:
        return [u for u in self.units if category and category in u.categories]


def _where(node: Any, key: str | int | None = None) -> str:
    if isinstance(node, PosDict) and isinstance(key, str | None):
        return str(node.where(key))
    if isinstance(node, PosList) and isinstance(key, int | None):
        return str(node.where(key))
    return "?"


BY_ACCOUNT = "account"
WAYS_OF_WORKING = ("email_link", BY_ACCOUNT)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _emails(item: dict[str, Any], code: str) -> tuple[str, ...]:
    raw = item.get("email")
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    if raw is not None and not values:
        raise UnitsFileError(
            f"{_where(item, 'email')}: unit {code}: 'email' is an address or a list"
        )
    for value in values:
        if not isinstance(value, str) or not _EMAIL.match(value):
            raise UnitsFileError(
                f"{_where(item, 'email')}: unit {code}: {value!r} is not an e-mail address"
            )
    return tuple(values)


def _works_by(item: dict[str, Any], code: str) -> str:
    way = item.get("works_by", "email_link")
    if way not in WAYS_OF_WORKING:
        raise UnitsFileError(
            f"{_where(item, 'works_by')}: unit {code}: unknown way of working {way!r} "
            f"(known: {', '.join(WAYS_OF_WORKING)})"
        )
    return str(way)


_DEADLINE_KEYS = ("business_days", "by_kind", "escalate_after", "escalation_email")


def _days(node: dict[str, Any], key: str, what: str, low: int) -> int:
    value = node[key]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= 365:
        raise UnitsFileError(
            f"{_where(node, key)}: {what}: {key} must be a whole number of business days "
            f"from {low} to 365, not {value!r}"
        )
    return value


def _deadline(node: Any, base: UnitDeadline, what: str) -> UnitDeadline:
    """A `deadline:` mapping over `base` (its `by_kind` added to base's)."""
    if node is None:
        return base
    if not isinstance(node, dict):
        raise UnitsFileError(f"{_where(node)}: {what}: 'deadline' is a mapping")
    unknown = sorted(set(node) - set(_DEADLINE_KEYS))
    if unknown:
        raise UnitsFileError(
            f"{_where(node, unknown[0])}: {what}: unknown deadline setting {unknown[0]!r} "
            f"(known: {', '.join(_DEADLINE_KEYS)})"
        )
    result = base
    if "business_days" in node:
        result = replace(result, business_days=_days(node, "business_days", what, 1))
    if "escalate_after" in node:
        result = replace(result, escalate_after=_days(node, "escalate_after", what, 0))
    if "escalation_email" in node:
        emails = _emails({"email": node["escalation_email"]}, what)
        result = replace(result, escalation_emails=emails)
    kinds = node.get("by_kind")
    if kinds is not None:
        if not isinstance(kinds, dict):
            raise UnitsFileError(f"{_where(node, 'by_kind')}: {what}: 'by_kind' is a mapping")
        merged = dict(result.by_kind)
        for kind in kinds:
            if kind not in {c.value for c in TicketCategory}:
                known = ", ".join(c.value for c in TicketCategory)
                raise UnitsFileError(
                    f"{_where(kinds, kind)}: {what}: unknown kind {kind!r} (known: {known})"
                )
            merged[str(kind)] = _days(kinds, kind, what, 1)
        result = replace(result, by_kind=tuple(sorted(merged.items())))
    return result


def load_units(path: Path) -> CityUnits:
    """Parse and check the units file; raises UnitsFileError naming file:line and the field."""
    data = load_yaml_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        raise UnitsFileError(f"{path}: expected a top-level 'units:' list")
    units: list[CityUnit] = []
    seen: set[str] = set()
    defaults = _deadline(data.get("deadlines"), DEFAULT_DEADLINE, "deadlines")
    for index, item in enumerate(data["units"]):
        if not isinstance(item, dict):
            raise UnitsFileError(f"{_where(data['units'], index)}: each unit is a mapping")
        code = item.get("code")
        if not isinstance(code, str) or not code.strip():
            raise UnitsFileError(f"{_where(item)}: unit needs a 'code'")
        if code in seen:
            raise UnitsFileError(f"{_where(item, 'code')}: unit code {code!r} appears twice")
        seen.add(code)
        name = item.get("name")
        if not isinstance(name, dict) or not name.get("pl"):
            raise UnitsFileError(
                f"{_where(item, 'name')}: unit {code}: 'name' needs 'pl' (and 'en')"
            )
        cats = []
        for cat in item.get("categories") or []:
            try:
                cats.append(TicketCategory(cat))
            except ValueError:
                known = ", ".join(c.value for c in TicketCategory)
                raise UnitsFileError(
                    f"{_where(item, 'categories')}: unit {code}: unknown category {cat!r} "
                    f"(known: {known})"
                ) from None
        units.append(
            CityUnit(
                code,
                str(name["pl"]),
                str(name.get("en") or name["pl"]),
                tuple(cats),
                _emails(item, code),
                _works_by(item, code),
                _deadline(item.get("deadline"), defaults, f"unit {code}"),
            )
        )
    if not units:
        raise UnitsFileError(f"{path}: no units defined")
    return CityUnits(tuple(units))
