"""A call's recording from the bridge to the closed file: MixMonitor on the caller's channel when
the agent answers (only with the caller's consent, only in queues that record), pause and resume
from the desk (MixMonitorMute), and the end from the channel's hang-up (Asterisk sends no
MixMonitorStop then: fixture ami-session-mixmonitor), when the file is measured and checked.

Several controller processes may run: the router's stream (a consumer group) gives each answered
call to one of them, the metadata row is unique per call, and the hang-up is claimed from Redis
(GETDEL) by one process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kck.clock import Clock
from kck.db.models import AuditEntry, Call
from kck.settings import RecordingSettings
from recordings.layout import recording_path
from recordings.models import Recording, RecordingState
from recordings.wavfile import NotFinished, WavFacts, finished_wav

log = logging.getLogger(__name__)

FACTS_TTL_S = 12 * 3600  # a call waits at most this long between queueing and answer
LIVE_TTL_S = 24 * 3600  # no call lasts longer
NO_AUDIO_S = 0.1  # a finished file shorter than this holds nobody's voice


class MixMonitorControl(Protocol):
    """What the lifecycle needs of the AMI client (`asterisk.ami.AMIClient`)."""

    async def mix_monitor(self, channel: str, file: str, options: str = "") -> Any: ...
    async def mute_mix_monitor(
        self, channel: str, muted: bool, direction: str = "both"
    ) -> None: ...


@dataclass(frozen=True)
class QueuedCall:
    """A call that joined a queue: its channel and the caller's answer to the announcement."""

    call_id: str
    uniqueid: str
    channel: str
    queue: str
    consent: bool | None


@dataclass(frozen=True)
class AnsweredCall:
    """An agent answered a queued call (the bridge forms now)."""

    call_id: str
    agent: str


@dataclass(frozen=True)
class AnsweredCallback:
    """An agent answered a callback of a queued call: the agent's channel (its uniqueid is
    `channel`, queues.router.callback_channel_id) now dials the citizen through the trunk."""

    call_id: str
    agent: str
    channel: str
    queue: str


@dataclass(frozen=True)
class CallbackNotReached:
    """An attempt of a callback did not reach the citizen (busy, no answer…): nothing was
    bridged, so that attempt's recording is withdrawn; the next attempt records afresh."""

    call_id: str


class NotRecording(LookupError):
    """The call has no recording in progress (not recorded, or already ended)."""


@dataclass
class Folders:
    """The shared folder: as kck sees it and as Asterisk sees it."""

    kck: Path
    asterisk: Path


