"""The caller's side of the queue, run by the process that holds the caller's AGI session.

Music on hold, position and estimated-wait announcements, a key for a callback request, and
the Dial of the agent when an offer for this call arrives (from whichever process matched it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from redis.exceptions import RedisError

from asterisk.agi import AGISession, CallerHungUp
from kck.inbox import Inbox
from kck.logs import call_context
from kck.spoken_numbers import number_words
from queues.announcement import announcement
from queues.events import CallEnded, CallSignal, CallTransferred, RouterEvent
from queues.model import EndCause, Offer, QueueOutcome, RoutingRequest
from queues.router import Router
from queues.store import RouterStoreError

log = logging.getLogger(__name__)

# how often the loop re-reads Redis without being told (a lost pub/sub message costs this much)
_SAFETY_CHECK_S = 5.0
# The phone rings once the agent's desk shows the pop, or after this long at the latest
# (docs/desk.md): a slow or stuck browser must not keep a caller from an agent.
POP_WAIT_S = 0.5
# Music is heard in WAIT FOR DIGIT slices. With a way to cut a slice short on an offer (AMI),
# slices are long (few AGI commands per waiting caller); without one, an offer waits for the end
# of the slice, so they are short.
_LONG_SLICE_MS = 5000
_SHORT_SLICE_MS = 1000
_MIN_SLICE_MS = 100
# a stop may land before Asterisk starts the command it was meant for: repeat it this often
_STOP_ATTEMPTS = 3
_STOP_RETRY_S = 0.3
# DIALSTATUS values (app_dial) that mean the agent's phone could not ring at all
_PHONE_BUSY = frozenset({"BUSY", "CONGESTION", "CHANUNAVAIL", "INVALIDARGS"})
# how long a cancelled waiting loop (kck stopping) may take to remove its call from the router
_FORGET_ON_CANCEL_S = 1.0
# A Redis outage up to this long (settings: redis.outage_hold_s) is waited out: the caller keeps
# hearing music in their place; a longer one hands them to the dialplan's fallback queue.
OUTAGE_HOLD_S = 10.0
# While Redis is away, the loop tries it again after each music slice of this length.
_OUTAGE_SLICE_MS = 1000
_REDIS_AWAY = (RedisError, RouterStoreError, OSError)

T = TypeVar("T")


@dataclass(frozen=True)
class QueueResult:
    outcome: QueueOutcome
    call_id: str
    agent: str | None = None
    wait_s: float = 0.0


@dataclass(frozen=True)
class WaitingPrompts:
    """What the waiting caller hears: only kck's own sounds, never Asterisk's core sounds or SAY
    NUMBER (Asterisk has no Polish or Ukrainian set and silently plays English). The prompts are
    from config/menus/prompts.yaml; numbers are the words of `kck.spoken_numbers`. Each is played
    as <sounds_dir>/<call's language>/<name>, the file `kck prompts build` writes."""

    OWN: ClassVar[tuple[str, ...]] = (
        "you_are_next",
        "people_ahead",
        "estimated_wait",
        "press_for_callback",
        "callback_confirmed",
        "callback_unavailable",
        "max_wait_callback",
    )

    you_are_next: str = "queue_you_are_next"
    people_ahead: str = "queue_people_ahead"
    estimated_wait: str = "queue_estimated_wait"
    press_for_callback: str = "queue_press_1_callback"
    callback_confirmed: str = "queue_callback_confirmed"
    callback_unavailable: str = "queue_callback_unavailable"
    max_wait_callback: str = "queue_max_wait_callback"
    # kck's sounds as Asterisk sees them (asterisk.sounds); "" = relative to Asterisk's sounds folder
    sounds_dir: str = ""

    def own(self, name: str, language: str) -> str:
        """STREAM FILE's argument for one of kck's prompts in `language`: absolute, no extension."""
        folder = f"{self.sounds_dir.rstrip('/')}/{language}" if self.sounds_dir else language
        return f"{folder}/{name}"

    def own_sounds(self, language: str) -> tuple[str, ...]:
        """Every kck sound this loop may play in `language`: its prompts and the number words."""
        prompts = [getattr(self, field) for field in self.OWN]
        return tuple(self.own(name, language) for name in [*prompts, *number_words(language)])

    def announcement(
        self, language: str, position: int, estimate_s: float | None, *, offer_callback: bool
    ) -> tuple[str, ...]:
        """The STREAM FILE arguments of one announcement (see `queues.announcement`)."""
        names = announcement(self, language, position, estimate_s, offer_callback=offer_callback)
        return tuple(self.own(name, language) for name in names)


