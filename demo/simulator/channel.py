"""A simulated Asterisk channel and the standard AMI header block that describes it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .ami_protocol import Headers


class ChannelState(enum.IntEnum):
    """`ChannelState` numbers as Asterisk reports them."""

    DOWN = 0
    RING = 4
    RINGING = 5
    UP = 6

    @property
    def desc(self) -> str:
        return {0: "Down", 4: "Ring", 5: "Ringing", 6: "Up"}[int(self)]


UNKNOWN = "<unknown>"


@dataclass
class SimChannel:
    """Mutable state of one channel; the AMI events render from it at the moment they are sent."""

    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    priority: int = 1
    state: ChannelState = ChannelState.DOWN
    callerid_num: str = ""
    callerid_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    language: str = "en"
    accountcode: str = ""
    created_at: float = 0.0
    answered_at: float | None = None
    application: str = ""
    app_data: str = ""
    bridge_id: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    hung_up: bool = False

    @property
    def tech(self) -> str:
        return self.name.split("/", 1)[0]

    def headers(self, prefix: str = "") -> Headers:
        """The block every channel event carries (`Channel:` ... `Linkedid:`), optionally prefixed
        (`Dest` in DialBegin/DialState/DialEnd)."""
        p = prefix
        return [
            (f"{p}Channel", self.name),
            (f"{p}ChannelState", str(int(self.state))),
            (f"{p}ChannelStateDesc", self.state.desc),
            (f"{p}CallerIDNum", self.callerid_num or UNKNOWN),
            (f"{p}CallerIDName", self.callerid_name or UNKNOWN),
            (f"{p}ConnectedLineNum", self.connected_num or UNKNOWN),
            (f"{p}ConnectedLineName", self.connected_name or UNKNOWN),
            (f"{p}Language", self.language),
            (f"{p}AccountCode", self.accountcode),
            (f"{p}Context", self.context),
            (f"{p}Exten", self.exten),
            (f"{p}Priority", str(self.priority)),
            (f"{p}Uniqueid", self.uniqueid),
            (f"{p}Linkedid", self.linkedid),
        ]
