"""Runtime components for ``kck serve``: the AMI client and the FastAGI server, from settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asterisk.agi import FastAGIServer, Route
from asterisk.ami import AMIClient, ExponentialBackoff
from asterisk.metrics import AMICollector
from kck.metrics import collector_text
from kck.settings import AGISettings, AMISettings


def ami_client_from_settings(settings: AMISettings) -> AMIClient:
    return AMIClient(
        host=settings.host,
        port=settings.port,
        username=settings.username,
        secret=settings.secret.get_secret_value(),
        ping_interval=settings.ping_interval,
        ping_timeout=settings.ping_timeout,
        action_timeout=settings.action_timeout,
        backoff=ExponentialBackoff(),
    )


class AMIComponent:
    """Keeps the AMI connection up in the background; other parts use ``.client``
    (``add_event_handler``, ``add_reconciler``, actions)."""

    name = "ami"

    def __init__(self, client: AMIClient) -> None:
        self.client = client

    async def start(self) -> None:
        # Background mode: the controller must come up even while Asterisk restarts; the FastAGI
        # side and the dialplan fallback keep calls flowing meanwhile.
        self.client.start()

    async def stop(self) -> None:
        await self.client.close()

    async def metrics_text(self) -> str:
        """Prometheus text of the AMI connection (the web app's `/metrics` collects it)."""
        return collector_text(AMICollector(self.client))

    def health(self) -> dict[str, Any]:
        h = self.client.health()
        return {
            "up": h.connected,
            "state": h.state.value,
            "host": f"{h.host}:{h.port}",
            "last_event_age_s": h.last_event_age_s,
            "resync_count": h.resync_count,
            "reconnect_count": h.reconnect_count,
            "last_resync_age_s": h.last_resync_age_s,
            "last_disconnect_reason": h.last_disconnect_reason,
            "last_error": h.last_error,
            "pending_actions": h.pending_actions,
            "pending_events": h.pending_events,
            "frames_rejected": h.frames_rejected,
            "ping_rtt_s": h.ping_rtt_s,
        }


def fastagi_server_from_settings(
    settings: AGISettings, routes: Mapping[str, Route]
) -> FastAGIServer:
    server = FastAGIServer(
        host=settings.host,
        port=settings.port,
        allowed_clients=settings.allowed_clients,
        env_timeout=settings.env_timeout,
    )
    for path, route in routes.items():
        server.add_route(path, route)
    return server
