"""The menu interpreter: runs one call through one menu version over any Channel."""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from ivr.channel import CallerHungUp, Channel, DialStatus, KeyInput, Recording, RenderedPrompt
from ivr.hours import opening_state
from ivr.loader import MenuSet
from ivr.matter_port import MatterStatusSource
from ivr.model import (
    CallbackStep,
    ConsentStep,
    DigitsStep,
    GotoStep,
    HangupStep,
    HoursStep,
    InfoStep,
    LanguageStep,
    MatterStatusStep,
    MenuStep,
    QueueStep,
    SayStep,
    SetStep,
    SpeechStep,
    Step,
    TransferStep,
    VoicemailStep,
)
from ivr.routing import QueueGateway
from ivr.speech_port import IntentRecogniser, SpeechRequest
from kck.clock import Clock
from kck.phone import to_e164
from matters.lifecycle import MatterStatus
from queues.model import CallbackRequest, IVRStep, QueueOutcome, RoutingRequest

log = logging.getLogger(__name__)


class IVROutcome(enum.StrEnum):
    """Where the call left the menu."""

    QUEUED = "queued"
    SELF_SERVICE = "self_service"
    CLOSED_HOURS = "closed_hours"
    CALLBACK = "callback"
    VOICEMAIL = "voicemail"
    TRANSFERRED = "transferred"
    HUNG_UP_IN_IVR = "hung_up_in_ivr"
    FAILED = "failed"


class IVRRuntimeError(Exception):
    """The menu could not go on (a bug or an impossible state); the message names the step."""


@dataclass(frozen=True)
class CallInfo:
    """The call as it arrives: our id, Asterisk's ids, caller (E.164 or None), start time."""

    call_id: str
    uniqueid: str
    channel: str
    caller: str | None
    arrived_at: datetime
    language: str | None = None


@dataclass
class CallResult:
    """What happened: the outcome, the path walked, variables, and what was handed on."""

    outcome: IVROutcome
    language: str
    menu_version: str
    path: list[IVRStep] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    routing: RoutingRequest | None = None
    queue_outcome: QueueOutcome | None = None
    callback: CallbackRequest | None = None
    recording: Recording | None = None
    transfer: tuple[str, DialStatus] | None = None
    intent: str | None = None
    transcript: str | None = None
    # the caller heard the recording announcement and did not (True) or did (False) refuse;
    # None: no announcement, so the call is not recorded
    recording_consent: bool | None = None
    last_step: str | None = None
    hung_up_at: str | None = None
    error: BaseException | None = None

    @property
    def path_text(self) -> str:
        return " → ".join(s.label for s in self.path if s.label != s.step_id)


class _End(Exception):
    """Internal: the call leaves the menu with this outcome."""

    def __init__(self, outcome: IVROutcome) -> None:
        self.outcome = outcome


_NO_INPUT = KeyInput("", True)


class Interpreter:
    """Runs calls through one menu version; holds no per-call state (one instance per version)."""

    def __init__(
        self,
        menu: MenuSet,
        version: str,
        *,
        gateway: QueueGateway,
        clock: Clock,
        speech: IntentRecogniser | None = None,
        max_steps: int = 500,
        on_handover: Callable[[CallResult], Awaitable[None]] | None = None,
        matters: MatterStatusSource | None = None,
    ) -> None:
        """`on_handover` runs when a call is handed to a queue, before the wait (to record it);
        `matters`: where a matter's state is read (none: every matter is unknown)."""
        self.on_handover = on_handover
        self.matters = matters
        self.menu = menu
        self.version = version
        self.gateway = gateway
        self.clock = clock
        self.speech = speech
        self.max_steps = max_steps

    async def run(self, channel: Channel, call: CallInfo) -> CallResult:
        """Run the call to its end; never raises for the caller hanging up or for a menu bug.

        A bug in our code is returned in `result.error` (outcome FAILED) so the FastAGI route can
        record the path walked so far and then fail, letting the dialplan fall back to a queue.
        """
        language = call.language if call.language in self.menu.header.languages else None
        run = _CallRun(self, channel, call, language or self.menu.header.default_language)
        try:
            await run.walk()
        except CallerHungUp:
            run.result.hung_up_at = run.result.last_step
            if run.result.outcome is IVROutcome.QUEUED:
                run.result.queue_outcome = run.result.queue_outcome or QueueOutcome.ABANDONED
            elif run.result.outcome is IVROutcome.FAILED:
                run.result.outcome = IVROutcome.HUNG_UP_IN_IVR
            log.info("caller hung up in step %s", run.result.last_step)
        except Exception as exc:  # a bug must not leave the caller in silence: report it upwards
            log.exception("IVR failed in step %s", run.result.last_step)
            run.result.outcome = IVROutcome.FAILED
            run.result.error = exc
        return run.result


