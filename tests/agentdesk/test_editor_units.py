"""An editor limited to some units' cards: kept on the account, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from agentdesk.accounts import AccountError, Accounts
from kck.db import session_factory
from kck.db.models import AuditEntry, Role


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
