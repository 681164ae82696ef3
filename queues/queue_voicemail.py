"""The queue's voicemail exit (`on_max_wait: voicemail`): the caller who waited too long leaves
a message where the IVR's voicemail step leaves one, `voicemail/<box>/<call_id>.wav` under the
recordings folder; the box is the call's primary skill (`general` without one), so the message
goes to the agents who would have taken the call (docs/desk.md, "Tasks for agents")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from asterisk.agi.session import AGISession
from queues.model import RoutingRequest
from queues.waiting import WaitingPrompts

DEFAULT_BOX = "general"
MAX_SECONDS = 120
# the menu's own prompts of the voicemail step (config/menus/prompts.yaml), built beside the
# waiting loop's by `kck prompts build`
PROMPT, DONE_PROMPT = "voicemail", "voicemail_done"


class QueueVoicemail:
    """`queues.waiting.Voicemail`: plays the menu's voicemail prompt, records, thanks."""

    def __init__(
        self, recordings_dir: Path, prompts: WaitingPrompts, max_seconds: int = MAX_SECONDS
    ) -> None:
        self.recordings_dir = recordings_dir
        self.prompts = prompts
        self.max_seconds = max_seconds

    def target(self, request: RoutingRequest) -> Path:
        box = next(iter(request.skills), DEFAULT_BOX)
        return self.recordings_dir / "voicemail" / box / request.call_id

    async def __call__(self, session: AGISession, request: RoutingRequest) -> None:
        target = self.target(request)
        await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
        await session.stream_file(self.prompts.own(PROMPT, request.language))
        await session.record_file(
            str(target), "wav", "#", self.max_seconds * 1000, beep=True, silence_s=5
        )
        if not session.hung_up:
            await session.stream_file(self.prompts.own(DONE_PROMPT, request.language))
