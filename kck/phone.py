"""Phone numbers: caller ids from Asterisk to E.164, back to a readable Polish format, and out
through the operator's trunk in the form the operator wants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import phonenumbers

if TYPE_CHECKING:
    from kck.settings import Settings

# How the operator wants the dialled number: international digits `48600100200`, national
# `600100200` (a foreign number then starts with the international prefix, `0049…` from Poland),
# or E.164 `+48600100200`.
NumberFormat = Literal["international", "national", "e164"]

WITHHELD_VALUES = frozenset(
    {"", "anonymous", "unknown", "restricted", "private", "withheld", "<unknown>"}
)


@lru_cache(maxsize=4096)  # pure; parsing costs ~0.1 ms and every call's caller id is parsed
def to_e164(raw: str | None, region: str = "PL") -> str | None:
    """`126165555`, `0048 12 616 55 55`, `+48126165555` → `+48126165555`; withheld/garbage → None."""
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() in WITHHELD_VALUES:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def checked_e164(value: str) -> str:
    """`value` if it is a phone number in E.164 form; ValueError naming it otherwise."""
    if not _E164.fullmatch(value):
        raise ValueError(f"{value!r} is not a phone number in E.164 form, e.g. +48126165555")
    return value


def display(e164: str | None, withheld_text: str = "numer zastrzeżony") -> str:
    """`+48126165555` → `+48 12 616 55 55`; None → the 'withheld' text in the agent's language."""
    if not e164:
        return withheld_text
    return _international(e164)


@lru_cache(maxsize=4096)  # pure; ~0.1 ms a number, and a pop shows its caller's number twice
def _international(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@dataclass(frozen=True)
class TrunkDial:
    """The one place an outbound dial string is made: `PJSIP/<number>@<trunk endpoint>` for an
    E.164 number, the number formatted as the operator wants it (`trunk.number_format`)."""

    trunk: str = "kck-trunk"
    number_format: NumberFormat = "international"
    region: str = "PL"  # the centre's country: what "national" means

    @classmethod
    def from_settings(cls, settings: Settings) -> TrunkDial:
        return cls(settings.trunk.name, settings.trunk.number_format, settings.centre.country)

    def number(self, e164: str) -> str:
        """`+48600100200` as the operator wants it dialled; ValueError if it is not E.164."""
        digits = e164[1:]
        if not (e164.startswith("+") and digits.isdigit() and 2 <= len(digits) <= 15):
            raise ValueError(f"{e164!r} is not an E.164 number (+ and digits)")
        if self.number_format == "e164":
            return e164
        if self.number_format == "international":
            return digits
        try:
            parsed = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"{e164!r}: {exc}") from None
        dialled = phonenumbers.format_out_of_country_calling_number(parsed, self.region)
        return "".join(ch for ch in dialled if ch.isdigit())

    def __call__(self, e164: str) -> str:
        return f"PJSIP/{self.number(e164)}@{self.trunk}"