Voicemail = Callable[[AGISession, RoutingRequest], Awaitable[None]]
# Cuts short what a channel hears (AMI ControlPlayback): an offer need not wait for the end of
# the music slice or of the announcement the caller is hearing.
PlaybackStop = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class TransferLegs:
    """What a transfer asks of the PBX (docs/desk.md, "Transferring a call"): end the leg of
    the agent bridged with the caller's channel (AMI: Getvar BRIDGEPEER, Hangup), and the dial
    string of a second-line number through the operator's trunk (`kck.phone.TrunkDial`)."""

    drop_agent_leg: Callable[[str], Awaitable[None]]
    dial_number: Callable[[str], str]
    ring_timeout_s: int = 30


# `_dial`'s answer when the agent transferred the caller to another agent or queue: wait again
_TRANSFERRED = QueueResult(QueueOutcome.ANSWERED, "")


@dataclass(slots=True)
class _Waiting:
    session: AGISession
    router: Router
    request: RoutingRequest
    prompts: WaitingPrompts
    callback_key: str
    digit_slice_ms: int
    voicemail: Voicemail | None
    stop_playback: PlaybackStop | None
    pop_wait_s: float
    transfers: TransferLegs | None = None
    outage_hold_s: float = OUTAGE_HOLD_S
    events: Inbox[RouterEvent] = field(default_factory=Inbox)
    redis_away_since: float | None = None  # monotonic time of the first failure of this outage
    music_on: bool = False
    offer_arrived: bool = False  # an offer message came since the loop last read Redis
    # offers whose pop the agent's desk has shown (a `shown` may come before the loop reads
    # the offer it belongs to)
    shown: set[str] = field(default_factory=set)
    # an interruptible command (music slice, announcement) is running; its number, so a stop
    # meant for one is not repeated into the next
    listening: int = 0
    _commands: int = 0
    _stops: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def call_id(self) -> str:
        return self.request.call_id

    def own(self, name: str) -> str:
        return self.prompts.own(name, self.request.language)

    def on_event(self, event: RouterEvent) -> None:
        """Called by the process's listener as the event arrives: an offer stops the music; a
        transfer drops the agent's leg (the caller's Dial returns, this loop goes on)."""
        if isinstance(event, CallTransferred):
            self._start(self._drop_agent_leg(event), "drop-agent-leg")
            return
        if not isinstance(event, Offer):
            return
        self.offer_arrived = True
        if self.listening and self.stop_playback is not None:
            self._start(self._stop(self.listening), "stop")

    def _start(self, work: Coroutine[Any, Any, None], what: str) -> None:
        task = asyncio.create_task(work, name=f"{what}-{self.call_id}")
        self._stops.add(task)
        task.add_done_callback(self._stops.discard)

    async def _drop_agent_leg(self, transferred: CallTransferred) -> None:
        with call_context(self.call_id, uniqueid=self.request.uniqueid or None):
            if self.transfers is None:
                log.error("call transferred to %s, but this process cannot end the agent's leg")
                return
            target = f"{transferred.kind}:{transferred.to}"
            log.info("transferred by %s to %s: ending their leg", transferred.agent, target)
            try:
                await self.transfers.drop_agent_leg(self.session.env.channel)
            except Exception:
                log.exception("could not end the leg of %s after the transfer", transferred.agent)

    async def _stop(self, command: int) -> None:
        # Asterisk drops a stop that lands in the instant before it reads the command: ask again
        # while that same command is still running
        assert self.stop_playback is not None
        # started by the process's listener (`on_event`), not by this call's loop
        with call_context(self.call_id, uniqueid=self.request.uniqueid or None):
            for _ in range(_STOP_ATTEMPTS):
                try:
                    await self.stop_playback(self.session.env.channel)
                except Exception as exc:  # AMI away: the offer waits for the end of the slice
                    log.warning("could not cut short what the caller hears: %s", exc)
                    return
                await asyncio.sleep(_STOP_RETRY_S)
                if self.listening != command:
                    return

    async def listen(self, command: Awaitable[str | None]) -> str | None:
        """Run an AGI command an offer may cut short (music slice, announcement file)."""
        self._commands += 1
        self.listening = self._commands
        try:
            return await command
        finally:
            self.listening = 0

    async def music(self, on: bool) -> None:
        if on != self.music_on:
            await self.session.set_music(on, self.router.config.queue(self.request.queue).moh_class)
            self.music_on = on

    def offer_waiting(self) -> bool:
        return self.offer_arrived

    async def redis(self, read: Callable[[], Awaitable[T]], away: T) -> T:
        """A router read or write of the waiting loop. When Redis does not answer, the caller
        hears music and `away` stands for the answer ("nothing new": no offer, no position),
        for `outage_hold_s` from the first failure; after that the error goes up and the
        caller to the dialplan's fallback. The call's place is Redis' own: a pause keeps it."""
        try:
            value = await read()
        except _REDIS_AWAY as exc:
            now = self.router.clock.monotonic()
            if self.redis_away_since is None:
                self.redis_away_since = now
                log.warning(
                    "Redis does not answer (%s); the caller keeps waiting with music for up to "
                    "%g s",
                    exc,
                    self.outage_hold_s,
                )
            if now - self.redis_away_since >= self.outage_hold_s:
                log.error("Redis away for over %g s: handing the caller back", self.outage_hold_s)
                raise
            await self.music(True)
            await self.listen(self.session.wait_for_digit(_OUTAGE_SLICE_MS))
            return away
        if self.redis_away_since is not None:
            log.info("Redis answers again; the caller waited %.1f s", self._away_for())
            self.redis_away_since = None
        return value

    def _away_for(self) -> float:
        since = self.redis_away_since
        return 0.0 if since is None else self.router.clock.monotonic() - since


