"""doses by site and day: one index for a site's running count

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 08:40:00

Every dose report counts the site's doses today. With an index on site_id alone that count read
every dose the site ever recorded; (site_id, administered_at) reads only today's.
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('doses', schema=None) as batch_op:
        batch_op.create_index('ix_doses_site_day', ['site_id', 'administered_at', 'dose_number', 'voided'], unique=False)
        batch_op.drop_index(batch_op.f('ix_doses_site_id'))


def downgrade() -> None:
    with op.batch_alter_table('doses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_doses_site_id'), ['site_id'], unique=False)
        batch_op.drop_index('ix_doses_site_day')
