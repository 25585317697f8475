"""display links

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01

Links for unattended screens (the wall): a name, the SHA-256 of the link's random token (never the
token), who made it and when, when it was removed and last used.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('display_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False, comment="SHA-256 of the link's token, hex"),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False, comment='who ran tracker display add'),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True, comment='updated at most once a minute'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_display_links')),
    sa.UniqueConstraint('name', name=op.f('uq_display_links_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_display_links_token_hash'))
    )


def downgrade() -> None:
    op.drop_table('display_links')
