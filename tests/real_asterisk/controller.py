"""kck as an operator runs it: an installation folder (config/ copied from the shipped one with the
test's shorter times, settings.yaml with free ports), `kck asterisk config` for the PBX, and
`kck serve` as its own process (so it can be killed with -9); agents sign in through the desk's
real HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from kck.config_files import SHIPPED_CONFIG
from tests.real_asterisk.pbx import REPOSITORY, PBXPorts, free_tcp_port

AMI_SECRET = "ami-secret-for-the-tests"
MONITORING_TOKEN = "monitoring-token-for-the-tests"  # /health detail (parts) for wait_healthy
PASSWORD = "correct horse battery"

# Shorter than a real centre's (docs/routing.md), so each scenario takes seconds: these are the
# test configuration's, never the code's.
QUEUE_TIMES = {
    "announce_every_s": 6,
    "wrap_up_s": 2,
    "ring_timeout_s": 6,
    "max_wait_s": 90,
    "callback_attempts": 2,
    "callback_retry_s": 10,
}


@dataclass
class Installation:
    """A kck installation folder and the commands an operator runs in it."""

    root: Path
    sounds: Path  # built once per test run (`kck prompts build`), shared read-only
    agi_port: int = field(default_factory=free_tcp_port)
    http_port: int = field(default_factory=free_tcp_port)
    queue_times: dict[str, int] = field(default_factory=lambda: dict(QUEUE_TIMES))
    # several nodes: one shared Redis and database (None: a private Redis, SQLite under var/),
    # and the FastAGI URLs `kck asterisk config` writes (empty: this node's)
    shared_redis_url: str | None = None
    database_url: str | None = None
    agi_urls: tuple[str, ...] = ()
    agi_spread: bool = False

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.yaml"

    @property
    def var(self) -> Path:
        return self.root / "var"

    @property
    def redis_url(self) -> str:
        return self.shared_redis_url or f"unix://{self.var / 'redis' / 'redis.sock'}"

    @property
    def sql_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.var / 'kck.db'}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KCK_")}
        env.update(
            {
                "KCK_CONFIG": str(self.settings_file),
                "KCK_AMI_SECRET": AMI_SECRET,
                "KCK_HTTP_MONITORING_TOKEN": MONITORING_TOKEN,
            }
        )
        env["PYTHONPATH"] = str(REPOSITORY)
        return env

    def write(self, ports: PBXPorts, *, trunk_host: str, trunk_match: str) -> None:
        """config/ as shipped, with the test's queue times, a calendar that is always open (the
        tests run at any hour), and settings naming the free ports."""
        if self.config_dir.exists():
            shutil.rmtree(self.config_dir)
        shutil.copytree(SHIPPED_CONFIG, self.config_dir)
        queues_file = self.config_dir / "queues.yaml"
        queues = yaml.safe_load(queues_file.read_text())
        for queue in queues["queues"]:
            queue.update(self.queue_times)
        queues_file.write_text(yaml.safe_dump(queues, allow_unicode=True))
        calendars_file = self.config_dir / "menus" / "calendars.yaml"
        calendars = yaml.safe_load(calendars_file.read_text())
        for calendar in calendars["calendars"].values():
            calendar["weekly"] = {d: ["00:00-00:00"] for d in calendar["weekly"] | _WEEK}
            calendar.pop("public_holidays", None)
            calendar["exceptions"] = []
        calendars_file.write_text(yaml.safe_dump(calendars, allow_unicode=True))
        settings = {
            "ami": {"host": "127.0.0.1", "port": ports.ami, "username": "kck"},
            "agi": {"host": "127.0.0.1", "port": self.agi_port},
            "http": {"host": "127.0.0.1", "port": self.http_port},
            "paths": {
                "var": str(self.var),
                "config": str(self.config_dir),
                "menus": str(self.config_dir / "menus"),
                "kb": str(self.config_dir / "kb"),
                "sounds": str(self.sounds),
            },
            "log": {"level": "INFO"},
            # the operator: SIPp callers come from `match`, callbacks go out to `host`
            "trunk": {"host": trunk_host, "match": [trunk_match]},
            "asterisk": {
                "sip_port": ports.sip,
                "agi_urls": list(self.agi_urls),
                "agi_spread": self.agi_spread,
            },
        }
        if self.shared_redis_url:
            settings["redis"] = {"url": self.shared_redis_url}
        if self.database_url:
            settings["database"] = {"url": self.database_url}
        self.settings_file.write_text(yaml.safe_dump(settings))
        self.var.mkdir(parents=True, exist_ok=True)

    def kck(self, *args: str, stdin: str | None = None, timeout: float = 120) -> str:
        """Run a `kck` command as an operator would; its output (raises on failure)."""
        result = subprocess.run(
            [sys.executable, "-m", "kck.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.root,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise AssertionError(f"kck {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def asterisk_config(self, out: Path) -> dict[str, str]:
        """`kck asterisk config --out`; returns the agents' SIP passwords it wrote."""
        self.kck("asterisk", "config", "--out", str(out))
        secrets = yaml.safe_load((out / "phone-secrets.yaml").read_text())
        return {str(k): str(v) for k, v in secrets.items()}

    def prepare(self, agents: dict[str, str]) -> None:
        """Migrate the database and add a desk account (agent → extension) for each agent."""
        self.kck("db", "upgrade")
        for username, extension in agents.items():
            self.kck(
                "users", "add", username, "--role", "agent", "--extension", extension,
                stdin=PASSWORD + "\n",
            )  # fmt: skip


