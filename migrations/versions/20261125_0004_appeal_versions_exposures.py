"""appeal copy versions and exposures

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Popup copy is versioned (a new version whenever the text changes); exposures arrive as daily
counts per variant or as raw events. Existing variants get their current copy as version 1.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appeal_copy_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('headline', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('button', sa.String(length=120), nullable=False),
    sa.Column('valid_from', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['variant_id'], ['appeal_variants.id'], name=op.f('fk_appeal_copy_versions_variant_id_appeal_variants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_copy_versions')),
    sa.UniqueConstraint('variant_id', 'version', name=op.f('uq_appeal_copy_versions_variant_id_version'))
    )
    op.create_table('appeal_daily',
    sa.Column('variant', sa.String(length=80), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('impressions', sa.Integer(), nullable=False),
    sa.Column('clicks', sa.Integer(), nullable=False),
    sa.Column('dismissals', sa.Integer(), nullable=False),
    sa.Column('readers', sa.Integer(), nullable=True, comment='distinct readers that day, when known'),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_appeal_daily_import_id_imports')),
    sa.PrimaryKeyConstraint('variant', 'day', name=op.f('pk_appeal_daily'))
    )
    op.create_table('appeal_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('variant', sa.String(length=80), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False, comment='impression, click or dismiss'),
    sa.Column('reader', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_appeal_events_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_events')),
    sa.UniqueConstraint('variant', 'reader', 'event', 'at', name=op.f('uq_appeal_events_variant_reader_event_at'))
    )
    with op.batch_alter_table('appeal_events', schema=None) as batch_op:
        batch_op.create_index('ix_appeal_events_at', ['at'], unique=False)
    op.execute(
        "INSERT INTO appeal_copy_versions (variant_id, version, headline, body, button, valid_from) "
        "SELECT v.id, 1, v.headline, v.body, v.button, c.created_at FROM appeal_variants v JOIN campaigns c ON c.id = v.campaign_id"
    )


def downgrade() -> None:
    with op.batch_alter_table('appeal_events', schema=None) as batch_op:
        batch_op.drop_index('ix_appeal_events_at')
    op.drop_table('appeal_events')
    op.drop_table('appeal_daily')
    op.drop_table('appeal_copy_versions')
