"""The metric definitions, periods, rules file and SVG charts, with plain values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from agentdesk.reports.metrics import (
    CallFacts,
    CountingRules,
    ServiceLevelTarget,
    StateRecord,
    occupancy_pct,
    state_intervals,
    summarize,
    wait_distribution,
    wrap_up_seconds,
)
from agentdesk.reports.periods import PeriodError, days, hours, parse_range
from agentdesk.reports.rules import CountingRulesError, load_counting_rules
from agentdesk.reports.svg_charts import Series, bar_chart, line_chart
from tests.board.simulated_day import WARSAW

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = CountingRules(ServiceLevelTarget(80, 20), short_abandon_s=5)


def call(name: str, wait: float | None, fate: str, talk: float = 60, wrap: float = 0) -> CallFacts:
    queued = T0
    if fate == "answered" and wait is not None:
        answered = queued + timedelta(seconds=wait)
        return CallFacts(
            name,
            T0,
            "q",
            queued,
            answered,
            answered + timedelta(seconds=talk),
            "answered",
            None,
            None,
            wrap,
        )
    if fate == "waiting":
        return CallFacts(name, T0, "q", queued)
    assert wait is not None
    return CallFacts(name, T0, "q", queued, None, queued + timedelta(seconds=wait), fate)


def test_caller_who_hangs_up_while_waiting_is_counted_abandoned() -> None:
    summary = summarize([call("a", 30, "abandoned")], RULES)
    assert (summary.offered, summary.abandoned, summary.answered) == (1, 1, 0)
    assert summary.abandon_rate_pct == 100.0


def test_short_abandons_are_left_out_of_service_level_and_abandon_rate() -> None:
    summary = summarize(
        [call("a", 10, "answered"), call("b", 2, "abandoned"), call("c", 60, "abandoned")], RULES
    )
    assert summary.short_abandoned == 1
    assert summary.service_level_pct == 50.0  # 1 in time of 2 decided
    assert summary.abandon_rate_pct == 50.0


def test_calls_still_waiting_are_not_yet_counted_in_service_level() -> None:
    summary = summarize(
        [call("a", 5, "answered"), call("w", None, "waiting")],
        RULES,
        now=T0 + timedelta(seconds=75),
    )
    assert summary.service_level_pct == 100.0
    assert (summary.waiting, summary.longest_wait_s) == (1, 75.0)


def test_answer_exactly_at_the_target_counts_as_in_time() -> None:
    assert summarize([call("a", 20, "answered")], RULES).service_level_pct == 100.0
    assert summarize([call("a", 20.001, "answered")], RULES).service_level_pct == 0.0


def test_callback_after_long_wait_is_offered_but_left_out_of_service_level() -> None:
    summary = summarize([call("a", 400, "callback"), call("b", 30, "answered")], RULES)
    assert (summary.offered, summary.answered, summary.abandoned) == (2, 1, 0)
    assert summary.service_level_pct == 0.0  # the late answer only; the callback is diverted
    assert summary.abandon_rate_pct == 0.0


def test_handle_time_is_talk_plus_wrap_up() -> None:
    summary = summarize(
        [call("a", 5, "answered", talk=100, wrap=20), call("b", 5, "answered", talk=50, wrap=10)],
        RULES,
    )
    assert summary.aht_s == 90.0


def test_nothing_to_count_gives_no_percentage_rather_than_zero() -> None:
    summary = summarize([], RULES)
    assert summary.service_level_pct is None and summary.fcr_pct is None and summary.asa_s is None
    assert not summary.below_target


def test_occupancy_counts_talk_and_wrap_up_against_staffed_time_only() -> None:
    records = [
        StateRecord("a", "available", T0),
        StateRecord("a", "on_call", T0 + timedelta(minutes=30)),
        StateRecord("a", "wrap_up", T0 + timedelta(minutes=40), call_id="c1"),
        StateRecord("a", "paused", T0 + timedelta(minutes=50), reason="break"),
        StateRecord("a", "available", T0 + timedelta(minutes=80)),
    ]
    intervals = state_intervals(records, T0, T0 + timedelta(minutes=90))
    assert occupancy_pct(intervals) == pytest.approx(
        100 * 20 / 60
    )  # 30 + 10 available, 10 + 10 busy
    assert wrap_up_seconds(records) == {"c1": 600.0}


def test_state_in_force_before_the_window_counts_from_its_start() -> None:
    records = [StateRecord("a", "on_call", T0 - timedelta(hours=1))]
    intervals = state_intervals(records, T0, T0 + timedelta(minutes=10))
    assert [(i.state, i.seconds) for i in intervals] == [("on_call", 600.0)]


def test_wait_distribution_bins() -> None:
    waits = wait_distribution(
        [call("a", 5, "answered"), call("b", 25, "answered"), call("c", 400, "abandoned")]
    )
    assert waits["answered"] == [1, 0, 1, 0, 0, 0, 0]
    assert waits["abandoned"] == [0, 0, 0, 0, 0, 0, 1]


def test_spring_dst_day_has_23_hours_and_autumn_25() -> None:
    assert len(hours(date(2026, 3, 29), date(2026, 3, 29), WARSAW)) == 23
    autumn = hours(date(2026, 10, 25), date(2026, 10, 25), WARSAW)
    assert len(autumn) == 25
    assert [p.label[11:] for p in autumn[1:4]] == ["01:00 CEST", "02:00 CEST", "02:00 CET"]
    day = days(date(2026, 10, 25), date(2026, 10, 25), WARSAW)[0]
    assert (day.end - day.start) == timedelta(hours=25)


def test_report_range_errors_name_the_field() -> None:
    with pytest.raises(PeriodError, match="'from'"):
        parse_range("24.11.2026", None, date(2026, 11, 24))
    with pytest.raises(PeriodError, match="'to'"):
        parse_range("2026-11-24", "2026-11-01", date(2026, 11, 24))
    assert parse_range(None, None, date(2026, 11, 24)) == (date(2026, 11, 24), date(2026, 11, 24))


def test_rules_file_gives_per_queue_targets_and_errors_name_the_field(tmp_path: Path) -> None:
    good = tmp_path / "queues.yaml"
    good.write_text(
        "short_abandon_s: 3\nqueues:\n  - id: social\n    name_pl: Pomoc\n    service_level: {target_pct: 90, within_s: 30}\n  - id: other\n",
        encoding="utf-8",
    )
    rules, names = load_counting_rules(good)
    assert rules.short_abandon_s == 3
    assert rules.target_for("social") == ServiceLevelTarget(90, 30)
    assert rules.target_for("other") == ServiceLevelTarget(80, 20)
    assert names.name("social") == "Pomoc" and names.ids == ["social", "other"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues:\n  - id: x\n    service_level: {target_pct: high}\n", encoding="utf-8")
    with pytest.raises(CountingRulesError, match=r"queues\[0\]\.service_level\.target_pct"):
        load_counting_rules(bad)


def test_charts_are_well_formed_svg_with_escaped_text() -> None:
    bars = bar_chart(
        "Calls <&>",
        ["08:00", "09:00"],
        [Series("a&b", [3, 5]), Series("c", [1, None])],
        stacked=True,
    )
    line = line_chart(
        "SL",
        ["08:00", "09:00", "10:00"],
        Series("SL", [90.0, None, 70.0]),
        target=80,
        top=100,
        unit="%",
    )
    for svg in (bars, line):
        root = ElementTree.fromstring(svg)
        assert root.tag.endswith("svg")
    assert "Calls &lt;&amp;&gt;" in bars
    assert len(ElementTree.fromstring(bars).findall(".//{http://www.w3.org/2000/svg}rect")) >= 3
    assert 'class="target"' in line