_WEEK: dict[str, list[str]] = {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


class KckServe:
    """`kck serve` in its own process; its log is kept for the failure report."""

    def __init__(self, installation: Installation) -> None:
        self.installation = installation
        self.process: asyncio.subprocess.Process | None = None
        self.log_path = installation.root / "serve.log"
        self.starts = 0

    async def start(self, timeout: float = 60.0, *, wait_ami: bool = True) -> None:
        log = await asyncio.to_thread(self.log_path.open, "ab")
        log.write(f"\n===== start {self.starts} =====\n".encode())
        log.flush()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "kck.cli",
            "serve",
            env=self.installation.env(),
            cwd=self.installation.root,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )
        log.close()
        self.starts += 1
        await self.wait_healthy(timeout, wait_ami=wait_ami)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def health(self) -> dict[str, Any] | None:
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(
                    f"{self.installation.base_url}/health",
                    headers={"Authorization": f"Bearer {MONITORING_TOKEN}"},
                    timeout=aiohttp.ClientTimeout(2),
                ) as response,
            ):
                return dict(await response.json())
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None

    async def wait_healthy(self, timeout: float, *, wait_ami: bool = True) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                if not self.running:
                    raise AssertionError(f"kck serve exited: {self.log_tail()}")
                health = await self.health()
                parts = (health or {}).get("parts", {})
                ami_up = parts.get("ami", {}).get("up")
                if health and parts.get("router", {}).get("up") and (ami_up or not wait_ami):
                    return health
                await asyncio.sleep(0.1)

    async def kill9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self, timeout: float = 30.0) -> float:
        """SIGTERM; seconds until the process exited."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(timeout):
            await self.process.wait()
        return time.monotonic() - started

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    async def stop(self) -> None:
        if self.running:
            assert self.process is not None
            with contextlib.suppress(TimeoutError):
                await self.terminate(20)
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()


@dataclass(frozen=True)
class DeskMessage:
    at: float  # time.time() when it arrived
    kind: str
    data: dict[str, Any]


class DeskAgent:
    """An agent at the desk, through the same HTTP and WebSocket the browser page uses."""

    def __init__(self, base_url: str, username: str, extension: str) -> None:
        self.base_url = base_url
        self.username = username
        self.extension = extension
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.messages: list[DeskMessage] = []
        self.csrf = ""
        self.on_pop: Callable[[DeskMessage], None] | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()

    async def sign_in(self) -> None:
        async with self.http.get(f"{self.base_url}/login") as page:
            html = await page.text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert token, "no CSRF field on the sign-in page"
        form = {
            "username": self.username,
            "password": PASSWORD,
            "extension": self.extension,
            "csrf_token": token[1],
        }
        async with self.http.post(f"{self.base_url}/login", data=form) as response:
            body = await response.text()
            assert response.status == 200 and response.url.path == "/desk", (
                f"sign-in of {self.username} failed ({response.status}): {body[:300]}"
            )
        found = re.search(r'"csrf":\s*"([^"]+)"', body)
        assert found, "the desk page carries no CSRF token"
        self.csrf = found[1]
        self._socket = await self.http.ws_connect(
            f"{self.base_url}/desk/ws", headers={"Origin": self.base_url}
        )
        await self._socket.send_json({"type": "ready"})
        self._reader = asyncio.create_task(self._read(), name=f"desk-{self.username}")

    async def _read(self) -> None:
        assert self._socket is not None
        async for message in self._socket:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            body = json.loads(message.data)
            seen = DeskMessage(time.time(), str(body.get("type")), dict(body.get("data") or {}))
            self.messages.append(seen)
            if seen.kind == "pop":
                # as the page does: it tells the server the pop is on the screen
                await self._socket.send_json(
                    {"type": "shown", "offer_id": seen.data.get("offer_id")}
                )
                if self.on_pop is not None:
                    self.on_pop(seen)
            async with self._changed:
                self._changed.notify_all()

    async def set_state(self, state: str, reason: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"state": state}
        if reason:
            body["reason"] = reason
        async with self.http.post(
            f"{self.base_url}/api/desk/state", json=body, headers={"X-CSRF-Token": self.csrf}
        ) as response:
            data = dict(await response.json())
            assert response.status == 200, f"{self.username} → {state}: {data}"
            return data

    async def transfer(
        self, call_id: str, to: str, notes: str = "", draft: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """The desk's transfer button: (HTTP status, answer)."""
        body = {"call_id": call_id, "to": to, "notes": notes, "draft": draft or {}}
        return await self._post("/api/desk/transfer", body)

    async def consult(
        self, call_id: str, step: str, to: str = "", notes: str = ""
    ) -> tuple[int, dict[str, Any]]:
        """The desk's consult buttons (`step`: start, complete, cancel)."""
        body = {"call_id": call_id, "to": to, "notes": notes, "step": step}
        return await self._post("/api/desk/consult", body)

    async def _post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with self.http.post(
            f"{self.base_url}{path}", json=body, headers={"X-CSRF-Token": self.csrf}
        ) as response:
            return response.status, dict(await response.json())

    def states(self) -> list[str]:
        return [str(m.data.get("state")) for m in self.messages if m.kind == "state"]

    def pops(self) -> list[DeskMessage]:
        return [m for m in self.messages if m.kind == "pop"]

    async def wait_for(
        self, test: Callable[[DeskMessage], bool], timeout: float, since: float = 0.0
    ) -> DeskMessage:
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for message in self.messages:
                    if message.at >= since and test(message):
                        return message
                await self._changed.wait()

    async def wait_state(self, state: str, timeout: float, since: float = 0.0) -> DeskMessage:
        return await self.wait_for(
            lambda m: m.kind == "state" and m.data.get("state") == state, timeout, since
        )

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        await self.http.close()