class RecordingLifecycle:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        prefix: str,
        ami: MixMonitorControl,
        settings: RecordingSettings,
        folders: Folders,
        tz: ZoneInfo,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.redis = redis
        self.prefix = prefix
        self.ami = ami
        self.settings = settings
        self.folders = folders
        self.tz = tz
        self.clock = clock
        self._finishing: set[asyncio.Task[None]] = set()

    def _facts_key(self, call_id: str) -> str:
        return f"{self.prefix}:rec:call:{call_id}"

    def _live_key(self, uniqueid: str) -> str:
        return f"{self.prefix}:rec:live:{uniqueid}"

    async def queued(self, call: QueuedCall) -> None:
        await self.redis.set(
            self._facts_key(call.call_id), json.dumps(asdict(call)), ex=FACTS_TTL_S
        )

    async def answered(self, answer: AnsweredCall | AnsweredCallback) -> int | None:
        """Start recording the call (its row id), or None when it is not to be recorded."""
        if isinstance(answer, AnsweredCallback):
            call = await self._callback(answer)
        else:
            raw = await self.redis.get(self._facts_key(answer.call_id))
            call = QueuedCall(**json.loads(raw)) if raw is not None else None
        if call is None:
            log.info("call %s answered but never seen queued: not recorded", answer.call_id)
            return None
        if call.consent is not True:
            why = "declined" if call.consent is False else "heard no announcement"
            log.info("call %s not recorded: the caller %s", call.call_id, why)
            return None
        options = self.settings.options_for(call.queue)
        if options is None:
            log.info("call %s not recorded: queue %s records nothing", call.call_id, call.queue)
            return None
        started = self.clock.now()
        relative = recording_path(call.call_id, started, self.tz)
        row = Recording(
            call_id=call.call_id,
            uniqueid=call.uniqueid,
            channel=call.channel,
            agent=answer.agent,
            queue=call.queue,
            consent=True,
            path=str(relative),
            state=RecordingState.RECORDING.value,
            started_at=started,
        )
        try:
            async with self.sessions() as db, db.begin():
                db.add(row)
        except IntegrityError:
            log.info("call %s is already being recorded (another process)", call.call_id)
            return None
        await asyncio.to_thread(
            (self.folders.kck / relative).parent.mkdir, parents=True, exist_ok=True
        )
        # claimed before MixMonitor: a hang-up right after it must find the recording
        await self.redis.set(self._live_key(call.uniqueid), call.call_id, ex=LIVE_TTL_S)
        target = self.folders.asterisk / relative
        try:
            await self.ami.mix_monitor(call.channel, str(target), options)
        except Exception as exc:
            await self.redis.delete(self._live_key(call.uniqueid))
            await self._set(call.call_id, state=RecordingState.FAILED, problem=str(exc)[:500])
            log.warning("call %s: MixMonitor on %s failed: %s", call.call_id, call.channel, exc)
            return None
        log.info(
            "recording call %s on %s into %s (%s)", call.call_id, call.channel, target, options
        )
        return row.id

    async def _callback(self, answer: AnsweredCallback) -> QueuedCall | None:
        """A callback is recorded with the consent the citizen gave in the original call's IVR
        (the same call, the same matter): from the queued call's facts, or from the call row
        when those have expired. MixMonitor goes on the agent's channel, by its uniqueid
        (Asterisk's AMI takes a uniqueid wherever a channel name is asked for); with option b
        it records only once the citizen answers and is bridged. A row an earlier attempt left
        without audio (the citizen was not reached) gives way to this attempt's."""
        raw = await self.redis.get(self._facts_key(answer.call_id))
        if raw is not None:
            consent = QueuedCall(**json.loads(raw)).consent
        else:
            async with self.sessions() as db:
                consent = await db.scalar(
                    select(Call.recording_consent).where(Call.id == answer.call_id)
                )
        await self._withdraw(answer.call_id, recording=False)
        return QueuedCall(answer.call_id, answer.channel, answer.channel, answer.queue, consent)

    def channel_gone(self, uniqueid: str) -> None:
        """The AMI `Hangup` of a channel: if it was being recorded, finish in the background."""
        task = asyncio.get_running_loop().create_task(self._gone(uniqueid))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def _gone(self, uniqueid: str) -> None:
        call_id = await self.redis.getdel(self._live_key(uniqueid))
        if call_id is not None:
            with contextlib.suppress(NotRecording):  # withdrawn meanwhile (callback not reached)
                await self.finish(call_id.decode() if isinstance(call_id, bytes) else str(call_id))

    async def not_reached(self, missed: CallbackNotReached) -> None:
        """Withdraw the recording of a callback attempt that reached nobody (row and claim)."""
        for row in await self._withdraw(missed.call_id, recording=True):
            await self.redis.delete(self._live_key(row.uniqueid))
            log.info("call %s: callback attempt reached nobody, recording withdrawn", row.call_id)

    async def _withdraw(self, call_id: str, *, recording: bool) -> list[Recording]:
        """Delete the call's rows (and files) that hold no audio of the citizen: failed, missing,
        finished empty (the channel hung up unbridged), and with `recording` the one running."""
        silent: list[ColumnElement[bool]] = [
            Recording.state.in_([RecordingState.MISSING.value, RecordingState.FAILED.value]),
            (Recording.state == RecordingState.DONE.value)
            & (func.coalesce(Recording.duration_s, 0.0) < NO_AUDIO_S),
        ]
        if recording:
            silent.append(Recording.state == RecordingState.RECORDING.value)
        async with self.sessions() as db, db.begin():
            rows = list(
                await db.scalars(
                    select(Recording).where(Recording.call_id == call_id, or_(*silent))
                )
            )
            for row in rows:
                await db.delete(row)
        for row in rows:
            await asyncio.to_thread((self.folders.kck / row.path).unlink, missing_ok=True)
        return rows

    async def finish(self, call_id: str) -> Recording:
        """Wait until Asterisk has closed the file (at most `finish_timeout`), then measure it."""
        async with self.sessions() as db:
            row = await db.scalar(select(Recording).where(Recording.call_id == call_id))
        if row is None:
            raise NotRecording(call_id)
        path = self.folders.kck / row.path
        facts = await self._wait_closed(path)
        now = self.clock.now()
        # by the row's id: a callback's attempt withdrawn meanwhile must not mark the next one's
        if isinstance(facts, str):
            log.warning("call %s: recording %s not found whole: %s", call_id, path, facts)
            return await self._set_row(
                row, state=RecordingState.MISSING, problem=facts, ended_at=now
            )
        log.info("call %s recorded: %.1f s, %d bytes", call_id, facts.duration_s, facts.size_bytes)
        return await self._set_row(
            row,
            state=RecordingState.DONE,
            ended_at=now,
            duration_s=facts.duration_s,
            size_bytes=facts.size_bytes,
            sha256=facts.sha256,
            paused=False,
        )

    async def _wait_closed(self, path: Path) -> WavFacts | str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.finish_timeout
        pause = 0.05
        while True:
            try:
                return await asyncio.to_thread(finished_wav, path)
            except NotFinished as exc:
                if loop.time() + pause > deadline:
                    return str(exc)
            await asyncio.sleep(pause)  # Asterisk closes the file in its own time
            pause = min(pause * 2, 1.0)

    async def pause(self, call_id: str, paused: bool, *, by: str) -> Recording:
        """Pause (the caller gives card or personal data) or resume; the pause stays silence."""
        async with self.sessions() as db:
            row = await db.scalar(select(Recording).where(Recording.call_id == call_id))
        if row is None or row.state != RecordingState.RECORDING.value:
            raise NotRecording(call_id)
        await self.ami.mute_mix_monitor(row.channel, paused)
        async with self.sessions() as db, db.begin():
            values: dict[str, Any] = {"paused": paused}
            if paused and not row.paused:
                values["pauses"] = Recording.pauses + 1
            await db.execute(update(Recording).where(Recording.id == row.id).values(**values))
            db.add(
                AuditEntry(
                    actor=by,
                    action="recording.pause" if paused else "recording.resume",
                    target=call_id,
                    at=self.clock.now(),
                )
            )
        log.info("recording of call %s %s by %s", call_id, "paused" if paused else "resumed", by)
        return await self.get(call_id)

    async def get(self, call_id: str) -> Recording:
        async with self.sessions() as db:
            row = await db.scalar(select(Recording).where(Recording.call_id == call_id))
        if row is None:
            raise NotRecording(call_id)
        return row

    async def _set(self, call_id: str, **values: Any) -> Recording:
        if isinstance(values.get("state"), RecordingState):
            values["state"] = values["state"].value
        async with self.sessions() as db, db.begin():
            await db.execute(update(Recording).where(Recording.call_id == call_id).values(**values))
        return await self.get(call_id)

    async def _set_row(self, row: Recording, **values: Any) -> Recording:
        if isinstance(values.get("state"), RecordingState):
            values["state"] = values["state"].value
        async with self.sessions() as db, db.begin():
            changed = await db.execute(
                update(Recording).where(Recording.id == row.id).values(**values)
            )
        if not changed.rowcount:  # type: ignore[attr-defined]
            raise NotRecording(row.call_id)
        return await self.get(row.call_id)

    async def drain(self) -> None:
        """Wait for the recordings still being finished (the component stopping)."""
        if self._finishing:
            await asyncio.gather(*list(self._finishing), return_exceptions=True)
