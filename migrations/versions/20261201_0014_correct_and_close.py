"""correct and close

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01

A gift can be voided (donations.voided_at) and carries sparse finance details (gift_details: the
method and reference of a gift entered by hand, who entered it, the refund date, payout, fund, GL
code). Every change a gift goes through is kept in gift_history with its cause; an import can be
undone (imports.undone_at). Campaign edits are kept in campaign_changes. A closed month keeps a
snapshot of its gifts, rollups and donors' first gifts (closed_*), read instead of the live tables.
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('closed_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False, comment="YYYY-MM, in the organization's zone"),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False, comment='exclusive'),
    sa.Column('closed_at', sa.DateTime(), nullable=False, comment='when the snapshot was taken'),
    sa.Column('closed_by', sa.String(length=200), nullable=False),
    sa.Column('figures', sa.Text(), nullable=False, comment='JSON: per currency, raised at the close'),
    sa.Column('reopened_at', sa.DateTime(), nullable=True),
    sa.Column('reopened_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closed_periods'))
    )
    op.create_table('campaign_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_changes_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_changes'))
    )
    with op.batch_alter_table('campaign_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_changes_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('closed_buckets',
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('bucket', sa.BigInteger(), nullable=False, comment='epoch seconds, a multiple of 900'),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('refunded_cents', sa.BigInteger(), nullable=True),
    sa.Column('fee_cents', sa.BigInteger(), nullable=True, comment='fees of gifts with a positive net'),
    sa.Column('gifts', sa.Integer(), nullable=True),
    sa.Column('recurring_cents', sa.BigInteger(), nullable=True, comment='net of refunds'),
    sa.Column('recurring_gifts', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['period_id'], ['closed_periods.id'], name=op.f('fk_closed_buckets_period_id_closed_periods'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('period_id', 'currency', 'bucket', name=op.f('pk_closed_buckets')),
    comment='the rollups of a closed period as they stood at its close'
    )
    op.create_table('closed_donors',
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('donor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('first_gift_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['period_id'], ['closed_periods.id'], name=op.f('fk_closed_donors_period_id_closed_periods'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('period_id', 'donor_id', name=op.f('pk_closed_donors')),
    comment="the first gifts of a closed period's donors as they stood at its close"
    )
    op.create_table('closed_gifts',
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=True),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('donor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=True),
    sa.Column('refunded_cents', sa.BigInteger(), nullable=True),
    sa.Column('fee_cents', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('donated_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=True),
    sa.Column('channel', sa.String(length=80), nullable=True),
    sa.Column('appeal_variant', sa.String(length=80), nullable=True),
    sa.Column('recurring', sa.Boolean(), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=True, comment='when the gift was first imported (start of its import); empty before 0003'),
    sa.Column('payment_status', sa.String(length=24), nullable=True, comment='the payment as the source says: pending, succeeded, partially_refunded, refunded, failed'),
    sa.Column('refund_cents', sa.BigInteger(), nullable=True, comment='refunds seen (refunded_cents also holds a lost dispute)'),
    sa.Column('dispute_status', sa.String(length=8), nullable=True, comment='open, won or lost; empty: none'),
    sa.Column('dispute_cents', sa.BigInteger(), nullable=True, comment='the amount disputed (0: not said)'),
    sa.Column('file_rank', sa.BigInteger(), nullable=True, comment='how new the details are: the first import of the file they came from (newer wins)'),
    sa.Column('source_updated_at', sa.DateTime(), nullable=True, comment='when the source last changed the gift, where it says; beats file_rank'),
    sa.Column('processor', sa.String(length=16), nullable=True, comment='the payment processor (stripe, paypal), if known'),
    sa.Column('processor_id', sa.String(length=200), nullable=True, comment="the processor's id of the payment (ch_...)"),
    sa.Column('duplicate_of', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True, comment='the id of the gift this one was merged into as a duplicate: it no longer counts'),
    sa.Column('voided_at', sa.DateTime(), nullable=True, comment='when the gift was voided (taken back by hand or by undoing its import): it no longer counts'),
    sa.ForeignKeyConstraint(['period_id'], ['closed_periods.id'], name=op.f('fk_closed_gifts_period_id_closed_periods'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('period_id', 'id', name=op.f('pk_closed_gifts')),
    comment='the gifts of a closed period as they stood at its close'
    )
    with op.batch_alter_table('closed_gifts', schema=None) as batch_op:
        batch_op.create_index('ix_closed_gifts_period_donated_at', ['period_id', 'donated_at'], unique=False)

    op.create_table('gift_details',
    sa.Column('donation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True, comment='check, cash, daf, stock, wire, card, paypal, other'),
    sa.Column('reference', sa.String(length=200), nullable=True, comment="a check number or a grant's reference"),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('entered_by', sa.String(length=200), nullable=True, comment='who entered a gift by hand'),
    sa.Column('entered_at', sa.DateTime(), nullable=True),
    sa.Column('refunded_at', sa.DateTime(), nullable=True, comment='when the (last) refund was made'),
    sa.Column('payout_id', sa.String(length=200), nullable=True, comment="the processor's payout or deposit id"),
    sa.Column('fund', sa.String(length=200), nullable=True, comment='the fund or designation'),
    sa.Column('gl_code', sa.String(length=80), nullable=True, comment='the general-ledger code'),
    sa.Column('void_reason', sa.Text(), nullable=True),
    sa.Column('voided_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_gift_details_donation_id_donations')),
    sa.PrimaryKeyConstraint('donation_id', name=op.f('pk_gift_details'))
    )
    op.create_table('gift_history',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('donation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('webhook_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True, comment='the webhook_events row that caused it'),
    sa.Column('actor', sa.String(length=200), nullable=True, comment='the person, for changes made by hand'),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_gift_history_donation_id_donations')),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_gift_history_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_history'))
    )
    with op.batch_alter_table('gift_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gift_history_donation_id'), ['donation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_gift_history_import_id'), ['import_id'], unique=False)

    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True, comment='when the gift was voided (taken back by hand or by undoing its import): it no longer counts'))

    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('undone_at', sa.DateTime(), nullable=True, comment='when `tracker imports undo` took it back'))
        batch_op.add_column(sa.Column('undone_by', sa.String(length=200), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_column('undone_by')
        batch_op.drop_column('undone_at')

    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_column('voided_at')

    with op.batch_alter_table('gift_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gift_history_import_id'))
        batch_op.drop_index(batch_op.f('ix_gift_history_donation_id'))

    op.drop_table('gift_history')
    op.drop_table('gift_details')
    with op.batch_alter_table('closed_gifts', schema=None) as batch_op:
        batch_op.drop_index('ix_closed_gifts_period_donated_at')

    op.drop_table('closed_gifts')
    op.drop_table('closed_donors')
    op.drop_table('closed_buckets')
    with op.batch_alter_table('campaign_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_changes_campaign_id'))

    op.drop_table('campaign_changes')
    op.drop_table('closed_periods')
