"""visit photos: the photos (and overlays) a clinician chose to keep with a saved assessment (issue 19)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 00:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'visitphoto',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('movement', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('photo', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('overlay', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessment.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('assessment_id', 'movement'),
    )
    with op.batch_alter_table('visitphoto', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visitphoto_assessment_id'), ['assessment_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('visitphoto', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visitphoto_assessment_id'))
    op.drop_table('visitphoto')
