"""The `kck` command line as a user runs it: real processes, real ports."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from demo.cli import demo_settings
from kck.config_files import SHIPPED_CONFIG, require_config_files

KCK = [sys.executable, "-m", "kck.cli"]
# The folders `kck serve` reads, pointed at the shipped config/ as the error message advises.
SHIPPED_PATHS = {
    "KCK_PATHS_CONFIG": str(SHIPPED_CONFIG),
    "KCK_PATHS_MENUS": str(SHIPPED_CONFIG / "menus"),
}


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`kck ARGS` in `cwd` without the caller's KCK_ settings (`stdin`: what the user types)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KCK_")}
    full_env["PYTHONPATH"] = str(Path(__file__).parents[2])
    full_env.update(env or {})
    return subprocess.run(
        [*KCK, *args],
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_command_has_help(tmp_path: Path) -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["demo", "--help"],
        ["db", "upgrade", "--help"],
        ["check-config", "--help"],
    ):
        result = run(args, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "usage: kck" in result.stdout


def test_bad_settings_file_is_one_line_and_non_zero(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.yaml").write_text("agi:\n  port: 99999\n")
    result = run(["serve"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "kck: error: config/settings.yaml:2:3: setting 'agi.port': Input should be less than or equal to 65535"
    ]


def test_wrong_redis_url_is_one_line_and_non_zero(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    result = run(
        ["serve", "--http-port", "0", "--agi-port", "0"],
        tmp_path,
        {"KCK_REDIS_URL": "redis://127.0.0.1:1/0", **SHIPPED_PATHS},
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("kck: error: Redis at redis://127.0.0.1:1/0 does not answer")
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_line_and_non_zero(tmp_path: Path) -> None:
    result = run(
        ["db", "upgrade"],
        tmp_path,
        {"KCK_DATABASE_URL": "postgresql+asyncpg://kck:pw@127.0.0.1:1/kck"},
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "kck: error: database postgresql+asyncpg://kck:***@127.0.0.1:1/kck"
    )
    assert "Traceback" not in result.stderr and "pw@" not in result.stderr


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = run(["serve", "--http-port", "0", "--agi-port", "0"], tmp_path, SHIPPED_PATHS)
    assert result.returncode == 1
    assert "run `kck db upgrade`" in result.stderr


def copy_of_shipped_config(home: Path, *leave_out: str) -> Path:
    """An installation folder with the shipped config/ copied into it, less `leave_out`."""
    shutil.copytree(SHIPPED_CONFIG, home / "config")
    for name in leave_out:
        (home / "config" / name).unlink()
    return home


def test_serve_and_check_config_without_queues_yaml_stop_and_say_what_to_do(
    tmp_path: Path,
) -> None:
    home = copy_of_shipped_config(tmp_path, "queues.yaml")
    missing = home / "config" / "queues.yaml"
    for args in (["serve", "--http-port", "0", "--agi-port", "0"], ["check-config"]):
        result = run(args, home)
        assert result.returncode == 1, args
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"kck: error: not found: {missing} (queues"), line
        assert str(SHIPPED_CONFIG) in line and "paths.config (or KCK_PATHS_CONFIG)" in line
        assert "skills.yaml" not in line and "paths.menus" not in line
        assert result.stdout == ""
    # it stopped before the database: that one was never created, let alone migrated
    assert not (home / "var").exists()


def test_check_config_in_an_empty_folder_names_every_missing_file_and_its_setting(
    tmp_path: Path,
) -> None:
    result = run(["check-config", "--json"], tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    for name in ("skills.yaml", "queues.yaml", "agents.yaml"):
        assert str(tmp_path / "config" / name) in line
    assert str(tmp_path / "config" / "menus" / "main.yaml") in line
    assert "paths.config (or KCK_PATHS_CONFIG) and paths.menus (or KCK_PATHS_MENUS)" in line


def test_check_config_passes_on_the_configured_folders(tmp_path: Path) -> None:
    result = run(["check-config"], tmp_path, SHIPPED_PATHS)
    assert result.returncode == 0, result.stderr
    assert f"{SHIPPED_CONFIG / 'queues.yaml'}: found" in result.stdout
    assert f"{SHIPPED_CONFIG / 'menus' / 'main.yaml'}: found" in result.stdout


def test_db_upgrade_then_status(tmp_path: Path) -> None:
    first = run(["db", "upgrade"], tmp_path)
    assert first.returncode == 0, first.stderr
    status = run(["db", "status"], tmp_path)
    assert status.returncode == 0 and "up to date" in status.stdout


async def test_demo_starts_serves_a_status_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCK_")}
    env["PYTHONPATH"] = str(Path(__file__).parents[2])
    env["KCK_HTTP_MONITORING_TOKEN"] = "demo-monitoring-token"  # health detail and metrics
    monitoring = {"Authorization": "Bearer demo-monitoring-token"}
    proc = await asyncio.create_subprocess_exec(
        *KCK,
        "demo",
        "--http-port",
        "0",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = None
        while url is None:
            line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
            assert line, "demo exited before printing its URL"
            if match := re.search(r"open (http://\S+)", line):
                url = match.group(1)
        # run from a folder without config/: the demo says it uses the one kck ships
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line == f"configuration: {SHIPPED_CONFIG}\n"
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as page:
                assert page.status == 200
                text = await page.text()
            async with http.get(url + "health") as health:
                assert await health.json() == {"status": "up"}  # a stranger: yes or no
            async with http.get(url + "health", headers=monitoring) as health:
                body = await health.json()
            # simulated callers reach the real FastAGI server and the IVR ends or queues them
            for _ in range(120):
                async with http.get(url + "health", headers=monitoring) as health:
                    parts = (await health.json())["parts"]
                if parts["simulator"]["calls_ended"] >= 1:
                    break
                await asyncio.sleep(1)
            async with http.get(url + "metrics", headers=monitoring) as metrics:
                exposition = await metrics.text()
        assert "kck_ami_connected 1.0" in exposition
        assert "kck_fastagi_" in exposition and "kck_queue_" in exposition
        assert "<html" in text  # the sign-in page; the parts' status is at /health
        assert body["mode"] == "demo"
        assert parts["ami"]["state"] == "connected" and parts["ami"]["resync_count"] >= 1
        assert parts["simulator"]["calls_ended"] >= 1, parts["simulator"]
        assert (
            body["parts"]["database"]["up"]
            and body["parts"]["redis"]["up"]
            and body["parts"]["web"]["up"]
        )
    finally:
        proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0
    assert (tmp_path / "var" / "demo" / "kck.db").exists()


@pytest.mark.parametrize("folder", ["empty", "foreign config/", "config/ without queues.yaml"])
def test_demo_runs_on_the_shipped_config_from_a_folder_without_a_complete_one(
    folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if folder == "foreign config/":
        (tmp_path / "config").mkdir()
        (tmp_path / "config" / "app.ini").write_text("[other]\n")
    elif folder == "config/ without queues.yaml":
        copy_of_shipped_config(tmp_path, "queues.yaml")
    monkeypatch.chdir(tmp_path)
    settings = demo_settings(argparse.Namespace(config=None, http_port=0))
    assert settings.config_dir == SHIPPED_CONFIG
    assert settings.path(settings.paths.menus) == SHIPPED_CONFIG / "menus"
    assert settings.var_dir == tmp_path / "var" / "demo"
    # the demo's mail and SMS go to folders a person can open
    assert (settings.mail.gateway, settings.sms.gateway) == ("file", "file")
    assert settings.path(settings.sms.folder) == tmp_path / "var" / "demo" / "sms"
    require_config_files(settings)


def test_demo_runs_on_the_current_folders_config_when_it_is_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = copy_of_shipped_config(tmp_path)
    monkeypatch.chdir(home)
    settings = demo_settings(argparse.Namespace(config=None, http_port=0))
    assert settings.config_dir == home / "config"
    assert settings.path(settings.paths.menus) == home / "config" / "menus"