async def wait_in_queue(
    session: AGISession,
    router: Router,
    request: RoutingRequest,
    *,
    prompts: WaitingPrompts | None = None,
    callback_key: str = "1",
    digit_slice_ms: int | None = None,
    voicemail: Voicemail | None = None,
    stop_playback: PlaybackStop | None = None,
    pop_wait_s: float = POP_WAIT_S,
    transfers: TransferLegs | None = None,
    outage_hold_s: float = OUTAGE_HOLD_S,
) -> QueueResult:
    """Queue the caller and keep them company until an agent answers or the call ends.

    The caller hears music in WAIT FOR DIGIT slices of `digit_slice_ms` and announcements between
    them; an offer for the call cuts the current one short when `stop_playback` is given (else it
    is acted on at the end of the slice: AGI runs one command at a time). When the agent's desk is
    open, the phone rings once the desk shows the pop, or after `pop_wait_s` at the latest.
    Redis away for up to `outage_hold_s`: the caller keeps their place and hears music
    (`_Waiting.redis`); a new caller is queued once Redis answers.
    """
    with call_context(request.call_id, uniqueid=request.uniqueid or None):
        waiting = _Waiting(
            session,
            router,
            request,
            prompts or WaitingPrompts(),
            callback_key,
            digit_slice_ms or (_LONG_SLICE_MS if stop_playback else _SHORT_SLICE_MS),
            voicemail,
            stop_playback,
            pop_wait_s,
            transfers,
            outage_hold_s,
        )
        waiting.events = router.waiters.register(request.call_id, waiting.on_event)
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
            for task in list(waiting._stops):
                task.cancel()


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
    try:
        arrived = datetime.fromisoformat(w.request.arrived_at)
    except ValueError:
        return 0.0
    return max(0.0, (w.router.clock.now() - arrived).total_seconds())


async def _run(w: _Waiting) -> QueueResult:
    queue = w.router.config.queue(w.request.queue)
    clock = w.router.clock
    # whatever Asterisk itself still plays (the dialplan's fallback Queue()) follows the channel's
    # language: make it the call's
    await w.session.set_variable("CHANNEL(language)", w.request.language)
    # the call is offered while this process (its node) is alive, whatever the caller hears
    offer = await _enqueue(w)
    started = clock.monotonic()
    next_announce = started  # the first announcement at once: the caller learns where they are
    last_check = started
    while True:
        if offer is None:
            offer = await _pending_offer(w)
        if offer is not None:
            result = await _dial(w, offer)
            if result is _TRANSFERRED:
                # waiting again, in the queue the call is in now: times count from here
                queue = w.router.config.queue(w.request.queue)
                started = next_announce = last_check = clock.monotonic()
                offer = None
                continue
            if result is not None:
                return result
            offer = None
            continue
        now = clock.monotonic()
        if now - last_check >= _SAFETY_CHECK_S:
            # in case a message was lost: Redis holds the truth
            last_check = now
            state = await w.redis(lambda: w.router.call_offer_state(w.call_id), _UNKNOWN)
            if state is _UNKNOWN:
                continue  # Redis away: the call keeps its place there
            if state is None:
                return QueueResult(QueueOutcome.CLOSED, w.call_id, wait_s=_waited(w))
            offer = await _offer_of(w, state)
            if offer is not None:
                continue
        if now - started >= queue.max_wait_s:
            return await _max_wait(w, queue.on_max_wait)
        if now >= next_announce:
            digit = await _announce(w)
            # counted from the end: an announcement longer than the interval is not repeated
            # back to back, the caller hears music in between
            next_announce = clock.monotonic() + queue.announce_every_s
            if digit == w.callback_key:
                result = await _callback(w)
                if result is not None:
                    return result
            continue
        await w.music(True)
        until = min(next_announce, last_check + _SAFETY_CHECK_S, started + queue.max_wait_s)
        slice_ms = max(_MIN_SLICE_MS, min(w.digit_slice_ms, int((until - now) * 1000)))
        digit = await w.listen(w.session.wait_for_digit(slice_ms))
        if digit == w.callback_key:
            await w.music(False)
            result = await _callback(w)
            if result is not None:
                return result


