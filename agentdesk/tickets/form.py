"""The ticket form checked at the server: every field, with a message per field in the reader's
language (the catalogue's `ticket.error.<code>`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agentdesk.i18n import translate
from agentdesk.tickets.categories import CATEGORIES_NEEDING_LOCATION, TicketCategory
from agentdesk.tickets.kinds import KINDS_AT_A_PLACE, TicketKind
from agentdesk.tickets.units import CityUnits
from kck.phone import to_e164

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 4000
LOCATION_MAX = 300
NAME_MAX = 200
REFER_TO_MAX = 300  # where to go instead, for a matter outside the city's competence
COMPLAINT_ABOUT_MAX = 200  # the unit or service a complaint is about


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    params: tuple[tuple[str, str], ...] = ()

    def message(self, language: str) -> str:
        return translate(language, f"ticket.error.{self.code}", **dict(self.params))


RESIDENT_LANGUAGES = ("pl", "en", "uk")


class TicketFormInvalid(Exception):
    """The form has errors; `errors` holds one per field (the first found)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(f"{e.field}: {e.code}" for e in errors))
        self.errors = errors

    def messages(self, language: str) -> dict[str, str]:
        return {e.field: e.message(language) for e in self.errors}


@dataclass(frozen=True)
class TicketForm:
    """A valid ticket, normalised: phone in E.164, trimmed text, known unit codes."""

    category: TicketCategory
    location_text: str | None
    latitude: float | None
    longitude: float | None
    description: str
    caller_number: str | None
    caller_name: str | None
    caller_email: str | None
    contact_consent: bool
    units: tuple[str, ...]
    call_id: str | None
    language: str = "pl"
    kind: TicketKind = TicketKind.REPORT
    sms_consent: bool = False  # told about the matter by SMS at `caller_number`
    refer_to: str | None = None  # OUTSIDE: where to go instead (the resident is told)
    complaint_about: str | None = None  # COMPLAINT: the unit or service, when named


@dataclass(frozen=True)
class ResidentContact:
    """A resident's contact, normalised: phone in E.164; name and e-mail only with consent."""

    caller_number: str | None
    caller_name: str | None
    caller_email: str | None
    contact_consent: bool
    language: str


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _coordinate(raw: Any, name: str, errors: list[FieldError]) -> float | None:
    if raw in (None, ""):
        return None
    try:
        return float(str(raw).replace(",", "."))
    except ValueError:
        errors.append(FieldError(name, "coords_number"))
        return None


def parse_contact(data: dict[str, Any], errors: list[FieldError]) -> ResidentContact:
    """The caller's contact fields of the form; their errors are added to `errors`."""
    consent = data.get("contact_consent") in (True, "true", "on", "1", 1)
    raw_phone = _text(data, "caller_number")
    phone = to_e164(raw_phone) if raw_phone else None
    if raw_phone and phone is None:
        errors.append(FieldError("caller_number", "phone_invalid"))
    name = _text(data, "caller_name")
    if len(name) > NAME_MAX:
        errors.append(FieldError("caller_name", "too_long", (("n", str(NAME_MAX)),)))
    email = _text(data, "caller_email")
    if email and (len(email) > NAME_MAX or not _EMAIL.match(email)):
        errors.append(FieldError("caller_email", "email_invalid"))
    if consent and not raw_phone and not email:
        errors.append(FieldError("contact_consent", "consent_contact_missing"))
    if not consent and (name or email):
        errors.append(FieldError("contact_consent", "contact_without_consent"))
    # the resident's language (the call's, from the IVR): their answer is written in it
    language = str(data.get("language")) if data.get("language") in RESIDENT_LANGUAGES else "pl"
    return ResidentContact(phone, name or None, email or None, consent, language)


