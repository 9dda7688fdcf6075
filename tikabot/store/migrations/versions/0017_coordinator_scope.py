"""coordinator scope: the district or state a coordinator answers for

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:20:00

staff.scope names the district (level district) or the state (level state) whose sites a coordinator
sees and acts on in the bot and gets alerts for (tikabot/store/scope.py). Nullable: existing rows keep
working as their level and site say (no scope: the district of their site, or the only district).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('scope')
