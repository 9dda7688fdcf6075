"""routes: which provider a message came in on or goes out through

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 18:40:00

Twilio is no longer the only SMS provider (an Android gateway phone, an Indian aggregator), so a
message's channel (sms, voice, telegram) no longer says who carries it. `via` names the provider
route: on an inbound message, the one it arrived on (a reply goes back the same way while that
route is up); on an outbound message, the route asked for (NULL: the routing table decides) and,
once sent, the one that carried it.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=40), nullable=True))
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('via', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('via')
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.drop_column('via')
