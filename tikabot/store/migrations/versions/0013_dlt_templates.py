"""dlt_templates: the approved TRAI DLT template ids, one per template, language and plural form

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 19:00:00

A domestic Indian route sends only text registered on the DLT portal; `tikabot dlt import` loads
the ids the portal approved, and the send path looks each message up here.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'dlt_templates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('template', sa.String(length=60), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('form', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('template_id', sa.String(length=19), nullable=False),
        sa.Column('entity_id', sa.String(length=19), nullable=False),
        sa.Column('header', sa.String(length=6), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=False),
        sa.Column('content_type', sa.String(length=7), nullable=False),
        sa.Column('approved_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('template', 'language', 'form'),
        sa.UniqueConstraint('template_id'),
    )


def downgrade() -> None:
    op.drop_table('dlt_templates')
