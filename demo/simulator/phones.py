"""Simulated agent phones (PJSIP endpoints) and their device states."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from .scripts import PhoneBehaviour, PhoneMode


class DeviceState(enum.Enum):
    """Device state names exactly as `DeviceStateChange`/`DeviceStateList` report them."""

    NOT_INUSE = "NOT_INUSE"
    INUSE = "INUSE"
    RINGING = "RINGING"
    UNAVAILABLE = "UNAVAILABLE"


@dataclass
class SimulatedPhone:
    """One agent phone, e.g. endpoint `101` = device `PJSIP/101`.

    `name`: the agent's name as `kck asterisk config` writes it (pjsip.conf `callerid="<name>"
    <endpoint>`, queues.conf membername); empty = an endpoint without caller ID and a queue
    member without a name."""

    endpoint: str
    behaviour: PhoneBehaviour = field(default_factory=PhoneBehaviour)
    password: str = ""
    name: str = ""
    state: DeviceState = DeviceState.NOT_INUSE
    calls_answered: int = 0
    calls_offered: int = 0
    _notify: Callable[[SimulatedPhone], None] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.behaviour.mode is PhoneMode.UNREGISTERED:
            self.state = DeviceState.UNAVAILABLE

    @property
    def device(self) -> str:
        return f"PJSIP/{self.endpoint}"

    @property
    def member_name(self) -> str:
        """The fallback queue member's MemberName (app_queue uses the interface without one)."""
        return self.name or self.device

    @property
    def registered(self) -> bool:
        return self.behaviour.mode is not PhoneMode.UNREGISTERED

    def set_state(self, state: DeviceState) -> None:
        if state is self.state:
            return
        self.state = state
        if self._notify is not None:
            self._notify(self)

    def set_behaviour(self, behaviour: PhoneBehaviour) -> None:
        """Change how the phone reacts from the next call on (e.g. the agent unplugs it)."""
        self.behaviour = behaviour
        if behaviour.mode is PhoneMode.UNREGISTERED:
            self.set_state(DeviceState.UNAVAILABLE)
        elif self.state is DeviceState.UNAVAILABLE:
            self.set_state(DeviceState.NOT_INUSE)
