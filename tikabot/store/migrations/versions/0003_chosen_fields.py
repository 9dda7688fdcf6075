"""what people chose: when a beneficiary or staff member set their language with LANG

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 15:00:00

A registry re-import used to put back the language in the file. With the moment of the person's
own choice stored, the import leaves that language alone. Opt-outs and confirmed or cancelled
appointments need no column: no import writes opted_out, and only the beneficiary sets those
statuses.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    for table in ('beneficiaries', 'staff'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('language_chosen_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    for table in ('beneficiaries', 'staff'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('language_chosen_at')
