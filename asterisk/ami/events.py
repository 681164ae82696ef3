"""Typed AMI events for what kck uses; anything else arrives as :class:`UnknownEvent`."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

from asterisk.ami.message import AMIMessage


def _h(header: str) -> Any:
    """Field read from AMI header ``header``."""
    return field(default=None, metadata={"header": header})


@dataclass(frozen=True, kw_only=True)
class AMIEvent:
    """Base: ``name`` is the ``Event:`` header, ``message`` the full parsed frame."""

    event_name: ClassVar[str] = ""
    name: str
    message: AMIMessage = field(repr=False, compare=False)

    @property
    def uniqueid(self) -> str | None:
        return self.message.get("Uniqueid")

    @property
    def linkedid(self) -> str | None:
        return self.message.get("Linkedid")

    @property
    def action_id(self) -> str | None:
        return self.message.get("ActionID")

    def get(self, header: str) -> str | None:
        return self.message.get(header)


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(AMIEvent):
    """An event we have no class for; read it with :meth:`get`."""


@dataclass(frozen=True, kw_only=True)
class ChannelEvent(AMIEvent):
    """Events about one channel carry its snapshot (Channel, CallerIDNum, Uniqueid...)."""

    channel: str | None = _h("Channel")
    channel_state: int | None = _h("ChannelState")
    channel_state_desc: str | None = _h("ChannelStateDesc")
    caller_id_num: str | None = _h("CallerIDNum")
    caller_id_name: str | None = _h("CallerIDName")
    connected_line_num: str | None = _h("ConnectedLineNum")
    connected_line_name: str | None = _h("ConnectedLineName")
    language: str | None = _h("Language")
    account_code: str | None = _h("AccountCode")
    context: str | None = _h("Context")
    exten: str | None = _h("Exten")
    priority: str | None = _h("Priority")
    channel_uniqueid: str | None = _h("Uniqueid")
    channel_linkedid: str | None = _h("Linkedid")


@dataclass(frozen=True, kw_only=True)
class DestChannelMixin:
    """The other party of Dial and Agent* events (``Dest*`` headers)."""

    dest_channel: str | None = _h("DestChannel")
    dest_channel_state: int | None = _h("DestChannelState")
    dest_caller_id_num: str | None = _h("DestCallerIDNum")
    dest_caller_id_name: str | None = _h("DestCallerIDName")
    dest_connected_line_num: str | None = _h("DestConnectedLineNum")
    dest_connected_line_name: str | None = _h("DestConnectedLineName")
    dest_context: str | None = _h("DestContext")
    dest_exten: str | None = _h("DestExten")
    dest_uniqueid: str | None = _h("DestUniqueid")
    dest_linkedid: str | None = _h("DestLinkedid")


@dataclass(frozen=True, kw_only=True)
class BridgeMixin:
    bridge_uniqueid: str | None = _h("BridgeUniqueid")
    bridge_type: str | None = _h("BridgeType")
    bridge_technology: str | None = _h("BridgeTechnology")
    bridge_num_channels: int | None = _h("BridgeNumChannels")


@dataclass(frozen=True, kw_only=True)
class FullyBooted(AMIEvent):
    event_name: ClassVar[str] = "FullyBooted"
    status: str | None = _h("Status")


@dataclass(frozen=True, kw_only=True)
class Newchannel(ChannelEvent):
    event_name: ClassVar[str] = "Newchannel"


@dataclass(frozen=True, kw_only=True)
class Newstate(ChannelEvent):
    event_name: ClassVar[str] = "Newstate"


@dataclass(frozen=True, kw_only=True)
class Newexten(ChannelEvent):
    event_name: ClassVar[str] = "Newexten"
    extension: str | None = _h("Extension")
    application: str | None = _h("Application")
    app_data: str | None = _h("AppData")


@dataclass(frozen=True, kw_only=True)
class VarSet(ChannelEvent):
    event_name: ClassVar[str] = "VarSet"
    variable: str | None = _h("Variable")
    value: str | None = _h("Value")


@dataclass(frozen=True, kw_only=True)
class Hangup(ChannelEvent):
    event_name: ClassVar[str] = "Hangup"
    cause: int | None = _h("Cause")
    cause_txt: str | None = _h("Cause-txt")


@dataclass(frozen=True, kw_only=True)
class HangupRequest(ChannelEvent):
    """``Cause`` is absent when a SIP BYE ended the call (fixture ami-session-queue-flow)."""

    event_name: ClassVar[str] = "HangupRequest"
    cause: int | None = _h("Cause")


@dataclass(frozen=True, kw_only=True)
class SoftHangupRequest(ChannelEvent):
    event_name: ClassVar[str] = "SoftHangupRequest"
    cause: int | None = _h("Cause")


@dataclass(frozen=True, kw_only=True)
class DialBegin(ChannelEvent, DestChannelMixin):
    """For an Originate there is no caller channel: only the ``Dest*`` fields are set."""

    event_name: ClassVar[str] = "DialBegin"
    dial_string: str | None = _h("DialString")


@dataclass(frozen=True, kw_only=True)
class DialState(ChannelEvent, DestChannelMixin):
    event_name: ClassVar[str] = "DialState"
    dial_status: str | None = _h("DialStatus")


@dataclass(frozen=True, kw_only=True)
class DialEnd(ChannelEvent, DestChannelMixin):
    """Sent twice for the same pair when a queue caller abandons (tests/fixtures/asterisk/README.md)."""

    event_name: ClassVar[str] = "DialEnd"
    dial_status: str | None = _h("DialStatus")


@dataclass(frozen=True, kw_only=True)
class BridgeCreate(AMIEvent, BridgeMixin):
    event_name: ClassVar[str] = "BridgeCreate"


@dataclass(frozen=True, kw_only=True)
class BridgeDestroy(AMIEvent, BridgeMixin):
    event_name: ClassVar[str] = "BridgeDestroy"


@dataclass(frozen=True, kw_only=True)
class BridgeEnter(ChannelEvent, BridgeMixin):
    event_name: ClassVar[str] = "BridgeEnter"


@dataclass(frozen=True, kw_only=True)
class BridgeLeave(ChannelEvent, BridgeMixin):
    event_name: ClassVar[str] = "BridgeLeave"


@dataclass(frozen=True, kw_only=True)
class DeviceStateChange(AMIEvent):
    event_name: ClassVar[str] = "DeviceStateChange"
    device: str | None = _h("Device")
    state: str | None = _h("State")


@dataclass(frozen=True, kw_only=True)
class ExtensionStatus(AMIEvent):
    event_name: ClassVar[str] = "ExtensionStatus"
    exten: str | None = _h("Exten")
    context: str | None = _h("Context")
    hint: str | None = _h("Hint")
    status: int | None = _h("Status")
    status_text: str | None = _h("StatusText")


@dataclass(frozen=True, kw_only=True)
class DTMFBegin(ChannelEvent):
    event_name: ClassVar[str] = "DTMFBegin"
    digit: str | None = _h("Digit")
    direction: str | None = _h("Direction")


@dataclass(frozen=True, kw_only=True)
class DTMFEnd(ChannelEvent):
    event_name: ClassVar[str] = "DTMFEnd"
    digit: str | None = _h("Digit")
    direction: str | None = _h("Direction")
    duration_ms: int | None = _h("DurationMs")


@dataclass(frozen=True, kw_only=True)
class MixMonitorStart(ChannelEvent):
    event_name: ClassVar[str] = "MixMonitorStart"


@dataclass(frozen=True, kw_only=True)
class MixMonitorStop(ChannelEvent):
    """Not sent when the channel hangs up while recording (fixtures ami-session,
    ami-session-mixmonitor): the recording's end is the channel's `Hangup`."""

    event_name: ClassVar[str] = "MixMonitorStop"


@dataclass(frozen=True, kw_only=True)
class MixMonitorMute(ChannelEvent):
    event_name: ClassVar[str] = "MixMonitorMute"
    direction: str | None = _h("Direction")
    state: str | None = _h("State")  # "1" muted, "0" not

    @property
    def muted(self) -> bool:
        return self.state == "1"


@dataclass(frozen=True, kw_only=True)
class MusicOnHoldStart(ChannelEvent):
    event_name: ClassVar[str] = "MusicOnHoldStart"
    moh_class: str | None = _h("Class")


@dataclass(frozen=True, kw_only=True)
class MusicOnHoldStop(ChannelEvent):
    event_name: ClassVar[str] = "MusicOnHoldStop"


@dataclass(frozen=True, kw_only=True)
class QueueCallerJoin(ChannelEvent):
    event_name: ClassVar[str] = "QueueCallerJoin"
    queue: str | None = _h("Queue")
    position: int | None = _h("Position")
    count: int | None = _h("Count")


@dataclass(frozen=True, kw_only=True)
class QueueCallerLeave(ChannelEvent):
    event_name: ClassVar[str] = "QueueCallerLeave"
    queue: str | None = _h("Queue")
    position: int | None = _h("Position")
    count: int | None = _h("Count")


@dataclass(frozen=True, kw_only=True)
class QueueCallerAbandon(ChannelEvent):
    event_name: ClassVar[str] = "QueueCallerAbandon"
    queue: str | None = _h("Queue")
    position: int | None = _h("Position")
    original_position: int | None = _h("OriginalPosition")
    hold_time: int | None = _h("HoldTime")


@dataclass(frozen=True, kw_only=True)
class AgentCalled(ChannelEvent, DestChannelMixin):
    event_name: ClassVar[str] = "AgentCalled"
    queue: str | None = _h("Queue")
    interface: str | None = _h("Interface")
    member_name: str | None = _h("MemberName")


@dataclass(frozen=True, kw_only=True)
class AgentConnect(ChannelEvent, DestChannelMixin):
    event_name: ClassVar[str] = "AgentConnect"
    queue: str | None = _h("Queue")
    interface: str | None = _h("Interface")
    member_name: str | None = _h("MemberName")
    hold_time: int | None = _h("HoldTime")
    ring_time: int | None = _h("RingTime")


@dataclass(frozen=True, kw_only=True)
class AgentComplete(ChannelEvent, DestChannelMixin):
    event_name: ClassVar[str] = "AgentComplete"
    queue: str | None = _h("Queue")
    interface: str | None = _h("Interface")
    member_name: str | None = _h("MemberName")
    hold_time: int | None = _h("HoldTime")
    talk_time: int | None = _h("TalkTime")
    reason: str | None = _h("Reason")


@dataclass(frozen=True, kw_only=True)
class QueueMemberStatus(AMIEvent):
    event_name: ClassVar[str] = "QueueMemberStatus"
    queue: str | None = _h("Queue")
    member_name: str | None = _h("MemberName")
    interface: str | None = _h("Interface")
    status: int | None = _h("Status")
    paused: str | None = _h("Paused")
    in_call: str | None = _h("InCall")


@dataclass(frozen=True, kw_only=True)
class OriginateResponse(AMIEvent):
    """Result of an ``Async: true`` Originate; carries the Originate's ActionID."""

    event_name: ClassVar[str] = "OriginateResponse"
    response: str | None = _h("Response")
    channel: str | None = _h("Channel")
    reason: int | None = _h("Reason")
    caller_id_num: str | None = _h("CallerIDNum")
    caller_id_name: str | None = _h("CallerIDName")


