"""Small WAV files for tests: a caller's message, a voicemail (8 kHz mono, 16-bit, like Asterisk's)."""

from __future__ import annotations

import io
import wave
from pathlib import Path


def tone(seconds: float = 1.0) -> bytes:
    """`seconds` of a square tone as a WAV file's bytes."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x08\x00\xf8" * int(4000 * seconds))
    return out.getvalue()


def write_tone(path: Path, seconds: float = 1.0) -> Path:
    path.write_bytes(tone(seconds))
    return path
