"""site names per language: name_en, name_bn, name_hi

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 15:00:00

A site had one name, so a Hindi message carried a Bengali-script name and an English message
became UCS-2 (twice the cost). Each message now uses the reader's name (tikabot/i18n/places.py);
the columns are optional, and a site without them keeps its one name.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ('name_en', 'name_bn', 'name_hi')


def upgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sites', schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
