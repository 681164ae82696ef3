"""Service cards as Markdown files with YAML front matter: parse (file:line errors), render."""

from __future__ import annotations

from typing import Any

import yaml

from kb.card import ServiceCard
from kb.errors import CardFileError
from kb.validation import CARD_FIELDS, CardInvalid, validate_card
from kck.yamlsource import PosDict, YAMLSourceError, as_plain, parse_yaml

FENCE = "---"
# Front-matter keys in the order we write them (body is the Markdown after the front matter).
FIELD_ORDER = [name for name in CARD_FIELDS if name != "body"]
_LIST_FIELDS = {"keywords", "documents", "online", "legal_basis", "related"}
# Long prose items read better one per line; short keys stay on one line.
_BLOCK_LISTS = {"documents", "online", "legal_basis"}


def parse_card(text: str, source: str = "<string>") -> ServiceCard:
    """Parse one card; errors name `source`, the line and the field."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        raise CardFileError(source, "does not start with a '---' front-matter line", line=1)
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if end is None:
        raise CardFileError(source, "front matter is not closed by a '---' line", line=1)
    front = "".join(lines[1:end])
    body = "".join(lines[end + 1 :])
    try:
        parsed = parse_yaml(front, source)
    except YAMLSourceError as exc:
        line = exc.pos.line + 1 if exc.pos.line else None  # the front matter starts on line 2
        raise CardFileError(
            source, f"broken YAML in front matter: {exc.reason}", line=line
        ) from None
    if not isinstance(parsed, PosDict):
        raise CardFileError(source, "front matter is not a mapping of fields", line=2)
    key_lines = {key: parsed.where(key).line + 1 for key in parsed}
    data = as_plain(parsed)
    if "body" in data:
        raise CardFileError(
            source,
            "'body' is the Markdown after the front matter, not a field",
            line=key_lines.get("body"),
            field="body",
        )
    try:
        return validate_card({**data, "body": body})
    except CardInvalid as exc:
        problem = exc.problems[0]
        field = problem.field
        line = end + 2 if field == "body" else key_lines.get(field) if field else None
        detail = problem.message
        if problem.item is not None and problem.code != "unknown_field":
            detail = f"item {problem.item}: {detail}"
        raise CardFileError(source, detail, line=line, field=field) from None


class _Dumper(yaml.SafeDumper):
    pass


class _BlockList(list[Any]):
    pass


class _FlowList(list[Any]):
    pass


def _represent_block(dumper: yaml.SafeDumper, value: _BlockList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=False)


def _represent_flow(dumper: yaml.SafeDumper, value: _FlowList) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_BlockList, _represent_block)
_Dumper.add_representer(_FlowList, _represent_flow)


def render_card(card: ServiceCard) -> str:
    """The Markdown file for `card`; `parse_card(render_card(c)) == c`."""
    content = card.content()
    front: dict[str, Any] = {}
    for name in FIELD_ORDER:
        value = content[name]
        if value in (None, "", [], {}) and name not in _LIST_FIELDS and name != "topics":
            continue
        if name in ("last_reviewed", "review_due"):
            value = getattr(card, name)
        elif name == "topics":
            value = {kind: _FlowList(keys) for kind, keys in value.items()}
        elif name in _LIST_FIELDS:
            value = _BlockList(value) if name in _BLOCK_LISTS and value else _FlowList(value)
        front[name] = value
    text = yaml.dump(front, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return f"{FENCE}\n{text}{FENCE}\n{card.body}"