def parse_ticket_form(data: dict[str, Any], units: CityUnits) -> TicketForm:
    """Check every field; raise TicketFormInvalid listing all the fields at fault."""
    errors: list[FieldError] = []

    kind = TicketKind.REPORT
    try:
        kind = TicketKind(_text(data, "kind") or TicketKind.REPORT)
    except ValueError:
        errors.append(FieldError("kind", "kind_unknown"))

    category: TicketCategory | None = None
    raw_category = _text(data, "category")
    if not raw_category:
        errors.append(FieldError("category", "required"))
    else:
        try:
            category = TicketCategory(raw_category)
        except ValueError:
            errors.append(FieldError("category", "category_unknown"))

    location = _text(data, "location_text")
    if len(location) > LOCATION_MAX:
        errors.append(FieldError("location_text", "too_long", (("n", str(LOCATION_MAX)),)))
    elif not location and kind in KINDS_AT_A_PLACE and category in CATEGORIES_NEEDING_LOCATION:
        errors.append(FieldError("location_text", "location_required"))

    lat = _coordinate(data.get("latitude"), "latitude", errors)
    lon = _coordinate(data.get("longitude"), "longitude", errors)
    if (lat is None) != (lon is None) and not any(
        e.field in ("latitude", "longitude") for e in errors
    ):
        errors.append(FieldError("latitude" if lat is None else "longitude", "coords_pair"))
    elif lat is not None and lon is not None and not (49.0 <= lat <= 55.0 and 14.0 <= lon <= 24.2):
        errors.append(FieldError("latitude", "coords_range"))

    description = _text(data, "description")
    if not description:
        errors.append(FieldError("description", "required"))
    elif len(description) < DESCRIPTION_MIN:
        errors.append(FieldError("description", "too_short", (("n", str(DESCRIPTION_MIN)),)))
    elif len(description) > DESCRIPTION_MAX:
        errors.append(FieldError("description", "too_long", (("n", str(DESCRIPTION_MAX)),)))

    contact = parse_contact(data, errors)
    sms_consent = data.get("sms_consent") in (True, "true", "on", "1", 1)
    if sms_consent and not _text(data, "caller_number"):
        errors.append(FieldError("sms_consent", "sms_consent_phone_missing"))

    refer_to, complaint_about = _kind_fields(data, kind, errors)

    raw_units = data.get("units") or []
    if isinstance(raw_units, str):
        raw_units = [raw_units]
    chosen: list[str] = []
    if not isinstance(raw_units, list):
        errors.append(FieldError("units", "not_a_list"))
    else:
        for code in raw_units:
            if units.get(str(code)) is None:
                errors.append(FieldError("units", "unit_unknown", (("code", str(code)),)))
                break
            if str(code) not in chosen:
                chosen.append(str(code))
        if chosen and kind is TicketKind.OUTSIDE:
            errors.append(FieldError("units", "units_not_for_outside"))
        elif (
            not chosen
            and kind is not TicketKind.OUTSIDE
            and category not in (None, TicketCategory.OUT_OF_COMPETENCE)
            and not any(e.field == "units" for e in errors)
        ):
            errors.append(FieldError("units", "units_required"))

    if errors or category is None:
        raise TicketFormInvalid(errors)
    call_id = _text(data, "call_id") or None
    return TicketForm(
        category=category,
        location_text=location or None,
        latitude=lat,
        longitude=lon,
        description=description,
        # The caller's own number (from the call) is kept as the ticket's link to them even
        # without consent; name and e-mail only with consent.
        caller_number=contact.caller_number,
        caller_name=contact.caller_name,
        caller_email=contact.caller_email,
        contact_consent=contact.contact_consent,
        units=tuple(chosen),
        call_id=call_id,
        language=contact.language,
        kind=kind,
        sms_consent=sms_consent,
        refer_to=refer_to,
        complaint_about=complaint_about,
    )


def _kind_fields(
    data: dict[str, Any], kind: TicketKind, errors: list[FieldError]
) -> tuple[str | None, str | None]:
    """The kind's own fields: where to go instead (an OUTSIDE matter's, required) and what a
    complaint is about (optional); another kind's are not kept."""
    refer_to = _text(data, "refer_to") if kind is TicketKind.OUTSIDE else ""
    if kind is TicketKind.OUTSIDE and not refer_to:
        errors.append(FieldError("refer_to", "refer_to_required"))
    elif len(refer_to) > REFER_TO_MAX:
        errors.append(FieldError("refer_to", "too_long", (("n", str(REFER_TO_MAX)),)))
    about = _text(data, "complaint_about") if kind is TicketKind.COMPLAINT else ""
    if len(about) > COMPLAINT_ABOUT_MAX:
        errors.append(FieldError("complaint_about", "too_long", (("n", str(COMPLAINT_ABOUT_MAX)),)))
    return refer_to or None, about or None
