"""Phone numbers: caller ids from Asterisk to E.164, and back to a readable Polish format."""

from __future__ import annotations

from functools import lru_cache

import phonenumbers

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


def display(e164: str | None, withheld_text: str = "numer zastrzeżony") -> str:
    """`+48126165555` → `+48 12 616 55 55`; None → the 'withheld' text in the agent's language."""
    if not e164:
        return withheld_text
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
