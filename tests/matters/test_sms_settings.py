"""Which SMS gateway is a setting (`sms.*`), checked by `kck check-config`: an HTTP gateway needs
its URL, and a field template only the known placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest

from kck.cli import main
from kck.settings import SettingsError, load_settings
from matters.component import sms_gateway
from matters.outbox import NoSMSGateway
from matters.sms_gateways import HTTPSMSGateway, SMSFolder


def settings_file(tmp_path: Path, sms: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(f"sms:\n{sms}", encoding="utf-8")
    return path


def test_check_config_refuses_an_http_gateway_without_its_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = settings_file(tmp_path, "  gateway: http\n")
    assert main(["--config", str(path), "check-config"]) != 0
    err = capsys.readouterr().err
    assert "sms" in err and "gateway http needs `url`" in err and "Traceback" not in err


def test_an_unknown_placeholder_is_named() -> None:
    with pytest.raises(SettingsError, match=r"fields.to: '\{phone\}' uses an unknown placeholder"):
        load_settings(
            None,
            environ={},
            overrides={"sms": {"gateway": "file", "fields": {"to": "{phone}"}}},
        )


def test_the_setting_chooses_the_gateway(tmp_path: Path) -> None:
    none = load_settings(settings_file(tmp_path, "  gateway: none\n"), environ={})
    assert isinstance(sms_gateway(none), NoSMSGateway)
    file = load_settings(settings_file(tmp_path, "  gateway: file\n"), environ={})
    assert isinstance(sms_gateway(file), SMSFolder)
    http = load_settings(
        settings_file(tmp_path, "  gateway: http\n  url: https://sms.example/api/send\n"),
        environ={"KCK_SMS_AUTH_TOKEN": "Bearer secret"},
    )
    gateway = sms_gateway(http)
    assert isinstance(gateway, HTTPSMSGateway)
    assert gateway.headers == {"Authorization": "Bearer secret"}
