"""A caller on a real FastAGI socket whose every answer the test decides: keys for each GET DATA,
and a hold at one of them until the test lets go (a call kept in progress, without timing)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field


@dataclass
class HeldCaller:
    """Answers like res_agi: `keys` for the GET DATAs in order ("" = no key); at GET DATA number
    `hold_at` (0-based) it waits for `release` before answering. `commands`: what kck sent."""

    port: int
    keys: list[str]
    hold_at: int | None = None
    uniqueid: str = "1764000000.1"
    commands: list[str] = field(default_factory=list)
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def get_data(self) -> list[str]:
        """The GET DATA commands: `GET DATA <sound> <timeout ms> <max digits>`."""
        return [c for c in self.commands if c.startswith("GET DATA")]

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        env = {
            "agi_network": "yes",
            "agi_network_script": "ivr",
            "agi_request": f"agi://127.0.0.1:{self.port}/ivr",
            "agi_channel": f"PJSIP/trunk-{self.uniqueid}",
            "agi_language": "pl",
            "agi_type": "PJSIP",
            "agi_uniqueid": self.uniqueid,
            "agi_callerid": "+48600100200",
            "agi_calleridname": "unknown",
            "agi_dnid": "126165555",
            "agi_context": "kck-incoming",
            "agi_extension": "126165555",
            "agi_priority": "2",
        }
        writer.write(("".join(f"{k}: {v}\n" for k, v in env.items()) + "\n").encode())
        await writer.drain()
        asked = 0
        try:
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                self.commands.append(line)
                if line.startswith("GET DATA"):
                    if asked == self.hold_at:
                        self.holding.set()
                        await self.release.wait()
                    digits = self.keys[asked] if asked < len(self.keys) else ""
                    asked += 1
                    reply = f"200 result={digits}" if digits else "200 result= (timeout)"
                elif line.startswith("STREAM FILE"):
                    reply = "200 result=0 endpos=8000"
                elif line.startswith("GET VARIABLE"):
                    reply = "200 result=0"
                else:
                    reply = "200 result=1" if line.startswith(("SET", "HANGUP")) else "200 result=0"
                writer.write(f"{reply}\n".encode())
                await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
