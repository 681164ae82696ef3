"""Recognition end to end with a real vosk model: utterance file → worker → intent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from ivr.speech import IntentSet, SpeechReason, SpeechRecogniser

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("utterance", "intent"),
    [
        ("주차 위반", "parking"),
        ("버스 노선", "bus_routes"),
        ("상담원", "agent"),
        ("주민등록증", "id_card"),
    ],
)
async def test_spoken_intent_phrase_is_recognised_as_its_intent(
    recogniser: SpeechRecogniser,
    korean_intents: IntentSet,
    say: Callable[[str], Path],
    utterance: str,
    intent: str,
) -> None:
    result = await recogniser.recognise_intent(say(utterance), "ko", korean_intents, timeout=30)
    assert result.reason is SpeechReason.RECOGNISED, result
    assert result.intent is not None and result.intent.id == intent
    assert result.transcript == utterance
    assert not result.needs_confirmation
    assert result.confidence >= korean_intents.thresholds.accept
    assert result.audio_seconds > 0.5


@pytest.mark.parametrize(
    "utterance", ["오늘 날씨 어때요", "음악 들려주세요", "고양이가 좋아요", "사과 먹고 싶어요"]
)
async def test_speech_outside_the_grammar_is_never_accepted_as_an_intent(
    recogniser: SpeechRecogniser,
    korean_intents: IntentSet,
    say: Callable[[str], Path],
    utterance: str,
) -> None:
    result = await recogniser.recognise_intent(say(utterance), "ko", korean_intents, timeout=30)
    # The model has no [unk]: the words are forced onto grammar words, but not into a phrase.
    assert result.transcript != ""
    assert not result.accepted
    assert result.intent is None or result.needs_confirmation


async def test_phrase_amid_other_words_is_offered_for_confirmation_never_taken_outright(
    recogniser: SpeechRecogniser, korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    # "I am calling about a parking violation": 27 of 30 runs offer parking, 3 are too weak.
    result = await recogniser.recognise_intent(
        say("주차 위반 때문에 전화했어요"), "ko", korean_intents, timeout=30
    )
    assert result.transcript.startswith("주차 위반")
    assert not result.accepted
    if result.intent is not None:
        assert result.needs_confirmation and result.intent.id == "parking"
        assert korean_intents.thresholds.confirm <= result.confidence
        assert result.confidence < korean_intents.thresholds.accept
    else:
        assert result.reason is SpeechReason.LOW_CONFIDENCE


async def test_silent_recording_is_no_speech(
    recogniser: SpeechRecogniser, korean_intents: IntentSet, silence: Path
) -> None:
    result = await recogniser.recognise_intent(silence, "ko", korean_intents, timeout=30)
    assert result.reason is SpeechReason.NO_SPEECH
    assert result.intent is None and result.transcript == ""


async def test_language_without_a_model_is_reported_missing_naming_the_setting(
    recogniser: SpeechRecogniser, korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    result = await recogniser.recognise_intent(say("상담원"), "pl", korean_intents, timeout=30)
    assert result.reason is SpeechReason.MODEL_MISSING
    assert "speech.models.pl" in result.detail


async def test_model_folder_that_does_not_exist_is_reported_missing_naming_the_folder(
    tmp_path: Path,
    korean_intents: IntentSet,
    say: Callable[[str], Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    missing = tmp_path / "vosk-model-small-pl-0.22"
    recogniser = SpeechRecogniser({"ko": missing}, workers=1)
    try:
        with caplog.at_level(logging.WARNING):
            loaded = await recogniser.start()
        assert loaded == ()
        assert "no usable model for ['ko']" in caplog.text
        result = await recogniser.recognise_intent(say("상담원"), "ko", korean_intents, timeout=30)
    finally:
        await recogniser.stop()
    assert result.reason is SpeechReason.MODEL_MISSING
    assert str(missing) in result.detail and result.intent is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"RIFF\x24\x00\x00\x00WAVEfmt garbage", "not a readable WAV file"),
        (b"", "not a readable WAV file"),
        (b"\x00\x01" * 4000, "not a readable WAV file"),  # raw samples without a header
        (b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk", "not a readable WAV file"),  # wave: RuntimeError
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00", "not a readable WAV file"),  # short header
    ],
)
async def test_corrupt_recording_is_reported_naming_the_file(
    recogniser: SpeechRecogniser,
    korean_intents: IntentSet,
    tmp_path: Path,
    content: bytes,
    expected: str,
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(content)
    result = await recogniser.recognise_intent(broken, "ko", korean_intents, timeout=30)
    assert result.reason is SpeechReason.CORRUPT_AUDIO
    assert str(broken) in result.detail and expected in result.detail


async def test_missing_recording_is_reported_as_unreadable_audio(
    recogniser: SpeechRecogniser, korean_intents: IntentSet, tmp_path: Path
) -> None:
    result = await recogniser.recognise_intent(
        tmp_path / "nope.wav", "ko", korean_intents, timeout=30
    )
    assert result.reason is SpeechReason.CORRUPT_AUDIO
    assert "recording not found" in result.detail


async def test_stereo_recording_is_refused_with_the_format_it_needs(
    recogniser: SpeechRecogniser, korean_intents: IntentSet, tmp_path: Path
) -> None:
    import wave

    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00" * 16000)
    result = await recogniser.recognise_intent(stereo, "ko", korean_intents, timeout=30)
    assert result.reason is SpeechReason.CORRUPT_AUDIO
    assert "expected 16-bit mono PCM" in result.detail


async def test_recognition_that_misses_its_deadline_times_out_and_the_worker_stays_usable(
    recogniser: SpeechRecogniser, korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    late = await recogniser.recognise_intent(say("주차 위반"), "ko", korean_intents, timeout=0.0)
    assert late.reason is SpeechReason.TIMEOUT
    assert "within 0 s" in late.detail and late.intent is None
    again = await recogniser.recognise_intent(say("상담원"), "ko", korean_intents, timeout=30)
    assert again.accepted and again.intent is not None and again.intent.id == "agent"


async def test_free_form_transcript_without_any_phrase_falls_back_as_no_match(
    recogniser: SpeechRecogniser, korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    from dataclasses import replace

    free = replace(korean_intents, free_form=True)
    result = await recogniser.recognise_intent(say("상담원"), "ko", free, timeout=60)
    # Free-form espeak-ng Korean comes out as other words: no phrase, no intent.
    assert result.transcript != ""
    assert result.reason is SpeechReason.NO_MATCH and result.intent is None


async def test_recording_beyond_the_workers_backlog_is_refused_at_once_as_busy(
    korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    import asyncio

    recogniser = SpeechRecogniser({}, workers=1, max_pending=1)
    try:
        first, second = await asyncio.gather(
            recogniser.recognise_intent(say("상담원"), "ko", korean_intents, timeout=60),
            recogniser.recognise_intent(say("상담원"), "ko", korean_intents, timeout=60),
        )
    finally:
        await recogniser.stop()
    assert first.reason is SpeechReason.MODEL_MISSING  # it did reach a worker
    assert second.reason is SpeechReason.BUSY
    assert "1 recordings already wait for 1 worker(s)" in second.detail
    assert recogniser.pending == 0


async def test_killed_worker_fails_one_recording_and_the_next_gets_a_new_worker(
    korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    import asyncio
    import os
    import signal

    recogniser = SpeechRecogniser({}, workers=1)  # no model: nothing heavy to load
    try:
        await recogniser.start()
        health = recogniser.health()
        assert health["up"] is True and health["pending"] == 0
        (pid,) = recogniser.worker_pids()
        os.kill(pid, signal.SIGKILL)  # what the kernel's out-of-memory killer does
        await asyncio.sleep(0.5)  # let the pool notice, so submitting itself fails
        failed = await recogniser.recognise_intent(say("상담원"), "ko", korean_intents, timeout=60)
        again = await recogniser.recognise_intent(say("상담원"), "ko", korean_intents, timeout=60)
        new_pids = recogniser.worker_pids()
    finally:
        await recogniser.stop()
    assert failed.reason is SpeechReason.WORKER_FAILED
    assert "BrokenProcessPool" in failed.detail
    assert again.reason is SpeechReason.MODEL_MISSING  # reached a working worker
    assert new_pids and pid not in new_pids
