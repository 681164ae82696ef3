"""The outgoing e-mails put together from the catalogue (`kck/locale`, read by `kck.texts`): a
unit's notice of a matter (`unitmail.*`, Polish with English below), and the resident's combined
answer in the resident's language (`citizen.mail.*`: pl, en, uk)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kck.texts import LANGUAGES, REFERENCE, texts

UNIT_LANGUAGES = ("pl", "en")  # a unit's notice: each of these in turn, Polish first


@dataclass(frozen=True)
class UnitAnswer:
    unit_name: str
    text: str


class MailTextMissing(LookupError):
    """A key the e-mails need is not in the catalogue (tests/core/test_texts.py prevents it)."""


def text_in(language: str, key: str, **params: Any) -> str:
    """A message's text from the catalogue, its placeholders filled."""
    found = texts().text(language, key)
    if found is None:
        raise MailTextMissing(f"kck/locale/{language}.yaml: no text for {key!r} (a message)")
    return found.format(**params)


def category_in(language: str, code: str) -> str:
    """The category in words; the code itself when the catalogue has no words for it."""
    return texts().text(language, f"category.{code}") or code


def _unit_section(language: str, values: dict[str, str]) -> str:
    return (
        f"{text_in(language, 'unitmail.greeting')}\n\n"
        f"{text_in(language, 'unitmail.forwards', **values)}\n"
        f"{text_in(language, 'unitmail.read_here')}\n\n{values['link']}\n\n"
        f"{text_in(language, 'unitmail.valid', **values)}\n"
    )


def unit_notice(
    *, number: str, unit_name: str, category: str, link: str, expires: str, centre: str
) -> tuple[str, str]:
    """Subject and body of the e-mail a unit gets when a matter is forwarded to it."""
    values = {"number": number, "unit": unit_name, "link": link, "expires": expires}
    values["centre"] = centre
    titles = " / ".join(text_in(lang, "unitmail.subject", centre=centre) for lang in UNIT_LANGUAGES)
    body = "\n---\n".join(
        _unit_section(lang, {**values, "category": category_in(lang, category)})
        for lang in UNIT_LANGUAGES
    )
    return f"[{number}] {titles}", body


def resident_answer(
    language: str, *, number: str, answers: list[UnitAnswer], centre: str, hotline: str
) -> tuple[str, str]:
    """One e-mail with every unit's answer, in the resident's language (Polish when unknown)."""
    lang = language if language in LANGUAGES else REFERENCE
    text = "\n\n".join(f"{a.unit_name}:\n{a.text}" for a in answers)
    subject = text_in(lang, "citizen.mail.subject", number=number)
    body = (
        f"{text_in(lang, 'citizen.mail.greeting')}\n\n"
        f"{text_in(lang, 'citizen.mail.answered', number=number, centre=centre)}\n\n"
        f"{text}\n\n{text_in(lang, 'citizen.mail.questions', hotline=hotline)}\n\n{centre}\n"
    )
    return subject, body