# the call's state while Redis does not answer
_UNKNOWN: dict[str, str] | None = {}


async def _enqueue(w: _Waiting) -> Offer | None:
    """Queue the call; while Redis is away (up to `outage_hold_s`) the caller hears music and
    it is tried again (a retry of one that did reach Redis is a no-op: `duplicate`)."""
    while True:
        queued = False

        async def enqueue() -> Offer | None:
            nonlocal queued
            offer = await w.router.enqueue(w.request, node=w.router.node)
            queued = True
            return offer

        offer = await w.redis(enqueue, None)
        if queued:
            return offer


async def _pending_offer(w: _Waiting) -> Offer | None:
    """The call's current offer, read from Redis when the live channel said something happened
    to this call. Messages are only a wake-up: an offer message may be stale (already tried),
    Redis holds the truth."""
    if w.events.empty():
        return None
    while not w.events.empty():
        _note_shown(w, w.events.get_nowait())
    w.offer_arrived = False
    return await _offer_of(w, await w.redis(lambda: w.router.call_offer_state(w.call_id), None))


async def _offer_of(w: _Waiting, state: dict[str, str] | None) -> Offer | None:
    if state and state.get("state") == "offered" and state.get("offer"):
        offer_id = state["offer"]
        body = await w.redis(lambda: w.router.store.offer_json(offer_id), None)
        if body is not None:
            return Offer.from_dict(body)
    return None


async def _announce(w: _Waiting) -> str | None:
    """Play the caller's place and estimated wait; returns the callback key if pressed meanwhile.
    Redis away: nothing to say, the music goes on."""
    figures = await w.redis(lambda: w.router.announcement_figures(w.call_id, w.request.queue), None)
    if figures is None:
        return None
    position, estimate = figures
    await w.music(False)
    sounds = w.prompts.announcement(
        w.request.language, position, estimate, offer_callback=bool(w.request.caller)
    )
    for sound in sounds:
        if w.offer_waiting():  # an agent is free: no more words, ring them
            return None
        # each file may be cut short by an offer (w.listen), or by the callback key
        digit = await w.listen(w.session.stream_file(sound, w.callback_key))
        if digit is not None:
            return digit
    return None


async def _callback(w: _Waiting) -> QueueResult | None:
    if not w.request.caller:
        await w.session.stream_file(w.own(w.prompts.callback_unavailable))
        return None
    if not await _request_callback(w, w.request.caller):
        return None  # an offer raced the key press: take the offer
    await w.session.stream_file(w.own(w.prompts.callback_confirmed))
    await w.session.hangup()
    return QueueResult(QueueOutcome.CALLBACK, w.call_id, wait_s=_waited(w))


async def _request_callback(w: _Waiting, number: str) -> bool:
    """Ask the router for a callback; while Redis is away (up to `outage_hold_s`) the caller
    hears music and it is asked again, so a key pressed during a short outage is kept and
    confirmed when Redis answers (asking twice is harmless: the call is then a callback)."""
    done: bool | None = None
    while done is None:  # None: Redis away, music played meanwhile
        done = await w.redis(lambda: w.router.request_callback(w.call_id, number), None)
    if done:
        return True
    # refused: an offer raced the key, or an earlier request reached Redis and its answer was lost
    state = await w.redis(lambda: w.router.call_state(w.call_id), _UNKNOWN)
    return state is not _UNKNOWN and (state or {}).get("kind") == "callback"


