"""`privacy.*` is part of the one settings object: defaults, the environment, refusals naming the
key, and retention settings that contradict each other said by check-config."""

from __future__ import annotations

from pathlib import Path

import pytest

from kck.settings import SettingsError, load_settings


def settings_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "settings.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_the_file_and_the_environment(tmp_path: Path) -> None:
    path = settings_file(tmp_path, "privacy:\n  calls_days: 90\n")
    settings = load_settings(path, environ={"KCK_PRIVACY_TICKETS_DAYS": "1095"})
    assert (settings.privacy.calls_days, settings.privacy.tickets_days) == (90, 1095)
    assert settings.privacy.purge is True
    assert settings.retention_warnings() == []
    defaults = load_settings(settings_file(tmp_path / "d", "{}\n"), environ={})
    assert (defaults.privacy.calls_days, defaults.privacy.tickets_days) == (180, 730)


def test_a_wrong_value_names_the_key_and_the_line(tmp_path: Path) -> None:
    path = settings_file(tmp_path, "privacy:\n  calls_days: 0\n")
    with pytest.raises(SettingsError, match=r"settings.yaml:2:3: setting 'privacy.calls_days'"):
        load_settings(path, environ={})
    with pytest.raises(SettingsError, match=r"'privacy.keep_forever': no such setting"):
        load_settings(settings_file(tmp_path / "b", "privacy:\n  keep_forever: true\n"), environ={})


def test_retention_that_contradicts_itself_is_a_warning_naming_the_settings(tmp_path: Path) -> None:
    path = settings_file(
        tmp_path,
        "privacy:\n  calls_days: 400\n  tickets_days: 365\n"
        "recordings:\n  retention: {taxes: 1000}\n",
    )
    warnings = load_settings(path, environ={}).retention_warnings()
    assert len(warnings) == 2
    assert "up to 1000 days" in warnings[0] and "privacy.tickets_days: 365" in warnings[0]
    assert "privacy.tickets_days (365) is shorter than privacy.calls_days (400)" in warnings[1]
