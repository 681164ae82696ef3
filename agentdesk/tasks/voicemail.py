"""Voicemail boxes on disk → tasks: the IVR's voicemail step records to
`<recordings>/voicemail/<box>/<call_id>.wav`; each such file becomes one task, seen by the agents
with the skill named like the box (a box named after no skill: by every agent)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Collection
from pathlib import Path

from agentdesk.tasks.models import TaskKind
from agentdesk.tasks.store import TaskRefused, TaskStore

log = logging.getLogger(__name__)

VOICEMAIL_FOLDER = "voicemail"
# the IVR's call ids are hex, boxes are menu identifiers: anything else is not ours
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _messages(root: Path) -> list[tuple[str, str]]:
    """(box, call_id) of every message under `root` (blocking: run in a thread)."""
    found: list[tuple[str, str]] = []
    if not root.is_dir():
        return found
    for box in sorted(root.iterdir()):
        if not (box.is_dir() and _NAME.match(box.name)):
            continue
        for message in sorted(box.glob("*.wav")):
            if _NAME.match(message.stem) and message.is_file():
                found.append((box.name, message.stem))
    return found


class VoicemailInbox:
    def __init__(self, store: TaskStore, recordings_dir: Path, skills: Collection[str]) -> None:
        self.store = store
        self.root = recordings_dir / VOICEMAIL_FOLDER
        self.skills = frozenset(skills)

    async def collect(self) -> int:
        """Make a task of every message that has none; returns how many were made."""
        messages = await asyncio.to_thread(_messages, self.root)
        known = await self.store.known_calls(TaskKind.VOICEMAIL)
        made = 0
        for box, call_id in messages:
            if call_id in known:
                continue
            relative = f"{VOICEMAIL_FOLDER}/{box}/{call_id}.wav"
            skill = box if box in self.skills else None
            _, new = await self.store.voicemail(call_id, box, relative, skill)
            made += new
        if made:
            log.info("%d new voicemail messages became tasks", made)
        return made

    def file(self, relative: str) -> Path:
        """The message's file, only if it lies inside the voicemail folder (a stored path is
        never trusted to stay there)."""
        root = self.root.resolve()
        path = (root.parent / relative).resolve()
        if not path.is_relative_to(root) or path.suffix != ".wav":
            raise TaskRefused("not_found", f"voicemail {relative!r} is outside {root}")
        return path
