"""The web application's words: the reader's language (cookie, then the browser's Accept-Language)
and the texts of `kck.texts` in it, for pages, their scripts and JSON answers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from kck.texts import LANGUAGES, REFERENCE, texts

if TYPE_CHECKING:
    from agentdesk.ports import StateRefused

LANGUAGE_COOKIE = "kck_lang"


def pick_language(value: str | None) -> str:
    return value if value in LANGUAGES else REFERENCE


def accepted_language(header: str | None) -> str | None:
    """The first of our languages the browser's Accept-Language asks for (q-values honoured)."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip() == "q":
            try:
                quality = float(value)
            except ValueError:
                continue
        primary = tag.strip().split("-")[0].lower()
        if primary in LANGUAGES and quality > 0:
            wanted.append((-quality, index, primary))
    return min(wanted)[2] if wanted else None


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie set by the language switch; without one the browser's first wish; else Polish."""
    if cookie in LANGUAGES:
        return cookie
    return accepted_language(accept_language) or REFERENCE


def switch_to(language: str) -> str:
    """Where the switch of a page in `language` leads: English from Polish, Polish from any other
    (Ukrainian is complete only for residents' texts, so the switch does not offer it; a cookie
    or the browser may still ask for it)."""
    return "en" if language == "pl" else "pl"


def has_text(key: str) -> bool:
    return key in texts().keys


def translate(language: str, key: str, **params: Any) -> str:
    """`key`'s text in `language` with `params` filled in; the key itself if no catalogue has it."""
    text = texts().text(language, key)
    if text is None:
        return key
    return text.format(**params) if params else text


def code_in_words(language: str, kind: str, code: str) -> str:
    """`kind.code` in the reader's language; the code itself when the catalogue has no words."""
    key = f"{kind}.{code}"
    return translate(language, key) if has_text(key) else code


def refusal_text(language: str, refused: StateRefused) -> str:
    """Why the router refused a state change, in people's words; the router's own message
    (English, with codes) is for the log and a tooltip."""
    if refused.busy:
        state = translate(language, f"state.{refused.busy}")
        return translate(language, "state.refused.busy", state=state)
    if refused.why and has_text(f"state.refused.{refused.why}"):
        return translate(language, f"state.refused.{refused.why}", **refused.params)
    return translate(language, "state.refused.other")


def catalogue(language: str) -> dict[str, str]:
    """Every string in one language (handed to the page's script)."""
    found = texts()
    return {key: found.text(language, key) or key for key in sorted(found.keys)}


class _PolishEnglish(Mapping[str, tuple[str, str]]):
    """key → (Polish, English), read from the catalogue files: the shape this module's dict had."""

    def __getitem__(self, key: str) -> tuple[str, str]:
        found = texts()
        pl, en = found.text("pl", key), found.text("en", key)
        if pl is None or en is None:
            raise KeyError(key)
        return pl, en

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(texts().keys))

    def __len__(self) -> int:
        return len(texts().keys)


# kept for code written against the old dict (`key in CATALOGUE`); new code calls has_text()
CATALOGUE: Mapping[str, tuple[str, str]] = _PolishEnglish()
