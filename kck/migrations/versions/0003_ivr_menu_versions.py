"""ivr menu versions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ivr_menu_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('loaded_by', sa.String(length=100), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_menu_versions'))
    )
    with op.batch_alter_table('ivr_menu_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivr_menu_versions_content_hash'), ['content_hash'], unique=False)




def downgrade() -> None:
    with op.batch_alter_table('ivr_menu_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_menu_versions_content_hash'))

    op.drop_table('ivr_menu_versions')

