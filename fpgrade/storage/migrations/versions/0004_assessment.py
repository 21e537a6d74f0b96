"""assessment: a graded photo set saved for a visit (eFACE, Sunnybrook, grades, measurements)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assessment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('healthy_side', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('eface', sa.JSON(), nullable=True),
    sa.Column('sunnybrook', sa.JSON(), nullable=True),
    sa.Column('grades', sa.JSON(), nullable=True),
    sa.Column('measurements', sa.JSON(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_visit_id'), ['visit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_visit_id'))
    op.drop_table('assessment')
