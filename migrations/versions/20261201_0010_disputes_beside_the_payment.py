"""disputes beside the payment

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

A gift keeps the payment's status and refunds as the source says them, and its dispute (open,
won, lost) beside them; `status` and `refunded_cents` stay what counts, worked out from those
(tracker.ingest.states). Stored gifts are carried over as they count today: a disputed gift is a
paid one with an open dispute.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('donations') as batch:
        batch.add_column(sa.Column('payment_status', sa.String(length=24), server_default='succeeded', nullable=False,
                                   comment='the payment as the source says: pending, succeeded, partially_refunded, refunded, failed'))
        batch.add_column(sa.Column('refund_cents', sa.BigInteger(), server_default='0', nullable=False,
                                   comment='refunds seen (refunded_cents also holds a lost dispute)'))
        batch.add_column(sa.Column('dispute_status', sa.String(length=8), nullable=True,
                                   comment='open, won or lost; empty: none'))
        batch.add_column(sa.Column('dispute_cents', sa.BigInteger(), server_default='0', nullable=False,
                                   comment='the amount disputed (0: not said)'))
    op.execute("UPDATE donations SET refund_cents = refunded_cents, "
               "payment_status = CASE WHEN status = 'disputed' THEN 'succeeded' ELSE status END, "
               "dispute_status = CASE WHEN status = 'disputed' THEN 'open' END")


def downgrade() -> None:
    with op.batch_alter_table('donations') as batch:
        batch.drop_column('dispute_cents')
        batch.drop_column('dispute_status')
        batch.drop_column('refund_cents')
        batch.drop_column('payment_status')
