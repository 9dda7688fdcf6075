"""alert acknowledgements: coordinator alerts one can act on, acknowledge and escalate

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-02 18:30:00

coordinator_alerts keeps each alert to coordinators: who acknowledged it, when it was sent again
and escalated to the state level, when it stopped being true (the site opened). staff.level marks
state coordinators (and a site's mobiliser); outbound_messages.buttons holds a Telegram message's
inline buttons.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'coordinator_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('severity', sa.String(length=10), nullable=False),
        sa.Column('site_codes', sa.JSON(), nullable=False),
        sa.Column('raised_at', sa.DateTime(), nullable=False),
        sa.Column('acked_at', sa.DateTime(), nullable=True),
        sa.Column('acked_by', sa.Integer(), nullable=True),
        sa.Column('resent_at', sa.DateTime(), nullable=True),
        sa.Column('escalated_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['acked_by'], ['staff.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_coordinator_alerts_raised_at', 'coordinator_alerts', ['raised_at'], unique=False)
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.String(length=10), nullable=True))
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('buttons', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('buttons')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('level')
    op.drop_index('ix_coordinator_alerts_raised_at', table_name='coordinator_alerts')
    op.drop_table('coordinator_alerts')
