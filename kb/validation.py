"""The one gate every service card passes, from a file (`kck kb import/check`) or the editor.

`validate_card` turns a mapping of fields into a `ServiceCard` or raises `CardInvalid` with every
problem, each naming its field, a stable code (the editor says it in the reader's language) and
an English message (files and the command line).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kb.card import ServiceCard
from kb.errors import KnowledgeBaseError

# Fields of a card in the order files and the editor show them (body last).
CARD_FIELDS: tuple[str, ...] = tuple(ServiceCard.model_fields)

# pydantic's error types → our codes; anything else is "invalid"
PROBLEM_CODES = {
    "missing": "required",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "enum": "not_language",
    "date_type": "not_date",
    "date_parsing": "not_date",
    "date_from_datetime_parsing": "not_date",
    "date_from_datetime_inexact": "not_date",
    "tuple_type": "not_list",
    "list_type": "not_list",
    "string_type": "not_text",
    "dict_type": "not_topics",
    "extra_forbidden": "unknown_field",
    "not_slug": "not_slug",
    "not_topic_key": "not_topic_key",
}


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong with one field: `item` names a list item or a topic kind where there is one."""

    field: str | None
    code: str
    message: str
    item: str | None = None
    params: Mapping[str, str] | None = None


class CardInvalid(KnowledgeBaseError):
    """A card's fields do not make a valid card; `problems` lists every one of them."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("; ".join(_describe(p) for p in problems))


def _describe(problem: FieldProblem) -> str:
    where = f"field '{problem.field}'" if problem.field else "card"
    if problem.item is not None:
        where += f" item {problem.item}"
    return f"{where}: {problem.message}"


def _problem(error: Any) -> FieldProblem:
    loc = [str(part) for part in error["loc"]]
    field = loc[0] if loc else None
    code = PROBLEM_CODES.get(error["type"], "invalid")
    message = error["msg"]
    if code == "unknown_field":
        message = f"unknown field (known: {', '.join(n for n in CARD_FIELDS if n != 'body')})"
    context = error.get("ctx") or {}
    params = {key: str(value) for key, value in context.items()}
    return FieldProblem(field, code, message, ".".join(loc[1:]) or None, params)


def validate_card(data: Mapping[str, Any]) -> ServiceCard:
    """A valid card made of `data`, or `CardInvalid` listing every problem, field by field."""
    try:
        return ServiceCard.model_validate(dict(data))
    except ValidationError as exc:
        raise CardInvalid([_problem(error) for error in exc.errors()]) from None
