"""What the recordings need from packages they do not import (composition root): the router's
events (`queues.events`) and the IVR's offline recogniser (`ivr.speech`) for transcription."""

from __future__ import annotations

from pathlib import Path

from ivr.speech.recogniser import SpeechRecogniser
from kck.bus import BusEvent
from queues.events import CallAnswered, CallbackAttemptFailed, CallQueued, decode_event
from queues.router import callback_channel_id
from recordings.lifecycle import AnsweredCall, AnsweredCallback, CallbackNotReached, QueuedCall
from recordings.transcription import Heard, TimedWord

# a recording decodes at RTF ≈ 0.03 (docs/speech.md); this bounds a 30-minute call comfortably
TRANSCRIBE_TIMEOUT_S = 600.0


class SpeechTranscriber:
    """The recordings' `Transcriber` over the IVR's vosk worker processes (free-form decoding)."""

    def __init__(self, recogniser: SpeechRecogniser) -> None:
        self.recogniser = recogniser

    async def transcribe(self, path: Path, language: str) -> Heard:
        heard = await self.recogniser.transcribe(path, language, None, timeout=TRANSCRIBE_TIMEOUT_S)
        return Heard(
            tuple(TimedWord(w.word, w.start, w.end, w.confidence) for w in heard.words),
            heard.audio_seconds,
            heard.decode_seconds,
        )

    async def stop(self) -> None:
        await self.recogniser.stop()


def recording_input(
    event: BusEvent,
) -> QueuedCall | AnsweredCall | AnsweredCallback | CallbackNotReached | None:
    typed = decode_event(event.type, event.data)
    if isinstance(typed, CallQueued):
        request = typed.request
        return QueuedCall(
            typed.call_id, request.uniqueid, request.channel, typed.queue, request.recording_consent
        )
    if isinstance(typed, CallAnswered) and typed.kind == "inbound":
        return AnsweredCall(typed.call_id, typed.agent)
    if isinstance(typed, CallAnswered) and typed.kind == "callback":
        # the agent's leg, whose uniqueid the callback's Originate set (queues.callbacks)
        channel = callback_channel_id(typed.call_id)
        return AnsweredCallback(typed.call_id, typed.agent, channel, typed.queue)
    if isinstance(typed, CallbackAttemptFailed):
        return CallbackNotReached(typed.call_id)
    return None
