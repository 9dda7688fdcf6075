"""inbox: inbound messages are kept first and processed after

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:45:00

The webhook only makes an inbound message durable (one INSERT, status `new`) and answers; workers
take it in order per sender, lease it while they process it (`lease_until`, a killed worker's
lease runs out and another takes the message), and mark it `done` in the same transaction as its
effects and reply. A message that keeps failing ends `failed` after a few attempts. Rows written
before this revision were handled inside the request: they are `done`.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), nullable=False, server_default='done'))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('processed_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_inbound_status_id', ['status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_status_id')
        batch_op.drop_column('processed_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('status')
