"""The city units a ticket can be forwarded to, read from `config/units.yaml`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentdesk.tickets.categories import TicketCategory
from kck.errors import UserError
from kck.yamlsource import PosDict, PosList, load_yaml_file


class UnitsFileError(UserError):
    """`config/units.yaml` is wrong; the message names the file, line and field."""


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


def load_units(path: Path) -> CityUnits:
    """Parse and check the units file; raises UnitsFileError naming file:line and the field."""
    data = load_yaml_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("units"), list):
        raise UnitsFileError(f"{path}: expected a top-level 'units:' list")
    units: list[CityUnit] = []
    seen: set[str] = set()
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
            )
        )
    if not units:
        raise UnitsFileError(f"{path}: no units defined")
    return CityUnits(tuple(units))
