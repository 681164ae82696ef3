"""The IntentRecogniser over `ivr.speech`: prompt, RECORD FILE, vosk, confirm — on the AGI session.

Only calls on an AGI channel can be listened to; elsewhere (terminal, scripted tests) the step
hears nothing and takes its DTMF fallback. Thresholds live in the intents files of `ivr.speech`;
an intent it accepts (or the caller confirmed) is passed on with the recogniser's confidence.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ivr.channel import Channel
from ivr.speech_port import IntentResult, SpeechRequest

log = logging.getLogger(__name__)


class SpeechServiceRecogniser:
    def __init__(self, service: Any, sounds_dir: Path, timeout_s: float = 8.0) -> None:
        self.service = service  # ivr.speech.SpeechService, started
        self.sounds_dir = sounds_dir  # as Asterisk sees it (asterisk.sounds): sent in STREAM FILE
        self.timeout_s = timeout_s  # speech.timeout: the longest wait for the recogniser

    async def recognise_intent(self, channel: Channel, request: SpeechRequest) -> IntentResult:
        from ivr.speech import SpeechOutcomeKind, SpeechStepConfig

        session = getattr(channel, "session", None)
        intents = self.service.intents.get(request.language)
        if session is None or intents is None:
            why = "not an AGI call" if session is None else f"no intents for {request.language}"
            log.info("speech step %s: %s; DTMF fallback", request.step_id, why)
            return IntentResult(None, 0.0, None)
        # every sound the step plays is <sounds>/<language>/<name>, as `kck prompts build` writes
        config = SpeechStepConfig(
            prompt=str(self.sounds_dir / request.prompt.sound),
            max_seconds=request.max_seconds,
            sounds_prefix=str(self.sounds_dir),
            recognition_timeout=self.timeout_s,
        )
        outcome = await self.service.step.run(session, intents, config, call_id=request.call_id)
        transcript = outcome.transcript or None
        if outcome.kind is SpeechOutcomeKind.INTENT and outcome.intent is not None:
            return IntentResult(
                outcome.intent.id,
                outcome.confidence,
                transcript,
                next_step=outcome.next_step,
                confirmed=outcome.confirmed,
            )
        if outcome.kind is SpeechOutcomeKind.DIGIT:
            return IntentResult(None, 0.0, transcript, digit=outcome.digit)
        return IntentResult(None, outcome.confidence, transcript)


async def start_speech(
    settings: Any, sounds_dir: Path
) -> tuple[SpeechServiceRecogniser | None, Any]:
    """Build and start the speech service when vosk models are configured; (None, None) otherwise."""
    if not settings.speech.models:
        return None, None
    try:
        from ivr.speech import create_speech_service

        service = await create_speech_service(settings)
        await service.start()
    except Exception:  # speech is optional: the menu's DTMF fallbacks carry every call
        log.exception("speech recognition could not start; speech steps use their DTMF fallback")
        return None, None
    return SpeechServiceRecogniser(service, sounds_dir, settings.speech.timeout), service
