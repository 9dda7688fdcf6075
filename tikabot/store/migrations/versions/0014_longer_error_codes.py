"""longer error codes: a gateway phone names its failures (RESULT_ERROR_NO_SERVICE), not in 10 characters

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 20:50:00

outbound_messages.last_error_code held Twilio's numeric codes; the Android gateway reports Android's
SmsManager result names. On PostgreSQL a longer code was refused and the delivery report with it
answered 500.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.alter_column('last_error_code', existing_type=sa.String(length=10), type_=sa.String(length=40))


def downgrade() -> None:
    with op.batch_alter_table('outbound_messages', schema=None) as batch_op:
        batch_op.alter_column('last_error_code', existing_type=sa.String(length=40), type_=sa.String(length=10))
