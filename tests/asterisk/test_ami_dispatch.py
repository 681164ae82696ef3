"""Per-call ordered dispatch of AMI events, without a socket."""

from __future__ import annotations

import asyncio
import contextlib

from asterisk.ami import CallOrderedDispatcher, lane_key, parse_message
from asterisk.ami.events import AMIEvent, parse_event
from kck.stopping import TASK_STOP_S


def ev(text: str) -> AMIEvent:
    return parse_event(parse_message(text.replace("|", "\r\n")))


def test_lanes_are_the_call_then_the_device_then_the_system() -> None:
    assert lane_key(ev("Event: Newchannel|Uniqueid: 1.2|Linkedid: 1.1")) == "call:1.1"
    assert lane_key(ev("Event: Newchannel|Uniqueid: 1.2")) == "call:1.2"
    assert lane_key(ev("Event: DeviceStateChange|Device: PJSIP/a|State: INUSE")) == "device:PJSIP/a"
    assert lane_key(ev("Event: FullyBooted|Status: Fully Booted")) == "system"


async def test_finished_calls_leave_no_lane_behind() -> None:
    dispatcher = CallOrderedDispatcher()
    handled: list[str] = []

    async def handler(event: AMIEvent) -> None:
        await asyncio.sleep(0)
        handled.append(event.uniqueid or "")

    dispatcher.add_handler(handler)
    for call in range(200):
        dispatcher.submit(ev(f"Event: Hangup|Uniqueid: {call}.1|Linkedid: {call}.1|Cause: 16"))
    assert dispatcher.active_lanes == 200
    await dispatcher.drain()
    assert dispatcher.active_lanes == 0
    assert dispatcher.pending == 0
    assert sorted(handled) == sorted(f"{c}.1" for c in range(200))
    await dispatcher.close()


async def test_handler_filters_by_class_or_name() -> None:
    dispatcher = CallOrderedDispatcher()
    by_name: list[str] = []
    dispatcher.add_handler(lambda e: by_name.append(e.name), "hangup", "DialEnd")
    dispatcher.submit(ev("Event: Hangup|Uniqueid: 1.1"))
    dispatcher.submit(ev("Event: DialEnd|Uniqueid: 1.1|DialStatus: ANSWER"))
    dispatcher.submit(ev("Event: Newchannel|Uniqueid: 1.1"))
    await dispatcher.drain()
    assert by_name == ["Hangup", "DialEnd"]
    await dispatcher.close()


async def test_events_no_handler_wants_open_no_lane() -> None:
    dispatcher = CallOrderedDispatcher()
    hangups: list[str] = []
    dispatcher.add_handler(lambda e: hangups.append(e.uniqueid or ""), "Hangup")
    for call in range(50):  # what Asterisk sends most of: variables set on every channel
        dispatcher.submit(ev(f"Event: VarSet|Uniqueid: {call}.1|Variable: X|Value: 1"))
    assert dispatcher.active_lanes == 0 and dispatcher.unwanted == 50
    dispatcher.submit(ev("Event: Hangup|Uniqueid: 7.1|Cause: 16"))
    await dispatcher.drain()
    assert hangups == ["7.1"] and dispatcher.unwanted == 50
    await dispatcher.close()


async def test_close_returns_although_a_handler_swallows_its_cancel() -> None:
    dispatcher = CallOrderedDispatcher()
    running = asyncio.Event()
    release = asyncio.Event()

    async def stubborn(event: AMIEvent) -> None:  # e.g. the router's Redis call
        running.set()
        with contextlib.suppress(asyncio.CancelledError):  # as redis-py can
            await release.wait()
        await release.wait()

    dispatcher.add_handler(stubborn)
    dispatcher.submit(ev("Event: Hangup|Uniqueid: 1.1|Linkedid: 1.1|Cause: 16"))
    await asyncio.wait_for(running.wait(), 5)
    closing = asyncio.create_task(dispatcher.close())
    await asyncio.wait({closing}, timeout=TASK_STOP_S + 5)
    returned = closing.done()
    release.set()  # lets a close that hung finish, so the failed test leaves nothing behind
    await closing
    assert returned and dispatcher.active_lanes == 0