def _typed_number(keys: str) -> str | None:
    """Keys a caller typed as a phone number → E.164; Poles often type the old leading 0."""
    digits = keys.rstrip("#")
    if len(digits) == 10 and digits.startswith("0") and not digits.startswith("00"):
        digits = digits[1:]
    return to_e164(digits) if digits.isdigit() or digits.startswith("+") else None


_MATTER_STATES = frozenset(s.value for s in MatterStatus)


class _CallRun:
    """The state of one call walking the menu."""

    def __init__(
        self, interp: Interpreter, channel: Channel, call: CallInfo, language: str
    ) -> None:
        self.i = interp
        self.menu = interp.menu
        self.channel = channel
        self.call = call
        self.language = language
        self.closed = False
        # FAILED until an end is reached: a hang-up before then is HUNG_UP_IN_IVR
        self.result = CallResult(IVROutcome.FAILED, language, interp.version)
        self.result.variables["language"] = language

    # ---- prompts and path -------------------------------------------------------------------
    def render(self, prompt_id: str) -> RenderedPrompt:
        prompt = self.menu.prompts[prompt_id]
        text = (
            prompt.text.get(self.language)  # type: ignore[call-overload]
            or prompt.text.get(self.menu.header.default_language)
            or ""
        )
        if "{" in text:  # most prompts name no variable
            for name, value in self.result.variables.items():
                text = text.replace("{" + name + "}", value)
        sound = prompt.sound or prompt_id
        return RenderedPrompt(prompt_id, self.language, f"{self.language}/{sound}", text)

    async def play(self, prompt_id: str | None) -> None:
        if prompt_id:
            await self.channel.play(self.render(prompt_id))

    def visit(self, step_id: str, step: Step, digits: str | None = None) -> None:
        self.result.last_step = step_id
        self.result.path.append(
            IVRStep(step_id, step.label_in("pl", step_id), digits, self.i.clock.now().isoformat())
        )

    def set_digits(self, digits: str) -> None:
        last = self.result.path[-1]
        self.result.path[-1] = IVRStep(last.step_id, last.label, digits, last.at)

    async def read(self, prompt_id: str | None, timeout: float | None, max_digits: int) -> KeyInput:
        seconds = timeout or self.menu.header.timeout
        prompt = self.render(prompt_id) if prompt_id else None
        return await self.channel.read_keys(prompt, timeout_s=seconds, max_digits=max_digits)

    async def invalid(self, prompt_id: str | None) -> None:
        await self.play(prompt_id or self.menu.header.invalid)

    # ---- the walk ---------------------------------------------------------------------------
    async def walk(self) -> None:
        await self.channel.answer()
        current: str | None = self.menu.header.start
        steps = 0
        try:
            while current is not None:
                steps += 1
                if steps > self.i.max_steps:
                    raise IVRRuntimeError(
                        f"more than {self.i.max_steps} steps in one call (last: {current!r})"
                    )
                step = self.menu.steps.get(current)
                if step is None:
                    raise IVRRuntimeError(f"step {current!r} does not exist")
                self.visit(current, step)
                log.debug("step %s (%s)", current, step.type)
                current = await self.execute(current, step)
        except _End as end:
            self.result.outcome = end.outcome
            return
        raise IVRRuntimeError(f"the menu ended without an end step after {self.result.last_step!r}")

    async def end(self, outcome: IVROutcome, goodbye: str | None = None) -> None:
        self.result.outcome = outcome
        await self.play(goodbye)
        await self.channel.hangup()
        raise _End(outcome)

    async def execute(self, step_id: str, step: Step) -> str | None:
        handler = getattr(self, f"step_{step.type}")
        next_step: str | None = await handler(step_id, step)
        return next_step

    async def step_say(self, step_id: str, step: SayStep) -> str:
        await self.play(step.prompt)
        return step.next

    async def step_consent(self, step_id: str, step: ConsentStep) -> str:
        pressed = await self.channel.play(self.render(step.prompt), interruptible=True)
        declined = pressed == step.decline_key
        self.result.recording_consent = not declined
        self.result.variables["recording"] = "no" if declined else "yes"
        if declined:
            self.set_digits(step.decline_key)
            log.info("caller declined recording")
            await self.play(step.declined_prompt)
        return step.next

    async def step_menu(self, step_id: str, step: MenuStep) -> str | None:
        got = _NO_INPUT
        for attempt in range(step.retries + 1):
            got = await self.read(step.prompt, step.timeout, 1)
            if got.digits in step.choices:
                self.set_digits(got.digits)
                return step.choices[got.digits]
            if attempt == step.retries:
                break
            if got.digits:
                await self.invalid(step.invalid_prompt)
            else:
                await self.play(step.timeout_prompt)
        self.set_digits(got.digits or "timeout")
        if got.digits:
            await self.invalid(step.invalid_prompt)
        return step.fallback

    async def step_digits(self, step_id: str, step: DigitsStep) -> str | None:
        pattern = re.compile(step.pattern) if step.pattern else None
        for attempt in range(step.retries + 1):
            got = await self.read(step.prompt, step.timeout, step.max_digits)
            digits = got.digits.rstrip("#")
            good = step.min_digits <= len(digits) <= step.max_digits and (
                pattern is None or pattern.fullmatch(digits)
            )
            if good:
                self.set_digits(digits)
                self.result.variables[step.variable] = digits
                return step.next
            if attempt < step.retries and digits:
                await self.invalid(step.invalid_prompt)
        return step.fallback

    async def step_hours(self, step_id: str, step: HoursStep) -> str:
        state = opening_state(self.menu.calendars[step.calendar], self.i.clock.now())
        self.closed = not state.open
        self.result.variables[f"{step.calendar}_open"] = "yes" if state.open else "no"
        log.info(
            "calendar %s at %s: %s (%s)",
            step.calendar,
            state.local_time,
            "open" if state.open else "closed",
            state.reason,
        )
        return step.open if state.open else step.closed

    async def step_language(self, step_id: str, step: LanguageStep) -> str:
        chosen: str = step.default
        for _ in range(step.retries + 1):
            got = await self.read(step.prompt, step.timeout, 1)
            if got.digits in step.choices:
                chosen = step.choices[got.digits]
                self.set_digits(got.digits)
                break
            if got.digits:
                await self.invalid(None)
        self.language = chosen
        self.result.language = chosen
        self.result.variables["language"] = chosen
        await self.channel.set_variable("CHANNEL(language)", chosen)
        return step.next

    def routing_request(
        self,
        queue: str,
        skills: dict[str, int],
        priority: int,
        category: str | None,
        topic: str | None,
    ) -> RoutingRequest:
        by_language = self.menu.header.language_routing.get(self.language)  # type: ignore[call-overload]
        if by_language is not None:
            # a caller in another language needs that language first, then the matter
            queue = by_language.queue
            skills = {by_language.skill: by_language.level, **skills}
        return RoutingRequest(
            call_id=self.call.call_id,
            uniqueid=self.call.uniqueid,
            channel=self.call.channel,
            caller=self.call.caller,
            language=self.language,
            queue=queue,
            skills=dict(skills),
            priority=priority,
            ivr_path=tuple(self.result.path),
            ivr_path_text=self.result.path_text,
            intent=self.result.intent,
            transcript=self.result.transcript,
            kb_topic=topic,
            ticket_category=category,
            menu_version=self.i.version,
            arrived_at=self.call.arrived_at.isoformat(),
            variables=dict(self.result.variables),
            recording_consent=self.result.recording_consent,
        )

    async def step_queue(self, step_id: str, step: QueueStep) -> str | None:
        request = self.routing_request(
            step.queue, step.skills, step.priority, step.ticket_category, step.kb_topic
        )
        await self.play(step.prompt)
        self.result.routing = request
        self.result.outcome = IVROutcome.QUEUED
        if self.i.on_handover is not None:
            await self.i.on_handover(self.result)
        await self.i.gateway.enqueue(request)
        outcome = await self.i.gateway.wait(request, self.channel)
        self.result.queue_outcome = outcome
        if outcome is QueueOutcome.NO_AGENT and step.no_agent:
            self.result.outcome = IVROutcome.FAILED
            return step.no_agent
        raise _End(IVROutcome.QUEUED)

    async def step_info(self, step_id: str, step: InfoStep) -> str | None:
        await self.play(step.prompt)
        if step.next:
            return step.next
        await self.end(
            IVROutcome.CLOSED_HOURS if self.closed else IVROutcome.SELF_SERVICE,
            self.menu.header.goodbye,
        )
        return None

    async def step_callback(self, step_id: str, step: CallbackStep) -> str | None:
        number = self.call.caller
        confirmed = False
        if number is not None:
            await self.play(step.confirm_prompt)
            national = number[3:] if number.startswith("+48") else number.lstrip("+")
            await self.channel.say_digits(national, self.language)
            got = await self.read(None, step.timeout, 1)
            confirmed = got.digits == "1"
        if not confirmed:
            number = None
            for attempt in range(2):
                got = await self.read(step.enter_prompt, step.timeout, 15)
                number = _typed_number(got.digits)
                if number:
                    break
                if attempt == 0:
                    await self.invalid(None)
        if number is None:
            if step.fallback:
                return step.fallback
            await self.end(IVROutcome.SELF_SERVICE, self.menu.header.goodbye)
            return None
        self.set_digits("1" if confirmed else number)
        request = self.routing_request(
            step.queue, step.skills, 0, step.ticket_category, step.kb_topic
        )
        callback = CallbackRequest(request, number, confirmed)
        await self.i.gateway.request_callback(callback)
        self.result.callback = callback
        self.result.routing = request
        self.result.variables["callback_number"] = number
        self.result.outcome = IVROutcome.CALLBACK
        await self.play(step.done_prompt)
        if step.next:
            return step.next
        await self.end(IVROutcome.CALLBACK, self.menu.header.goodbye)
        return None

    async def step_voicemail(self, step_id: str, step: VoicemailStep) -> str | None:
        await self.play(step.prompt)
        recording = await self.channel.record(
            f"voicemail/{step.box}/{self.call.call_id}", max_seconds=step.max_seconds
        )
        self.result.recording = recording
        self.result.variables["voicemail_box"] = step.box
        self.result.outcome = IVROutcome.VOICEMAIL
        await self.play(step.done_prompt)
        if step.next:
            return step.next
        await self.end(IVROutcome.VOICEMAIL, self.menu.header.goodbye)
        return None

    async def step_transfer(self, step_id: str, step: TransferStep) -> str | None:
        await self.play(step.prompt)
        status = await self.channel.dial(step.number, timeout_s=step.dial_timeout)
        self.result.transfer = (step.number, status)
        self.result.variables["transfer_status"] = status.value
        if status is DialStatus.ANSWER:
            raise _End(IVROutcome.TRANSFERRED)
        if step.failed:
            return step.failed
        raise _End(IVROutcome.TRANSFERRED)

    async def step_speech(self, step_id: str, step: SpeechStep) -> str:
        if self.i.speech is None:
            log.info(
                "speech step %s: no speech recogniser installed (ivr.speech); using DTMF fallback %s",
                step_id,
                step.fallback,
            )
            return step.fallback
        intents_name = self.menu.intent_files.get(step.intents, step.intents)
        request = SpeechRequest(
            call_id=self.call.call_id,
            step_id=step_id,
            prompt=self.render(step.prompt),
            language=self.language,
            intents_file=step.intents,
            intents_text=self.menu.files.files.get(intents_name),
            intents=tuple(step.routes),
            confidence=step.confidence,
            max_seconds=step.max_seconds,
        )
        try:
            heard = await self.i.speech.recognise_intent(self.channel, request)
        except CallerHungUp:
            raise
        except Exception:
            log.exception(
                "speech step %s: recognition failed; using fallback %s", step_id, step.fallback
            )
            return step.fallback
        self.result.transcript = heard.transcript
        if heard.digit:
            # a key instead of words: treat it as a choice in the fallback menu
            fallback = self.menu.steps.get(step.fallback)
            if isinstance(fallback, MenuStep) and heard.digit in fallback.choices:
                self.set_digits(heard.digit)
                return fallback.choices[heard.digit]
            return step.fallback
        target = step.routes.get(heard.intent or "")
        if target is None and heard.next_step in self.menu.steps:
            target = heard.next_step
        if heard.intent and target and (heard.confirmed or heard.confidence >= step.confidence):
            self.result.intent = heard.intent
            self.result.variables["intent"] = heard.intent
            return target
        log.info(
            "speech step %s: %r at confidence %.2f is not enough; fallback %s",
            step_id,
            heard.intent,
            heard.confidence,
            step.fallback,
        )
        return step.fallback

    async def step_set(self, step_id: str, step: SetStep) -> str:
        for name, value in step.variables.items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            self.result.variables[name] = text
        return step.next

    async def step_matter_status(self, step_id: str, step: MatterStatusStep) -> str:
        keys = self.result.variables.get(step.variable, "")
        status: str | None = None
        if keys and self.i.matters is not None:
            try:
                status = await self.i.matters.status_of(keys)
            except Exception:  # the caller hears "not found" rather than silence
                log.exception("matter status of %r could not be read", keys)
        prompt = step.prompts.get(MatterStatus(status)) if status in _MATTER_STATES else None
        self.result.variables["matter_status"] = status or "unknown"
        await self.play(prompt or step.unknown_prompt)
        return step.next

    async def step_goto(self, step_id: str, step: GotoStep) -> str:
        return step.target

    async def step_hangup(self, step_id: str, step: HangupStep) -> None:
        outcome = IVROutcome(step.outcome)
        if self.closed and outcome is IVROutcome.SELF_SERVICE:
            outcome = IVROutcome.CLOSED_HOURS
        await self.end(outcome, step.prompt)
