"""The private redis-server across a `kill -9` of kck: our orphan is adopted with its data, a
server kck did not start is refused. Real redis-server processes, a real kck process killed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from asyncio.subprocess import Process
from collections.abc import Iterator
from pathlib import Path

import pytest

from kck.redis_server import PrivateRedis, RedisUnavailable, connect, find_redis_server
from tests.polling import until

ROOT = Path(__file__).parents[2]
# A `kck serve` reduced to its private Redis: starts it, says where, waits to be killed.
KCK_WITH_PRIVATE_REDIS = """
import asyncio, sys
from pathlib import Path
from kck.redis_server import PrivateRedis

async def main() -> None:
    server = PrivateRedis(Path(sys.argv[1]), persistent=False, dies_with_owner=sys.argv[2] == "1")
    url = await server.start()
    print(url, server.pid, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def is_redis(pid: int) -> bool:
    """A redis-server runs as `pid` (a zombie waiting for init to reap it does not count)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return "(redis-server)" in stat and state != "Z"


@pytest.fixture
def redis_pids() -> Iterator[list[int]]:
    """Pids of redis-servers a test made; any still running at the end are killed."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if is_redis(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def start_kck(folder: Path, *, dies_with_owner: bool) -> tuple[Process, str, int]:
    """A kck process with its private Redis in `folder`: the process, the URL and the
    redis-server's pid."""
    kck = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        KCK_WITH_PRIVATE_REDIS,
        str(folder),
        "1" if dies_with_owner else "0",
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert kck.stdout is not None
    url, pid_text = (await asyncio.wait_for(kck.stdout.readline(), 30)).decode().split()
    return kck, url, int(pid_text)


async def kill_9(kck: Process) -> None:
    kck.kill()  # no clean stop
    await kck.wait()


async def test_after_kill_9_the_next_start_adopts_our_orphan_with_its_data(
    tmp_path: Path, redis_pids: list[int]
) -> None:
    folder = tmp_path / "redis"
    kck, url, orphan = await start_kck(folder, dies_with_owner=False)
    redis_pids.append(orphan)
    client = await connect(url)
    await client.set("waiting:call-1", "caller on hold")
    await client.aclose()

    await kill_9(kck)
    assert is_redis(orphan)  # left behind

    server = PrivateRedis(folder, persistent=False)
    assert await server.start() == url
    assert server.pid == orphan
    client = await connect(url)
    try:
        assert await client.get("waiting:call-1") == b"caller on hold"
    finally:
        await client.aclose()
        await server.stop()
    assert not is_redis(orphan)  # a normal stop still stops the adopted server
    with pytest.raises(RedisUnavailable):
        await connect(url)


async def test_a_server_on_our_socket_that_kck_did_not_start_is_refused(
    tmp_path: Path, redis_pids: list[int]
) -> None:
    folder = tmp_path / "redis"
    folder.mkdir()
    socket = folder / "redis.sock"
    stranger = await asyncio.create_subprocess_exec(
        str(find_redis_server()),
        *("--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no"),
        *("--dir", str(folder)),
        stdout=asyncio.subprocess.DEVNULL,
    )
    redis_pids.append(stranger.pid)
    try:
        await until(socket.exists, 10)
        refused = f"{socket} is served by a redis-server that kck did not start"
        with pytest.raises(RedisUnavailable, match=f"{refused} \\(no pid file"):
            await PrivateRedis(folder).start()
        # a pid file naming some other live process does not make the server ours
        (folder / "redis.pid").write_text(f"{os.getpid()} {os.getpid()}\n")
        with pytest.raises(RedisUnavailable, match=f"{refused} \\(.*names pid {os.getpid()}"):
            await PrivateRedis(folder).start()
        assert stranger.returncode is None  # left alone
    finally:
        stranger.kill()
        await stranger.wait()


async def test_a_second_kck_on_the_same_folder_does_not_take_the_first_ones_server(
    tmp_path: Path,
) -> None:
    first = PrivateRedis(tmp_path / "redis", persistent=False)
    await first.start()
    try:
        with pytest.raises(RedisUnavailable, match=f"kck process {os.getpid()} started and still"):
            await PrivateRedis(tmp_path / "redis", persistent=False).start()
        assert first.pid is not None and is_redis(first.pid)
    finally:
        await first.stop()
    assert not (tmp_path / "redis" / "redis.pid").exists()


async def test_a_server_that_dies_with_its_kck_is_gone_after_kill_9(
    tmp_path: Path, redis_pids: list[int]
) -> None:
    kck, _, server = await start_kck(tmp_path / "redis", dies_with_owner=True)
    redis_pids.append(server)
    assert is_redis(server)
    await kill_9(kck)
    await until(lambda: not is_redis(server), 20)


async def test_a_server_that_dies_with_its_kck_replaces_an_orphan_instead_of_adopting_it(
    tmp_path: Path, redis_pids: list[int]
) -> None:
    folder = tmp_path / "redis"
    kck, url, orphan = await start_kck(folder, dies_with_owner=False)  # an older kck's
    redis_pids.append(orphan)
    await kill_9(kck)
    assert is_redis(orphan)
    server = PrivateRedis(folder, persistent=False, dies_with_owner=True)
    assert await server.start() == url
    try:
        assert server.pid != orphan and not is_redis(orphan)
    finally:
        await server.stop()
