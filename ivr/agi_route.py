"""The FastAGI route `/ivr`: one call through the live menu version, recorded on the call row.

The route writes no SQL: the call row's changes are published on the `queues` stream (one XADD
at arrival, one at hand-over to a queue, one at the end when something changed), where the router
publishes its own; one writer applies them in order (`kck.call_events`, `queues.recorder`).

Failure policy: the caller must never be left in silence. If the menu cannot be loaded, or our code
fails during the call, the route records what it can and raises; the FastAGI server then marks the
channel (KCK_AGI_FAILURE) and returns, and the dialplan continues to the plain Asterisk queue.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ivr.agi_channel import AGIChannel, AGISessionLike
from ivr.interpreter import CallInfo, CallResult, Interpreter, IVROutcome
from ivr.routing import QueueGateway, QueueOutcome
from ivr.speech_port import IntentRecogniser
from ivr.versions import MenuLibrary
from kck.bus import EventBus
from kck.call_events import CALL_ARRIVED, CALL_PROGRESS, CALLS_STREAM, CallArrived, CallProgress
from kck.clock import Clock
from kck.db.models import CallOutcome, new_id
from kck.logs import call_context
from kck.phone import to_e164

log = logging.getLogger(__name__)

IVRRoute = Callable[[AGISessionLike], Awaitable[None]]
OUTCOME_VARIABLE = "KCK_IVR_OUTCOME"
CALL_ID_VARIABLE = "KCK_CALL_ID"

_CALL_OUTCOMES = {
    IVROutcome.SELF_SERVICE: CallOutcome.SELF_SERVICE,
    IVROutcome.CLOSED_HOURS: CallOutcome.CLOSED_HOURS,
    IVROutcome.CALLBACK: CallOutcome.CALLBACK,
    IVROutcome.VOICEMAIL: CallOutcome.VOICEMAIL,
    IVROutcome.TRANSFERRED: CallOutcome.TRANSFERRED,
    IVROutcome.HUNG_UP_IN_IVR: CallOutcome.HUNG_UP_IN_IVR,
    IVROutcome.FAILED: CallOutcome.FAILED,
}


class IVRFailure(Exception):
    """Our code failed during a call; the message names the call and the step."""


def _env(session: AGISessionLike, name: str) -> str | None:
    value = getattr(session.env, name, None)
    return str(value) if value not in (None, "", "unknown") else None


def create_ivr_route(
    library: MenuLibrary,
    gateway: QueueGateway,
    bus: EventBus | None,
    *,
    clock: Clock,
    sounds_dir: Path,
    recordings_dir: Path,
    speech: IntentRecogniser | None = None,
    dial_template: str = "PJSIP/{number}@trunk",
    region: str = "PL",
    hangup_errors: tuple[type[BaseException], ...] | None = None,
    speech_provider: Callable[[], IntentRecogniser | None] | None = None,
) -> IVRRoute:
    """The `async def route(session)` to register as FastAGI path "ivr".

    `speech_provider` is asked on each call (the recogniser may start after the route exists).
    Without a `bus` nothing is recorded (a menu walk in tests and tools).
    """

    async def route(session: AGISessionLike) -> None:
        call_id = new_id()
        with call_context(call_id):
            arrived = clock.now()
            uniqueid = _env(session, "uniqueid") or call_id
            channel_name = _env(session, "channel") or "unknown"
            caller = to_e164(_env(session, "callerid"), region)
            loaded = await library.live()  # no menu at all → fail → dialplan's plain queue
            call = CallInfo(
                call_id=call_id,
                uniqueid=uniqueid,
                channel=channel_name,
                caller=caller,
                arrived_at=arrived,
                language=_env(session, "language"),
            )
            recorded = await _publish_arrival(bus, call, session, loaded.label)
            channel = AGIChannel(
                session,
                sounds_dir=sounds_dir,
                recordings_dir=recordings_dir,
                dial_template=dial_template,
                hangup_errors=hangup_errors,
            )
            with contextlib.suppress(Exception):
                await channel.set_variable(CALL_ID_VARIABLE, call_id)
            recogniser = speech_provider() if speech_provider is not None else speech

            written_at_handover: list[int] = []

            async def handed_over(partial: CallResult) -> None:
                # the path, queue and skills are on the call row while the caller waits
                if recorded:
                    await _publish_progress(bus, call, partial, clock)
                    written_at_handover.append(len(partial.path))

            interpreter = Interpreter(
                loaded.menu,
                loaded.label,
                gateway=gateway,
                clock=clock,
                speech=recogniser,
                on_handover=handed_over,
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
            if recorded and not unchanged_since_handover:
                await _publish_progress(bus, call, result, clock)
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


async def _publish_arrival(
    bus: EventBus | None, call: CallInfo, session: AGISessionLike, version: str
) -> bool:
    if bus is None:
        return False
    arrival = CallArrived(
        call_id=call.call_id,
        uniqueid=call.uniqueid,
        channel=call.channel,
        caller_number=call.caller,
        caller_name=_env(session, "calleridname"),
        dialled_number=_env(session, "dnid"),
        language=call.language or "pl",
        arrived_at=call.arrived_at,
        menu_version=version,
    )
    try:
        await bus.publish(CALLS_STREAM, CALL_ARRIVED, arrival.as_data())
        return True
    except Exception:  # the caller is served even when history cannot be written
        log.exception("could not record the call; the IVR goes on")
        return False


async def _publish_progress(
    bus: EventBus | None, call: CallInfo, result: CallResult, clock: Clock
) -> None:
    if bus is None:
        return
    values: dict[str, Any] = {
        "language": result.language,
        "ivr_path": [step.as_dict() for step in result.path],
        "intent": result.intent,
        "transcript": result.transcript,
    }
    routing = result.routing
    if routing is not None:
        values.update(
            queue=routing.queue,
            skills=dict(routing.skills),
            priority=routing.priority,
            kb_topic=routing.kb_topic,
            ticket_category=routing.ticket_category,
        )
    if result.hung_up_at is not None:
        values["hangup_cause"] = f"caller hung up in {result.hung_up_at}"[:64]
    ended: dict[str, Any] = {}
    if result.outcome is IVROutcome.QUEUED:
        # queues own the outcome of a queued call; we only record an abandon in the wait
        if result.queue_outcome is QueueOutcome.ABANDONED:
            ended = {"outcome": CallOutcome.ABANDONED.value, "ended_at": clock.now()}
    else:
        values["outcome"] = _CALL_OUTCOMES[result.outcome].value
        values["ended_at"] = clock.now()
    progress = CallProgress(call.call_id, call.uniqueid, values, ended)
    try:
        await bus.publish(CALLS_STREAM, CALL_PROGRESS, progress.as_data())
    except Exception:
        log.exception("could not record the IVR result of call %s", call.call_id)
