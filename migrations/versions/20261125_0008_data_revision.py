"""data revision

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

One row counting changes to gifts, exposures, campaigns and variants; readers cache aggregates
until it moves (the dashboard does).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('data_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_revision'))
    )
    op.bulk_insert(table, [{"id": 1, "n": 0, "changed_at": None}])


def downgrade() -> None:
    op.drop_table('data_revision')
