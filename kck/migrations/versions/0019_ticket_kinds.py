"""ticket kinds: where to go instead, what a complaint is about (issue 15)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07

The kinds question, complaint and outside (the city's competence) fit `tickets.kind`
(String(16)); a matter outside the city's competence keeps where the resident is sent
(`refer_to`), a complaint the unit or service it is about (`complaint_about`).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("refer_to", sa.String(300), nullable=True))
        batch.add_column(sa.Column("complaint_about", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("complaint_about")
        batch.drop_column("refer_to")
