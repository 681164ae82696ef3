"""The speech step end to end: the PBX simulator calls our FastAGI server, plays the caller's
utterance file into RECORD FILE, the step recognises it with the real Korean model, confirms or
falls back to DTMF, and says why in the log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from asterisk.agi import AGISession, CallerHungUp, FastAGIServer
from demo.simulator import CallerScript, CallOutcome, DigitPress, PBXSimulator
from ivr.speech import (
    IntentSet,
    SpeechOutcome,
    SpeechOutcomeKind,
    SpeechReason,
    SpeechRecogniser,
    SpeechStep,
    SpeechStepConfig,
    Thresholds,
)

pytestmark = pytest.mark.slow

SPEED = 50.0  # simulated seconds per real second
QUIET = SpeechStepConfig(prompt="{lang}/ask_topic", escape_digits="")


@dataclass
class Seen:
    outcome: SpeechOutcome | None = None
    error: BaseException | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    recordings_during: list[Path] = field(default_factory=list)


async def call_speech_step(
    step: SpeechStep,
    intents: IntentSet,
    config: SpeechStepConfig,
    script: CallerScript,
) -> tuple[Seen, CallOutcome]:
    """One simulated call whose IVR is a single speech step."""
    seen = Seen()

    async def ivr(session: AGISession) -> None:
        seen.outcome = await step.run(session, intents, config, call_id=session.env.uniqueid)

    outcome = await simulated_call(ivr, script, seen)
    return seen, outcome


async def simulated_call(
    ivr: Callable[[AGISession], Awaitable[None]], script: CallerScript, seen: Seen
) -> CallOutcome:
    """The PBX simulator calls our FastAGI server once; `ivr` runs as the route."""

    async def route(session: AGISession) -> None:
        try:
            await session.answer()
            await ivr(session)
        except BaseException as exc:
            seen.error = exc
            raise
        finally:
            seen.done.set()

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    pbx = PBXSimulator(agi_url=f"agi://127.0.0.1:{server.port}/ivr", speed=SPEED)
    await pbx.start()
    try:
        call = pbx.place_call(script)
        return await asyncio.wait_for(call, 60)
    finally:
        await pbx.stop()
        await server.stop()


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    return tmp_path / "recordings" / "speech"


@pytest.fixture
def step(recogniser: SpeechRecogniser, recordings: Path) -> SpeechStep:
    return SpeechStep(recogniser, recordings)


async def test_caller_who_says_an_intent_phrase_is_routed_to_its_step(
    step: SpeechStep, korean_intents: IntentSet, say: Callable[[str], Path], recordings: Path
) -> None:
    seen, call = await call_speech_step(
        step, korean_intents, QUIET, CallerScript(utterance=say("주차 위반"))
    )
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.kind is SpeechOutcomeKind.INTENT
    assert outcome.intent is not None and outcome.intent.id == "parking"
    assert outcome.next_step == "queue_parking"
    assert outcome.transcript == "주차 위반" and not outcome.confirmed
    assert outcome.intent.skills == ("parking",)
    assert call.agi_status == "SUCCESS"
    # The caller's voice is personal data: the recording is gone once recognised.
    left = await asyncio.to_thread(lambda: sorted(recordings.iterdir()))
    assert left == []


def unsure(intents: IntentSet) -> IntentSet:
    """The intents with `accept` above any real score, so a clear phrase is always confirmed
    (what the caller hears then does not hang on the model's run-to-run variation)."""
    return replace(intents, thresholds=Thresholds(accept=1.0, confirm=0.35))


async def test_unsure_match_is_confirmed_by_the_caller_pressing_1(
    step: SpeechStep, korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    script = CallerScript(utterance=say("주차 위반"), digits=(DigitPress("1", after=0.5),))
    seen, _ = await call_speech_step(step, unsure(korean_intents), QUIET, script)
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.kind is SpeechOutcomeKind.INTENT and outcome.confirmed
    assert outcome.reason is SpeechReason.NEEDS_CONFIRMATION
    assert outcome.intent is not None and outcome.intent.id == "parking"
    assert outcome.next_step == "queue_parking"


async def test_unsure_match_not_confirmed_falls_back_to_dtmf_with_a_log_line(
    step: SpeechStep,
    korean_intents: IntentSet,
    say: Callable[[str], Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="ivr.speech"):
        seen, _ = await call_speech_step(
            step, unsure(korean_intents), QUIET, CallerScript(utterance=say("주차 위반"))
        )
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.kind is SpeechOutcomeKind.FALLBACK and outcome.intent is None
    assert "not confirmed (no key)" in outcome.detail
    assert "speech fallback to DTMF: caller did not confirm intent parking" in caplog.text


async def test_speech_outside_the_intents_falls_back_to_dtmf_as_no_match(
    step: SpeechStep,
    korean_intents: IntentSet,
    say: Callable[[str], Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="ivr.speech"):
        seen, call = await call_speech_step(
            step, korean_intents, QUIET, CallerScript(utterance=say("고양이가 좋아요"))
        )
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.kind is SpeechOutcomeKind.FALLBACK and outcome.reason is SpeechReason.NO_MATCH
    assert outcome.transcript != ""
    # Asked twice (the caller says the same again), then the keypad menu.
    assert len(call.recordings) == 2
    assert (
        "speech: no_match (heard" in caplog.text and "asking again (attempt 2 of 2)" in caplog.text
    )
    assert "speech fallback to DTMF: no_match: heard" in caplog.text


async def test_caller_who_says_nothing_falls_back_to_dtmf_as_no_speech(
    step: SpeechStep, korean_intents: IntentSet, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ivr.speech"):
        # No utterance: the simulator records silence until the maximum length.
        config = SpeechStepConfig(prompt="{lang}/ask_topic", escape_digits="", attempts=1)
        seen, call = await call_speech_step(step, korean_intents, config, CallerScript())
    assert len(call.recordings) == 1
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.kind is SpeechOutcomeKind.FALLBACK and outcome.reason is SpeechReason.NO_SPEECH
    assert "speech fallback to DTMF: no_speech: heard nothing" in caplog.text


async def test_key_pressed_during_the_prompt_goes_to_the_dtmf_menu_with_that_key(
    step: SpeechStep, korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    config = SpeechStepConfig(prompt="{lang}/ask_topic")  # keys interrupt by default
    script = CallerScript(utterance=say("주차 위반"), digits=(DigitPress("3", after=0.5),))
    seen, _ = await call_speech_step(step, korean_intents, config, script)
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.kind is SpeechOutcomeKind.DIGIT and outcome.digit == "3"
    assert outcome.intent is None


async def test_language_without_a_model_falls_back_to_dtmf_naming_the_setting(
    tmp_path: Path,
    korean_intents: IntentSet,
    say: Callable[[str], Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    no_models = SpeechRecogniser({}, workers=1)
    step = SpeechStep(no_models, tmp_path / "rec")
    try:
        await no_models.start()  # as at start-up: the worker process exists before calls come
        with caplog.at_level(logging.INFO, logger="ivr.speech"):
            seen, call = await call_speech_step(
                step, korean_intents, QUIET, CallerScript(utterance=say("상담원"))
            )
    finally:
        await no_models.stop()
    assert len(call.recordings) == 1  # a missing model would be missing again: no retry
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.kind is SpeechOutcomeKind.FALLBACK
    assert outcome.reason is SpeechReason.MODEL_MISSING
    assert (
        "speech fallback to DTMF: model_missing: no vosk model configured for language 'ko' "
        "(setting speech.models.ko)" in caplog.text
    )


async def test_corrupt_recording_falls_back_to_dtmf_naming_the_file(
    step: SpeechStep, korean_intents: IntentSet, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"this is not audio " * 200)
    with caplog.at_level(logging.INFO, logger="ivr.speech"):
        seen, _ = await call_speech_step(
            step, korean_intents, QUIET, CallerScript(utterance=garbage)
        )
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.kind is SpeechOutcomeKind.FALLBACK
    assert outcome.reason is SpeechReason.CORRUPT_AUDIO
    assert "speech fallback to DTMF: corrupt_audio:" in caplog.text
    assert "not a readable WAV file" in caplog.text


async def test_recognition_past_its_deadline_falls_back_to_dtmf(
    step: SpeechStep,
    korean_intents: IntentSet,
    say: Callable[[str], Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = SpeechStepConfig(prompt="{lang}/ask_topic", escape_digits="", recognition_timeout=0.0)
    with caplog.at_level(logging.INFO, logger="ivr.speech"):
        seen, _ = await call_speech_step(
            step, korean_intents, config, CallerScript(utterance=say("상담원"))
        )
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.kind is SpeechOutcomeKind.FALLBACK and outcome.reason is SpeechReason.TIMEOUT
    assert "speech fallback to DTMF: timeout: no result for" in caplog.text


async def test_caller_who_hangs_up_while_recorded_ends_the_call_not_the_step(
    step: SpeechStep, korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    # Patience ends mid-recording (the prompt takes 2 simulated seconds, the beep 0.4).
    script = CallerScript(utterance=say("주차 위반"), patience=2.8)
    seen, _ = await call_speech_step(step, korean_intents, QUIET, script)
    assert seen.outcome is None
    assert isinstance(seen.error, CallerHungUp)


async def test_recordings_folder_is_given_to_asterisk_as_asterisk_sees_it(
    recogniser: SpeechRecogniser,
    korean_intents: IntentSet,
    say: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    ours = tmp_path / "kck-side"
    ours.mkdir()
    theirs = tmp_path / "asterisk-side"
    theirs.symlink_to(ours)  # e.g. one NFS export mounted at two paths
    step = SpeechStep(recogniser, ours, asterisk_recordings=theirs, keep_recordings=True)
    seen, _ = await call_speech_step(
        step, korean_intents, QUIET, CallerScript(utterance=say("상담원"))
    )
    outcome = seen.outcome
    assert outcome is not None, seen.error
    assert outcome.intent is not None and outcome.intent.id == "agent"
    assert outcome.recording is not None and outcome.recording.parent == ours
    assert outcome.recording.exists()


async def scripted_asterisk(
    step: SpeechStep,
    intents: IntentSet,
    config: SpeechStepConfig,
    answer: Callable[[str], str],
) -> tuple[SpeechOutcome | None, list[str]]:
    """A FastAGI peer that answers each command with `answer(command)`, as Asterisk would, and
    returns the step's outcome and the commands it sent."""
    seen = Seen()

    async def route(session: AGISession) -> None:
        try:
            seen.outcome = await step.run(session, intents, config, call_id="1795527000.50")
        finally:
            seen.done.set()

    server = FastAGIServer(host="127.0.0.1", port=0, allowed_clients=["127.0.0.1"])
    server.add_route("ivr", route)
    await server.start()
    commands: list[str] = []
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"agi_network: yes\nagi_network_script: ivr\nagi_request: agi://127.0.0.1/ivr\n"
            b"agi_channel: PJSIP/sipp-00000012\nagi_language: ko\nagi_uniqueid: 1795527000.50\n"
            b"agi_callerid: +48600123456\nagi_context: kck-inbound\nagi_extension: 126165555\n"
            b"agi_priority: 4\n\n"
        )
        while not seen.done.is_set():
            line = await asyncio.wait_for(reader.readline(), 30)
            if not line:
                break
            command = line.decode().strip()
            commands.append(command)
            writer.write(answer(command).encode())
            await writer.drain()
        await asyncio.wait_for(seen.done.wait(), 30)
        writer.close()
    finally:
        await server.stop()
    return seen.outcome, commands


async def test_sounds_are_played_under_the_configured_sounds_folder(
    step: SpeechStep, korean_intents: IntentSet, say: Callable[[str], Path]
) -> None:
    utterance = say("주차 위반")

    def asterisk(command: str) -> str:
        if command.startswith("RECORD FILE"):
            Path(command.split()[2] + ".wav").write_bytes(utterance.read_bytes())
            return "200 result=0 (timeout) endpos=12000\n"
        if command.startswith("GET DATA"):
            return "200 result=1\n"
        return "200 result=0 endpos=8000\n"

    config = SpeechStepConfig(
        prompt="{lang}/ask_topic", escape_digits="", sounds_prefix="/var/lib/kck/sounds"
    )
    outcome, commands = await scripted_asterisk(step, unsure(korean_intents), config, asterisk)
    assert outcome is not None and outcome.confirmed
    assert outcome.intent is not None and outcome.intent.id == "parking"
    assert commands[0] == 'STREAM FILE /var/lib/kck/sounds/ko/ask_topic ""'
    assert commands[1].startswith("RECORD FILE ")
    assert commands[2:5] == [
        'STREAM FILE /var/lib/kck/sounds/ko/speech_did_you_mean ""',
        'STREAM FILE /var/lib/kck/sounds/ko/intent_parking ""',
        "GET DATA /var/lib/kck/sounds/ko/speech_press_1_to_confirm 5000 1",
    ]


async def test_recording_that_asterisk_cannot_write_falls_back_to_dtmf_naming_the_folder(
    step: SpeechStep,
    korean_intents: IntentSet,
    recordings: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def asterisk(command: str) -> str:
        # What res_agi.c answers when it cannot open the file.
        if command.startswith("RECORD FILE"):
            return "200 result=-1 (writefile)\n"
        return "200 result=0 endpos=16000\n"

    outcome, commands = await scripted_asterisk(step, korean_intents, QUIET, asterisk)
    assert outcome is not None
    assert outcome.kind is SpeechOutcomeKind.FALLBACK
    assert outcome.reason is SpeechReason.RECORDING_FAILED
    assert commands[1].startswith(f"RECORD FILE {recordings}/1795527000.50-")
    assert "speech fallback to DTMF: recording_failed:" in caplog.text
    assert f"can Asterisk write {recordings}?" in caplog.text


def test_step_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="attempts must be at least 1, got 0"):
        SpeechStepConfig(prompt="{lang}/ask_topic", attempts=0)
