"""Splits the AMI byte stream into messages on ``\\r\\n\\r\\n`` and only then decodes UTF-8.

Decoding after framing is what keeps a Polish letter whose two bytes arrive in two TCP reads
(panoramisk decodes each read on its own and drops it).
"""

from __future__ import annotations

from dataclasses import dataclass

from asterisk.ami.errors import AMIFrameTooLarge
from asterisk.ami.message import AMIMessage, parse_message

FRAME_END = b"\r\n\r\n"
LINE_END = b"\r\n"
DEFAULT_MAX_FRAME = 1024 * 1024
_MAX_BANNER = 1024


@dataclass(frozen=True)
class Banner:
    """``Asterisk Call Manager/11.0.0`` sent once when the connection opens."""

    text: str

    @property
    def version(self) -> str:
        return self.text.rpartition("/")[2]


Frame = AMIMessage | Banner | AMIFrameTooLarge


class AMIFrameReader:
    """Feed bytes as they arrive; get complete messages. Never raises on bad input."""

    def __init__(self, *, max_frame_bytes: int = DEFAULT_MAX_FRAME, expect_banner: bool = True):
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._expect_banner = expect_banner
        self._skipping = False
        self._scan_from = 0
        self.frames_rejected = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        out: list[Frame] = []
        if self._expect_banner:
            end = self._buffer.find(LINE_END)
            if end < 0:
                if len(self._buffer) > _MAX_BANNER:
                    self._expect_banner = False
                    out.append(self._reject("banner line", len(self._buffer)))
                    self._skipping = True
                else:
                    return out
            else:
                line = bytes(self._buffer[:end]).decode("utf-8", errors="replace")
                del self._buffer[: end + len(LINE_END)]
                self._expect_banner = False
                out.append(Banner(line))
        while True:
            end = self._buffer.find(FRAME_END, self._scan_from)
            if end < 0:
                # Resume the search where a terminator could still start.
                self._scan_from = max(0, len(self._buffer) - len(FRAME_END) + 1)
                if self._skipping:
                    del self._buffer[: self._scan_from]
                    self._scan_from = 0
                elif len(self._buffer) > self.max_frame_bytes:
                    out.append(self._reject("message", len(self._buffer)))
                    self._skipping = True
                    keep = len(FRAME_END) - 1
                    del self._buffer[:-keep]
                    self._scan_from = 0
                return out
            frame = bytes(self._buffer[:end])
            del self._buffer[: end + len(FRAME_END)]
            self._scan_from = 0
            if self._skipping:
                # This was the tail of the oversized message: now we are in step again.
                self._skipping = False
                continue
            if len(frame) > self.max_frame_bytes:
                out.append(self._reject("message", len(frame)))
                continue
            text = frame.decode("utf-8", errors="replace")
            if not text.strip():
                continue
            out.append(parse_message(text))

    def _reject(self, what: str, size: int) -> AMIFrameTooLarge:
        self.frames_rejected += 1
        return AMIFrameTooLarge(
            f"AMI {what} exceeds {self.max_frame_bytes} bytes ({size} buffered without a "
            f"terminator); discarded up to its end"
        )

    @property
    def buffered(self) -> int:
        return len(self._buffer)
