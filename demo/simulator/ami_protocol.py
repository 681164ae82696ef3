"""AMI framing as Asterisk writes and reads it: `Key: Value` lines, CRLF, blank line per message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Headers = list[tuple[str, str]]

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


class AMIFrameError(ValueError):
    """A client sent something that is not an AMI action block."""


def encode_message(headers: Iterable[tuple[str, str]]) -> bytes:
    """One AMI message, UTF-8, CRLF line ends, ended by an empty line (as Asterisk sends)."""
    text = "".join(f"{key}: {value}\r\n" for key, value in headers)
    return (text + "\r\n").encode("utf-8")


@dataclass(frozen=True)
class AMIAction:
    """One client action: its headers in order; lookups are case-insensitive like Asterisk's."""

    headers: tuple[tuple[str, str], ...]

    @property
    def name(self) -> str:
        return self.get("Action") or ""

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def get(self, key: str, default: str | None = None) -> str | None:
        wanted = key.lower()
        for k, v in self.headers:
            if k.lower() == wanted:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        wanted = key.lower()
        return [v for k, v in self.headers if k.lower() == wanted]


def parse_action(block: bytes) -> AMIAction:
    """Parse one action block (without the terminating blank line).

    Asterisk accepts `\\n` as well as `\\r\\n` and ignores lines without a colon; so do we.
    Text is decoded only after framing so a UTF-8 letter split across TCP reads survives.
    """
    text = block.decode("utf-8", errors="replace")
    pairs: list[tuple[str, str]] = []
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line:
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        pairs.append((key.strip(), value[1:] if value.startswith(" ") else value))
    if not pairs:
        raise AMIFrameError("empty AMI action block")
    return AMIAction(tuple(pairs))
