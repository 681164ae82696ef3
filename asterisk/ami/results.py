"""Answers to AMI actions: the response, plus the collected items of an event list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from asterisk.ami.message import AMIMessage


@dataclass(frozen=True)
class AMIResponse:
    """``message`` is the ``Response:`` frame; ``items`` the list events (``EventList: start``
    … ``…Complete``) without the closing ``complete`` event."""

    action: str
    action_id: str
    message: AMIMessage
    items: tuple[AMIMessage, ...] = ()
    complete: AMIMessage | None = None

    @property
    def success(self) -> bool:
        return (self.message.get("Response") or "").lower() in ("success", "goodbye", "follows")

    @property
    def text(self) -> str | None:
        """The ``Message:`` header."""
        return self.message.get("Message")

    def get(self, header: str) -> str | None:
        return self.message.get(header)

    @property
    def output(self) -> list[str]:
        """CLI output of ``Command``: one entry per ``Output:`` header."""
        return self.message.get_all("Output")


@dataclass(frozen=True)
class ChannelSnapshot:
    """One channel as listed by ``CoreShowChannels``."""

    channel: str
    uniqueid: str
    linkedid: str
    state: int | None
    state_desc: str | None
    caller_id_num: str | None
    caller_id_name: str | None
    connected_line_num: str | None
    connected_line_name: str | None
    context: str | None
    exten: str | None
    application: str | None
    application_data: str | None
    duration: str | None
    bridge_id: str | None

    @classmethod
    def from_item(cls, item: AMIMessage) -> ChannelSnapshot:
        state = item.get("ChannelState")
        return cls(
            channel=item.get("Channel") or "",
            uniqueid=item.get("Uniqueid") or "",
            linkedid=item.get("Linkedid") or "",
            state=int(state) if state and state.isdigit() else None,
            state_desc=item.get("ChannelStateDesc"),
            caller_id_num=item.get("CallerIDNum"),
            caller_id_name=item.get("CallerIDName"),
            connected_line_num=item.get("ConnectedLineNum"),
            connected_line_name=item.get("ConnectedLineName"),
            context=item.get("Context"),
            exten=item.get("Exten"),
            application=item.get("Application"),
            application_data=item.get("ApplicationData"),
            duration=item.get("Duration"),
            bridge_id=item.get("BridgeId") or None,
        )


@dataclass(frozen=True)
class AMISnapshot:
    """What Asterisk has right now, taken after each (re)login for the reconcilers."""

    channels: tuple[ChannelSnapshot, ...]
    device_states: Mapping[str, str]
    taken_at: datetime
    login_number: int

    def channel_ids(self) -> frozenset[str]:
        return frozenset(c.uniqueid for c in self.channels)
