"""A bare AMI client for tests: real TCP, raw messages, nothing hidden."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

Message = list[tuple[str, str]]


class RawAMIClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.banner = b""
        self.raw = b""  # every byte received after the banner

    @classmethod
    async def connect(cls, port: int) -> RawAMIClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        client.banner = await asyncio.wait_for(reader.readline(), 5)
        return client

    async def send(self, *headers: tuple[str, str]) -> None:
        self.writer.write("".join(f"{k}: {v}\r\n" for k, v in headers).encode() + b"\r\n")
        await self.writer.drain()

    async def read(self, wait: float = 5.0) -> Message | None:
        """The next message, or None at EOF."""
        try:
            block = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), wait)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise
            return None
        self.raw += block
        text = block[:-4].decode("utf-8")
        return [
            (line.split(": ", 1)[0], line.split(": ", 1)[1] if ": " in line else "")
            for line in text.split("\r\n")
        ]

    async def read_until(
        self, predicate: Callable[[Message], bool], wait: float = 5.0
    ) -> list[Message]:
        """Messages up to and including the first one for which predicate(msg) is true."""
        out: list[Message] = []
        while True:
            msg = await self.read(wait)
            if msg is None:
                raise EOFError(f"EOF after {len(out)} messages")
            out.append(msg)
            if predicate(msg):
                return out

    async def login(self, user: str = "kck", secret: str = "kcksecret") -> list[Message]:
        await self.send(
            ("Action", "Login"), ("ActionID", "kck-1"), ("Username", user), ("Secret", secret)
        )
        return await self.read_until(lambda m: m[0] == ("Event", "SuccessfulAuth"))

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


def names(message: Message) -> list[str]:
    return [k for k, _ in message]


def value(message: Message, key: str) -> str | None:
    return next((v for k, v in message if k == key), None)


def whole_reply_to(action_id: str) -> Callable[[Message], bool]:
    """Whether a message ends the reply to `action_id`: its response, or its list's last event."""
    return lambda m: (
        value(m, "ActionID") == action_id and value(m, "EventList") in (None, "Complete")
    )
