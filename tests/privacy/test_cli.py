"""`kck privacy export|erase` as an operator runs them, on SQLite and the test Redis (the purge
command runs `privacy.component.identity_retention(…).purge()`, tested in test_identity_retention)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from kck.bus import EventBus
from kck.cli import main
from kck.clock import ManualClock
from kck.db import create_engine, session_factory
from kck.services import Services
from kck.settings import load_settings
from tests.core.test_cli import run
from tests.privacy.world import ANNA, ANNA_EMAIL, ANNA_NAME, NOW, add_resident


async def test_export_erase_and_purge_from_the_command_line(
    tmp_path: Path,
    redis: aioredis.Redis,
    redis_server_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"KCK_REDIS_URL": redis_server_url}
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.yaml").write_text("{}\n", encoding="utf-8")
    assert run(["db", "upgrade"], tmp_path, env).returncode == 0
    settings = load_settings(tmp_path / "config" / "settings.yaml", environ={}, overrides={})
    engine = create_engine(settings.database_url)
    try:
        services = Services(
            settings,
            engine,
            session_factory(engine),
            redis,
            EventBus(redis, "kck"),
            ManualClock(NOW),
        )
        anna = await add_resident(services, "anna", ANNA, ANNA_NAME, ANNA_EMAIL)
    finally:
        await engine.dispose()

    # refused before anything is opened (so here, in this process)
    assert main(["privacy", "export", "-o", "x.json"]) == 1
    assert "name the person: a phone number, --email or --name" in capsys.readouterr().err
    assert main(["privacy", "erase", "abc", "--reason", "x"]) == 1
    assert "'abc' is not a phone number" in capsys.readouterr().err

    exported = run(["privacy", "export", "600 100 200", "-o", "anna.zip", "--audio"], tmp_path, env)
    assert exported.returncode == 0, exported.stderr
    assert "3 calls" in exported.stdout and "1 tickets" in exported.stdout
    with zipfile.ZipFile(tmp_path / "anna.zip") as archive:
        assert "audio/anna2.wav" in archive.namelist()
        assert json.loads(archive.read("export.json"))["tickets"][0]["number"] == anna.ticket

    erased = run(
        ["privacy", "erase", "--email", ANNA_EMAIL, "--reason", "RODO 1/2026", "--by", "iod"],
        tmp_path,
        env,
    )
    assert erased.returncode == 0, erased.stderr
    assert "3 calls, 1 tickets, 1 recordings" in erased.stdout
