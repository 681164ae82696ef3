"""AMI `ControlPlayback` cuts short what the AGI plays, as on the real Asterisk 22.10.1.

Seen on the real one (December 2026): `Control: stop` on a channel whose AGI runs
`STREAM FILE` ends that command at once with `200 result=0 endpos=<where it stopped>`; in `WAIT
FOR DIGIT` (music on hold on or off) with `200 result=1000`; when nothing plays the stop is
dropped and the next command runs in full. The action is answered with a bare `Response:
Success` (`astman_send_ack(s, m, NULL)` in app_controlplayback.c, write class `call`), and with
`No such channel` for an unknown channel. The other controls follow the same source: `WAIT FOR
DIGIT` returns the frame's number (1000 stop … 1004 forward, channel.c), `STREAM FILE` hides
stop/pause/restart as a normal end (file.c `sanitize_waitstream_return`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from demo.simulator import AMIUser, CallerScript, PBXSimulator

from .agi_script_server import ScriptedAGIServer
from .ami_test_client import RawAMIClient, value

SPEED = 40.0
CONGRATS_SAMPLES = 242214  # demo-congrats as captured: 30.3 s


@dataclass
class Lab:
    pbx: PBXSimulator
    ami: RawAMIClient
    # simulated times of each command's AGIExecStart and AGIExecEnd
    starts: dict[str, list[float]] = field(default_factory=dict)
    ends: dict[str, list[float]] = field(default_factory=dict)
    answers: list[list[tuple[str, str]]] = field(default_factory=list)  # to ControlPlayback

    async def call(
        self,
        steps: list[str | tuple[str, float]],
        *,
        stop_during: str | None = None,
        after: float = 2.0,
        control: str = "stop",
    ) -> tuple[list[str], float | None]:
        """Run an AGI script on a call; `after` simulated seconds into the first command that
        starts with `stop_during`, send ControlPlayback with `control`. Returns the replies to
        the script's commands and the simulated time the action was answered."""
        sent: dict[str, asyncio.Event] = {}

        def on_send(line: str) -> None:
            sent.setdefault(line, asyncio.Event()).set()

        # KCK_DONE: the dialplan hangs up instead of taking the caller to the fallback queue
        script = [*steps, "SET VARIABLE KCK_DONE 1"]
        server = ScriptedAGIServer(script, SPEED, linger=0.2, on_send=on_send)
        await server.start()
        self.pbx.set_agi_urls(server.url)
        call = self.pbx.place_call(CallerScript(number="+48600100201"))
        answered_at = None
        if stop_during is not None:
            trigger = next(s for s in steps if isinstance(s, str) and s.startswith(stop_during))
            await asyncio.wait_for(sent.setdefault(trigger, asyncio.Event()).wait(), 10)
            await self.pbx.clock.sleep(after)
            answered_at = await self.control(call.channel.name, control)
        await asyncio.wait_for(call, 20)
        await server.stop()
        replies = server.sessions[0].replies
        commands = sum(isinstance(step, str) for step in steps)
        return [replies[i][0] for i in sorted(replies)][:commands], answered_at

    async def control(self, channel: str, control: str = "stop") -> float:
        await self.ami.send(
            ("Action", "ControlPlayback"),
            ("ActionID", "cp"),
            ("Channel", channel),
            ("Control", control),
        )
        got = await self.ami.read_until(lambda m: value(m, "ActionID") == "cp")
        self.answers.append(got[-1])
        return self.pbx.clock.now()

    def span(self, command: str) -> float:
        """Simulated seconds the command ran."""
        return self.ends[command][0] - self.starts[command][0]


@pytest.fixture
async def lab() -> AsyncIterator[Lab]:
    pbx = PBXSimulator(
        speed=SPEED,
        users={
            "kck": "kcksecret",
            "reader": AMIUser("readersecret", write=frozenset({"system"})),
        },
    )
    await pbx.start()
    ami = await RawAMIClient.connect(pbx.ami_port)
    await ami.login()
    world = Lab(pbx, ami)

    def on_event(name: str, _: str, headers: list[tuple[str, str]]) -> None:
        if name in ("AGIExecStart", "AGIExecEnd"):
            times = world.starts if name == "AGIExecStart" else world.ends
            times.setdefault(dict(headers)["Command"], []).append(pbx.clock.now())

    pbx.subscribe(on_event)
    yield world
    await ami.close()
    await pbx.stop()


def endpos(reply: str) -> int:
    return int(reply.rsplit("endpos=", 1)[1])


