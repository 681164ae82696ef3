"""Throwaway real servers for tests and benchmarks: PostgreSQL (Debian binaries) and Redis.

Used when KCK_TEST_POSTGRES_URL / KCK_TEST_REDIS_URL are not set. Plain subprocesses, so a
session-scoped pytest fixture can start them once without an event loop.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kck.redis_server import find_redis_server


class ServiceStartError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisProcess:
    folder: Path
    process: subprocess.Popen[bytes]
    appendonly: bool = False

    @property
    def url(self) -> str:
        return f"unix://{self.folder / 'redis.sock'}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost host: what it had not written is gone."""
        self.process.kill()
        self.process.wait(10)
        (self.folder / "redis.sock").unlink(missing_ok=True)

    def start_again(self) -> None:
        """The same server again, on the same socket and files (with `appendonly`: its data)."""
        self.process = _run_redis(self.folder, self.appendonly)


def start_redis(folder: Path | None = None, *, appendonly: bool = False) -> RedisProcess:
    """A redis-server on a unix socket in `folder` (a new temporary one if None); with
    `appendonly`, AOF `everysec` as docs/deployment.md recommends, else no persistence."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="kck-redis-"))
    folder.mkdir(parents=True, exist_ok=True)
    return RedisProcess(folder, _run_redis(folder, appendonly), appendonly)


def _run_redis(folder: Path, appendonly: bool) -> subprocess.Popen[bytes]:
    sock = folder / "redis.sock"
    process = subprocess.Popen(
        [
            str(find_redis_server()),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--save",
            "",
            "--appendonly",
            "yes" if appendonly else "no",
            "--appendfsync",
            "everysec",
            "--dir",
            str(folder),
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceStartError(
                f"redis-server exited: {process.stderr.read().decode() if process.stderr else ''}"
            )
        if sock.exists():
            return process
        time.sleep(0.02)
    process.kill()
    raise ServiceStartError("redis-server did not create its socket in 15 s")


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path:
        return path
    raise ServiceStartError(f"PostgreSQL's {name} not found: install Debian's postgresql package")


@dataclass
class PostgresProcess:
    folder: Path
    port: int
    process: subprocess.Popen[bytes]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.folder}&port={self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def shut_down(self) -> None:
        """`pg_ctl stop -m fast` (clients cut off), keeping the cluster for `start_again`."""
        data = str(self.folder / "data")
        command = [*_as_postgres(), _pg_bin("pg_ctl"), "stop", "-D", data, "-m", "fast", "-w"]
        stopped = subprocess.run(command, capture_output=True, timeout=60, check=False)
        if stopped.returncode != 0:
            raise ServiceStartError(f"pg_ctl stop failed: {stopped.stderr.decode()[-500:]}")
        self.process.wait(30)

    def start_again(self) -> None:
        """Start the shut-down cluster again, on the same socket and port."""
        self.process = _run_postgres(self.folder, self.port)

    def pause(self) -> None:
        """SIGSTOP the server and every backend: connections are accepted by the kernel and
        never answered, queries in flight never end (a hung database, not a refusing one)."""
        for pid in self._server_pids():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self._server_pids():
            os.kill(pid, signal.SIGCONT)

    def _server_pids(self) -> list[int]:
        """The postmaster (from postmaster.pid) and the processes it forked."""
        postmaster = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        pids = [postmaster]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:  # the process ended meanwhile
                continue
            if int(fields[1]) == postmaster:
                pids.append(int(stat.parent.name))
        return pids


def _as_postgres() -> list[str]:
    """The command prefix that runs a server program as user postgres when we are root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run_postgres(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """Run the cluster in `folder`/data on a unix socket in `folder`; return once it accepts."""
    process = subprocess.Popen(
        [
            *_as_postgres(),
            _pg_bin("postgres"),
            "-D",
            str(folder / "data"),
            "-k",
            str(folder),
            "-p",
            str(port),
            "-c",
            "listen_addresses=",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    sock = folder / f".s.PGSQL.{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceStartError(
                f"postgres exited: {process.stderr.read().decode()[-500:] if process.stderr else ''}"
            )
        if sock.exists() and _accepting(folder, port):
            return process
        time.sleep(0.05)  # polling interval, not a wait for readiness
    process.kill()
    raise ServiceStartError("postgres did not accept connections in 30 s")


def start_postgres() -> PostgresProcess:
    """initdb a temporary cluster and run it on a unix socket (as user postgres when we are root)."""
    folder = Path(tempfile.mkdtemp(prefix="kck-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
    init = subprocess.run(
        [
            *_as_postgres(),
            _pg_bin("initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        capture_output=True,
    )
    if init.returncode != 0:
        raise ServiceStartError(f"initdb failed: {init.stderr.decode()[-500:]}")
    port = _free_port()
    return PostgresProcess(folder, port, _run_postgres(folder, port))


def _accepting(folder: Path, port: int) -> bool:
    """pg_isready: 0 = accepting connections (1 = still starting up: its socket exists, but a
    connection now gets "the database system is starting up")."""
    ready = subprocess.run(
        [_pg_bin("pg_isready"), "-q", "-h", str(folder), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return ready.returncode == 0
