"""The ids on a call's log lines (`kck.logs.call_context`): ours and Asterisk's, on every line."""

from __future__ import annotations

import asyncio
import json
import logging

from kck.logs import CallIdsFilter, JSONFormatter, PlainFormatter, call_context
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
