"""audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Every export of personal data (donor names and e-mails) is recorded: who, when, what, how many rows.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False, comment='who: the operating-system user, or the dashboard login'),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False, comment='what: the kind, campaign, filters and file'),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )


def downgrade() -> None:
    op.drop_table('audit_log')
