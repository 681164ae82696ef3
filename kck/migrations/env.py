"""Alembic environment: runs on the connection kck hands over (see kck.db.migrate)."""

from __future__ import annotations

from alembic import context

from kck.db.models import Base
from kck.db.registry import import_all_models, is_managed_table

import_all_models()
target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through `kck db upgrade` (kck.db.migrate), not alembic directly"
    )
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=lambda name, type_, _parents: type_ != "table" or is_managed_table(name),
)
with context.begin_transaction():
    context.run_migrations()
