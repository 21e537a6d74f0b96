"""labelling: users, campaigns, assignments, check results, final labels, audit log; annotation passes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:38:33.447400

Existing annotations get a pass kind from their source (import -> imported, label-studio ->
label-studio, ui -> blind). Existing labels keep training as before only where they are
unambiguous: for each (medium, scale) whose annotations all give the same label, that label
becomes the final label (method ``imported``); a medium whose annotations disagree gets no final
label (it is left for a campaign to decide) instead of the old "highest pass wins".
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auditevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('media_id', sa.Integer(), nullable=True),
    sa.Column('assignment_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auditevent_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_auditevent_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('movements', sa.JSON(), nullable=True),
    sa.Column('selection', sa.JSON(), nullable=True),
    sa.Column('blind_passes', sa.Integer(), nullable=False),
    sa.Column('allow_same_rater', sa.Boolean(), nullable=False),
    sa.Column('min_gap_s', sa.Integer(), nullable=False),
    sa.Column('suggestions_in_blind', sa.Boolean(), nullable=False),
    sa.Column('check_model_version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('range_percentile', sa.Float(), nullable=False),
    sa.Column('min_range_samples', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_name'), ['name'], unique=True)

    op.create_table('useraccount',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('disabled', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('useraccount', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_useraccount_name'), ['name'], unique=True)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=False),
    sa.Column('pass_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('pass_number', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('order_key', sa.Integer(), nullable=False),
    sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['useraccount.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'media_id', 'pass_number')
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_campaign_state', ['campaign_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_media_id'), ['media_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_user_id'), ['user_id'], unique=False)

    op.create_table('checkresult',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=False),
    sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('indices', sa.JSON(), nullable=True),
    sa.Column('ranges', sa.JSON(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'media_id')
    )
    with op.batch_alter_table('checkresult', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkresult_media_id'), ['media_id'], unique=False)

    op.create_table('finallabel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('media_id', sa.Integer(), nullable=False),
    sa.Column('scale', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('annotation_ids', sa.JSON(), nullable=True),
    sa.Column('check_result_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['check_result_id'], ['checkresult.id'], ),
    sa.ForeignKeyConstraint(['media_id'], ['media.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('media_id', 'scale')
    )
    with op.batch_alter_table('finallabel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finallabel_media_id'), ['media_id'], unique=False)

    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pass_kind', sqlmodel.sql.sqltypes.AutoString(length=16), server_default='imported', nullable=False))
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assignment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cannot_grade', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch_op.add_column(sa.Column('suggestion_shown', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('suggestion_model_version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('suggestion_label', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('suggestion_probability', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('suggestion_accepted', sa.Boolean(), nullable=True))
        batch_op.alter_column('label',
               existing_type=sa.VARCHAR(length=32),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_annotation_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_unique_constraint('uq_annotation_assignment_id', ['assignment_id'])
        batch_op.create_foreign_key('fk_annotation_campaign_id', 'campaign', ['campaign_id'], ['id'])
        batch_op.create_foreign_key('fk_annotation_user_id', 'useraccount', ['user_id'], ['id'])
        batch_op.create_foreign_key('fk_annotation_assignment_id', 'assignment', ['assignment_id'], ['id'])

    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE annotation SET pass_kind = CASE source WHEN 'LABEL_STUDIO' "
                         "THEN 'label-studio' WHEN 'UI' THEN 'blind' ELSE 'imported' END"))
    rows = bind.execute(sa.text("SELECT id, media_id, scale, label, annotator FROM annotation "
                                "WHERE label IS NOT NULL ORDER BY id")).all()
    groups: dict[tuple[int, str], list] = {}
    for row in rows:
        groups.setdefault((row.media_id, row.scale), []).append(row)
    final = sa.table('finallabel', sa.column('media_id', sa.Integer), sa.column('scale', sa.String),
                     sa.column('label', sa.String), sa.column('method', sa.String),
                     sa.column('decided_by', sa.String), sa.column('annotation_ids', sa.JSON),
                     sa.column('created_at', sqlmodel.sql.sqltypes.UTCDateTime()))
    now = datetime.now(timezone.utc)
    values = [
        {"media_id": media_id, "scale": scale, "label": group[0].label, "method": "imported",
         "decided_by": group[0].annotator, "annotation_ids": [row.id for row in group],
         "created_at": now}
        for (media_id, scale), group in groups.items()
        if len({row.label for row in group}) == 1
    ]
    if values:
        op.bulk_insert(final, values)




def downgrade() -> None:
    with op.batch_alter_table('annotation', schema=None) as batch_op:
        batch_op.drop_constraint('fk_annotation_assignment_id', type_='foreignkey')
        batch_op.drop_constraint('fk_annotation_user_id', type_='foreignkey')
        batch_op.drop_constraint('fk_annotation_campaign_id', type_='foreignkey')
        batch_op.drop_constraint('uq_annotation_assignment_id', type_='unique')
        batch_op.drop_index(batch_op.f('ix_annotation_campaign_id'))
        batch_op.alter_column('label',
               existing_type=sa.VARCHAR(length=32),
               nullable=False)
        batch_op.drop_column('suggestion_accepted')
        batch_op.drop_column('suggestion_probability')
        batch_op.drop_column('suggestion_label')
        batch_op.drop_column('suggestion_model_version')
        batch_op.drop_column('suggestion_shown')
        batch_op.drop_column('note')
        batch_op.drop_column('cannot_grade')
        batch_op.drop_column('user_id')
        batch_op.drop_column('assignment_id')
        batch_op.drop_column('campaign_id')
        batch_op.drop_column('pass_kind')

    with op.batch_alter_table('finallabel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finallabel_media_id'))

    op.drop_table('finallabel')
    with op.batch_alter_table('checkresult', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkresult_media_id'))

    op.drop_table('checkresult')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_user_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_media_id'))
        batch_op.drop_index('ix_assignment_campaign_state')

    op.drop_table('assignment')
    with op.batch_alter_table('useraccount', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_useraccount_name'))

    op.drop_table('useraccount')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_name'))

    op.drop_table('campaign')
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auditevent_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_auditevent_at'))

    op.drop_table('auditevent')

