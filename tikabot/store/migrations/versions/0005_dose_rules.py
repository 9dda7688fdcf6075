"""dose rules: doses recorded with an earlier dose given elsewhere, and who voided a dose

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 15:00:00

`needs_reconciliation` marks a dose recorded with `DOSE <REF> <N> ELSEWHERE`: an earlier dose was
given elsewhere and is not on record here, so the record is to be checked against the national
portal. `voided_by` is the phone that sent UNDO, so a second bare UNDO can name the dose it
already undid instead of voiding an earlier one.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('doses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('needs_reconciliation', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('voided_by', sa.String(length=20), nullable=True))
        batch_op.create_index('ix_doses_voided_by', ['voided_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('doses', schema=None) as batch_op:
        batch_op.drop_index('ix_doses_voided_by')
        batch_op.drop_column('voided_by')
        batch_op.drop_column('needs_reconciliation')
