"""Errors that are the user's to fix: the command line prints them as one line, no traceback."""

from __future__ import annotations

from kck.db.engine import DatabaseUnavailable
from kck.db.migrate import SchemaNotMigrated
from kck.redis_server import RedisUnavailable
from kck.settings import SettingsError
from kck.yamlsource import YAMLSourceError


class UserError(Exception):
    """Base for other packages' errors that a user fixes (bad menu, missing model path…)."""


USER_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseUnavailable,
    RedisUnavailable,
    SchemaNotMigrated,
    SettingsError,
    UserError,
    YAMLSourceError,
)
