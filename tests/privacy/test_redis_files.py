"""After an erasure Redis' own files no longer hold what was removed: the append-only file
(which keeps the commands that wrote it) is rewritten."""

from __future__ import annotations

from pathlib import Path

from kck.redis_server import PrivateRedis, connect
from privacy.live_state import rewrite_redis_files
from tests.polling import until_true


def files_hold(folder: Path, text: bytes) -> bool:
    return any(text in p.read_bytes() for p in folder.rglob("*") if p.is_file() and "aof" in p.name)


async def test_the_append_only_file_is_rewritten_without_what_was_removed(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path / "redis")
    redis = await connect(await server.start())
    try:
        await redis.set("kck:q:call:anna3", "+48600100200")
        await redis.set("kck:other", "stays")
        await redis.delete("kck:q:call:anna3")
        assert files_hold(server.folder, b"+48600100200")  # DEL does not take it out of the file

        assert "append-only file rewrite" in await rewrite_redis_files(redis)

        async def rewritten() -> bool:
            info = await redis.info("persistence")
            return not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]

        await until_true(rewritten, seconds=30)
        assert not files_hold(server.folder, b"+48600100200")
        assert files_hold(server.folder, b"stays")
    finally:
        await redis.aclose()
        await server.stop()
