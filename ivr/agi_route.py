"""The FastAGI route `/ivr`: one call through the live menu version, recorded on the call row.

The route writes no SQL: the call row's changes are published on the `queues` stream (one XADD
at arrival, one at hand-over to a queue, one at the end when something changed), in the
background and in order (`ivr.call_history`), where the router publishes its own; one writer
applies them (`kck.call_rows`, `queues.recorder`).

Failure policy: the caller must never be left in silence. If the menu cannot be loaded, or our code
fails during the call, the route records what it can and raises; the FastAGI server then marks the
channel (KCK_AGI_FAILURE) and returns, and the dialplan continues to the plain Asterisk queue.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from ivr.agi_channel import AGIChannel, AGISessionLike
from ivr.call_history import CallHistory, calls_stream_sender
from ivr.interpreter import CallInfo, CallResult, Interpreter, IVROutcome
from ivr.matter_port import MatterStatusSource
from ivr.routing import QueueGateway
from ivr.speech_port import IntentRecogniser
from ivr.versions import MenuLibrary
from kck.bus import EventBus
from kck.clock import Clock
from kck.db.models import new_id
from kck.edge_values import (
    CALLER_NAME_MAX,
    CHANNEL_MAX,
    DIALLED,
    LANGUAGE,
    UNIQUEID,
    identifier,
    truncated,
)
from kck.logs import call_context
from kck.phone import to_e164
from queues.model import QueueOutcome

log = logging.getLogger(__name__)

IVRRoute = Callable[[AGISessionLike], Awaitable[None]]
OUTCOME_VARIABLE = "KCK_IVR_OUTCOME"
CALL_ID_VARIABLE = "KCK_CALL_ID"


class IVRFailure(Exception):
    """Our code failed during a call; the message names the call and the step."""


def _env(session: AGISessionLike, name: str) -> str | None:
    value = getattr(session.env, name, None)
    return str(value) if value not in (None, "", "unknown") else None


def _env_identifier(session: AGISessionLike, name: str, pattern: re.Pattern[str]) -> str | None:
    """An identifier from the environment, or None when it cannot be one (said in the log)."""
    value = _env(session, name)
    checked = identifier(value, pattern)
    if value is not None and checked is None:
        log.warning("FastAGI agi_%s refused (%d characters): %r", name, len(value), value[:80])
    return checked


def create_ivr_route(
    library: MenuLibrary,
    gateway: QueueGateway,
    bus: EventBus | None,
    *,
    clock: Clock,
    sounds_dir: Path,
    recordings_dir: Path,
    dial: Callable[[str], str],
    speech: IntentRecogniser | None = None,
    region: str = "PL",
    hangup_errors: tuple[type[BaseException], ...] | None = None,
    speech_provider: Callable[[], IntentRecogniser | None] | None = None,
    matters: MatterStatusSource | None = None,
) -> IVRRoute:
    """The `async def route(session)` to register as FastAGI path "ivr".

    `sounds_dir` is kck's sounds folder as Asterisk sees it (prompts are streamed by that path);
    `dial` turns an E.164 number into the dial string through the operator's trunk.
    `speech_provider` is asked on each call (the recogniser may start after the route exists).
    `matters` answers the status step (`matter_status`) with a matter's state.
    Without a `bus` nothing is recorded (a menu walk in tests and tools).
    """

    history_sender = calls_stream_sender(bus)

    async def route(session: AGISessionLike) -> None:
        call_id = new_id()
        channel_uniqueid = _env_identifier(session, "uniqueid", UNIQUEID)
        # both ids known from here on: every line of the call links ours to Asterisk's
        with call_context(call_id, uniqueid=channel_uniqueid):
            arrived = clock.now()
            uniqueid = channel_uniqueid or call_id
            channel_name = truncated(_env(session, "channel"), CHANNEL_MAX) or "unknown"
            caller = to_e164(_env(session, "callerid"), region)
            loaded = await library.live()  # no menu at all → fail → dialplan's plain queue
            call = CallInfo(
                call_id=call_id,
                uniqueid=uniqueid,
                channel=channel_name,
                caller=caller,
                arrived_at=arrived,
                language=_env_identifier(session, "language", LANGUAGE),
            )
            history = CallHistory(history_sender, call, clock)
            history.arrived(
                loaded.label,
                truncated(_env(session, "calleridname"), CALLER_NAME_MAX),
                _env_identifier(session, "dnid", DIALLED),
            )
            channel = AGIChannel(
                session,
                sounds_dir=sounds_dir,
                recordings_dir=recordings_dir,
                dial=dial,
                hangup_errors=hangup_errors,
            )
            with contextlib.suppress(Exception):
                await channel.set_variable(CALL_ID_VARIABLE, call_id)
            recogniser = speech_provider() if speech_provider is not None else speech

            written_at_handover: list[int] = []

            async def handed_over(partial: CallResult) -> None:
                # the path, queue and skills are on the call row while the caller waits
                history.progressed(partial)
                written_at_handover.append(len(partial.path))

            interpreter = Interpreter(
                loaded.menu,
                loaded.label,
                gateway=gateway,
                clock=clock,
                speech=recogniser,
                on_handover=handed_over,
                matters=matters,
            )
            result = await interpreter.run(channel, call)
            # SET VARIABLE works on a hung-up channel too: the `h` extension and CDRs can use it
            with contextlib.suppress(Exception):
                await session.set_variable(OUTCOME_VARIABLE, _outcome_word(result))
            unchanged_since_handover = (
                written_at_handover
                and written_at_handover[-1] == len(result.path)
                and result.outcome is IVROutcome.QUEUED
                and result.queue_outcome is not QueueOutcome.ABANDONED
                and result.hung_up_at is None
            )
            if not unchanged_since_handover:
                history.progressed(result)
            await history.flush()
            log.info(
                "call ended in the IVR: %s at %s (%s)",
                result.outcome.value,
                result.last_step,
                result.path_text or "-",
            )
            if result.error is not None:
                raise IVRFailure(
                    f"call {call_id}: IVR failed in step {result.last_step!r}: {result.error}"
                ) from result.error

    return route


def _outcome_word(result: CallResult) -> str:
    if result.outcome is IVROutcome.QUEUED and result.queue_outcome is not None:
        return f"queued_{result.queue_outcome.value}"
    return result.outcome.value
