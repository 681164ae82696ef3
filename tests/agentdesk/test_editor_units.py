"""An editor limited to some units' cards: kept on the account, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.accounts import AccountError, Accounts
from kck.db import session_factory
from kck.db.models import AuditEntry, Role
from tests.core.test_cli import run as kck


async def test_an_editor_s_units_are_kept_audited_and_lifted(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    accounts = Accounts(sessions)
    await accounts.add("drogowiec", "correct horse battery", Role.EDITOR)
    assert await accounts.kb_units("drogowiec") is None  # every unit by default
    await accounts.set_kb_units("drogowiec", ["zielen", "drogi", "drogi"], actor="admin")
    assert await accounts.kb_units("drogowiec") == frozenset({"drogi", "zielen"})
    await accounts.set_kb_units("drogowiec", None)
    assert await accounts.kb_units("drogowiec") is None
    async with sessions() as session:
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "user.kb_units"))
        ).all()
    assert [entry.details for entry in audit] == [{"units": ["drogi", "zielen"]}, {"units": None}]
    with pytest.raises(AccountError, match="no user 'nikt'"):
        await accounts.set_kb_units("nikt", ["drogi"])
    with pytest.raises(AccountError, match="KB unit keys"):
        await accounts.set_kb_units("drogowiec", ["drogi; DROP"])


def test_kck_users_kb_units_limits_and_lifts_as_an_operator_types_it(tmp_path: Path) -> None:
    assert kck(["db", "upgrade"], tmp_path).returncode == 0
    added = kck(
        ["users", "add", "jredaktor", "--role", "editor"], tmp_path, stdin="correct horse 1\n"
    )
    assert added.returncode == 0, added.stderr
    limited = kck(["users", "kb-units", "jredaktor", "zielen", "drogi"], tmp_path)
    assert limited.stdout == "jredaktor: edits the cards of drogi, zielen\n", limited.stderr
    listed = kck(["users", "list"], tmp_path).stdout.splitlines()
    assert listed[1].startswith("jredaktor") and listed[1].endswith("(cards of: drogi, zielen)")
    lifted = kck(["users", "kb-units", "jredaktor", "--all"], tmp_path)
    assert lifted.stdout == "jredaktor: edits every unit's cards\n"
    neither = kck(["users", "kb-units", "jredaktor"], tmp_path)
    assert neither.returncode == 1
    assert neither.stderr.strip().endswith(
        "give the units the editor may edit, or --all (not both)"
    )
