"""The Open311 services: one per ticket category, with the attributes its kind of matter asks
for. Pure values from the categories, the units file and the catalogue (no I/O)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from agentdesk.i18n import translate
from agentdesk.tickets.categories import CATEGORIES_NEEDING_LOCATION, TicketCategory
from agentdesk.tickets.units import CityUnits

LOCALES = ("pl", "en", "uk")


class MatterKind(enum.StrEnum):
    """What the resident brings: the `kind` attribute of every service."""

    PROBLEM = "problem"
    IDEA = "idea"
    QUESTION = "question"
    COMPLAINT = "complaint"


KIND_ATTRIBUTE = "kind"
PLACE_ATTRIBUTE = "location_detail"
PLACE_DETAIL_MAX = 200


@dataclass(frozen=True)
class AttributeValue:
    key: str
    name: str


@dataclass(frozen=True)
class ServiceAttribute:
    """One attribute of a service definition (the spec's element names)."""

    code: str
    datatype: str  # string, number, datetime, text, singlevaluelist, multivaluelist
    required: bool
    order: int
    description: str
    datatype_description: str = ""
    variable: bool = True
    values: tuple[AttributeValue, ...] = ()


@dataclass(frozen=True)
class ServiceType:
    code: str
    name: str
    description: str
    group: str
    keywords: tuple[str, ...]
    needs_location: bool
    units: tuple[str, ...]  # the units a request of this service is forwarded to
    metadata: bool = True
    type: str = "realtime"  # ids are returned at once, never tokens


def locale_of(raw: str | None) -> str:
    return raw if raw in LOCALES else "pl"


def service_types(units: CityUnits, locale: str) -> list[ServiceType]:
    found = []
    for category in TicketCategory:
        name = translate(locale, f"category.{category.value}")
        forwarded_to = units.for_category(category.value)
        needs_location = category in CATEGORIES_NEEDING_LOCATION
        found.append(
            ServiceType(
                code=category.value,
                name=name,
                description=translate(
                    locale,
                    "citizen.open311.service_description",
                    category=name,
                    units=", ".join(u.name(locale) for u in forwarded_to) or "—",
                ),
                group=translate(
                    locale,
                    "citizen.open311.group.place"
                    if needs_location
                    else "citizen.open311.group.general",
                ),
                keywords=tuple(
                    dict.fromkeys(translate(lang, f"category.{category.value}") for lang in LOCALES)
                ),
                needs_location=needs_location,
                units=tuple(u.code for u in forwarded_to),
            )
        )
    return found


def service_type(units: CityUnits, code: str, locale: str) -> ServiceType | None:
    return next((s for s in service_types(units, locale) if s.code == code), None)


def attributes(service: ServiceType, locale: str) -> list[ServiceAttribute]:
    """The kind of matter for every service; where exactly, for problems at a place."""
    found = [
        ServiceAttribute(
            code=KIND_ATTRIBUTE,
            datatype="singlevaluelist",
            required=False,
            order=1,
            description=translate(locale, "citizen.open311.attribute.kind"),
            values=tuple(
                AttributeValue(kind.value, translate(locale, f"citizen.open311.kind.{kind.value}"))
                for kind in MatterKind
            ),
        )
    ]
    if service.needs_location:
        found.append(
            ServiceAttribute(
                code=PLACE_ATTRIBUTE,
                datatype="string",
                required=False,
                order=2,
                description=translate(locale, "citizen.open311.attribute.location_detail"),
                datatype_description=translate(
                    locale, "citizen.open311.attribute.location_detail_hint", n=PLACE_DETAIL_MAX
                ),
            )
        )
    return found
