"""Values from outside kck (Asterisk's FastAGI environment, AMI fields) made fit for our columns.

Each value is checked once, where it enters: free text (a caller's display name, a channel name)
loses its control characters and is cut to its column with a visible marker; an identifier that
cannot be right (a uniqueid, a language tag, a dialled number too long or of the wrong alphabet)
is refused, i.e. treated as absent, because a cut identifier would silently point elsewhere.
`fit_row` is the writer's last line: whatever reaches SQL fits the column it goes to, so
PostgreSQL never refuses a call-history row that SQLite would have taken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import String, Table, Text

from kck.db.models import Call

TRUNCATED = "…"  # ends a value that was cut to its column

# C0 controls and DEL: NUL is refused by PostgreSQL, the others have no place in a name
_CONTROL = dict.fromkeys([*range(0x20), 0x7F])

UNIQUEID = re.compile(r"[0-9A-Za-z._-]{1,64}")  # Asterisk's "1764000000.42" (or system-name-…)
LANGUAGE = re.compile(r"[a-z]{2,3}(?:[_-][A-Za-z]{2,4})?")  # "pl", "en_GB"
DIALLED = re.compile(r"[0-9A-Za-z+*#._-]{1,32}")  # a DNID: digits, sometimes letters or *, #


def _length(column: Any) -> int:
    length = getattr(column.type, "length", None)
    assert isinstance(length, int), f"{column} has no length"
    return length


CALLER_NAME_MAX = _length(Call.caller_name)
CHANNEL_MAX = _length(Call.channel)


def printable(value: str) -> str:
    """`value` without control characters (NUL included)."""
    return value.translate(_CONTROL)


def truncated(value: str | None, limit: int) -> str | None:
    """Free text cleaned and cut to `limit` characters, the cut shown by a trailing `…`."""
    if value is None:
        return None
    value = printable(value)
    if len(value) <= limit:
        return value
    return value[: limit - len(TRUNCATED)] + TRUNCATED


def identifier(value: str | None, pattern: re.Pattern[str]) -> str | None:
    """`value` when the whole of it matches `pattern`, otherwise None (refused, not cut)."""
    if value is None or not pattern.fullmatch(value):
        return None
    return value


@cache
def _text_columns(table: Table) -> Mapping[str, int | None]:
    """Each text column of `table` and its length (None: unbounded)."""
    out: dict[str, int | None] = {}
    for column in table.c:
        if isinstance(column.type, String | Text):
            length = getattr(column.type, "length", None)
            out[column.name] = length if isinstance(length, int) else None
    return out


def fit_row(table: Table, row: Mapping[str, Any]) -> dict[str, Any]:
    """`row` with every text value cleaned and cut to its column of `table`."""
    columns = _text_columns(table)
    out = dict(row)
    for name, value in row.items():
        if isinstance(value, str) and name in columns:
            limit = columns[name]
            if limit is None:
                out[name] = value.replace("\x00", "")
            elif len(value) > limit or not value.isprintable():
                out[name] = truncated(value, limit)
    return out


def without_nul(params: Mapping[str, Any]) -> dict[str, Any]:
    """Statement parameters without NUL characters (PostgreSQL refuses them in any text)."""
    return {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in params.items()}
