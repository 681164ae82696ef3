"""`kck open311 keys add/list/revoke` as an operator runs it (the command line's own `main`, in
a folder of its own): the key is printed once, the database keeps only its hash, a revoked key
is refused."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from agentdesk.open311.clients import ApiClient, ApiClients, key_hash
from agentdesk.open311.models import Open311Client
from kck.cli import main
from kck.db import create_engine, session_factory


def _lookup(folder: Path, key: str) -> tuple[ApiClient | None, list[str]]:
    """The client of `key`, and every kept hash."""

    async def look() -> tuple[ApiClient | None, list[str]]:
        engine = create_engine(f"sqlite+aiosqlite:///{folder / 'var' / 'kck.db'}")
        try:
            client = await ApiClients(session_factory(engine)).by_key(key)
            async with session_factory(engine)() as db:
                hashes = list(await db.scalars(select(Open311Client.key_hash)))
            return client, hashes
        finally:
            await engine.dispose()

    return asyncio.run(look())


def test_a_key_is_printed_once_kept_hashed_and_refused_after_revoking(
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in [n for n in os.environ if n.startswith("KCK_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # the default settings: var/kck.db here
    (tmp_path / "var").mkdir()
    shutil.copy(sqlite_template, tmp_path / "var" / "kck.db")  # a migrated database

    assert main(["open311", "keys", "add", "portal"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("kck311_") and len(key) > 40
    assert main(["open311", "keys", "add", "portal"]) == 1
    assert "exists already" in capsys.readouterr().err
    assert main(["open311", "keys", "add", "Portal Miejski"]) == 1
    assert "lower-case letters" in capsys.readouterr().err

    client, hashes = _lookup(tmp_path, key)
    assert client is not None and client.source == "open311:portal"
    assert hashes == [key_hash(key)]

    assert main(["open311", "keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert "open311:portal" in listed and key not in listed
    assert main(["open311", "keys", "revoke", "portal"]) == 0
    assert _lookup(tmp_path, key)[0] is None
    assert main(["open311", "keys", "revoke", "app"]) == 1
    assert "no Open311 client 'app'" in capsys.readouterr().err
