"""The simulator runs the hotline exactly as the shipped extensions.conf is written: every Newexten
it sends names the application at that priority of the rendered dialplan."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from asterisk.pbxconfig import AgentPhone, AsteriskConfigInputs, render_asterisk_config
from demo.simulator import CallerScript, CallResult, PBXSimulator, PhoneBehaviour, PhoneMode

from .agi_script_server import ScriptedAGIServer

SPEED = 50.0


def hotline_priorities(extensions_conf: str, exten: str = "126165555") -> dict[int, str]:
    """priority -> application of `exten` in [kck-inbound] (only `1` and `n` priorities)."""
    apps: dict[int, str] = {}
    in_context = False
    priority = 0
    for line in extensions_conf.splitlines():
        line = line.split(";", 1)[0].rstrip() if not line.lstrip().startswith("same") else line
        if line.startswith("["):
            in_context = line.startswith("[kck-inbound]")
            continue
        if not in_context:
            continue
        m = re.match(rf"exten => {exten},1,(\w+)\(", line) or re.match(
            r"\s*same => n(?:\(\w+\))?,(\w+)\(", line
        )
        if m:
            priority = 1 if line.startswith("exten") else priority + 1
            apps[priority] = m.group(1)
    return apps


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("controller_finishes", CallResult.ENDED_BY_CONTROLLER),
        ("all_controllers_down", CallResult.FALLBACK_QUEUE),
        ("route_failed", CallResult.FALLBACK_QUEUE),
    ],
)
async def test_simulated_dialplan_follows_the_rendered_extensions_conf(
    tmp_path: Path, scenario: str, expected: CallResult
) -> None:
    steps: list[str | tuple[str, float]] = (
        ["ANSWER", "SET VARIABLE KCK_DONE 1"]
        if scenario == "controller_finishes"
        else ["ANSWER", 'SET VARIABLE KCK_AGI_FAILURE "RuntimeError"']
    )
    server = ScriptedAGIServer(steps, SPEED, linger=0.1)
    await server.start()
    down = "agi://127.0.0.1:9/ivr"
    urls = {
        "controller_finishes": (down, server.url),
        "all_controllers_down": (down, down),
        "route_failed": (server.url, down),
    }[scenario]
    render_asterisk_config(
        AsteriskConfigInputs(
            ami_secret="s3cret-s3cret-s3cret",
            agi_urls=urls,
            agents=(AgentPhone("101", "Anna", "pass-101-xyz"),),
        ),
        tmp_path,
    )
    dialplan = hotline_priorities((tmp_path / "extensions.conf").read_text())
    pbx = PBXSimulator(agi_url=list(urls), speed=SPEED, fallback_ring_seconds=5)
    newexten: list[tuple[int, str]] = []
    pbx.subscribe(
        lambda name, _p, h: (
            newexten.append((int(dict(h)["Priority"]), dict(h)["Application"]))
            if name == "Newexten" and dict(h)["Channel"].startswith("PJSIP/sipp")
            else None
        )
    )
    await pbx.start()
    pbx.add_phone("101", PhoneBehaviour(PhoneMode.ANSWER, answer_after=1.0, talk_for=1.0))
    try:
        outcome = await asyncio.wait_for(pbx.place_call(CallerScript()), 20)
    finally:
        await pbx.stop()
        await server.stop()
    assert outcome.result is expected
    assert newexten, "the simulator sent Newexten events"
    for priority, application in newexten:
        assert dialplan[priority] == application, (priority, application, dialplan)
    if expected is CallResult.FALLBACK_QUEUE:
        # answered by 101: after the bridged call Queue() returns -1 and the channel is hung up
        # at the Queue priority, without running Hangup() (as in ami-session.jsonl)
        assert newexten[-1][1] == "Queue"
