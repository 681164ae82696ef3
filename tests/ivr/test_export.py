"""`kck ivr export`: a version published from the browser (only in the database) is written back
into the menus folder, so a later reload of the folder does not bring the older text back."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from ivr.loader import MenuFiles, UnsafeMenuFileName, read_menu_files, write_menu_files
from ivr.versions import MenuLibrary
from kck.cli import main
from kck.db import create_engine, session_factory
from kck.redis_server import connect
from tests.ivr.support import SHIPPED

PREFIX = "kck-export-test"


def publish_from_the_web(sqlite_url: str, redis_url: str, menus: Path) -> str:
    """v1 from the folder, then v2 submitted as the browser does; returns v2's content hash."""

    async def run() -> str:
        engine = create_engine(sqlite_url)
        redis = await connect(redis_url)
        try:
            library = MenuLibrary(
                session_factory(engine), redis, menus_dir=menus, key_prefix=PREFIX
            )
            first = await library.reload(by="cli")
            files = dict((await library.files_of(first.version.id)).files)
            files["main.yaml"] = files["main.yaml"].replace("timeout: 5 ", "timeout: 7 ")
            published = await library.submit(MenuFiles(files), by="web:redaktor", message="7 s")
            return published.version.content_hash
        finally:
            await redis.delete(f"{PREFIX}:ivr:live_version")
            await redis.aclose()
            await engine.dispose()

    return asyncio.run(run())


def test_export_live_writes_the_published_version_into_the_menus_folder(
    sqlite_url: str, redis_server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    menus = tmp_path / "menus"
    shutil.copytree(SHIPPED, menus)
    config = tmp_path / "settings.yaml"
    settings = {
        "database": {"url": sqlite_url},
        "redis": {"url": redis_server_url, "key_prefix": PREFIX},
        "paths": {"menus": str(menus)},
    }
    config.write_text(json.dumps(settings), encoding="utf-8")  # JSON is YAML
    published = publish_from_the_web(sqlite_url, redis_server_url, menus)
    assert read_menu_files(menus).content_hash != published
    tests_before = (menus / "tests" / "city_hall.yaml").read_text(encoding="utf-8")
    # the live id is gone from Redis (deleted above): the database still knows it
    assert main(["--config", str(config), "ivr", "export", "live"]) == 0
    assert "v2:" in capsys.readouterr().out
    assert read_menu_files(menus).content_hash == published
    assert (menus / "tests" / "city_hall.yaml").read_text(encoding="utf-8") == tests_before


def test_a_file_name_leaving_the_folder_is_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    with pytest.raises(UnsafeMenuFileName, match="outside"):
        write_menu_files({"main.yaml": "menu: {}\n", "../escape.yaml": "x: 1\n"}, tmp_path / "m")
    assert not (tmp_path / "escape.yaml").exists() and not (tmp_path / "m").exists()
