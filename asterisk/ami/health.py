"""What the AMI client reports to health output and metrics."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ConnectionState(Enum):
    IDLE = "idle"  # not started
    CONNECTING = "connecting"  # first connection and login in progress
    CONNECTED = "connected"  # logged in, pings answered
    RECONNECTING = "reconnecting"  # lost; waiting for the next attempt or logging in again
    AUTH_FAILED = "auth_failed"  # Asterisk refused our login; retried slowly
    CLOSED = "closed"  # close() was called


@dataclass(frozen=True)
class AMIHealth:
    state: ConnectionState
    host: str
    port: int
    asterisk_banner: str | None
    last_event_age_s: float | None  # None before the first event
    resync_count: int  # successful resynchronisations (one after every login)
    reconnect_count: int  # logins after a lost connection
    login_count: int
    last_resync_age_s: float | None
    last_error: str | None
    last_disconnect_reason: str | None
    pending_actions: int
    pending_events: int
    frames_rejected: int
    ping_rtt_s: float | None

    @property
    def connected(self) -> bool:
        return self.state is ConnectionState.CONNECTED
