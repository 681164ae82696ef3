"""One simulated inbound call: the caller's channel, what the caller does, how the call ended."""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .channel import SimChannel
from .scripts import CallerScript, DigitPress

if TYPE_CHECKING:
    from .pbx import OriginateRequest, PBXSimulator


class CallResult(enum.Enum):
    """How a simulated call ended, from the caller's point of view."""

    TALKED_TO_AGENT = "talked_to_agent"  # bridged to an agent phone via Dial
    ENDED_BY_CONTROLLER = "ended_by_controller"  # kck hung up (AGI or AMI) / set KCK_DONE=1
    CALLER_HUNG_UP = "caller_hung_up"  # patience ran out before an agent answered
    FALLBACK_QUEUE = "fallback_queue"  # the AGI failed; the dialplan's Queue() took it
    REDIRECTED = "redirected"  # moved elsewhere by AMI Redirect


@dataclass(frozen=True)
class DialAttempt:
    endpoint: str
    status: str  # DIALSTATUS: ANSWER, NOANSWER, BUSY, CHANUNAVAIL, CANCEL
    ring_seconds: float
    talk_seconds: float


@dataclass(frozen=True)
class CallOutcome:
    """The result `await call` returns; times are simulated seconds since the call started."""

    result: CallResult
    channel: str
    uniqueid: str
    agi_status: str
    hung_up_by: str  # caller, agent, controller, pbx
    duration: float
    agent: str | None = None
    waited_before_agent: float | None = None
    dial_attempts: tuple[DialAttempt, ...] = ()
    recordings: tuple[Path, ...] = ()


class StreamControl(enum.IntEnum):
    """The stream-control frames AMI `ControlPlayback` queues on a channel (`Control:` value →
    `AST_CONTROL_STREAM_*`); `WAIT FOR DIGIT` returns the number as if it were a key."""

    STOP = 1000
    PAUSE = 1001  # AST_CONTROL_STREAM_SUSPEND
    RESTART = 1002
    REVERSE = 1003
    FORWARD = 1004


@dataclass(frozen=True)
class InputResult:
    kind: str  # "digit", "hangup", "timeout", "control"
    elapsed: float  # simulated seconds since the wait started
    digit: str = ""
    control: StreamControl | None = None