async def _max_wait(w: _Waiting, action: str) -> QueueResult:
    await w.music(False)
    if action == "callback" and w.request.caller and await _request_callback(w, w.request.caller):
        await w.session.stream_file(w.own(w.prompts.max_wait_callback))
        await w.session.hangup()
        return QueueResult(QueueOutcome.CALLBACK, w.call_id, wait_s=_waited(w))
    await w.router.call_ended(w.call_id, EndCause.VOICEMAIL)
    if w.voicemail is not None:
        await w.voicemail(w.session, w.request)
    return QueueResult(QueueOutcome.VOICEMAIL, w.call_id, wait_s=_waited(w))


async def _dial(w: _Waiting, offer: Offer) -> QueueResult | None:
    """Ring the agent from the caller's channel; None = back to waiting (at the head)."""
    if offer.desk:
        await _pop_shown(w, offer)
    await w.music(False)
    log.info("dialling %s for offer %s", offer.dial, offer.offer_id)
    # t: the agent may transfer the caller (kck's consult is the PBX's attended transfer)
    await w.session.exec("Dial", f"{offer.dial},{offer.ring_timeout_s},t")
    status = (await w.session.get_variable("DIALSTATUS") or "").upper()
    if status == "ANSWER":
        talk = await w.session.get_variable("ANSWEREDTIME")
        at = None
        if talk and talk.strip().isdigit():
            at = w.router.clock.now() - timedelta(seconds=int(talk))
        await w.router.offer_answered(offer.offer_id, at)  # False when AMI already said so
        state = await w.router.call_state(w.call_id) or {}
        if state.get("xfers") and state.get("state") != "on_call" and not w.session.hung_up:
            return await _transferred(w, state)
        # after a consult the caller talked last with the agent it was handed to
        agent = state.get("agent") or offer.agent
        await w.router.call_ended(w.call_id, EndCause.COMPLETED)
        return QueueResult(QueueOutcome.ANSWERED, w.call_id, agent, _waited(w))
    if status == "CANCEL" or w.session.hung_up:
        raise CallerHungUp("caller hung up while the agent's phone rang")
    why = "busy" if status in _PHONE_BUSY else "no_answer"
    await w.router.offer_not_answered(offer.offer_id, why)
    return None


async def _transferred(w: _Waiting, state: dict[str, str]) -> QueueResult:
    """The agent transferred the caller (their leg is gone, the caller is still here): to
    another agent or queue the loop waits again; to a second-line number it dials the trunk."""
    if state.get("state") != "external":
        w.request = replace(w.request, queue=state.get("queue") or w.request.queue)
        return _TRANSFERRED
    number = state.get("xto", "")
    if w.transfers is None:
        log.error("cannot dial second-line number %s: no trunk for transfers here", number)
        await w.router.call_ended(w.call_id, EndCause.TRANSFERRED_OUT)
        return QueueResult(QueueOutcome.ANSWERED, w.call_id, wait_s=_waited(w))
    dial = w.transfers.dial_number(number)
    log.info("transferred to second-line number %s: dialling %s", number, dial)
    await w.session.exec("Dial", f"{dial},{w.transfers.ring_timeout_s}")
    status = (await w.session.get_variable("DIALSTATUS") or "").upper()
    log.info("second-line number %s: %s", number, status or "no status")
    await w.router.call_ended(w.call_id, EndCause.TRANSFERRED_OUT)
    return QueueResult(QueueOutcome.ANSWERED, w.call_id, wait_s=_waited(w))


def _note_shown(w: _Waiting, event: RouterEvent) -> None:
    if isinstance(event, CallSignal) and event.kind == "shown" and event.offer_id:
        w.shown.add(event.offer_id)


async def _pop_shown(w: _Waiting, offer: Offer) -> bool:
    """Wait until the agent's desk says the pop is on the screen (`shown`), at most
    `pop_wait_s`: the phone must not ring before the agent sees who calls, nor wait for a
    desk that is not answering."""
    try:
        async with asyncio.timeout(w.pop_wait_s):
            while offer.offer_id not in w.shown:
                event = await w.events.get()
                _note_shown(w, event)
                if isinstance(event, CallEnded):
                    return False
            return True
    except TimeoutError:
        log.info(
            "the desk of %s did not show offer %s within %.1f s; ringing anyway",
            offer.agent,
            offer.offer_id,
            w.pop_wait_s,
        )
        return False
