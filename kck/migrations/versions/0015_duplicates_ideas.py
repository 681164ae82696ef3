"""Duplicate hints and idea topics: a ticket's kind and address key (indexed with its category
and latitude), and the other residents attached to a matter (issue 15).

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-07 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kck.db.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="report", nullable=False)
        )
        batch.add_column(sa.Column("address_key", sa.String(length=300), nullable=True))
        batch.create_index(
            "ix_tickets_kind_category_address", ["kind", "category", "address_key"], unique=False
        )
        batch.create_index(
            "ix_tickets_kind_category_latitude", ["kind", "category", "latitude"], unique=False
        )
    op.create_table(
        "matter_residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("caller_number", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("contact_consent", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("call_id", sa.String(length=32), nullable=True),
        sa.Column("attached_by", sa.String(length=80), nullable=False),
        sa.Column("attached_at", kck.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_matter_residents_call_id_calls")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_matter_residents_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter_residents")),
    )
    with op.batch_alter_table("matter_residents") as batch:
        batch.create_index(
            batch.f("ix_matter_residents_ticket_id"), ["ticket_id"], unique=False
        )
        batch.create_index(
            batch.f("ix_matter_residents_caller_number"), ["caller_number"], unique=False
        )


def downgrade() -> None:
    op.drop_table("matter_residents")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_kind_category_latitude")
        batch.drop_index("ix_tickets_kind_category_address")
        batch.drop_column("address_key")
        batch.drop_column("kind")
