"""Typed AMI actions kck sends; each says whether it is safe to send twice (idempotent)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

Headers = list[tuple[str, str]]


def _check_value(action: str, key: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"AMI {action} header {key!r} must be one line: {value[:60]!r}")
    return value


def encode_action(name: str, action_id: str, headers: Sequence[tuple[str, str]]) -> bytes:
    """Wire bytes: ``Action``, ``ActionID``, the headers, then the blank line (CRLF)."""
    lines = [f"Action: {_check_value(name, 'Action', name)}", f"ActionID: {action_id}"]
    for key, value in headers:
        if not key or ":" in key or "\r" in key or "\n" in key:
            raise ValueError(f"AMI {name} header name {key!r} is not valid")
        lines.append(f"{key}: {_check_value(name, key, value)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


@dataclass(frozen=True)
class Action:
    """Base: subclasses set ``name`` and ``idempotent`` and build :meth:`headers`."""

    name: ClassVar[str] = ""
    # Safe to send again after a reconnect when its answer was lost. False for anything that
    # changes a call (Originate, Redirect, Hangup, MixMonitor...).
    idempotent: ClassVar[bool] = True

    @property
    def action_name(self) -> str:
        return self.name

    @property
    def is_idempotent(self) -> bool:
        return self.idempotent

    def headers(self) -> Headers:
        return []


@dataclass(frozen=True)
class RawAction(Action):
    """Any action by name; treated as non-idempotent unless said otherwise."""

    action: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    safe_to_repeat: bool = False

    @property
    def action_name(self) -> str:
        return self.action

    @property
    def is_idempotent(self) -> bool:
        return self.safe_to_repeat

    def headers(self) -> Headers:
        return list(self.fields)


@dataclass(frozen=True)
class Login(Action):
    name: ClassVar[str] = "Login"
    username: str = ""
    secret: str = field(default="", repr=False)
    events: str | None = None  # None: the AMI user's read permissions decide

    def headers(self) -> Headers:
        out: Headers = [("Username", self.username), ("Secret", self.secret)]
        if self.events is not None:
            out.append(("Events", self.events))
        return out


@dataclass(frozen=True)
class Logoff(Action):
    name: ClassVar[str] = "Logoff"


@dataclass(frozen=True)
class Ping(Action):
    name: ClassVar[str] = "Ping"


def _variables(variables: Mapping[str, str]) -> Headers:
    return [("Variable", f"{key}={value}") for key, value in variables.items()]


@dataclass(frozen=True)
class ControlPlayback(Action):
    """Cut short what a channel plays: an AGI STREAM FILE returns at once, a WAIT FOR DIGIT
    returns `result=1000` (Asterisk queues a stream-stop frame on the channel; write class
    `call`). Harmless when nothing plays, so safe to send twice."""

    name: ClassVar[str] = "ControlPlayback"
    channel: str = ""
    control: str = "stop"  # stop, forward, reverse, pause, restart

    def headers(self) -> Headers:
        if not self.channel:
            raise ValueError("ControlPlayback needs a channel")
        return [("Channel", self.channel), ("Control", self.control)]


@dataclass(frozen=True)
class Originate(Action):
    """Either ``exten``/``context``/``priority`` or ``application``/``data``."""

    name: ClassVar[str] = "Originate"
    idempotent: ClassVar[bool] = False
    channel: str = ""
    exten: str | None = None
    context: str | None = None
    priority: str | None = None
    application: str | None = None
    data: str | None = None
    caller_id: str | None = None
    timeout_ms: int | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    account: str | None = None
    channel_id: str | None = None
    asynchronous: bool = True

    def headers(self) -> Headers:
        if not self.channel:
            raise ValueError("Originate needs a channel")
        if (self.application is None) == (self.exten is None):
            raise ValueError("Originate needs either exten/context/priority or application")
        out: Headers = [("Channel", self.channel)]
        if self.exten is not None:
            out += [
                ("Exten", self.exten),
                ("Context", self.context or ""),
                ("Priority", self.priority or "1"),
            ]
        else:
            out.append(("Application", self.application or ""))
            if self.data is not None:
                out.append(("Data", self.data))
        if self.caller_id is not None:
            out.append(("CallerID", self.caller_id))
        if self.timeout_ms is not None:
            out.append(("Timeout", str(self.timeout_ms)))
        if self.account is not None:
            out.append(("Account", self.account))
        if self.channel_id is not None:
            out.append(("ChannelId", self.channel_id))
        out.append(("Async", "true" if self.asynchronous else "false"))
        return out + _variables(self.variables)


@dataclass(frozen=True)
class Hangup(Action):
    name: ClassVar[str] = "Hangup"
    idempotent: ClassVar[bool] = False
    channel: str = ""
    cause: int | None = None

    def headers(self) -> Headers:
        out: Headers = [("Channel", self.channel)]
        if self.cause is not None:
            out.append(("Cause", str(self.cause)))
        return out


@dataclass(frozen=True)
class Atxfer(Action):
    """Attended transfer by `channel` (the transferer, bridged with the transferee) to
    `exten`@`context`: the transferee is held, the transferer talks to the target; hanging the
    transferer up completes it, `CancelAtxfer` takes the transferer back. Needs the `atxfer`
    feature code (features.conf) and the transfer permitted on the channel (Dial option t/T)."""

    name: ClassVar[str] = "Atxfer"
    idempotent: ClassVar[bool] = False
    channel: str = ""
    exten: str = ""
    context: str = ""

    def headers(self) -> Headers:
        return [("Channel", self.channel), ("Exten", self.exten), ("Context", self.context)]


@dataclass(frozen=True)
class CancelAtxfer(Action):
    """Cancel the attended transfer `channel` started (features.conf `atxferabort`)."""

    name: ClassVar[str] = "CancelAtxfer"
    idempotent: ClassVar[bool] = False
    channel: str = ""

    def headers(self) -> Headers:
        return [("Channel", self.channel)]


@dataclass(frozen=True)
class PlayDTMF(Action):
    """One DTMF `digit` on `channel`. `receive`: as if the channel's phone had pressed it (the
    digit is queued on the channel's read side: what an attended transfer collecting its
    extension hears; Asterisk 22's `Receive: true`), else it is sent out to the phone. Not
    idempotent: a digit sent twice is two digits."""

    name: ClassVar[str] = "PlayDTMF"
    idempotent: ClassVar[bool] = False
    channel: str = ""
    digit: str = ""
    receive: bool = False

    def headers(self) -> Headers:
        if not self.channel or len(self.digit) != 1 or self.digit not in "0123456789*#ABCD":
            raise ValueError(f"PlayDTMF needs a channel and one DTMF digit, got {self.digit!r}")
        out: Headers = [("Channel", self.channel), ("Digit", self.digit)]
        if self.receive:
            out.append(("Receive", "true"))
        return out


@dataclass(frozen=True)
class Redirect(Action):
    name: ClassVar[str] = "Redirect"
    idempotent: ClassVar[bool] = False
    channel: str = ""
    context: str = ""
    exten: str = ""
    priority: str = "1"
    extra_channel: str | None = None

    def headers(self) -> Headers:
        out: Headers = [
            ("Channel", self.channel),
            ("Context", self.context),
            ("Exten", self.exten),
            ("Priority", self.priority),
        ]
        if self.extra_channel is not None:
            out.append(("ExtraChannel", self.extra_channel))
        return out


@dataclass(frozen=True)
class MixMonitor(Action):
    name: ClassVar[str] = "MixMonitor"
    idempotent: ClassVar[bool] = False
    channel: str = ""
    file: str = ""
    options: str = ""
    command: str | None = None

    def headers(self) -> Headers:
        out: Headers = [("Channel", self.channel), ("File", self.file)]
        if self.options:
            out.append(("Options", self.options))
        if self.command is not None:
            out.append(("Command", self.command))
        return out


@dataclass(frozen=True)
class MixMonitorMute(Action):
    """Silence one direction (`read`: the channel's own voice, `write`: what it hears) or `both`
    of the channel's MixMonitor; the file keeps its length (silence is written). Setting the
    same state twice is harmless. A hung-up channel answers `No such channel`."""

    name: ClassVar[str] = "MixMonitorMute"
    channel: str = ""
    direction: str = "both"
    state: bool = True

    def headers(self) -> Headers:
        return [
            ("Channel", self.channel),
            ("Direction", self.direction),
            ("State", "1" if self.state else "0"),
        ]


@dataclass(frozen=True)
class StopMixMonitor(Action):
    # Stopping twice is harmless: the second answers an error, nothing is recorded twice.
    name: ClassVar[str] = "StopMixMonitor"
    channel: str = ""
    mixmonitor_id: str | None = None

    def headers(self) -> Headers:
        out: Headers = [("Channel", self.channel)]
        if self.mixmonitor_id is not None:
            out.append(("MixMonitorID", self.mixmonitor_id))
        return out


@dataclass(frozen=True)
class Getvar(Action):
    name: ClassVar[str] = "Getvar"
    variable: str = ""
    channel: str | None = None

    def headers(self) -> Headers:
        out: Headers = []
        if self.channel is not None:
            out.append(("Channel", self.channel))
        out.append(("Variable", self.variable))
        return out


@dataclass(frozen=True)
class Setvar(Action):
    # Setting the same value twice leaves the same state.
    name: ClassVar[str] = "Setvar"
    variable: str = ""
    value: str = ""
    channel: str | None = None

    def headers(self) -> Headers:
        out: Headers = []
        if self.channel is not None:
            out.append(("Channel", self.channel))
        return [*out, ("Variable", self.variable), ("Value", self.value)]


@dataclass(frozen=True)
class CoreShowChannels(Action):
    name: ClassVar[str] = "CoreShowChannels"


@dataclass(frozen=True)
class DeviceStateList(Action):
    name: ClassVar[str] = "DeviceStateList"


@dataclass(frozen=True)
class QueueStatus(Action):
    name: ClassVar[str] = "QueueStatus"
    queue: str | None = None
    member: str | None = None

    def headers(self) -> Headers:
        out: Headers = []
        if self.queue is not None:
            out.append(("Queue", self.queue))
        if self.member is not None:
            out.append(("Member", self.member))
        return out


@dataclass(frozen=True)
class PJSIPShowEndpoints(Action):
    name: ClassVar[str] = "PJSIPShowEndpoints"


@dataclass(frozen=True)
class PJSIPShowEndpoint(Action):
    name: ClassVar[str] = "PJSIPShowEndpoint"
    endpoint: str = ""

    def headers(self) -> Headers:
        return [("Endpoint", self.endpoint)]


@dataclass(frozen=True)
class Command(Action):
    """A CLI command; the answer's ``Output:`` lines are the CLI output. Read-only ones only:
    a CLI command could change things, so it is not repeated after a reconnect."""

    name: ClassVar[str] = "Command"
    idempotent: ClassVar[bool] = False
    command: str = ""

    def headers(self) -> Headers:
        return [("Command", self.command)]
