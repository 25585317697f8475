"""import owner, newest-wins details

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

Each import records the process that runs it (so a killed one shows as interrupted), and how many
of its rows were older than what was stored. Each gift records how new its details are: the first
import of the file they came from, and the source's own updated time where it has one.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('imports') as batch:
        batch.add_column(sa.Column('owner', sa.String(length=200), nullable=True,
                                   comment='host:pid of the process running the import'))
        batch.add_column(sa.Column('older', sa.Integer(), server_default='0', nullable=False,
                                   comment='rows older than the stored gift: their details were kept'))
    with op.batch_alter_table('donations') as batch:
        batch.add_column(sa.Column('file_rank', sa.BigInteger(), nullable=True,
                                   comment='how new the details are: the first import of the file they came from (newer wins)'))
        batch.add_column(sa.Column('source_updated_at', sa.DateTime(), nullable=True,
                                   comment='when the source last changed the gift, where it says; beats file_rank'))


def downgrade() -> None:
    with op.batch_alter_table('donations') as batch:
        batch.drop_column('source_updated_at')
        batch.drop_column('file_rank')
    with op.batch_alter_table('imports') as batch:
        batch.drop_column('older')
        batch.drop_column('owner')
