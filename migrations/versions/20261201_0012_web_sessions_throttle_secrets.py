"""web sessions, login throttle, server secrets

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

Dashboard sessions kept on the server (the cookie holds a random token, the table its SHA-256), so
logout, a password change and removing a user end them; failed logins counted per (user name,
address) for growing delays, replacing the per-attempt log and its hard lock; and the secrets the
server generates once (the cookie signing key when TRACKER_SECRET_KEY is not set).
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False, comment="SHA-256 of the cookie's token, hex"),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False, comment='updated at most once a minute'),
    sa.Column('ended_at', sa.DateTime(), nullable=True, comment='logout or password change'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash'))
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'], unique=False)
    op.create_table('login_throttle',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('remote', sa.String(length=64), nullable=False, comment='the client address'),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(), nullable=True),
    sa.Column('next_allowed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('username', 'remote', name=op.f('pk_login_throttle'))
    )
    op.create_index('ix_login_throttle_last_failure_at', 'login_throttle', ['last_failure_at'], unique=False)
    op.create_table('server_secrets',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_server_secrets'))
    )
    # the attempt log only served the hard lock that the throttle replaces; its rows are minutes old
    op.drop_index('ix_login_attempts_at', table_name='login_attempts')
    op.drop_table('login_attempts')


def downgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('remote', sa.String(length=64), nullable=False, comment='the client address'),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    op.create_index('ix_login_attempts_at', 'login_attempts', ['at'], unique=False)
    op.drop_table('server_secrets')
    op.drop_index('ix_login_throttle_last_failure_at', table_name='login_throttle')
    op.drop_table('login_throttle')
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_table('web_sessions')
