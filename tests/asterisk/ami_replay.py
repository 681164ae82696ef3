"""A tiny AMI server that replays the Asterisk side of a captured session, re-chunked."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

from tests.asterisk.transcripts import Record


def rechunk(data: bytes, rng: random.Random, *, cut_at: tuple[int, ...] = ()) -> list[bytes]:
    """Split at random boundaries (1..200 bytes) plus at every offset in ``cut_at``."""
    cuts = set(cut_at)
    position = 0
    while position < len(data):
        position += rng.randint(1, 200)
        cuts.add(position)
    chunks: list[bytes] = []
    start = 0
    for cut in sorted(c for c in cuts if 0 < c < len(data)):
        chunks.append(data[start:cut])
        start = cut
    chunks.append(data[start:])
    return [c for c in chunks if c]


def inside_utf8_letters(data: bytes) -> tuple[int, ...]:
    """Offsets that fall between the bytes of a multi-byte UTF-8 letter."""
    return tuple(i for i in range(1, len(data)) if 0x80 <= data[i] < 0xC0 and data[i - 1] >= 0xC0)


@dataclass
class AMIReplayServer:
    """Sends "in" records; before passing an "out" record it waits for those exact bytes."""

    records: list[Record]
    seed: int | None = 0  # None: one write per captured read, as Asterisk sent them
    mismatches: list[str] = field(default_factory=list)
    received: bytearray = field(default_factory=bytearray)
    port: int = 0
    _server: asyncio.Server | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        rng = random.Random(self.seed)
        try:
            pending_in: list[bytes] = []
            for record in self.records:
                if record.direction == "in":
                    pending_in.append(record.data)
                    continue
                if record.direction != "out":
                    continue
                await self._send(writer, pending_in, rng)
                pending_in.clear()
                try:
                    async with asyncio.timeout(5):
                        got = await reader.readexactly(len(record.data))
                except (TimeoutError, asyncio.IncompleteReadError) as exc:
                    self.mismatches.append(f"expected {record.data!r}, failed: {exc!r}")
                    return
                self.received += got
                if got != record.data:
                    self.mismatches.append(f"expected {record.data!r}, client wrote {got!r}")
                    return
            await self._send(writer, pending_in, rng)
        finally:
            # The capture ends with Asterisk closing after Goodbye / a failed Login.
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            self.done.set()

    async def _send(
        self, writer: asyncio.StreamWriter, reads: list[bytes], rng: random.Random
    ) -> None:
        data = b"".join(reads)
        chunks = (
            reads if self.seed is None else rechunk(data, rng, cut_at=inside_utf8_letters(data))
        )
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            # Let the client read each chunk on its own, as separate TCP reads.
            await asyncio.sleep(0)
