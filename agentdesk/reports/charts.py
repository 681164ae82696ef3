"""The report's three charts (calls per hour, service level per hour, waiting times) as SVG."""

from __future__ import annotations

from agentdesk.i18n import translate
from agentdesk.reports.metrics import wait_bin_labels
from agentdesk.reports.report import Report
from agentdesk.reports.svg_charts import PALETTE, Series, bar_chart, line_chart

CHART_NAMES = ("calls_per_hour", "service_level_per_hour", "waits")


def _hour_labels(report: Report) -> list[str]:
    """One day: "08:00" (with the zone on the DST day, where an hour repeats); several: full labels."""
    labels = [row.period.label for row in report.hourly]
    if report.first != report.last:
        return [label[5:] for label in labels]  # "10-25 02:00 CET"
    short = [label[11:16] for label in labels]
    if len(set(short)) != len(short) or len(short) != 24:
        return [label[11:] for label in labels]
    return short


def render_chart(report: Report, name: str, language: str = "pl") -> str | None:
    """The SVG of chart `name` (one of CHART_NAMES) in `language`, or None for an unknown name."""

    def say(key: str, **params: object) -> str:
        return translate(language, f"chart.{key}", **params)

    labels = _hour_labels(report)
    span = report.first.isoformat() + (
        "" if report.first == report.last else f" – {report.last.isoformat()}"
    )
    if name == "calls_per_hour":
        return bar_chart(
            say("calls_per_hour", span=span),
            labels,
            [
                Series(say("answered"), [r.summary.answered for r in report.hourly], PALETTE[0]),
                Series(
                    say("abandoned"),
                    [r.summary.abandoned for r in report.hourly],
                    PALETTE[1],
                ),
                Series(
                    say("other"),
                    [
                        r.summary.offered - r.summary.answered - r.summary.abandoned
                        for r in report.hourly
                    ],
                    "#999999",
                ),
            ],
            stacked=True,
        )
    if name == "service_level_per_hour":
        return line_chart(
            say("service_level_per_hour", span=span),
            labels,
            Series("SL %", [r.summary.service_level_pct for r in report.hourly], PALETTE[2]),
            target=report.total.target.target_pct,
            target_name=say("target", within=f"{report.total.target.within_s:g}"),
            top=100.0,
            unit="%",
        )
    if name == "waits":
        return bar_chart(
            say("waits", span=span),
            wait_bin_labels(),
            [
                Series(say("answered"), report.waits["answered"], PALETTE[0]),
                Series(say("abandoned"), report.waits["abandoned"], PALETTE[1]),
            ],
        )
    return None
