"""Matters after the call: the audit of every step, each unit's answer, and the outbox.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 17:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kck.db.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 'resident_informed', 'info_requested' are longer than the 16 characters of 0005
    for table in ("tickets", "ticket_units"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "status", existing_type=sa.String(length=16), type_=sa.String(length=20)
            )
    with op.batch_alter_table("ticket_units") as batch:
        batch.add_column(sa.Column("answer", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("updated_at", kck.db.types.UTCDateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "matter_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", kck.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_matter_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter_events")),
    )
    with op.batch_alter_table("matter_events") as batch:
        batch.create_index(batch.f("ix_matter_events_ticket_id"), ["ticket_id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", kck.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", kck.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sending_until", kck.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", kck.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_outbox_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_key")),
    )
    with op.batch_alter_table("outbox") as batch:
        batch.create_index(batch.f("ix_outbox_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch.create_index(batch.f("ix_outbox_state"), ["state"], unique=False)
        batch.create_index(batch.f("ix_outbox_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("matter_events")
    with op.batch_alter_table("ticket_units") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("answer")
    for table in ("tickets", "ticket_units"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "status", existing_type=sa.String(length=20), type_=sa.String(length=16)
            )
