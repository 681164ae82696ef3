"""Builders for the AMI events of a call, header for header in the order Asterisk 22 sends them."""

from __future__ import annotations

from collections.abc import Callable

from .ami_protocol import Headers
from .channel import SimChannel

CALL = "call,all"
DIALPLAN = "dialplan,all"
AGI = "agi,all"
DTMF = "dtmf,all"

CAUSE_TEXT = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "No user responding",
    21: "Call Rejected",
    32: "Circuit/channel congestion",
}

# (event name, privilege, headers) -> delivered to every AMI session allowed to read it.
Emit = Callable[[str, str, Headers], None]


class ChannelEvents:
    """Emits the channel-level events; one instance per simulator."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        # told of every channel that hangs up (the recordings on it end)
        self.hangup_listeners: list[Callable[[SimChannel], None]] = []

    def raw(self, name: str, privilege: str, headers: Headers) -> None:
        self._emit(name, privilege, headers)

    def newchannel(self, ch: SimChannel) -> None:
        self._emit("Newchannel", CALL, ch.headers())

    def newstate(self, ch: SimChannel) -> None:
        self._emit("Newstate", CALL, ch.headers())

    def newcallerid(
        self, ch: SimChannel, calling_pres: str = "0 (Presentation Allowed, Not Screened)"
    ) -> None:
        self._emit("NewCallerid", CALL, [*ch.headers(), ("CID-CallingPres", calling_pres)])

    def newconnectedline(self, ch: SimChannel) -> None:
        self._emit("NewConnectedLine", CALL, ch.headers())

    def varset(self, ch: SimChannel, variable: str, value: str) -> None:
        ch.variables[variable] = value
        self._emit("VarSet", DIALPLAN, [*ch.headers(), ("Variable", variable), ("Value", value)])

    def newexten(self, ch: SimChannel, application: str, app_data: str) -> None:
        ch.application, ch.app_data = application, app_data
        self._emit(
            "Newexten",
            DIALPLAN,
            [
                *ch.headers(),
                ("Extension", ch.exten),
                ("Application", application),
                ("AppData", app_data),
            ],
        )

    def hangup_request(self, ch: SimChannel, cause: int | None) -> None:
        extra = [] if cause is None else [("Cause", str(cause))]
        self._emit("HangupRequest", CALL, [*ch.headers(), *extra])

    def soft_hangup_request(self, ch: SimChannel, cause: int) -> None:
        self._emit("SoftHangupRequest", CALL, [*ch.headers(), ("Cause", str(cause))])

    def hangup(self, ch: SimChannel, cause: int) -> None:
        ch.hung_up = True
        for listener in self.hangup_listeners:
            listener(ch)
        self._emit(
            "Hangup",
            CALL,
            [*ch.headers(), ("Cause", str(cause)), ("Cause-txt", CAUSE_TEXT.get(cause, "Unknown"))],
        )

    def moh_start(self, ch: SimChannel, moh_class: str) -> None:
        self._emit("MusicOnHoldStart", CALL, [*ch.headers(), ("Class", moh_class)])

    def moh_stop(self, ch: SimChannel) -> None:
        self._emit("MusicOnHoldStop", CALL, ch.headers())

    def dtmf(self, ch: SimChannel, digit: str, duration_ms: int = 280) -> None:
        self._emit("DTMFBegin", DTMF, [*ch.headers(), ("Digit", digit), ("Direction", "Received")])
        self._emit(
            "DTMFEnd",
            DTMF,
            [
                *ch.headers(),
                ("Digit", digit),
                ("DurationMs", str(duration_ms)),
                ("Direction", "Received"),
            ],
        )

    def device_state(self, device: str, state: str) -> None:
        self._emit("DeviceStateChange", CALL, [("Device", device), ("State", state)])

    def dial(self, name: str, caller: SimChannel, dest: SimChannel, tail: Headers) -> None:
        """DialBegin / DialState / DialEnd: caller block, `Dest` block, then the tail."""
        self._emit(name, CALL, [*caller.headers(), *dest.headers("Dest"), *tail])

    def dial_no_caller(self, name: str, dest: SimChannel, tail: Headers) -> None:
        """Dial events of an Originate: there is no calling channel, only the `Dest` block."""
        self._emit(name, CALL, [*dest.headers("Dest"), *tail])

    def agi_exec(
        self,
        ch: SimChannel,
        start: bool,
        command_id: str,
        command: str,
        result_code: str = "",
        result: str = "",
    ) -> None:
        tail: Headers = [("CommandId", command_id), ("Command", command)]
        if not start:
            tail += [("ResultCode", result_code), ("Result", result)]
        self._emit("AGIExecStart" if start else "AGIExecEnd", AGI, [*ch.headers(), *tail])

    def mixmonitor(self, ch: SimChannel, start: bool) -> None:
        self._emit("MixMonitorStart" if start else "MixMonitorStop", CALL, ch.headers())

    def mixmonitor_mute(self, ch: SimChannel, direction: str, state: bool) -> None:
        self._emit(
            "MixMonitorMute",
            CALL,
            [*ch.headers(), ("Direction", direction), ("State", "1" if state else "0")],
        )


def bridge_headers(bridge_id: str, technology: str, num_channels: int) -> Headers:
    return [
        ("BridgeUniqueid", bridge_id),
        ("BridgeType", "basic"),
        ("BridgeTechnology", technology),
        ("BridgeCreator", "<unknown>"),
        ("BridgeName", "<unknown>"),
        ("BridgeNumChannels", str(num_channels)),
        ("BridgeVideoSourceMode", "none"),
    ]
