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
    assert settings.trunk.host == "" and settings.trunk.match == ()  # no operator invented
    assert settings.asterisk.sounds is None and settings.asterisk.sip_port == 5060


def test_trunk_and_asterisk_defaults_configure_no_operator(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "{}\n"), environ={})
    trunk = settings.trunk
    assert (trunk.name, trunk.host, trunk.username, trunk.registration) == (
        "kck-trunk",
        "",
        "",
        False,
    )
    assert trunk.match == () and trunk.number_format == "international"
    assert trunk.caller_id is None and trunk.password.get_secret_value() == ""
    assert settings.asterisk.sip_port == 5060 and settings.asterisk.sounds is None
    assert settings.asterisk_sounds_dir == settings.sounds_dir == tmp_path / "var" / "sounds"


def test_trunk_and_asterisk_settings_come_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "trunk:\n  host: sip.operator.pl\n  match: [192.0.2.10]\n")
    settings = load_settings(
        path,
        environ={
            "KCK_TRUNK_HOST": "sip.operator.pl:5080",
            "KCK_TRUNK_USERNAME": "48126165555",
            "KCK_TRUNK_PASSWORD": "op-secret-1",
            "KCK_TRUNK_REGISTER": "true",
            "KCK_TRUNK_MATCH": "192.0.2.0/28, 198.51.100.7",
            "KCK_TRUNK_NUMBER_FORMAT": "national",
            "KCK_TRUNK_CALLER_ID": "+48126165500",
            "KCK_ASTERISK_SIP_PORT": "5260",
            "KCK_ASTERISK_SOUNDS": "/srv/kck-sounds",
        },
    )
    trunk = settings.trunk
    assert trunk.host == "sip.operator.pl:5080" and trunk.username == "48126165555"
    assert trunk.password.get_secret_value() == "op-secret-1" and trunk.registration is True
    assert trunk.match == ("192.0.2.0/28", "198.51.100.7")
    assert trunk.number_format == "national" and trunk.caller_id == "+48126165500"
    assert settings.asterisk.sip_port == 5260
    assert settings.asterisk_sounds_dir == Path("/srv/kck-sounds")
    assert settings.sounds_dir == tmp_path / "var" / "sounds"  # kck still builds and checks here
    assert "op-secret-1" not in repr(settings) + settings.model_dump_json()


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"KCK_TRUNK_MATCH": "192.0.2.0/28, operator"},
            r"environment KCK_TRUNK_MATCH: setting 'trunk\.match\.1': .*'operator' is not an IP",
        ),
        (
            {"KCK_TRUNK_HOST": "sip operator.pl"},
            r"environment KCK_TRUNK_HOST: setting 'trunk\.host': .*host name or address",
        ),
        (
            {"KCK_TRUNK_PASSWORD": "pass;word"},
            r"environment KCK_TRUNK_PASSWORD: setting 'trunk\.password': .*';'",
        ),
        (
            {"KCK_TRUNK_NUMBER_FORMAT": "0048"},
            r"environment KCK_TRUNK_NUMBER_FORMAT: setting 'trunk\.number_format': .*'national'",
        ),
        (
            {"KCK_ASTERISK_SOUNDS": "var/sounds"},
            r"environment KCK_ASTERISK_SOUNDS: setting 'asterisk\.sounds': .*absolute",
        ),
        (
            {"KCK_ASTERISK_SIP_PORT": "70000"},
            r"environment KCK_ASTERISK_SIP_PORT: setting 'asterisk\.sip_port'",
        ),
    ],
)
def test_wrong_trunk_or_asterisk_value_names_the_variable(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(write(tmp_path, "{}\n"), environ=environ)


def test_wrong_trunk_value_in_the_file_names_key_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "trunk:\n  name: kck-trunk\n  match:\n    - 192.0.2.10\n    - 10.0.0.0/33\n"
    )
    with pytest.raises(SettingsError) as err:
        load_settings(path, environ={})
    assert str(err.value).startswith(f"{path}:5:7: setting 'trunk.match.1'")


def test_trunk_warnings_name_what_is_missing(tmp_path: Path) -> None:
    empty = load_settings(write(tmp_path, "trunk:\n  register: true\n"), environ={})
    warnings = "\n".join(empty.trunk.warnings())
    assert "trunk.host is empty" in warnings and "trunk.register is true" in warnings
    assert "trunk.match is empty" in warnings and "No matching endpoint found" in warnings
    configured = load_settings(
        write(tmp_path, "trunk:\n  host: sip.operator.pl\n  match: [192.0.2.10]\n"), environ={}
    )
    assert configured.trunk.warnings() == []
