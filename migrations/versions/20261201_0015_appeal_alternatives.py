"""appeal alternatives

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01

A popup variant, and each of its copy versions, may carry alternative texts for the campaign's last
two days, its last day, a stretch goal and a reached goal (appeal_variants.alternatives,
appeal_copy_versions.alternatives: JSON, null when there are none).
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COMMENT = "JSON: alternative copy per phase or goal state, {name: {headline, body, button}}"


def upgrade() -> None:
    for table in ('appeal_variants', 'appeal_copy_versions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('alternatives', sa.Text(), nullable=True, comment=COMMENT))


def downgrade() -> None:
    for table in ('appeal_copy_versions', 'appeal_variants'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('alternatives')
