"""The outgoing e-mails put together from the catalogue (`kck/locale`, read by `kck.texts`): a
unit's notice of a matter and of the resident's answer to its question (`unitmail.*`, Polish with
English below), and, in the resident's language (`citizen.mail.*`: pl, en, uk), the combined
answer, a unit's question with the reply link, and the answer to a matter outside the city's
competence (where to go instead)."""

from __future__ import annotations

from collections.abc import Callable
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


def kind_in(language: str, kind: str) -> str:
    """The kind of matter in words ("Skarga", "Complaint"); the code when it has none."""
    return texts().text(language, f"citizen.kind.{kind}") or kind


def category_in(language: str, code: str) -> str:
    """The category in words; the code itself when the catalogue has no words for it."""
    return texts().text(language, f"category.{code}") or code


@dataclass(frozen=True)
class UnitLink:
    """Where a unit reads the matter: its signed link (until `expires`), or the inbox of a unit
    working by account (`expires` empty: the officer signs in)."""

    url: str
    expires: str = ""


def _where_to_read(language: str, link: UnitLink) -> str:
    if not link.expires:
        return f"{text_in(language, 'unitmail.read_inbox')}\n\n{link.url}\n"
    return (
        f"{text_in(language, 'unitmail.read_here')}\n\n{link.url}\n\n"
        f"{text_in(language, 'unitmail.valid', expires=link.expires)}\n"
    )


def _both_languages(section: Callable[[str], str]) -> str:
    return "\n---\n".join(section(lang) for lang in UNIT_LANGUAGES)


def _titles(key: str, **values: str) -> str:
    return " / ".join(text_in(lang, key, **values) for lang in UNIT_LANGUAGES)


def unit_notice(
    *,
    number: str,
    unit_name: str,
    category: str,
    link: str,
    expires: str,
    centre: str,
    kind: str = "report",
    about: str | None = None,
) -> tuple[str, str]:
    """Subject and body of the e-mail a unit gets when a matter is forwarded to it (`expires`
    empty: `link` is the inbox of a unit working by account), naming the kind of matter and,
    for a complaint, what it is about."""
    values = {"number": number, "unit": unit_name, "centre": centre}
    where = UnitLink(link, expires)

    def section(lang: str) -> str:
        forwards = text_in(
            lang, "unitmail.forwards", **values, category=category_in(lang, category)
        )
        greeting = text_in(lang, "unitmail.greeting")
        named = text_in(lang, "unitmail.kind", kind=kind_in(lang, kind))
        if about:
            named += "\n" + text_in(lang, "unitmail.complaint_about", about=about)
        return f"{greeting}\n\n{forwards}\n{named}\n{_where_to_read(lang, where)}"

    return f"[{number}] {_titles('unitmail.subject', centre=centre)}", _both_languages(section)


def unit_info_answer(*, number: str, answer: str, link: UnitLink) -> tuple[str, str]:
    """The resident's answer to a unit's question, for that unit (Polish, English below)."""

    def section(lang: str) -> str:
        intro = text_in(lang, "unitmail.info_answered", number=number)
        greeting = text_in(lang, "unitmail.greeting")
        return f"{greeting}\n\n{intro}\n\n{answer}\n\n{_where_to_read(lang, link)}"

    return f"[{number}] {_titles('unitmail.info_subject', number=number)}", _both_languages(section)


def resident_question(
    language: str, *, number: str, unit_name: str, question: str, link: UnitLink, hotline: str
) -> tuple[str, str]:
    """A unit's question to the resident, in their language, with the link to the reply page."""
    lang = language if language in LANGUAGES else REFERENCE
    subject = text_in(lang, "citizen.mail.question_subject", number=number)
    body = (
        f"{text_in(lang, 'citizen.mail.greeting')}\n\n"
        f"{text_in(lang, 'citizen.mail.question_intro', number=number, unit=unit_name)}\n\n"
        f"{question}\n\n"
        f"{text_in(lang, 'citizen.mail.question_reply', expires=link.expires)}\n\n{link.url}\n\n"
        f"{text_in(lang, 'citizen.mail.questions', hotline=hotline)}\n"
    )
    return subject, body


def resident_answer(
    language: str,
    *,
    number: str,
    answers: list[UnitAnswer],
    centre: str,
    hotline: str,
    kind: str = "report",
) -> tuple[str, str]:
    """One e-mail with every unit's answer, in the resident's language (Polish when unknown),
    naming the kind of matter."""
    lang = language if language in LANGUAGES else REFERENCE
    text = "\n\n".join(f"{a.unit_name}:\n{a.text}" for a in answers)
    subject = text_in(lang, "citizen.mail.subject", number=number)
    body = (
        f"{text_in(lang, 'citizen.mail.greeting')}\n\n"
        f"{text_in(lang, 'citizen.mail.answered', number=number, centre=centre)}\n"
        f"{text_in(lang, 'citizen.mail.kind', kind=kind_in(lang, kind))}\n\n"
        f"{text}\n\n{text_in(lang, 'citizen.mail.questions', hotline=hotline)}\n\n{centre}\n"
    )
    return subject, body


def resident_outside(
    language: str, *, number: str, refer_to: str, centre: str, hotline: str
) -> tuple[str, str]:
    """The answer to a matter outside the city's competence: not the city's to handle, and
    where to go instead — in the resident's language (Polish when unknown)."""
    lang = language if language in LANGUAGES else REFERENCE
    subject = text_in(lang, "citizen.mail.outside_subject", number=number)
    body = (
        f"{text_in(lang, 'citizen.mail.greeting')}\n\n"
        f"{text_in(lang, 'citizen.mail.outside', number=number, centre=centre)}\n"
        f"{text_in(lang, 'citizen.mail.kind', kind=kind_in(lang, 'outside'))}\n\n"
        f"{text_in(lang, 'citizen.mail.outside_go')}\n\n{refer_to}\n\n"
        f"{text_in(lang, 'citizen.mail.questions', hotline=hotline)}\n\n{centre}\n"
    )
    return subject, body
