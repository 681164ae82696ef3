"""Open311: the API clients with their hashed keys, and the requests they sent (issue 15)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kck.db.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "open311_clients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", kck.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kck.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_clients")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_open311_clients_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_open311_clients_name")),
    )
    op.create_table(
        "open311_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("client_request_id", sa.String(length=100), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("media_url", sa.String(length=500), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=True),
        sa.Column("received_at", kck.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["open311_clients.id"],
            name=op.f("fk_open311_requests_client_id_open311_clients"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_open311_requests_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_requests")),
        sa.UniqueConstraint(
            "client_id", "client_request_id", name=op.f("uq_open311_requests_client_id")
        ),
    )
    with op.batch_alter_table("open311_requests") as batch:
        batch.create_index(batch.f("ix_open311_requests_client_id"), ["client_id"], unique=False)
        batch.create_index(
            batch.f("ix_open311_requests_fingerprint"), ["fingerprint"], unique=False
        )
        batch.create_index(
            batch.f("ix_open311_requests_received_at"), ["received_at"], unique=False
        )
        batch.create_index(batch.f("ix_open311_requests_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_table("open311_requests")
    op.drop_table("open311_clients")
