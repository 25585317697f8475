"""webhook inbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

Every delivery from Stripe and PayPal is stored in webhook_events before it is answered, and applied
from there; refused deliveries are counted in webhook_refusals.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False, comment='stripe or paypal'),
    sa.Column('account', sa.String(length=200), nullable=True, comment="the processor's account (Stripe) or webhook id"),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=120), nullable=False),
    sa.Column('object_id', sa.String(length=200), nullable=True, comment='the charge or transaction it is about'),
    sa.Column('created_at', sa.DateTime(), nullable=True, comment='when the processor made the event'),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False, comment='the raw body, as delivered'),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('owner', sa.String(length=200), nullable=True, comment='host:pid of the worker applying it'),
    sa.Column('applied_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("status IN ('received', 'applying', 'applied', 'ignored', 'waiting', 'failed', 'gave_up')",
                       name=op.f('ck_webhook_events_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('provider', 'event_id', name=op.f('uq_webhook_events_provider_event_id'))
    )
    op.create_index('ix_webhook_events_due', 'webhook_events', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_webhook_events_object', 'webhook_events', ['provider', 'object_id'], unique=False)
    op.create_table('webhook_refusals',
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('n', sa.BigInteger(), nullable=False),
    sa.Column('last_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('provider', 'reason', name=op.f('pk_webhook_refusals'))
    )


def downgrade() -> None:
    op.drop_table('webhook_refusals')
    op.drop_index('ix_webhook_events_object', table_name='webhook_events')
    op.drop_index('ix_webhook_events_due', table_name='webhook_events')
    op.drop_table('webhook_events')
