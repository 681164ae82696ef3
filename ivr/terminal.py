"""`kck ivr try`: one call in the terminal, through the same interpreter the FastAGI route runs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from ivr.channel import CallerHungUp, KeyInput, RenderedPrompt
from ivr.interpreter import CallInfo, CallResult, Interpreter
from ivr.loader import MenuSet
from ivr.memory_gateway import InMemoryQueueGateway
from ivr.scripted_channel import HANGUP, ScriptedChannel
from ivr.speech_port import installed_recogniser
from kck.clock import ManualClock
from queues.model import QueueOutcome


class TerminalChannel(ScriptedChannel):
    """Shows prompts as text; asks the person at the keyboard for keys when the script runs out."""

    def __init__(self, keys: Sequence[str] | None, out: TextIO) -> None:
        super().__init__(keys=list(keys or ()), on_event=lambda e: print(f"  · {e}", file=out))
        self.interactive = keys is None and sys.stdin.isatty()
        self.out = out

    def _hear(self, prompt: RenderedPrompt) -> None:
        self._check()
        self.heard.append(prompt)
        print(f"♪ [{prompt.prompt_id}] {prompt.text}", file=self.out)

    async def read_keys(
        self, prompt: RenderedPrompt | None, *, timeout_s: float, max_digits: int
    ) -> KeyInput:
        if not self.interactive or self._next < len(self.keys):
            return await super().read_keys(prompt, timeout_s=timeout_s, max_digits=max_digits)
        if prompt is not None:
            self._hear(prompt)
        question = f"  keys (up to {max_digits}; Enter = none for {timeout_s:g} s; h = hang up)> "
        entry = await asyncio.get_running_loop().run_in_executor(None, input, question)
        entry = entry.strip()
        if entry.lower() in ("h", HANGUP):
            self.hung_up = True
            raise CallerHungUp("hung up at the keyboard")
        return KeyInput(entry[:max_digits], not entry)


def describe(result: CallResult) -> list[str]:
    lines = [
        f"outcome: {result.outcome.value}  (menu {result.menu_version}, language {result.language})"
    ]
    if result.routing is not None:
        r = result.routing
        skills = ", ".join(f"{k} ≥ {v}" for k, v in r.skills.items()) or "any agent"
        lines.append(f"queue: {r.queue}  skills: {skills}  priority: {r.priority}")
        if r.ticket_category or r.kb_topic:
            lines.append(
                f"ticket category: {r.ticket_category or '-'}  KB topic: {r.kb_topic or '-'}"
            )
    if result.callback is not None:
        lines.append(f"callback to {result.callback.number}")
    if result.recording is not None:
        lines.append(f"message recorded: {result.recording.path}")
    if result.transfer is not None:
        lines.append(f"transferred to {result.transfer[0]}: {result.transfer[1].value}")
    if result.hung_up_at:
        lines.append(f"caller hung up in {result.hung_up_at}")
    lines.append(
        "path: "
        + " → ".join(s.step_id + (f"[{s.digits}]" if s.digits else "") for s in result.path)
    )
    if result.path_text:
        lines.append(f"agent sees: {result.path_text}")
    shown = {k: v for k, v in result.variables.items() if k != "language"}
    if shown:
        lines.append("variables: " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    if result.error is not None:
        lines.append(f"FAILED: {result.error}")
    return lines


async def run_try_call(
    menu: MenuSet,
    channel: ScriptedChannel,
    *,
    at: datetime,
    language: str | None = None,
    caller: str | None = "+48600100200",
    version: str = "working copy",
) -> CallResult:
    """One tried call through the FastAGI route's interpreter, at `at`, as `channel` answers:
    `kck ivr try` in the terminal and the menu editor's "try with keys" in the browser."""
    clock = ManualClock(at)
    gateway = InMemoryQueueGateway(answer_at_once=QueueOutcome.ANSWERED)
    interpreter = Interpreter(
        menu, version, gateway=gateway, clock=clock, speech=installed_recogniser()
    )
    return await interpreter.run(channel, CallInfo("try", "try", "Local/try", caller, at, language))


async def try_call(
    menu: MenuSet,
    *,
    at: datetime,
    keys: Sequence[str] | None,
    language: str | None = None,
    caller: str | None = "+48600100200",
    out: TextIO | None = None,
) -> int:
    stream = out or sys.stdout
    print(f"call at {at:%Y-%m-%d %H:%M %Z} from {caller or 'a withheld number'}", file=stream)
    channel = TerminalChannel(keys, stream)
    result = await run_try_call(menu, channel, at=at, language=language, caller=caller)
    print("—" * 60, file=stream)
    for line in describe(result):
        print(line, file=stream)
    return 1 if result.error is not None else 0
