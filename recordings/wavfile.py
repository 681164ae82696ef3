"""A finished recording as Asterisk leaves it: is the WAV closed, how long, how big, its sha256.

Asterisk writes the WAV header's sizes only when it closes the file (after the hang-up), so a
file whose RIFF size does not match its length is still being written. Blocking file I/O: call
these in a thread.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from pathlib import Path


class NotFinished(Exception):
    """The file is absent or its header does not (yet) describe it."""


@dataclass(frozen=True)
class WavFacts:
    duration_s: float
    size_bytes: int
    sha256: str
    sample_rate: int
    channels: int


def finished_wav(path: Path) -> WavFacts:
    """The facts of a closed WAV file; `NotFinished` while Asterisk still writes it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFinished(f"{path}: no such file") from None
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise NotFinished(f"{path}: no WAV header yet ({len(data)} bytes)")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    if riff_size + 8 != len(data):
        raise NotFinished(f"{path}: header says {riff_size + 8} bytes, file has {len(data)}")
    offset = 12
    rate = channels = bits = 0
    frames_bytes: int | None = None
    while offset + 8 <= len(data):
        chunk, size = struct.unpack_from("<4sI", data, offset)
        if chunk == b"fmt ":
            _, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, offset + 8)
        elif chunk == b"data":
            frames_bytes = size
            break
        offset += 8 + size + (size & 1)
    if frames_bytes is None or not rate or not channels or not bits:
        raise NotFinished(f"{path}: no fmt or data chunk")
    duration = frames_bytes / (rate * channels * bits // 8)
    return WavFacts(
        duration_s=round(duration, 3),
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        sample_rate=rate,
        channels=channels,
    )