async def test_stop_ends_a_stream_file_at_once_with_result_0_and_where_it_stopped(
    lab: Lab,
) -> None:
    replies, stopped_at = await lab.call(
        ["ANSWER", 'STREAM FILE demo-congrats ""', "NOOP"], stop_during="STREAM FILE", after=2.0
    )
    assert lab.answers == [[("Response", "Success"), ("ActionID", "cp")]]
    assert replies[1].startswith("200 result=0 endpos=")
    assert 8000 <= endpos(replies[1]) < CONGRATS_SAMPLES // 4  # ~2 s of 30 s
    assert stopped_at is not None
    assert lab.ends['STREAM FILE demo-congrats ""'][0] - stopped_at < 0.5
    assert replies[2] == "200 result=0\n"


async def test_stop_ends_wait_for_digit_with_result_1000_while_music_plays(lab: Lab) -> None:
    replies, stopped_at = await lab.call(
        ["ANSWER", "SET MUSIC ON default", "WAIT FOR DIGIT 20000", "SET MUSIC OFF"],
        stop_during="WAIT FOR DIGIT",
        after=1.0,
    )
    assert replies == ["200 result=0\n", "200 result=0\n", "200 result=1000\n", "200 result=0\n"]
    assert stopped_at is not None
    assert lab.ends["WAIT FOR DIGIT 20000"][0] - stopped_at < 0.5


async def test_stop_while_nothing_plays_is_dropped(lab: Lab) -> None:
    replies, stopped_at = await lab.call(
        ["ANSWER", ("idle", 2.0), "WAIT FOR DIGIT 3000", 'STREAM FILE demo-thanks ""'],
        stop_during="ANSWER",
        after=0.5,
    )
    assert replies == ["200 result=0\n", "200 result=0\n", "200 result=0 endpos=44140\n"]
    assert stopped_at is not None
    assert lab.ends["WAIT FOR DIGIT 3000"][0] - stopped_at > 3.0  # the wait ran in full


@pytest.mark.parametrize(
    ("control", "result"),
    [("stop", 1000), ("pause", 1001), ("restart", 1002), ("reverse", 1003), ("forward", 1004)],
)
async def test_wait_for_digit_returns_the_control_frame_number(
    lab: Lab, control: str, result: int
) -> None:
    replies, _ = await lab.call(
        ["WAIT FOR DIGIT 20000"], stop_during="WAIT FOR DIGIT", after=0.5, control=control
    )
    assert replies == [f"200 result={result}\n"]


async def test_forward_skips_three_seconds_of_a_stream_file_and_it_plays_on(lab: Lab) -> None:
    replies, _ = await lab.call(
        ['STREAM FILE demo-thanks ""'], stop_during="STREAM FILE", after=1.0, control="forward"
    )
    assert replies == ["200 result=0 endpos=44140\n"]
    assert lab.span('STREAM FILE demo-thanks ""') < 44140 / 8000 - 2.0  # 5.5 s, 3 s skipped


async def test_stop_ends_the_prompt_of_get_data_and_the_digits_are_still_awaited(
    lab: Lab,
) -> None:
    replies, _ = await lab.call(
        ["GET DATA demo-congrats 1000 4"], stop_during="GET DATA", after=1.0
    )
    assert replies == ["200 result= (timeout)\n"]
    # 1 s of the 30 s prompt, then the 1 s wait for a digit: far from the whole prompt (the
    # bound leaves room for a loaded machine; what is checked is that the prompt was cut)
    assert lab.span("GET DATA demo-congrats 1000 4") < 15.0


async def test_an_unknown_control_is_refused_and_changes_nothing(lab: Lab) -> None:
    replies, _ = await lab.call(["WAIT FOR DIGIT 2000"], stop_during="WAIT", control="rewind")
    assert lab.answers == [
        [("Response", "Error"), ("ActionID", "cp"), ("Message", "Unknown control type")]
    ]
    assert replies == ["200 result=0\n"]


async def test_control_playback_is_refused_like_asterisk(lab: Lab) -> None:
    async def answer(*headers: tuple[str, str], ami: RawAMIClient = lab.ami) -> list[str | None]:
        await ami.send(("Action", "ControlPlayback"), ("ActionID", "e"), *headers)
        got = await ami.read_until(lambda m: value(m, "ActionID") == "e")
        return [value(got[-1], "Response"), value(got[-1], "Message")]

    assert await answer(("Channel", "PJSIP/nobody-00000099"), ("Control", "stop")) == [
        "Error",
        "No such channel",
    ]
    assert await answer(("Control", "stop")) == ["Error", "Channel not specified"]
    assert await answer(("Channel", "PJSIP/nobody-00000099")) == ["Error", "Control not specified"]
    reader = await RawAMIClient.connect(lab.pbx.ami_port)
    await reader.login("reader", "readersecret")
    try:
        refused = await answer(("Channel", "PJSIP/x"), ("Control", "stop"), ami=reader)
    finally:
        await reader.close()
    assert refused == ["Error", "Permission denied"]
