"""users and login attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25

Dashboard logins with roles (viewer, finance, admin), passwords hashed with argon2id, and every
login attempt recorded so that failures can be rate-limited across server threads and processes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False, comment='argon2id, with its parameters and salt'),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("role IN ('viewer', 'finance', 'admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('login_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('remote', sa.String(length=64), nullable=False, comment='the client address'),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    op.create_index('ix_login_attempts_at', 'login_attempts', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_attempts_at', table_name='login_attempts')
    op.drop_table('login_attempts')
    op.drop_table('users')
