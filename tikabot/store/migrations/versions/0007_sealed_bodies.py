"""sealed bodies: the readable text of a message that carries a code, encrypted until it is final

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:00:00

outbound_messages.body keeps the text with its codes masked (what coordinators, logs and exports
see); sealed_body holds the real text, Fernet-encrypted with a key derived from OTP_SECRET, and is
cleared once the message is final (tikabot/queue/sealing.py).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_body', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('sealed_body')
