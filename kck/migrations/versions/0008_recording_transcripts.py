"""recording transcripts: the words heard in a recording, with their times

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 15:11:39.694113
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kck.db.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recording_transcripts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('words', sa.JSON(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=True),
    sa.Column('audio_s', sa.Float(), nullable=True),
    sa.Column('decode_s', sa.Float(), nullable=True),
    sa.Column('created_at', kck.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recording_transcripts')),
    sa.UniqueConstraint('call_id', name=op.f('uq_recording_transcripts_call_id'))
    )

def downgrade() -> None:
    op.drop_table('recording_transcripts')