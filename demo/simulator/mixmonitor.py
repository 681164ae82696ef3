"""The simulator's MixMonitor: which channel records to which file since when, and whether it is
muted. The file (silence of the recorded length: the simulator carries no audio) is written when
the recording stops or the channel hangs up; Asterisk sends no `MixMonitorStop` on hang-up
(fixture `ami-session-mixmonitor`), so neither does the simulator."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Recording:
    path: Path
    started: float
    muted: set[str] = field(default_factory=set)  # "read" (the channel's voice), "write"


class MixMonitors:
    """Recordings by channel name; `finish` writes the file in a thread, off the loop."""

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._live: dict[str, Recording] = {}
        self._writing: set[asyncio.Task[None]] = set()

    def start(self, channel: str, path: Path) -> None:
        self._live[channel] = Recording(path, self._now())

    def recording(self, channel: str) -> Recording | None:
        return self._live.get(channel)

    def mute(self, channel: str, direction: str, state: bool) -> bool:
        """MixMonitorMute: False when the channel records nothing."""
        recording = self._live.get(channel)
        if recording is None:
            return False
        sides = {"read", "write"} if direction == "both" else {direction}
        if state:
            recording.muted |= sides
        else:
            recording.muted -= sides
        return True

    def stop(self, channel: str) -> Recording | None:
        return self._live.pop(channel, None)

    def hung_up(self, channel: str) -> None:
        """The channel is gone: its recording ends and the file is written."""
        recording = self._live.pop(channel, None)
        if recording is not None:
            task = asyncio.get_running_loop().create_task(self.finish(recording))
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)

    async def finish(self, recording: Recording) -> None:
        seconds = self._now() - recording.started
        await asyncio.to_thread(write_silence, recording.path, seconds)

    async def drain(self) -> None:
        """Wait until every file of an ended recording is written (the simulator stopping)."""
        if self._writing:
            await asyncio.gather(*list(self._writing), return_exceptions=True)


def write_silence(path: Path, seconds: float) -> None:
    """MixMonitor's file: silence of the recorded length (the simulator carries no audio)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * int(max(0.0, seconds) * 8000))
