"""campaign: videos must be played, the raters' guideline; assignment: when the video was
played to its end (issue 20)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 00:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('videos_must_play', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
        batch_op.add_column(sa.Column('guideline',
                                      sqlmodel.sql.sqltypes.AutoString(length=20000),
                                      nullable=True))
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('played_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('played_at')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('guideline')
        batch_op.drop_column('videos_must_play')
