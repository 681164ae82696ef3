"""A service card as the editor's form shows it and back: text fields ⇄ the card's fields.

Pure values only; the card itself is made (and checked) by `kb.validate_card`, the same gate
`kck kb import` uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kb import ServiceCard, TopicKind

# Prose lists: one item per line. Short keys: separated by commas (or lines).
LINE_LISTS = ("documents", "online", "legal_basis")
WORD_LISTS = ("keywords", "related")
TOPIC_INPUTS = {kind: f"topic-{kind.value}" for kind in TopicKind}
# Left out of the card when empty, so the editor reads "required" rather than "not a date".
REQUIRED = ("id", "title", "unit", "unit_name", "owner", "last_reviewed", "review_due")
TEXT_FIELDS = (
    "id",
    "title",
    "summary",
    "unit",
    "unit_name",
    "language",
    "translation_of",
    "who_may_apply",
    "fees",
    "deadlines",
    "where",
    "hours",
    "owner",
    "last_reviewed",
    "review_due",
    "body",
)
_WORD_SPLIT = re.compile(r"[,\n]")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _words(text: str) -> list[str]:
    return [word.strip() for word in _WORD_SPLIT.split(text) if word.strip()]


def form_values(card: ServiceCard | None) -> dict[str, str]:
    """The form's text of each input for `card` (an empty form for None)."""
    if card is None:
        return {"language": "pl"}
    content = card.content()
    values = {name: str(content[name] or "") for name in TEXT_FIELDS}
    values.update({name: "\n".join(content[name]) for name in LINE_LISTS})
    values.update({name: ", ".join(content[name]) for name in WORD_LISTS})
    values.update({TOPIC_INPUTS[kind]: ", ".join(card.topics.get(kind, ())) for kind in TopicKind})
    return values


def posted_values(form: Mapping[str, Any]) -> dict[str, str]:
    """The form's inputs as they were sent (what the page shows again beside its problems)."""
    names = (*TEXT_FIELDS, *LINE_LISTS, *WORD_LISTS, *TOPIC_INPUTS.values())
    return {name: str(form.get(name, "")).replace("\r\n", "\n") for name in names}


def card_data(values: Mapping[str, str]) -> dict[str, Any]:
    """The fields of a card made of the form's text (for `kb.validate_card`)."""
    data: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        text = values.get(name, "").strip()
        if text or name not in (*REQUIRED, "translation_of"):
            data[name] = text
    data.update({name: _lines(values.get(name, "")) for name in LINE_LISTS})
    data.update({name: _words(values.get(name, "")) for name in WORD_LISTS})
    topics = {kind.value: _words(values.get(TOPIC_INPUTS[kind], "")) for kind in TopicKind}
    data["topics"] = {kind: keys for kind, keys in topics.items() if keys}
    return data
