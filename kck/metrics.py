"""Prometheus text of collectors read at scrape time, through a registry of their own.

Nothing process-global: no default registry, no metric objects at module level. A component's
`metrics_text()` reads what it reports (Redis, live objects), hands it to collectors that yield
metric families (`prometheus_client.core.GaugeMetricFamily`…), and returns `collector_text(...)`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector


def collector_text(*collectors: Collector) -> str:
    """The Prometheus text exposition of `collectors`, through a private registry."""
    registry = CollectorRegistry(auto_describe=False)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry).decode()
