"""agents' tasks: callbacks from wrap-up and voicemail to hear (issue 15, "Around the desk")

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kck.db.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = True) -> sa.Column[sa.DateTime]:
    return sa.Column(name, kck.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "agent_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("skill", sa.String(length=32), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("recording", sa.String(length=300), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _when("window_from"),
        _when("window_until"),
        sa.Column("router_call_id", sa.String(length=80), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        _when("created_at", nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        _when("claimed_at"),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        _when("closed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_tasks")),
        sa.UniqueConstraint("kind", "call_id", name=op.f("uq_agent_tasks_kind")),
    )
    with op.batch_alter_table("agent_tasks") as batch:
        batch.create_index(batch.f("ix_agent_tasks_state"), ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("agent_tasks")
