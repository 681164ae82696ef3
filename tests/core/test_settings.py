"""Settings: file + environment, and errors that name the key and the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from kck.settings import SettingsError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "settings.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_local_and_in_warsaw_time(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "{}\n"), environ={})
    assert settings.timezone == "Europe/Warsaw"
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'var'}/kck.db"
    assert settings.redis.url is None
    assert settings.agi.port == 4573


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  host: pbx1\n  port: 5038\n")
    settings = load_settings(
        path, environ={"KCK_AMI_HOST": "pbx2", "KCK_AGI_ALLOWED_CLIENTS": "10.1.0.0/16, 10.2.0.5"}
    )
    assert settings.ami.host == "pbx2"
    assert settings.agi.allowed_clients == ("10.1.0.0/16", "10.2.0.5")


def test_wrong_value_in_file_names_key_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "http:\n  host: 0.0.0.0\n  port: eighty\n")
    with pytest.raises(SettingsError) as err:
        load_settings(path, environ={})
    assert str(err.value).startswith(f"{path}:3:3: setting 'http.port'")


def test_unknown_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "ami:\n  hots: pbx\n")
    with pytest.raises(
        SettingsError, match=r"settings.yaml:2:3: setting 'ami.hots': no such setting"
    ):
        load_settings(path, environ={})


def test_wrong_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"environment KCK_REDIS_URL: setting 'redis\.url'"):
        load_settings(write(tmp_path, "{}\n"), environ={"KCK_REDIS_URL": "localhost:6379"})


def test_unknown_environment_section_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="KCK_AMMI_HOST"):
        load_settings(write(tmp_path, "{}\n"), environ={"KCK_AMMI_HOST": "x"})


def test_broken_yaml_names_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"settings.yaml:\d+:\d+"):
        load_settings(write(tmp_path, "ami: [\n"), environ={})


def test_duplicate_key_is_reported_with_both_lines(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"duplicate key 'ami' \(first at line 1\)"):
        load_settings(write(tmp_path, "ami: {}\nami: {}\n"), environ={})


def test_secret_is_never_shown(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "{}\n"), environ={"KCK_AMI_SECRET": "hunter2"})
    assert settings.ami.secret.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in settings.model_dump_json()


def test_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="timezone"):
        load_settings(write(tmp_path, "timezone: Europe/Krakow\n"), environ={})


def test_shipped_settings_file_is_valid() -> None:
    shipped = Path(__file__).parents[2] / "config" / "settings.yaml"
    settings = load_settings(shipped, environ={})
    assert settings.centre.hotline == "+48126165555"
