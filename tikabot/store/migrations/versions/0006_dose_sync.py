"""dose sync: what the upstream FHIR registry has of each dose

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:50:00

`tikabot sync` pushes doses to the registry; each dose keeps the registry's resource id, the
attempts so far, when a retryable failure may be tried again, the last error (for a permanent
failure, the registry's reason) and when it was synced. One index finds what is still to send.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op



revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('doses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upstream_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sync_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('sync_next_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('sync_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('synced_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_doses_sync', ['sync_state', 'sync_next_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('doses', schema=None) as batch_op:
        batch_op.drop_index('ix_doses_sync')
        batch_op.drop_column('synced_at')
        batch_op.drop_column('sync_error')
        batch_op.drop_column('sync_next_at')
        batch_op.drop_column('sync_attempts')
        batch_op.drop_column('upstream_id')
