"""What changed in a service card between two revisions, field by field, line by line."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from agentdesk.editor.card_form import TOPIC_INPUTS, form_values
from kb import ServiceCard, TopicKind
from kb.validation import CARD_FIELDS


@dataclass(frozen=True)
class DiffLine:
    """`kind`: '-' only in the older text, '+' only in the newer, ' ' in both."""

    kind: str
    text: str


@dataclass(frozen=True)
class FieldChange:
    field: str
    lines: tuple[DiffLine, ...]


def _text_of(values: dict[str, str], field: str) -> list[str]:
    if field == "topics":
        keys = {kind: values.get(TOPIC_INPUTS[kind], "") for kind in TopicKind}
        return [f"{kind.value}: {text}" for kind, text in keys.items() if text]
    return values.get(field, "").splitlines()


def card_changes(older: ServiceCard | None, newer: ServiceCard) -> list[FieldChange]:
    """The fields whose text differs, each with its lines removed, added and kept."""
    before, after = form_values(older), form_values(newer)
    if older is None:
        before = {name: "" for name in after}
    changes = []
    for field in CARD_FIELDS:
        old, new = _text_of(before, field), _text_of(after, field)
        if old == new:
            continue
        lines = tuple(
            DiffLine(line[0], line[2:]) for line in difflib.ndiff(old, new) if line[0] in "+- "
        )
        changes.append(FieldChange(field, lines))
    return changes
