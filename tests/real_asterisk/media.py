"""A caller's audio side: RTP to and from Asterisk, with RFC 4733 key presses sent on demand.

SIPp carries the caller's SIP dialog; the SDP it sends names this endpoint's port, so the test
presses keys when it sees the IVR ask (not at guessed times) and counts the audio it hears.
Like a phone, it sends 20 ms of PCMU silence continuously (Asterisk's strict RTP learns the
source from the first packets and would drop a key press that came first).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path

PCMU = 0
TELEPHONE_EVENT = 101
FRAME_MS = 20
SAMPLES_PER_FRAME = 160
_EVENTS = "0123456789*#"
_SILENCE = b"\xff" * SAMPLES_PER_FRAME
RATE = 8000


def ulaw(sample: int) -> int:
    """One 16-bit linear sample as G.711 μ-law (the PCMU byte)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def tone_frames(hz: float, level: float = 0.3) -> list[bytes]:
    """20 ms PCMU frames of a sine tone (one second's worth, looped by the sender)."""
    samples = [
        ulaw(int(level * 32767 * math.sin(2 * math.pi * hz * n / RATE))) for n in range(RATE)
    ]
    return [bytes(samples[i : i + SAMPLES_PER_FRAME]) for i in range(0, RATE, SAMPLES_PER_FRAME)]


def write_tone_pcap(path: Path, hz: float, seconds: float) -> None:
    """A pcap of RTP (PCMU) carrying a tone, for SIPp's `play_pcap_audio` (an agent's voice)."""
    sender = _RTPSender()
    frames = tone_frames(hz)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # Ethernet
    for n in range(int(seconds * 1000 / FRAME_MS)):
        rtp = sender.packet(PCMU, frames[n % len(frames)])
        sender.timestamp += SAMPLES_PER_FRAME
        udp = struct.pack("!HHHH", 40000, 40000, 8 + len(rtp), 0) + rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
            socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"),
        )  # fmt: skip
        frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
        micros = n * FRAME_MS * 1000
        out.append(
            struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame))
        )
        out.append(frame)
    path.write_bytes(b"".join(out))


@dataclass
class _RTPSender:
    ssrc: int = field(default_factory=lambda: random.getrandbits(32))
    seq: int = field(default_factory=lambda: random.getrandbits(16))
    timestamp: int = field(default_factory=lambda: random.getrandbits(32))

    def packet(self, payload_type: int, payload: bytes, *, marker: bool = False) -> bytes:
        header = struct.pack(
            "!BBHII",
            0x80,
            (0x80 if marker else 0) | payload_type,
            self.seq & 0xFFFF,
            self.timestamp & 0xFFFFFFFF,
            self.ssrc,
        )
        self.seq += 1
        return header + payload


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, media: CallerMedia) -> None:
        self.media = media

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.media._received(data, addr)


class CallerMedia:
    """Binds `host`:`port` (port 0 = any free even port), sends silence and key presses to
    `remote` once it is known, counts the audio packets received."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.port = 0
        self.remote: tuple[str, int] | None = None
        self.packets_received = 0
        self._sender = _RTPSender()
        self._keys: asyncio.Queue[str] = asyncio.Queue()
        self._transport: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self._remote_known = asyncio.Event()
        self._voice: list[bytes] = []
        self._spoken = 0

    def speak(self, hz: float) -> None:
        """From now on send a tone (the caller's voice) instead of silence."""
        self._voice = tone_frames(hz)

    async def open(self) -> int:
        loop = asyncio.get_running_loop()
        sock = _even_port_socket(self.host)
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=sock)
        self._transport = transport
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(self._send_loop(), name=f"rtp-{self.port}")
        return self.port

    def set_remote(self, host: str, port: int) -> None:
        """Asterisk's media address (from its SDP answer)."""
        self.remote = (host, port)
        self._remote_known.set()

    def press(self, keys: str) -> None:
        """Queue key presses (0-9, *, #); each is sent as an RFC 4733 event of 120 ms."""
        for key in keys:
            if key not in _EVENTS:
                raise ValueError(f"not a phone key: {key!r}")
            self._keys.put_nowait(key)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) >= 12 and data[1] & 0x7F == PCMU:
            self.packets_received += 1

    def _send(self, packet: bytes) -> None:
        if self._transport is not None and self.remote is not None:
            self._transport.sendto(packet, self.remote)

    async def _send_loop(self) -> None:
        await self._remote_known.wait()
        # a phone's first 200 ms: audio only, so strict RTP has learnt us before any key
        for _ in range(10):
            await self._silence()
        while True:
            if self._keys.empty():
                await self._silence()
                continue
            await self._key(self._keys.get_nowait())
            for _ in range(5):  # the gap between two presses
                await self._silence()

    async def _silence(self) -> None:
        """20 ms of what the caller says: silence, or the tone once they speak."""
        payload = _SILENCE
        if self._voice:
            payload = self._voice[self._spoken % len(self._voice)]
            self._spoken += 1
        self._send(self._sender.packet(PCMU, payload))
        self._sender.timestamp += SAMPLES_PER_FRAME
        await asyncio.sleep(FRAME_MS / 1000)

    async def _key(self, key: str) -> None:
        event = _EVENTS.index(key)
        sender = self._sender
        for i in range(1, 7):
            payload = struct.pack("!BBH", event, 10, SAMPLES_PER_FRAME * i)
            self._send(sender.packet(TELEPHONE_EVENT, payload, marker=i == 1))
            await asyncio.sleep(FRAME_MS / 1000)
        end = struct.pack("!BBH", event, 0x80 | 10, SAMPLES_PER_FRAME * 6)
        for _ in range(3):  # the end packet is sent three times (RFC 4733 2.5.1.4)
            self._send(sender.packet(TELEPHONE_EVENT, end))
        sender.timestamp += SAMPLES_PER_FRAME * 6


def _even_port_socket(host: str) -> socket.socket:
    """RTP ports are even by convention (RTCP takes the odd one above)."""
    for _ in range(200):
        port = random.randrange(30000, 40000, 2)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            continue
        sock.setblocking(False)
        return sock
    raise OSError(f"no free even UDP port on {host}")
