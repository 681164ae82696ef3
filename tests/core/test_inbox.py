"""kck.inbox: the per-call Inbox and Flag answer as asyncio.Queue and asyncio.Event did, for the
operations the AGI session and the waiting loop use (issue 20, point 1 replaced them)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kck.inbox import Flag, Inbox


async def _script(box: Any) -> list[Any]:
    """One sequence of operations; the same answers are expected of Queue and Inbox."""
    seen: list[Any] = [box.empty(), box.qsize()]
    with pytest.raises(asyncio.QueueEmpty):
        box.get_nowait()
    box.put_nowait("a")
    box.put_nowait("b")
    seen += [box.empty(), box.qsize(), box.get_nowait(), await box.get()]
    getter = asyncio.ensure_future(box.get())
    await asyncio.sleep(0)
    seen.append(getter.done())
    box.put_nowait("c")
    seen.append(await getter)
    # a get cancelled while waiting takes nothing: the next item goes to the next get
    cancelled = asyncio.ensure_future(box.get())
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    box.put_nowait("d")
    seen += [box.qsize(), await box.get(), box.empty()]
    return seen


async def test_inbox_answers_as_asyncio_queue() -> None:
    expected = await _script(asyncio.Queue())
    assert await _script(Inbox()) == expected
    assert expected == [True, 0, False, 2, "a", "b", False, "c", 1, "d", True]


async def test_flag_answers_as_a_never_cleared_asyncio_event() -> None:
    async def script(flag: Any) -> list[Any]:
        seen: list[Any] = [flag.is_set()]
        waiters = [asyncio.ensure_future(flag.wait()) for _ in range(3)]
        cancelled = asyncio.ensure_future(flag.wait())
        await asyncio.sleep(0)
        cancelled.cancel()
        seen.append(any(w.done() for w in waiters))
        flag.set()
        flag.set()
        await asyncio.gather(*waiters)
        seen += [flag.is_set(), cancelled.cancelled()]
        await asyncio.wait_for(flag.wait(), 1)  # set: returns at once
        return seen

    assert await script(Flag()) == await script(asyncio.Event()) == [False, False, True, True]
