"""unit accounts: the city units a `unit` user works for (issue 15)

Revision ID: 0018
Revises: 0013
Create Date: 2026-12-07

A user with the role `unit` signs in to the inbox of their units' matters; `users.unit_codes`
lists those units (codes of config/units.yaml). The role is a string column already.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("unit_codes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("unit_codes")
