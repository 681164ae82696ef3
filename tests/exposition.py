"""Reading Prometheus text in tests by series, not by how a line happens to be written (label
order, `1` or `1.0`)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of series `name{labels}` in the exposition `text`; None when it is not there."""
    for family in text_string_to_metric_families(text):
        for series in family.samples:
            if series.name == name and series.labels == labels:
                return float(series.value)
    return None
