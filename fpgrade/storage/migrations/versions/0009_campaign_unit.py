"""campaign: what one grade covers, a medium or a subject's visit (per-subject labelling,
issue 20)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 01:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=False, server_default='medium'))


def downgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('unit')