@dataclass(frozen=True, kw_only=True)
class AGIExecStart(ChannelEvent):
    event_name: ClassVar[str] = "AGIExecStart"
    command: str | None = _h("Command")
    command_id: str | None = _h("CommandId")


@dataclass(frozen=True, kw_only=True)
class AGIExecEnd(ChannelEvent):
    event_name: ClassVar[str] = "AGIExecEnd"
    command: str | None = _h("Command")
    command_id: str | None = _h("CommandId")
    result_code: str | None = _h("ResultCode")
    result: str | None = _h("Result")


EVENT_CLASSES: dict[str, type[AMIEvent]] = {
    cls.event_name.lower(): cls
    for cls in (
        FullyBooted,
        Newchannel,
        Newstate,
        Newexten,
        VarSet,
        Hangup,
        HangupRequest,
        SoftHangupRequest,
        DialBegin,
        DialState,
        DialEnd,
        BridgeCreate,
        BridgeDestroy,
        BridgeEnter,
        BridgeLeave,
        DeviceStateChange,
        ExtensionStatus,
        DTMFBegin,
        DTMFEnd,
        MixMonitorStart,
        MixMonitorStop,
        MixMonitorMute,
        MusicOnHoldStart,
        MusicOnHoldStop,
        QueueCallerJoin,
        QueueCallerLeave,
        QueueCallerAbandon,
        AgentCalled,
        AgentConnect,
        AgentComplete,
        QueueMemberStatus,
        OriginateResponse,
        AGIExecStart,
        AGIExecEnd,
    )
}

_FIELD_PLAN: dict[type[AMIEvent], list[tuple[str, str, bool]]] = {}


def _plan(cls: type[AMIEvent]) -> list[tuple[str, str, bool]]:
    """(attribute, lower-cased header, is_int) for every header-backed field of ``cls``."""
    plan = _FIELD_PLAN.get(cls)
    if plan is None:
        hints = typing.get_type_hints(cls)
        plan = []
        for f in dataclasses.fields(cls):
            header = f.metadata.get("header")
            if header is None:
                continue
            hint = hints[f.name]
            args = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
            plan.append((f.name, header.lower(), int in args))
        _FIELD_PLAN[cls] = plan
    return plan


def _to_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_event(message: AMIMessage) -> AMIEvent:
    """The typed event for ``message``; numbers that do not parse become None, never a crash."""
    name = message.get("Event") or ""
    cls = EVENT_CLASSES.get(name.lower(), UnknownEvent)
    values: dict[str, Any] = {}
    lowered = message.lowered
    for attribute, header, is_int in _plan(cls):
        raw = lowered.get(header)
        values[attribute] = _to_int(raw) if is_int else raw
    return cls(name=name, message=message, **values)
