"""Every AGIChannel command tells a hang-up the same way, however it awaits the session.

The commands of every call (play, read with a prompt, set a variable) await the session
directly and the others through `_do` (issue 20 point 2): both kinds must raise the port's
`CallerHungUp` when the caller is already gone (sending nothing) and when the session's own
hang-up error comes back from the command.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ivr.agi_channel import AGIChannel
from ivr.channel import CallerHungUp, RenderedPrompt
from kck.phone import TrunkDial
from tests.ivr.agi_double import PeerHungUp, ScriptedAGISession

PROMPT = RenderedPrompt(prompt_id="welcome", language="pl", sound="pl/welcome", text="Dzień dobry")


class HangsUpOnEveryCommand(ScriptedAGISession):
    """res_agi refuses SET VARIABLE on no channel at all (the double allows it on a dead one)."""

    async def set_variable(self, name: str, value: str) -> None:
        self._cmd(f'SET VARIABLE {name} "{value}"')


Command = Callable[[AGIChannel], Awaitable[Any]]
COMMANDS: dict[str, Command] = {
    "answer": lambda c: c.answer(),
    "play": lambda c: c.play(PROMPT, interruptible=True),
    "read_keys with a prompt": lambda c: c.read_keys(PROMPT, timeout_s=4, max_digits=1),
    "read_keys without": lambda c: c.read_keys(None, timeout_s=4, max_digits=1),
    "set_variable": lambda c: c.set_variable("KCK_QUEUE", "city_issues"),
    "dial": lambda c: c.dial("+48126165555", timeout_s=30),
    "music": lambda c: c.music(True),
}


def _channel(session: ScriptedAGISession, tmp_path: Path) -> AGIChannel:
    return AGIChannel(
        session,
        sounds_dir=tmp_path / "sounds",
        recordings_dir=tmp_path / "rec",
        dial=TrunkDial(),
        hangup_errors=(PeerHungUp,),
    )


@pytest.mark.parametrize("name", list(COMMANDS))
async def test_a_command_to_a_caller_already_gone_sends_nothing_and_says_hung_up(
    name: str, tmp_path: Path
) -> None:
    session = HangsUpOnEveryCommand(["1"])
    session.hung_up = True
    with pytest.raises(CallerHungUp):
        await COMMANDS[name](_channel(session, tmp_path))
    assert session.commands == []


@pytest.mark.parametrize("name", list(COMMANDS))
async def test_a_hang_up_during_a_command_is_the_ports_hang_up(name: str, tmp_path: Path) -> None:
    session = HangsUpOnEveryCommand(["1"], hang_up_after=1)
    with pytest.raises(CallerHungUp) as raised:
        await COMMANDS[name](_channel(session, tmp_path))
    assert isinstance(raised.value.__cause__, PeerHungUp)
    assert len(session.commands) == 1


async def test_commands_reach_the_session_as_before(tmp_path: Path) -> None:
    session = ScriptedAGISession(["7"])
    channel = _channel(session, tmp_path)
    assert await channel.play(PROMPT) is None
    keys = await channel.read_keys(PROMPT, timeout_s=4.5, max_digits=2)
    assert (keys.digits, keys.timed_out) == ("7", False)
    assert (await channel.read_keys(PROMPT, timeout_s=1, max_digits=1)).timed_out
    await channel.set_variable("KCK_PRIORITY", "0")
    sounds = tmp_path / "sounds"
    assert session.commands == [
        f'STREAM FILE {sounds}/pl/welcome ""',
        f"GET DATA {sounds}/pl/welcome 4500 2",
        f"GET DATA {sounds}/pl/welcome 1000 1",
        'SET VARIABLE KCK_PRIORITY "0"',
    ]
