"""One AMI message (response, event or banner) as ordered headers with case-insensitive lookup."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class MessageKind(Enum):
    RESPONSE = "response"
    EVENT = "event"
    OTHER = "other"


@dataclass(frozen=True)
class AMIMessage:
    """Headers in wire order; repeated keys (``Output:``) are all kept."""

    headers: tuple[tuple[str, str], ...]
    # First value of each header by lower-cased name (reversed: the first occurrence wins).
    lowered: dict[str, str] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lowered", {k.lower(): v for k, v in reversed(self.headers)})

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.lowered.get(key.lower(), default)

    def __getitem__(self, key: str) -> str:
        return self.lowered[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self.lowered

    def get_all(self, key: str) -> list[str]:
        wanted = key.lower()
        return [value for name, value in self.headers if name.lower() == wanted]

    @property
    def kind(self) -> MessageKind:
        if not self.headers:
            return MessageKind.OTHER
        first = self.headers[0][0].lower()
        if first == "response":
            return MessageKind.RESPONSE
        if first == "event":
            return MessageKind.EVENT
        # Asterisk always leads with Response/Event, but look further to be tolerant.
        if "response" in self.lowered:
            return MessageKind.RESPONSE
        if "event" in self.lowered:
            return MessageKind.EVENT
        return MessageKind.OTHER

    @property
    def name(self) -> str:
        """The event name, or the response status (Success, Error, Goodbye...)."""
        return self.get("Event") or self.get("Response") or ""

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def as_dict(self) -> dict[str, str]:
        """First value of each header (repeated ones: use :meth:`get_all`)."""
        result: dict[str, str] = {}
        for key, value in self.headers:
            result.setdefault(key, value)
        return result


def parse_message(text: str) -> AMIMessage:
    """Parse the text of one frame (without the blank line) into headers."""
    headers: list[tuple[str, str]] = []
    for line in text.split("\r\n"):
        if not line:
            continue
        key, sep, value = line.partition(": ")
        if sep and ":" not in key:
            headers.append((key, value))  # the usual "Key: value"
            continue
        key, sep, value = line.partition(":")
        if not sep:
            # Not "Key: value" (old Command output style): keep the line, keyed by "".
            headers.append(("", line))
            continue
        headers.append((key.strip(), value[1:] if value.startswith(" ") else value))
    return AMIMessage(tuple(headers))
