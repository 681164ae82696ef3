"""The modules that declare tables; Alembic imports them all to see the whole schema."""

from __future__ import annotations

import importlib

# Each package that owns tables adds its models module here.
MODEL_MODULES: tuple[str, ...] = (
    "kck.db.models",
    "kb.models",
    "ivr.models",
    "agentdesk.tickets.models",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
