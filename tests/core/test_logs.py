"""The ids on a call's log lines (`kck.logs.call_context`): ours and Asterisk's, on every line."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import sys

import pytest

from kck.logs import (
    CallIdsFilter,
    JSONFormatter,
    PlainFormatter,
    RepeatedLinesFilter,
    call_context,
    configure_logging,
)
from tests.log_records import call_ids


def ids_now() -> tuple[object, object]:
    record = logging.makeLogRecord({"msg": "x"})
    CallIdsFilter().filter(record)
    return call_ids(record)


async def test_an_id_learnt_later_reaches_the_tasks_the_call_started_before() -> None:
    seen: list[tuple[object, object]] = []
    named = asyncio.Event()

    async def reader() -> None:  # as the AGI session's reader, started before the route runs
        await named.wait()
        seen.append(ids_now())

    with call_context(uniqueid="1795527000.1"):
        task = asyncio.create_task(reader())
        with call_context("c1", uniqueid="1795527000.1"):
            named.set()
            await task
        assert ids_now() == ("c1", "1795527000.1")  # the rest of the call keeps both
    assert seen == [("c1", "1795527000.1")]
    assert ids_now() == (None, None)


def test_another_calls_context_inside_is_its_own_and_ends_with_its_block() -> None:
    with call_context("c1", uniqueid="1795527000.1"):
        with call_context("c2"):
            assert ids_now() == ("c2", None)
        with call_context(uniqueid="1795527000.2"):
            assert ids_now() == (None, "1795527000.2")
        assert ids_now() == ("c1", "1795527000.1")


def test_a_failure_inside_a_context_goes_up_and_the_ids_end_with_the_block() -> None:
    with (
        pytest.raises(RuntimeError, match="step failed"),
        call_context("c1"),
        call_context("c1", uniqueid="1795527000.3"),  # the same call, named further
    ):
        raise RuntimeError("step failed")
    assert ids_now() == (None, None)


def test_plain_and_json_lines_name_both_ids() -> None:
    with call_context("c1", uniqueid="1795527000.1"):
        record = logging.makeLogRecord({"msg": "caller gone", "levelname": "INFO", "name": "t"})
        CallIdsFilter().filter(record)
    assert "t [call=c1 uniqueid=1795527000.1]: caller gone" in PlainFormatter().format(record)
    payload = json.loads(JSONFormatter().format(record))
    assert payload["call_id"] == "c1" and payload["uniqueid"] == "1795527000.1"
    with call_context(uniqueid="1795527000.2"):
        early = logging.makeLogRecord({"msg": "FastAGI ivr", "levelname": "INFO", "name": "t"})
        CallIdsFilter().filter(early)
    assert "t [uniqueid=1795527000.2]: FastAGI ivr" in PlainFormatter().format(early)
    assert "call_id" not in json.loads(JSONFormatter().format(early))


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def repeat_limited(
    stream: io.StringIO, clock: Ticks, formatter: logging.Formatter
) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RepeatedLinesFilter(30.0, clock=clock))
    logger = logging.getLogger(f"tests.repeat.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.handlers[:] = [handler]
    return logger


def test_a_failure_repeated_for_every_call_is_one_line_then_one_line_with_a_count() -> None:
    stream, clock = io.StringIO(), Ticks()
    logger = repeat_limited(stream, clock, PlainFormatter())

    def record_arrival(n: int) -> None:  # one call site, as in the IVR's call history
        try:
            raise ConnectionError("Error 111 connecting to redis")
        except ConnectionError:
            logger.exception("could not record arrival of call %s", f"c{n}")

    for n in range(1000):  # Redis away: the same failure for each call, each with its own id
        record_arrival(n)
        logger.info("call %s served", f"c{n}")  # INFO is never held back
    clock.now += 30.0
    record_arrival(1000)
    lines = stream.getvalue().splitlines()
    failures = [line for line in lines if "could not record" in line]
    assert len(failures) == 2
    assert "call c0" in failures[0] and "more like this" not in failures[0]
    assert failures[1].endswith("call c1000 [999 more like this in the last 30 s]")
    assert sum("Traceback" in line for line in lines) == 2  # a traceback with each line written
    assert sum("served" in line for line in lines) == 1000


def test_different_failures_are_each_written_and_json_carries_the_count() -> None:
    stream, clock = io.StringIO(), Ticks()
    logger = repeat_limited(stream, clock, JSONFormatter())

    def away(n: int) -> None:
        logger.warning("redis away: %s", "timeout")
        if n < 3:
            logger.error("database away: %s", "refused")

    for n in range(4):
        if n == 3:
            clock.now += 31.0
        away(n)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["message"] for r in records] == [
        "redis away: timeout",
        "database away: refused",
        "redis away: timeout",
    ]
    assert records[2]["repeated"] == 2 and records[2]["repeated_in_s"] == 31.0
    assert "repeated" not in records[0]


def test_kck_s_log_handler_rate_limits_repeated_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    configure_logging("INFO", repeat_interval_s=10.0)
    (ours,) = [h for h in root.handlers if getattr(h, "_kck", False)]
    (limit,) = [f for f in ours.filters if isinstance(f, RepeatedLinesFilter)]
    assert limit.interval_s == 10.0


def test_phone_numbers_never_reach_a_line_whole_ids_and_times_do() -> None:
    from kck.logs import mask_phone_numbers

    line = (
        "2026-12-07 10:00:01,123 INFO x [call=3f2a9b1234567c0de1f2a3b4c5d6e7f8 "
        "uniqueid=1795527000.17]: Dial(PJSIP/48600100200@kck-trunk) for +48600100200, "
        "national 600100200, took 12.5 s, ext 101, channel PJSIP/kck-trunk-00000012"
    )
    assert mask_phone_numbers(line) == (
        "2026-12-07 10:00:01,123 INFO x [call=3f2a9b1234567c0de1f2a3b4c5d6e7f8 "
        "uniqueid=1795527000.17]: Dial(PJSIP/***200@kck-trunk) for +***200, "
        "national ***200, took 12.5 s, ext 101, channel PJSIP/kck-trunk-00000012"
    )


def test_plain_and_json_lines_and_their_tracebacks_carry_no_callers_number() -> None:
    try:
        raise ValueError("INSERT failed [parameters: ('+48600100200', 'Anna')]")
    except ValueError:
        record = logging.makeLogRecord(
            {
                "msg": "arrival of %s refused",
                "args": ("+48600100200",),
                "levelname": "ERROR",
                "name": "t",
                "exc_info": sys.exc_info(),
            }
        )
    for line in (PlainFormatter().format(record), JSONFormatter().format(record)):
        assert "600100200" not in line and "+***200" in line
    assert "arrival of +***200 refused" in json.loads(JSONFormatter().format(record))["message"]
