"""Database: engine, models, migrations."""

from kck.db.engine import DatabaseUnavailable, create_engine, safe_url, session_factory
from kck.db.migrate import SchemaNotMigrated, require_current_schema, status, upgrade
from kck.db.models import AgentStateLog, AuditEntry, Base, Call, CallOutcome, Role, User, utcnow

__all__ = [
    "AgentStateLog",
    "AuditEntry",
    "Base",
    "Call",
    "CallOutcome",
    "DatabaseUnavailable",
    "Role",
    "SchemaNotMigrated",
    "User",
    "create_engine",
    "require_current_schema",
    "safe_url",
    "session_factory",
    "status",
    "upgrade",
    "utcnow",
]
