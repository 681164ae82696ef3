"""The modules that declare tables; Alembic imports them all to see the whole schema."""

from __future__ import annotations

import importlib

# Each package that owns tables adds its models module here.
MODEL_MODULES: tuple[str, ...] = (
    "kck.db.models",
    "kb.models",
    "ivr.models",
    "agentdesk.tickets.models",
    "recordings.models",
    "recordings.transcription",
    "matters.models",
    "agentdesk.open311.models",
    "agentdesk.tasks.models",
)

# Tables a migration makes outside the models (e.g. SQLite FTS5 indexes and their shadow tables):
# autogenerate must neither drop nor recreate them. Matched by name prefix.
UNMANAGED_TABLE_PREFIXES: tuple[str, ...] = ("kb_fts", "transcript_fts")


def is_managed_table(name: str | None) -> bool:
    return not (name and name.startswith(UNMANAGED_TABLE_PREFIXES))


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
