"""staff.report_via: the routes (gateway phones) a staff member's SMS may come through

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 10:00:00

A gateway phone's key (or Exotel's token) can speak as any number; a deployment binds its staff to
the routes they really report through. Empty for everyone already registered: any route, as before.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_via', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('report_via')
