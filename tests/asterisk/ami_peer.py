"""A small scripted AMI server for client tests: logins, lists, and a switch to go silent."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Frame = Sequence[tuple[str, str]]


def encode(headers: Frame) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("utf-8")


@dataclass
class PeerConnection:
    number: int
    writer: asyncio.StreamWriter
    silent: bool = False


@dataclass
class ScriptedAMIPeer:
    username: str = "kck"
    secret: str = "kcksecret"
    channels: list[Mapping[str, str]] = field(default_factory=list)
    device_states: dict[str, str] = field(default_factory=dict)
    ignore: set[str] = field(default_factory=set)  # actions never answered
    hold: dict[str, asyncio.Event] = field(default_factory=dict)  # answered once the event is set
    # action → how many more times it is answered "Invalid/unknown command" (an Asterisk still
    # loading its modules)
    not_loaded: dict[str, int] = field(default_factory=dict)
    port: int = 0
    connections: list[PeerConnection] = field(default_factory=list)
    actions: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)
    pings_on_silent: list[float] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def stop(self) -> None:
        await self.stop_listening()
        for connection in self.connections:
            connection.writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def count(self, action: str) -> int:
        return sum(1 for _, name, _ in self.actions if name.lower() == action.lower())

    def go_silent(self) -> None:
        """The live connections stop answering; no FIN, no RST (a dead NAT or a frozen box)."""
        for connection in self.connections:
            connection.silent = True

    def live(self) -> list[PeerConnection]:
        return [c for c in self.connections if not c.silent and not c.writer.is_closing()]

    async def emit(self, *frames: Frame) -> None:
        for connection in self.live():
            connection.writer.write(b"".join(encode(f) for f in frames))
            await connection.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        for connection in self.live():
            connection.writer.write(data)
            await connection.writer.drain()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        connection = PeerConnection(len(self.connections) + 1, writer)
        self.connections.append(connection)
        try:
            writer.write(b"Asterisk Call Manager/11.0.0\r\n")
            await writer.drain()
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in raw.decode("utf-8").split("\r\n"):
                    if line:
                        key, _, value = line.partition(": ")
                        headers[key] = value
                name = headers.get("Action", "")
                self.actions.append((connection.number, name, headers))
                if connection.silent:
                    if name == "Ping":
                        self.pings_on_silent.append(asyncio.get_running_loop().time())
                    continue
                if name in self.ignore:
                    continue
                if name in self.hold:
                    await self.hold[name].wait()
                if not await self._answer(connection, name, headers):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            if not connection.silent:
                writer.close()
                with contextlib.suppress(ConnectionError, OSError):
                    await writer.wait_closed()

    async def _answer(self, connection: PeerConnection, name: str, headers: dict[str, str]) -> bool:
        writer = connection.writer
        aid = headers.get("ActionID", "")
        ok: list[tuple[str, str]] = [("Response", "Success"), ("ActionID", aid)]
        out: list[Frame] = []
        keep_open = True
        if self.not_loaded.get(name, 0) > 0:
            self.not_loaded[name] -= 1
            message = (
                "Invalid/unknown command: "
                + name
                + ". Use Action: ListCommands to show available commands."
            )
            out = [[("Response", "Error"), ("ActionID", aid), ("Message", message)]]
        elif name == "Login":
            if headers.get("Username") == self.username and headers.get("Secret") == self.secret:
                out = [
                    [*ok, ("Message", "Authentication accepted")],
                    [
                        ("Event", "FullyBooted"),
                        ("Privilege", "system,all"),
                        ("Status", "Fully Booted"),
                    ],
                ]
            else:
                out = [
                    [("Response", "Error"), ("ActionID", aid), ("Message", "Authentication failed")]
                ]
                keep_open = False
        elif name == "Ping":
            out = [[*ok, ("Ping", "Pong"), ("Timestamp", "1795526836.940464")]]
        elif name == "Logoff":
            out = [
                [
                    ("Response", "Goodbye"),
                    ("ActionID", aid),
                    ("Message", "Thanks for all the fish."),
                ]
            ]
            keep_open = False
        elif name == "CoreShowChannels":
            out = [[*ok, ("EventList", "start"), ("Message", "Channels will follow")]]
            for channel in self.channels:
                out.append([("Event", "CoreShowChannel"), ("ActionID", aid), *channel.items()])
            out.append(
                [
                    ("Event", "CoreShowChannelsComplete"),
                    ("ActionID", aid),
                    ("EventList", "Complete"),
                    ("ListItems", str(len(self.channels))),
                ]
            )
        elif name == "DeviceStateList":
            out = [[*ok, ("EventList", "start"), ("Message", "Device State Changes will follow")]]
            for device, state in self.device_states.items():
                out.append(
                    [
                        ("Event", "DeviceStateChange"),
                        ("ActionID", aid),
                        ("Device", device),
                        ("State", state),
                    ]
                )
            out.append(
                [
                    ("Event", "DeviceStateListComplete"),
                    ("ActionID", aid),
                    ("EventList", "Complete"),
                    ("ListItems", str(len(self.device_states))),
                ]
            )
        elif name == "Getvar":
            if headers.get("Channel", "ok").startswith("nope"):
                out = [[("Response", "Error"), ("ActionID", aid), ("Message", "No such channel")]]
            else:
                out = [[*ok, ("Variable", headers.get("Variable", "")), ("Value", "42")]]
        elif name == "Originate":
            out = [
                [*ok, ("Message", "Originate successfully queued")],
                # Same write as the response, as a quick answer would come from Asterisk.
                [
                    ("Event", "OriginateResponse"),
                    ("Privilege", "call,all"),
                    ("ActionID", aid),
                    ("Response", "Success"),
                    ("Channel", headers.get("Channel", "")),
                    ("Reason", "4"),
                    ("Uniqueid", "1795526838.0"),
                ],
            ]
        elif name == "Hangup":
            out = [[*ok, ("Message", "Channel Hungup")]]
        else:
            out = [
                [
                    ("Response", "Error"),
                    ("ActionID", aid),
                    ("Message", f"Invalid/unknown command: {name}."),
                ]
            ]
        writer.write(b"".join(encode(f) for f in out))
        await writer.drain()
        return keep_open
