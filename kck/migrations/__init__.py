"""Alembic migration scripts of every kck table (one linear history)."""
