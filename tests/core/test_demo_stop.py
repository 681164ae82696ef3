"""Stopping `kck demo` as a person does: Ctrl-C at any moment after it printed its accounts ends
it (it hung for good when the Ctrl-C came about a second after them), a second Ctrl-C ends it at
once, and neither that nor `kill -9` leaves its private redis-server running."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.core.demo_process import (
    START_BOUND_S,
    STOP_BOUND_S,
    running_demo,
    until_no_redis_under,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(START_BOUND_S + STOP_BOUND_S + 30)]


# When the person presses Ctrl-C, in seconds after the accounts are printed: the moment of the
# signal is what is tested (in the first seconds the knowledge base is still being loaded and
# seeded, the simulator places its first calls, the AMI client resynchronises).
@pytest.mark.parametrize("after_s", [0.0, 1.0, 3.0])
async def test_ctrl_c_soon_after_the_accounts_stops_the_demo_and_its_redis(
    tmp_path: Path, after_s: float
) -> None:
    async with running_demo(tmp_path) as demo:
        assert demo.redis_servers(), "the demo runs no private redis-server under its folder"
        await asyncio.sleep(after_s)
        demo.process.send_signal(signal.SIGINT)
        assert await demo.exit_code() == 0, demo.log_text()
        assert demo.redis_servers() == []


async def test_a_second_ctrl_c_stops_the_demo_at_once(tmp_path: Path) -> None:
    async with running_demo(tmp_path) as demo:
        demo.process.send_signal(signal.SIGINT)
        await demo.wait_for_log("press Ctrl-C again to stop at once")
        demo.process.send_signal(signal.SIGINT)
        assert await demo.exit_code() == 128 + signal.SIGINT
        assert any("stopping at once" in line for line in demo.log)
        await until_no_redis_under(tmp_path)


@pytest.mark.timeout(2 * START_BOUND_S + 60)
async def test_kill_9_of_the_demo_leaves_no_redis_server_and_the_next_demo_starts(
    tmp_path: Path,
) -> None:
    async with running_demo(tmp_path) as demo:
        killed = demo.redis_servers()
        assert killed
        demo.process.kill()
        assert await demo.exit_code() == -signal.SIGKILL
        await until_no_redis_under(tmp_path)
    async with running_demo(tmp_path) as again:
        assert again.redis_servers() and not set(again.redis_servers()) & set(killed)
