"""The caller's side of the queue, run by the process that holds the caller's AGI session.

Music on hold, position and estimated-wait announcements, a key for a callback request, and
the Dial of the agent when an offer for this call arrives (from whichever process matched it).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from asterisk.agi import AGISession, CallerHungUp
from kck.logs import call_context
from queues.model import EndCause, Offer, RoutingRequest
from queues.router import Router

log = logging.getLogger(__name__)

# how often the loop re-reads Redis without being told (a lost pub/sub message costs this much)
_SAFETY_CHECK_S = 5.0
# DIALSTATUS values (app_dial) that mean the agent's phone could not ring at all
_PHONE_BUSY = frozenset({"BUSY", "CONGESTION", "CHANUNAVAIL", "INVALIDARGS"})
# how long a cancelled waiting loop (kck stopping) may take to remove its call from the router
_FORGET_ON_CANCEL_S = 1.0


class QueueOutcome(enum.StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    CALLBACK = "callback"
    VOICEMAIL = "voicemail"
    CLOSED = "closed"  # ended by someone else (AMI resync found the channel gone)


@dataclass(frozen=True)
class QueueResult:
    outcome: QueueOutcome
    call_id: str
    agent: str | None = None
    wait_s: float = 0.0


@dataclass(frozen=True)
class WaitingPrompts:
    """What the waiting caller hears. The first six are Asterisk core sounds (played by name; the
    channel's language picks the file); the `OWN` ones are kck prompts from
    config/menus/prompts.yaml, played as <sounds_dir>/<call's language>/<name>, the file
    `kck prompts build` writes."""

    OWN: ClassVar[tuple[str, ...]] = (
        "press_for_callback",
        "callback_confirmed",
        "callback_unavailable",
        "max_wait_callback",
    )

    you_are_next: str = "queue-youarenext"
    there_are: str = "queue-thereare"
    calls_waiting: str = "queue-callswaiting"
    hold_time: str = "queue-holdtime"
    minutes: str = "queue-minutes"
    thank_you: str = "queue-thankyou"
    press_for_callback: str = "queue_press_1_callback"
    callback_confirmed: str = "queue_callback_confirmed"
    callback_unavailable: str = "queue_callback_unavailable"
    max_wait_callback: str = "queue_max_wait_callback"
    # where kck's sounds are (settings.paths.sounds); "" = relative to Asterisk's sounds folder
    sounds_dir: str = ""

    def own(self, name: str, language: str) -> str:
        """STREAM FILE's argument for one of kck's prompts in `language`: absolute, no extension."""
        folder = f"{self.sounds_dir.rstrip('/')}/{language}" if self.sounds_dir else language
        return f"{folder}/{name}"

    def own_sounds(self, language: str) -> tuple[str, ...]:
        """Every kck sound this loop may play in `language`."""
        return tuple(self.own(getattr(self, field), language) for field in self.OWN)


Voicemail = Callable[[AGISession, RoutingRequest], Awaitable[None]]


@dataclass
class _Waiting:
    session: AGISession
    router: Router
    request: RoutingRequest
    prompts: WaitingPrompts
    callback_key: str
    digit_slice_ms: int
    voicemail: Voicemail | None
    events: asyncio.Queue[tuple[str, dict[str, Any]]]

    @property
    def call_id(self) -> str:
        return self.request.call_id

    def own(self, name: str) -> str:
        return self.prompts.own(name, self.request.language)


async def wait_in_queue(
    session: AGISession,
    router: Router,
    request: RoutingRequest,
    *,
    prompts: WaitingPrompts | None = None,
    callback_key: str = "1",
    digit_slice_ms: int = 1000,
    voicemail: Voicemail | None = None,
) -> QueueResult:
    """Queue the caller and keep them company until an agent answers or the call ends.

    `digit_slice_ms`: the caller listens to music inside WAIT FOR DIGIT slices of this length
    (an offer is acted on at the end of the current slice: AGI runs one command at a time).
    """
    with call_context(request.call_id):
        waiting = _Waiting(
            session,
            router,
            request,
            prompts or WaitingPrompts(),
            callback_key,
            digit_slice_ms,
            voicemail,
            router.waiters.register(request.call_id),
        )
        try:
            return await _run(waiting)
        except CallerHungUp:
            await router.call_ended(request.call_id, EndCause.CALLER_HANGUP)
            return QueueResult(QueueOutcome.ABANDONED, request.call_id, wait_s=_waited(waiting))
        except asyncio.CancelledError:
            # kck is stopping: the dialplan takes the caller to its fallback queue
            await _forget_cancelled_call(router, request.call_id)
            raise
        except BaseException:
            # our failure must not drop the caller: remove the call from the router so no agent
            # is offered a ghost, and let the route fail so the dialplan's Queue() takes over
            log.exception("waiting loop failed; handing the caller to the dialplan fallback")
            try:
                await router.call_ended(request.call_id, EndCause.FALLBACK)
            except Exception:
                log.exception("could not remove the failed call from the router")
            raise
        finally:
            router.waiters.unregister(request.call_id)


async def _forget_cancelled_call(router: Router, call_id: str) -> None:
    """Take a cancelled caller out of the router (no agent may be offered a ghost): shielded, so
    a second cancel does not skip it, and bounded, so a stop never waits long on Redis."""
    removal = asyncio.ensure_future(router.call_ended(call_id, EndCause.FALLBACK))
    try:
        async with asyncio.timeout(_FORGET_ON_CANCEL_S):
            await asyncio.shield(removal)
    except TimeoutError:
        log.error(
            "call %s stays in the router: removal took over %s s", call_id, _FORGET_ON_CANCEL_S
        )
    except Exception:
        log.exception("could not remove the cancelled call %s from the router", call_id)


def _waited(w: _Waiting) -> float:
    from datetime import datetime

    try:
        arrived = datetime.fromisoformat(w.request.arrived_at)
    except ValueError:
        return 0.0
    return max(0.0, (w.router.clock.now() - arrived).total_seconds())


async def _run(w: _Waiting) -> QueueResult:
    queue = w.router.config.queue(w.request.queue)
    clock = w.router.clock
    # Asterisk's own queue sounds and SAY NUMBER follow the channel's language: make it the call's
    await w.session.set_variable("CHANNEL(language)", w.request.language)
    # enqueue renews the waiter's heartbeat itself (`held_by_waiter`): one round trip
    offer = await w.router.enqueue(w.request, held_by_waiter=True)
    started = clock.monotonic()
    next_announce = started + queue.announce_every_s
    first_announcement_done = False
    last_check = clock.monotonic()
    while True:
        check_anyway = not w.events.empty() or clock.monotonic() - last_check >= _SAFETY_CHECK_S
        if offer is None:
            offer = await _pending_offer(w, check_anyway=check_anyway)
        if offer is not None:
            result = await _dial(w, offer)
            if result is not None:
                return result
            offer = None
            continue
        if check_anyway:
            last_check = clock.monotonic()
            await w.router.keep_waiter_alive(w.call_id)
            if await w.router.call_state(w.call_id) is None:
                return QueueResult(QueueOutcome.CLOSED, w.call_id, wait_s=_waited(w))
        if clock.monotonic() - started >= queue.max_wait_s:
            return await _max_wait(w, queue.on_max_wait)
        if not first_announcement_done or clock.monotonic() >= next_announce:
            first_announcement_done = True
            next_announce = clock.monotonic() + queue.announce_every_s
            await w.session.set_music(False)
            digit = await _announce(w)
            if digit == w.callback_key:
                result = await _callback(w)
                if result is not None:
                    return result
            await w.session.set_music(True, queue.moh_class)
        digit = await w.session.wait_for_digit(w.digit_slice_ms)
        if digit == w.callback_key:
            await w.session.set_music(False)
            result = await _callback(w)
            if result is not None:
                return result
            await w.session.set_music(True, queue.moh_class)


async def _pending_offer(w: _Waiting, *, check_anyway: bool) -> Offer | None:
    """The call's current offer, read from Redis when the live channel said something happened
    to this call (or on `check_anyway`, in case a message was lost). Messages are only a
    wake-up: an offer message may be stale (already tried), Redis holds the truth."""
    woken = not w.events.empty()
    while not w.events.empty():
        w.events.get_nowait()
    if not (woken or check_anyway):
        return None
    state = await w.router.call_state(w.call_id)
    if state and state.get("state") == "offered" and state.get("offer"):
        body = await w.router.store.offer_json(state["offer"])
        if body is not None:
            return Offer.from_dict(body)
    return None


async def _announce(w: _Waiting) -> str | None:
    p = w.prompts
    position = await w.router.position(w.call_id)
    if position is None:
        return None
    keys = w.callback_key
    if position == 1:
        digit = await w.session.stream_file(p.you_are_next, keys)
    else:
        digit = await w.session.stream_file(p.there_are, keys)
        digit = digit or await w.session.say_number(position - 1, keys)
        digit = digit or await w.session.stream_file(p.calls_waiting, keys)
    estimate = await w.router.estimated_wait(w.call_id)
    if digit is None and estimate is not None and estimate >= 60:
        digit = await w.session.stream_file(p.hold_time, keys)
        digit = digit or await w.session.say_number(round(estimate / 60), keys)
        digit = digit or await w.session.stream_file(p.minutes, keys)
    if digit is None and w.request.caller:
        digit = await w.session.stream_file(w.own(p.press_for_callback), keys)
    return digit


async def _callback(w: _Waiting) -> QueueResult | None:
    if not w.request.caller:
        await w.session.stream_file(w.own(w.prompts.callback_unavailable))
        return None
    if not await w.router.request_callback(w.call_id, w.request.caller):
        return None  # an offer raced the key press: take the offer
    await w.session.stream_file(w.own(w.prompts.callback_confirmed))
    await w.session.hangup()
    return QueueResult(QueueOutcome.CALLBACK, w.call_id, wait_s=_waited(w))


async def _max_wait(w: _Waiting, action: str) -> QueueResult:
    await w.session.set_music(False)
    if (
        action == "callback"
        and w.request.caller
        and await w.router.request_callback(w.call_id, w.request.caller)
    ):
        await w.session.stream_file(w.own(w.prompts.max_wait_callback))
        await w.session.hangup()
        return QueueResult(QueueOutcome.CALLBACK, w.call_id, wait_s=_waited(w))
    await w.router.call_ended(w.call_id, EndCause.VOICEMAIL)
    if w.voicemail is not None:
        await w.voicemail(w.session, w.request)
    return QueueResult(QueueOutcome.VOICEMAIL, w.call_id, wait_s=_waited(w))


async def _dial(w: _Waiting, offer: Offer) -> QueueResult | None:
    """Ring the agent from the caller's channel; None = back to waiting (at the head)."""
    await w.session.set_music(False)
    log.info("dialling %s for offer %s", offer.dial, offer.offer_id)
    await w.session.exec("Dial", f"{offer.dial},{offer.ring_timeout_s}")
    status = (await w.session.get_variable("DIALSTATUS") or "").upper()
    if status == "ANSWER":
        talk = await w.session.get_variable("ANSWEREDTIME")
        at = None
        if talk and talk.strip().isdigit():
            at = w.router.clock.now() - timedelta(seconds=int(talk))
        await w.router.offer_answered(offer.offer_id, at)  # False when AMI already said so
        await w.router.call_ended(w.call_id, EndCause.COMPLETED)
        return QueueResult(QueueOutcome.ANSWERED, w.call_id, offer.agent, _waited(w))
    if status == "CANCEL" or w.session.hung_up:
        raise CallerHungUp("caller hung up while the agent's phone rang")
    why = "busy" if status in _PHONE_BUSY else "no_answer"
    await w.router.keep_waiter_alive(w.call_id)  # the ring may have outlasted the heartbeat
    await w.router.offer_not_answered(offer.offer_id, why)
    queue = w.router.config.queue(w.request.queue)
    await w.session.set_music(True, queue.moh_class)
    return None
