"""Quoting of AGI command arguments exactly as Asterisk's ``parse_args`` reads them."""

from __future__ import annotations

import re

_FORBIDDEN = ("\n", "\r", "\0")
# what makes a value not a bare word: whitespace (as str.isspace sees it), quotes, backslashes;
# one regex search per argument instead of a Python loop over its characters (every command)
_NEEDS_QUOTES = re.compile(r'[\s"\\\x1c-\x1f\x85]')


def _check(value: str, what: str) -> None:
    for char in _FORBIDDEN:
        if char in value:
            raise ValueError(f"AGI {what} must not contain {char!r}: {value[:60]!r}")


def quoted(value: str, what: str = "argument") -> str:
    """Always in double quotes (``""`` for empty), with ``\\`` and ``"`` escaped."""
    _check(value, what)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def word(value: str, what: str = "argument") -> str:
    """A bare word (file name, variable name, number); rejects anything needing quotes."""
    _check(value, what)
    if value == "" or _NEEDS_QUOTES.search(value):
        raise ValueError(f"AGI {what} must be a non-empty word without spaces or quotes: {value!r}")
    return value


def quoted_if_needed(value: str, what: str = "argument") -> str:
    """Bare when it is a plain word, otherwise quoted (spaces, empty, quotes, backslashes)."""
    _check(value, what)
    if value == "" or _NEEDS_QUOTES.search(value):
        return quoted(value, what)
    return value
