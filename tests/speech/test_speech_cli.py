"""`kck speech check` and `kck speech try`, and building the speech service from settings."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from ivr.speech import create_speech_service
from kck.cli import main
from kck.settings import load_settings
from tests.speech.conftest import DATA, KOREAN_MODEL

pytestmark = pytest.mark.slow


def settings_file(tmp_path: Path, intents: Path, models: dict[str, Path]) -> Path:
    lines = ["speech:", f"  intents: {intents}", "  models:"]
    lines += [f"    {lang}: {path}" for lang, path in models.items()] or ["    {}"]
    lines += [f"  recordings: {tmp_path / 'rec'}"]
    path = tmp_path / "config" / "settings.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def korean_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "intents"
    folder.mkdir()
    shutil.copy(DATA / "ko.yaml", folder / "ko.yaml")
    return folder


def test_check_passes_when_the_model_knows_every_intent_word(
    tmp_path: Path, korean_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings_file(tmp_path, korean_folder, {"ko": KOREAN_MODEL})
    assert main(["--config", str(config), "speech", "check"]) == 0
    out = capsys.readouterr().out
    assert "4 intents, 4 phrases" in out and "0 intent words missing" in out


def test_check_names_the_line_of_a_word_the_model_lacks(
    tmp_path: Path, korean_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (korean_folder / "ko.yaml").read_text(encoding="utf-8")
    (korean_folder / "ko.yaml").write_text(
        text.replace("phrases: [상담원]", "phrases: [상담원, konsultant]"), encoding="utf-8"
    )
    config = settings_file(tmp_path, korean_folder, {"ko": KOREAN_MODEL})
    assert main(["--config", str(config), "speech", "check"]) == 1
    err = capsys.readouterr().err
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "phrases: [상담원]" in t)
    assert f"ko.yaml:{line}:" in err
    assert "intent 'agent': word 'konsultant' is not in the model" in err


def test_check_reports_a_broken_intents_file_as_one_line_error(
    tmp_path: Path, korean_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (korean_folder / "ko.yaml").write_text("language: ko\nintents: {}\n", encoding="utf-8")
    config = settings_file(tmp_path, korean_folder, {})
    assert main(["--config", str(config), "speech", "check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kck: error: ") and "ko.yaml:2:" in err
    assert "'intents' must be a non-empty mapping" in err


async def test_service_from_settings_warns_about_intent_words_the_model_lacks(
    tmp_path: Path, korean_folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = (korean_folder / "ko.yaml").read_text(encoding="utf-8")
    (korean_folder / "ko.yaml").write_text(
        text.replace("phrases: [주민등록증]", "phrases: [주민등록증, dowód]"), encoding="utf-8"
    )
    settings = load_settings(settings_file(tmp_path, korean_folder, {"ko": KOREAN_MODEL}))
    service = await create_speech_service(settings)
    with caplog.at_level(logging.WARNING):
        # What start() does once the workers hold the models (loading them is tested elsewhere).
        missing = await service.check_vocabulary(("ko",))
    assert missing == 1
    assert set(service.intents) == {"ko"}
    assert service.models == {"ko": KOREAN_MODEL}
    assert "intent 'id_card': word 'dowód' is not in the model" in caplog.text


def test_try_without_a_model_for_the_language_says_which_setting_to_set(
    tmp_path: Path, korean_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = settings_file(tmp_path, korean_folder, {})
    wav = tmp_path / "answer.wav"
    assert main(["--config", str(config), "speech", "try", str(wav), "--language", "ko"]) == 1
    err = capsys.readouterr().err
    assert "no vosk model for 'ko': give --model or set speech.models.ko" in err
