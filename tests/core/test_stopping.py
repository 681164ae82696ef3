"""`stop_task`: a stop that a task swallowing its cancel can neither hang nor fool."""

from __future__ import annotations

import asyncio

import pytest

from kck.stopping import stop_task, stop_tasks
from tests.polling import until


class Stubborn:
    """A loop that swallows every cancel until released (or only the first, with `once`)."""

    def __init__(self, *, once: bool = False) -> None:
        self.once = once
        self.waiting = asyncio.Event()
        self.release = asyncio.Event()
        self.swallowed = 0

    async def run(self) -> None:
        while not self.release.is_set():
            try:
                self.waiting.set()
                await self.release.wait()
            except asyncio.CancelledError:
                if self.once and self.swallowed:
                    raise
                self.swallowed += 1  # as redis-py can when a cancel meets a read timeout


async def test_a_task_that_swallows_the_first_cancel_is_cancelled_again_and_ends() -> None:
    loop = Stubborn(once=True)
    task = asyncio.create_task(loop.run())
    await loop.waiting.wait()
    assert await stop_task(task, within=5.0, what="loop")
    assert task.cancelled() and loop.swallowed == 1


async def test_a_task_that_never_ends_is_left_behind_within_the_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stubborn = Stubborn()
    task = asyncio.create_task(stubborn.run())
    await stubborn.waiting.wait()
    clock = asyncio.get_running_loop()
    began = clock.time()
    ended = await stop_task(task, within=0.3, what="the stubborn loop")
    took = clock.time() - began
    stubborn.release.set()
    await task
    assert not ended and stubborn.swallowed >= 1
    assert "the stubborn loop did not stop within 0.3 s" in caplog.text
    assert took < 0.3 + 1.0  # the bound is the behaviour; generous slack


async def test_a_cancel_of_the_stopper_itself_is_not_swallowed() -> None:
    stubborn = Stubborn()
    task = asyncio.create_task(stubborn.run())
    await stubborn.waiting.wait()
    stopper = asyncio.create_task(stop_task(task, within=30.0, what="stubborn"))
    await until(lambda: stubborn.swallowed >= 1)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    stubborn.release.set()
    await task


async def test_stop_tasks_stops_them_together_and_says_whether_every_one_ended(
    caplog: pytest.LogCaptureFixture,
) -> None:
    polite = asyncio.create_task(asyncio.sleep(60), name="polite")
    swallows_once = Stubborn(once=True)
    stubborn = Stubborn()
    tasks = [
        polite,
        asyncio.create_task(swallows_once.run(), name="swallows once"),
        asyncio.create_task(stubborn.run(), name="never ends"),
    ]
    await swallows_once.waiting.wait()
    await stubborn.waiting.wait()
    clock = asyncio.get_running_loop()
    began = clock.time()
    ended = await stop_tasks(tasks, within=0.8, what="the group")
    took = clock.time() - began
    stubborn.release.set()
    await tasks[2]
    assert not ended and polite.cancelled() and tasks[1].cancelled()
    assert "the group (never ends) did not stop within 0.8 s" in caplog.text
    assert "polite" not in caplog.text and "swallows once" not in caplog.text
    assert took < 0.8 + 1.0  # at once, not one bound after the other
    assert await stop_tasks(tasks[:2], within=0.1, what="the ended ones")
