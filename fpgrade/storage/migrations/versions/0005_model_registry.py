"""model registry: version status, promotion, training run, data snapshot, test metrics;
predictions reference their version by foreign key; Label Studio sync tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:15:00

``prediction`` was never written before this revision (no code path stored one), so its copied
version name columns are dropped and ``model_version_id`` is added NOT NULL.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('modelversion', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      server_default='candidate', nullable=False))
        batch_op.add_column(sa.Column('status_reason', sqlmodel.sql.sqltypes.AutoString(length=1000),
                                      nullable=True))
        batch_op.add_column(sa.Column('promoted_by', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('promoted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('training_run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('parent_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('data_snapshot', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('data_snapshot_sha256', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('test_metrics', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_modelversion_status'), ['status'], unique=False)
        # at most one current version per scale, whoever promotes at the same time
        batch_op.create_index('uq_modelversion_one_current', ['scale'], unique=True,
                              sqlite_where=sa.text("status = 'current'"),
                              postgresql_where=sa.text("status = 'current'"))
        batch_op.create_foreign_key('fk_modelversion_training_run_id', 'trainingrun',
                                    ['training_run_id'], ['id'])
        batch_op.create_foreign_key('fk_modelversion_parent_version_id', 'modelversion',
                                    ['parent_version_id'], ['id'])
    # Versions trained before the registry stay candidates: clinic.models.current_versions keeps
    # the old rule (newest usable version) for a scale that has no promoted version.
    with op.batch_alter_table('prediction', schema=None) as batch_op:
        batch_op.drop_column('model_id')
        batch_op.drop_column('model_version')
        batch_op.drop_column('weights_sha256')
        batch_op.add_column(sa.Column('model_version_id', sa.Integer(), nullable=False))
        batch_op.create_index(batch_op.f('ix_prediction_model_version_id'), ['model_version_id'],
                              unique=False)
        batch_op.create_foreign_key('fk_prediction_model_version_id', 'modelversion',
                                    ['model_version_id'], ['id'])


    op.create_table('lsproject',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('pull_cursor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url', 'project_id')
    )
    with op.batch_alter_table('lsproject', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lsproject_campaign_id'), ['campaign_id'], unique=False)
    op.create_table('lstask',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ls_project_id', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('prediction_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ls_project_id'], ['lsproject.id'], ),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], ),
    sa.ForeignKeyConstraint(['prediction_id'], ['prediction.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ls_project_id', 'media_id'),
    sa.UniqueConstraint('ls_project_id', 'task_id')
    )
    with op.batch_alter_table('lstask', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lstask_ls_project_id'), ['ls_project_id'], unique=False)
    op.create_table('lsannotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ls_project_id', sa.Integer(), nullable=False),
    sa.Column('ls_annotation_id', sa.Integer(), nullable=False),
    sa.Column('annotation_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('deleted', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['annotation_id'], ['annotation.id'], ),
    sa.ForeignKeyConstraint(['ls_project_id'], ['lsproject.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ls_project_id', 'ls_annotation_id')
    )
    with op.batch_alter_table('lsannotation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lsannotation_ls_project_id'), ['ls_project_id'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('lsannotation')
    op.drop_table('lstask')
    op.drop_table('lsproject')
    with op.batch_alter_table('prediction', schema=None) as batch_op:
        batch_op.drop_constraint('fk_prediction_model_version_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_prediction_model_version_id'))
        batch_op.drop_column('model_version_id')
        batch_op.add_column(sa.Column('weights_sha256', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('model_version', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False))
        batch_op.add_column(sa.Column('model_id', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False))
    with op.batch_alter_table('modelversion', schema=None) as batch_op:
        batch_op.drop_constraint('fk_modelversion_parent_version_id', type_='foreignkey')
        batch_op.drop_constraint('fk_modelversion_training_run_id', type_='foreignkey')
        batch_op.drop_index('uq_modelversion_one_current')
        batch_op.drop_index(batch_op.f('ix_modelversion_status'))
        for column in ('test_metrics', 'data_snapshot_sha256', 'data_snapshot', 'parent_version_id',
                       'training_run_id', 'promoted_at', 'promoted_by', 'status_reason', 'status'):
            batch_op.drop_column(column)