@dataclass
class SimulatedCall:
    """Created by `PBXSimulator.place_call`; `await call` gives the `CallOutcome`."""

    pbx: PBXSimulator
    script: CallerScript
    channel: SimChannel
    started_at: float
    gone: asyncio.Event = field(default_factory=asyncio.Event)  # caller side hung up
    interrupted: asyncio.Event = field(default_factory=asyncio.Event)  # hung up or redirected
    agi_finished: asyncio.Event = field(default_factory=asyncio.Event)  # AGISTATUS is set
    redirect_target: tuple[str, str, int] = ("", "", 1)
    peer: SimChannel | None = None  # the ";1" half of a Local caller (plays the caller)
    originate: OriginateRequest | None = None  # the AMI Originate of a Local call, if any
    peer_moh: str | None = None  # music class the ;1 half plays (Originate MusicOnHold)
    agi_dead: bool = False  # AGI answers 511 for channel commands (hangup or redirect)
    controller_hung_up: bool = False  # the AGI sent HANGUP: the channel is already going away
    in_agi: bool = False  # a FastAGI session is running on the channel
    hangup_cause: int | None = None  # set when the channel was hung up by AMI / the PBX
    soft_hangup_announced: bool = False
    moh_class: str | None = None
    hung_up_by: str = ""
    redirected: bool = False
    agi_status: str = ""
    agent: str | None = None
    agent_answered_at: float | None = None
    dial_attempts: list[DialAttempt] = field(default_factory=list)
    recordings: list[Path] = field(default_factory=list)
    _steps: deque[DigitPress] = field(default_factory=deque)
    _pending: deque[tuple[float, str]] = field(default_factory=deque)
    _done: asyncio.Future[CallOutcome] | None = None
    _task: asyncio.Task[None] | None = None
    # set while a command that reads stream-control frames runs (see `control_playback`)
    _controlled: asyncio.Event | None = None
    _control: StreamControl | None = None

    def __post_init__(self) -> None:
        self._steps = deque(self.script.digits)
        self._done = asyncio.get_running_loop().create_future()

    # -- outcome ---------------------------------------------------------------------------------
    def __await__(self) -> Generator[Any, None, CallOutcome]:
        assert self._done is not None
        return asyncio.shield(self._done).__await__()

    @property
    def done(self) -> bool:
        return self._done is not None and self._done.done()

    def finish(self, result: CallResult) -> None:
        if self._done is None or self._done.done():
            return
        now = self.pbx.clock.now()
        self._done.set_result(
            CallOutcome(
                result=result,
                channel=self.channel.name,
                uniqueid=self.channel.uniqueid,
                agi_status=self.agi_status,
                hung_up_by=self.hung_up_by or "pbx",
                duration=now - self.started_at,
                agent=self.agent,
                waited_before_agent=(
                    None
                    if self.agent_answered_at is None
                    else self.agent_answered_at - self.started_at
                ),
                dial_attempts=tuple(self.dial_attempts),
                recordings=tuple(self.recordings),
            )
        )

    def fail(self, exc: BaseException) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_exception(exc)

    # -- the caller ------------------------------------------------------------------------------
    @property
    def caller_gone(self) -> bool:
        return self.gone.is_set()

    def caller_hangup(self, cause: int | None = None, by: str = "caller") -> None:
        """The caller's side ends (SIP BYE when `cause` is None, else an AMI/PBX hangup)."""
        if self.gone.is_set() or self.controller_hung_up:
            return
        self.hung_up_by = self.hung_up_by or by
        self.pbx.events.hangup_request(self.channel, cause)
        if self.moh_class is not None:
            self.moh_class = None
            self.pbx.events.moh_stop(self.channel)
        if self.peer is not None and not self.peer.hung_up:
            if self.peer_moh is not None:
                self.peer_moh = None
                self.pbx.events.moh_stop(self.peer)
            self.pbx.events.hangup(self.peer, cause or 0)
            self.pbx.events.device_state(self.pbx.local_device(self), "NOT_INUSE")
            self.pbx.forget_channel(self.peer)
        self.agi_dead = True
        self.gone.set()
        self.interrupted.set()

    def hangup_channel(self, cause: int | None, *, announce: bool) -> None:
        """AMI `Hangup` of the call's own channel (or the simulator stopping); without a cause
        the channel keeps its own (0 unless it was bridged), as in the captures."""
        if self.gone.is_set() or self.controller_hung_up:
            return
        self.hung_up_by = self.hung_up_by or "pbx"
        self.hangup_cause = cause
        self.music_off()
        if announce:
            self.soft_hangup_announced = True
            self.pbx.events.soft_hangup_request(self.channel, cause or 16)
            if self.peer is not None and not self.peer.hung_up:
                self.pbx.events.hangup_request(self.peer, cause or 16)
        self.agi_dead = True
        self.gone.set()
        self.interrupted.set()

    def redirect(self, context: str, exten: str, priority: int) -> None:
        """AMI Redirect: the running AGI command ends with -1 and the AGI gets HANGUP, but the
        channel lives on at the new place."""
        self.redirected = True
        self.redirect_target = (context, exten, priority)
        self.agi_dead = True
        self.interrupted.set()

    def control_playback(self, control: StreamControl) -> bool:
        """AMI `ControlPlayback`: the frame Asterisk queues on the channel is read by the command
        running now if it plays a file or waits for a key (STREAM FILE, WAIT FOR DIGIT, GET DATA's
        prompt); otherwise the AGI reads and drops it, so it never reaches a later command.
        Returns whether a command took it."""
        if self._controlled is None or self._controlled.is_set():
            return False
        self._control = control
        self._controlled.set()
        return True

    async def wait_input(
        self,
        seconds: float | None,
        accept: str | None,
        *,
        arm: bool = True,
        controls: bool = False,
    ) -> InputResult:
        """Wait up to `seconds` (None = forever) for a digit in `accept` (None = any digit,
        "" = none: digits are heard and dropped), or the caller hanging up; with `controls`,
        also for a stream-control frame (AMI ControlPlayback)."""
        clock = self.pbx.clock
        start = clock.elapsed()
        if arm and accept != "" and not self._pending and self._steps:
            step = self._steps.popleft()
            for i, digit in enumerate(step.digits):
                self._pending.append((start + step.after + i * step.gap, digit))
        controlled = asyncio.Event() if controls else None
        if controlled is not None:
            self._controlled, self._control = controlled, None
        try:
            while True:
                if self.interrupted.is_set():
                    return InputResult("hangup", clock.elapsed() - start)
                if controlled is not None and controlled.is_set():
                    return InputResult("control", clock.elapsed() - start, control=self._control)
                now = clock.elapsed()
                remaining = None if seconds is None else seconds - (now - start)
                if remaining is not None and remaining <= 0:
                    return InputResult("timeout", seconds or 0.0)
                wait = remaining
                if self._pending:
                    until = max(0.0, self._pending[0][0] - now)
                    wait = until if wait is None else min(wait, until)
                if await self._woken(wait, controlled):
                    continue
                if self._pending and clock.elapsed() >= self._pending[0][0] - 1e-6:
                    _, digit = self._pending.popleft()
                    self.pbx.events.dtmf(self.channel, digit)
                    if accept is None or digit in accept:
                        return InputResult("digit", clock.elapsed() - start, digit)
        finally:
            if controlled is not None:
                self._controlled = None

    async def _woken(self, seconds: float | None, controlled: asyncio.Event | None) -> bool:
        """Sleep up to `seconds` (None = until woken); True when a hang-up, redirect or
        stream-control frame (if `controlled` is given) ended the sleep."""
        clock = self.pbx.clock
        if controlled is None:
            if seconds is None:
                await self.interrupted.wait()
                return True
            return await clock.wait_for(self.interrupted, seconds)
        if self.interrupted.is_set() or controlled.is_set():
            return True
        waiters = [
            asyncio.ensure_future(self.interrupted.wait()),
            asyncio.ensure_future(controlled.wait()),
        ]
        try:
            await asyncio.wait(
                waiters,
                timeout=None if seconds is None else clock.real_seconds(seconds),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
        return self.interrupted.is_set() or controlled.is_set()

    # -- music on hold ---------------------------------------------------------------------------
    def music_on(self, moh_class: str) -> None:
        if self.moh_class is None:
            self.moh_class = moh_class
            self.pbx.events.moh_start(self.channel, moh_class)

    def music_off(self) -> None:
        if self.moh_class is not None:
            self.moh_class = None
            self.pbx.events.moh_stop(self.channel)
