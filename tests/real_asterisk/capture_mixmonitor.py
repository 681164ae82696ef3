"""Captures what a real Asterisk says about MixMonitor on a bridged call, byte for byte.

    python -m tests.real_asterisk.capture_mixmonitor --port 5038 --user kck --secret … \
        --folder /tmp/recordings --out tests/fixtures/asterisk/ami-session-mixmonitor

The Asterisk needs this dialplan (the caller's channel dials the agent, as kck's IVR does):

    [lab]
    exten => agent,1,Answer()
     same => n,MusicOnHold(default,30)
    exten => caller,1,Answer()
     same => n,Dial(Local/agent@lab/n,20)

The call is `Originate Local/caller@lab/n` whose other half plays `tt-monkeys` (the caller's
voice); once the caller's channel is bridged: MixMonitor (option b) on it, 2 s, MixMonitorMute
on (both directions), 2 s, off, 2 s, then the caller's channel is hung up (no StopMixMonitor),
and a second MixMonitorMute on the dead channel. Writes `.txt` (both directions interleaved,
CRLF kept) and `.jsonl` (one object per read/write, as the other transcripts here).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import Any


class Recorder:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.start = time.monotonic()
        self.log: list[dict[str, Any]] = []
        self.buffer = b""
        self.messages: list[dict[str, str]] = []
        self.changed = asyncio.Event()
        self.ids = 0

    def note(self, direction: str, data: bytes) -> None:
        self.log.append(
            {
                "t": round(time.monotonic() - self.start, 6),
                "dir": direction,
                "data": data.decode("latin-1"),
            }
        )

    async def read_forever(self) -> None:
        while chunk := await self.reader.read(65536):
            self.note("in", chunk)
            self.buffer += chunk
            while b"\r\n\r\n" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
                headers: dict[str, str] = {}
                for line in raw.decode("utf-8", "replace").split("\r\n"):
                    key, _, value = line.partition(": ")
                    headers.setdefault(key, value)
                self.messages.append(headers)
                self.changed.set()

    async def send(self, action: str, **headers: str) -> str:
        self.ids += 1
        action_id = f"kck-rec-{self.ids}"
        lines = [f"Action: {action}", f"ActionID: {action_id}"]
        lines += [f"{key}: {value}" for key, value in headers.items()]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.note("out", data)
        self.writer.write(data)
        await self.writer.drain()
        return action_id

    async def wait_for(self, timeout: float, **wanted: str) -> dict[str, str]:
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for message in self.messages[seen:]:
                    if all(message.get(k) == v for k, v in wanted.items()):
                        return message
                seen = len(self.messages)
                self.changed.clear()
                await self.changed.wait()


async def capture(args: argparse.Namespace) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    rec = Recorder(reader, writer)
    banner = await reader.readline()
    rec.note("in", banner)
    task = asyncio.create_task(rec.read_forever())
    await rec.send("Login", Username=args.user, Secret=args.secret)
    await rec.wait_for(5, Response="Success")
    await rec.send(
        "Originate",
        Channel="Local/caller@lab/n",
        Application="Playback",
        Data="tt-monkeys&tt-monkeys&tt-monkeys",
        Async="true",
    )
    enter = await rec.wait_for(15, Event="BridgeEnter", Exten="caller")
    caller = enter["Channel"]
    folder = Path(args.folder)
    await rec.send("MixMonitor", Channel=caller, File=str(folder / "capture.wav"), Options="b")
    await asyncio.sleep(2)
    await rec.send("MixMonitorMute", Channel=caller, Direction="both", State="1")
    await asyncio.sleep(2)
    await rec.send("MixMonitorMute", Channel=caller, Direction="both", State="0")
    await asyncio.sleep(2)
    await rec.send("Hangup", Channel=caller)
    await rec.wait_for(5, Event="Hangup", Channel=caller)
    await asyncio.sleep(1)  # anything Asterisk still says about the recording
    await rec.send("MixMonitorMute", Channel=caller, Direction="both", State="1")
    await asyncio.sleep(0.5)
    await rec.send("Logoff")
    await asyncio.sleep(0.5)
    task.cancel()
    writer.close()
    out = Path(args.out)
    with out.with_suffix(".jsonl").open("w", encoding="utf-8") as jsonl:
        for entry in rec.log:
            jsonl.write(json.dumps(entry) + "\n")
    out.with_suffix(".txt").write_bytes(b"".join(e["data"].encode("latin-1") for e in rec.log))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5038)
    parser.add_argument("--user", default="kck")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--folder", required=True, help="where Asterisk writes the recording")
    parser.add_argument("--out", required=True, help="transcript path without suffix")
    asyncio.run(capture(parser.parse_args()))


if __name__ == "__main__":
    main()
