"""core tables: users, calls, agent state log, audit log

Revision ID: 0001
Revises: 
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('extension', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('agent_state_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('call_id', sa.String(length=32), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_agent_state_log_agent_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_state_log'))
    )
    with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_state_log_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_state_log_at'), ['at'], unique=False)

    op.create_table('calls',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('uniqueid', sa.String(length=64), nullable=False),
    sa.Column('linkedid', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=128), nullable=True),
    sa.Column('caller_number', sa.String(length=32), nullable=True),
    sa.Column('caller_name', sa.String(length=200), nullable=True),
    sa.Column('dialled_number', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('menu_version', sa.String(length=64), nullable=True),
    sa.Column('ivr_path', sa.JSON(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=True),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('intent', sa.String(length=64), nullable=True),
    sa.Column('transcript', sa.Text(), nullable=True),
    sa.Column('kb_topic', sa.String(length=64), nullable=True),
    sa.Column('ticket_category', sa.String(length=64), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('wrapup_outcome', sa.String(length=32), nullable=True),
    sa.Column('hangup_cause', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_calls_agent_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_arrived_at'), ['arrived_at'], unique=False)
        batch_op.create_index('ix_calls_caller_arrived', ['caller_number', 'arrived_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_caller_number'), ['caller_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_linkedid'), ['linkedid'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_uniqueid'), ['uniqueid'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_uniqueid'))
        batch_op.drop_index(batch_op.f('ix_calls_outcome'))
        batch_op.drop_index(batch_op.f('ix_calls_linkedid'))
        batch_op.drop_index(batch_op.f('ix_calls_caller_number'))
        batch_op.drop_index('ix_calls_caller_arrived')
        batch_op.drop_index(batch_op.f('ix_calls_arrived_at'))

    op.drop_table('calls')
    with op.batch_alter_table('agent_state_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_state_log_at'))
        batch_op.drop_index(batch_op.f('ix_agent_state_log_agent_id'))

    op.drop_table('agent_state_log')
    op.drop_table('users')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
