"""The resident's SMS, put together from the catalogue (`citizen.sms.*`: pl, en, uk), and how
many segments one takes.

A segment is 160 characters of the GSM-7 alphabet, or 70 of anything else (UCS-2); a longer
message is split into parts of 153 or 67. Polish letters with diacritics are not in GSM-7, so
with `plain_polish` (the default of `sms.plain_polish`) they are written without them (ą → a,
ł → l…) and a Polish SMS fits one segment. Ukrainian (Cyrillic) is always UCS-2.
"""

from __future__ import annotations

import enum
import math

from kck.texts import LANGUAGES, REFERENCE
from matters.mail_texts import text_in

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")  # two characters each (an escape, then the sign)
_PLAIN_POLISH = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ„”–—", 'acelnoszzACELNOSZZ""--')


class SMSKind(enum.StrEnum):
    """What the SMS tells the resident: a step of the matter."""

    FORWARDED = "forwarded"
    ANSWERED_BY_MAIL = "answered_mail"  # the answer itself went by e-mail
    ANSWERED_BY_PHONE = "answered_phone"  # no e-mail: the answer is given on the phone
    REOPENED = "reopened"
    CLOSED = "closed"


def plain_polish(text: str) -> str:
    return text.translate(_PLAIN_POLISH)


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text)


def segments(text: str) -> int:
    """How many SMS parts `text` is sent as."""
    if is_gsm7(text):
        length = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
        return 1 if length <= 160 else math.ceil(length / 153)
    # UCS-2: characters outside the basic plane take two units
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return 1 if units <= 70 else math.ceil(units / 67)


def resident_sms(
    language: str,
    kind: SMSKind,
    *,
    number: str,
    centre: str,
    hotline: str,
    plain: bool = True,
) -> str:
    """The SMS text in the resident's language (Polish when unknown)."""
    lang = language if language in LANGUAGES else REFERENCE
    text = text_in(lang, f"citizen.sms.{kind.value}", number=number, centre=centre, hotline=hotline)
    return plain_polish(text) if plain and lang == "pl" else text
