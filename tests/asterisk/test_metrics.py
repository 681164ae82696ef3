"""Prometheus output of the AMI and FastAGI collectors, read from live objects."""

from __future__ import annotations

import random

from prometheus_client import CollectorRegistry, generate_latest

from asterisk.agi import FastAGIServer
from asterisk.ami import AMIClient, ExponentialBackoff
from asterisk.metrics import AMICollector, FastAGICollector
from tests.asterisk.ami_peer import ScriptedAMIPeer


async def test_ami_and_fastagi_metrics_follow_the_live_state() -> None:
    peer = ScriptedAMIPeer()
    await peer.start()
    client = AMIClient(
        host="127.0.0.1",
        port=peer.port,
        username="kck",
        secret="kcksecret",
        backoff=ExponentialBackoff(rng=random.Random(1)),
    )
    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    registry = CollectorRegistry()
    registry.register(AMICollector(client))
    registry.register(FastAGICollector(server))
    before = generate_latest(registry).decode()
    assert 'kck_ami_state{state="idle"} 1.0' in before
    assert "kck_ami_connected 0.0" in before
    await client.connect()
    try:
        await client.wait_connected(5)
        after = generate_latest(registry).decode()
    finally:
        await client.close()
        await peer.stop()
    assert 'kck_ami_state{state="connected"} 1.0' in after
    assert "kck_ami_connected 1.0" in after
    assert "kck_ami_last_event_age_seconds" in after  # FullyBooted arrived after login
    assert "kck_fastagi_active_sessions 0.0" in after
    assert "kck_ami_reconnects_total 0.0" in after
