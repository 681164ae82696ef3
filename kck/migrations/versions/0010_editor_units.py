"""An editor's account may be limited to the service cards of some units (`kck users kb-units`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 17:35:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('kb_units', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('kb_units')
