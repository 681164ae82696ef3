"""The `kck` command line as a user runs it: real processes, real ports."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

KCK = [sys.executable, "-m", "kck.cli"]


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KCK_")}
    full_env["PYTHONPATH"] = str(Path(__file__).parents[2])
    full_env.update(env or {})
    return subprocess.run(
        [*KCK, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120
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
        {"KCK_REDIS_URL": "redis://127.0.0.1:1/0"},
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
    result = run(["serve", "--http-port", "0", "--agi-port", "0"], tmp_path)
    assert result.returncode == 1
    assert "run `kck db upgrade`" in result.stderr


def test_db_upgrade_then_status(tmp_path: Path) -> None:
    first = run(["db", "upgrade"], tmp_path)
    assert first.returncode == 0, first.stderr
    status = run(["db", "status"], tmp_path)
    assert status.returncode == 0 and "up to date" in status.stdout


async def test_demo_starts_serves_a_status_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCK_")}
    env["PYTHONPATH"] = str(Path(__file__).parents[2])
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
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as page:
                assert page.status == 200
                text = await page.text()
            async with http.get(url + "health") as health:
                body = await health.json()
            # simulated callers reach the real FastAGI server and the IVR ends or queues them
            for _ in range(120):
                async with http.get(url + "health") as health:
                    parts = (await health.json())["parts"]
                if parts["simulator"]["calls_ended"] >= 1:
                    break
                await asyncio.sleep(1)
            async with http.get(url + "metrics") as metrics:
                exposition = await metrics.text()
        assert "kck_ami_connected 1.0" in exposition
        assert "kck_fastagi_" in exposition and "kck_queue_" in exposition
        assert "<html" in text  # the sign-in page; the parts' status is public at /health
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
