"""Prometheus collectors for the AMI client and the FastAGI server (read on each scrape;
`kck.metrics.collector_text` writes them out)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from asterisk.agi import FastAGIServer
from asterisk.ami import AMIClient, ConnectionState


class AMICollector(Collector):
    """``registry.register(AMICollector(client))``; nothing global, nothing cached."""

    def __init__(self, client: AMIClient) -> None:
        self._client = client

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        h = self._client.health()
        state = GaugeMetricFamily(
            "kck_ami_state", "AMI connection state (1 for the current one)", labels=["state"]
        )
        for candidate in ConnectionState:
            state.add_metric([candidate.value], 1.0 if candidate is h.state else 0.0)
        yield state
        yield GaugeMetricFamily("kck_ami_connected", "1 when logged in", value=h.connected)
        if h.last_event_age_s is not None:
            yield GaugeMetricFamily(
                "kck_ami_last_event_age_seconds",
                "Seconds since the last AMI event",
                value=h.last_event_age_s,
            )
        if h.ping_rtt_s is not None:
            yield GaugeMetricFamily(
                "kck_ami_ping_rtt_seconds", "Round trip of the last Ping", value=h.ping_rtt_s
            )
        yield CounterMetricFamily(
            "kck_ami_resyncs", "Resynchronisations after login", value=h.resync_count
        )
        yield CounterMetricFamily(
            "kck_ami_reconnects", "Logins after a lost connection", value=h.reconnect_count
        )
        yield CounterMetricFamily(
            "kck_ami_frames_rejected", "Oversized AMI messages dropped", value=h.frames_rejected
        )
        yield GaugeMetricFamily(
            "kck_ami_pending_actions", "Actions awaiting an answer", value=h.pending_actions
        )
        yield GaugeMetricFamily(
            "kck_ami_pending_events", "Events waiting for handlers", value=h.pending_events
        )


class FastAGICollector(Collector):
    def __init__(self, server: FastAGIServer) -> None:
        self._server = server

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        server = self._server
        yield GaugeMetricFamily(
            "kck_fastagi_active_sessions",
            "FastAGI calls in progress",
            value=server.active_sessions,
        )
        yield CounterMetricFamily(
            "kck_fastagi_sessions", "FastAGI sessions started", value=server.sessions_started
        )
        yield CounterMetricFamily(
            "kck_fastagi_connections_rejected",
            "Connections from peers not allowed",
            value=server.connections_rejected,
        )
