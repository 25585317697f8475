"""pledges

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-01

Money promised and not received yet (a PayPal Giving Fund payout, a donor-advised fund grant, a check
announced, a matching sponsor's payment): its own table, so it can never count in raised, with the
gift it became once the money arrived.
"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('pledges',
    sa.Column('id', BigId, nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False, comment='manual, or the source of the file it came from'),
    sa.Column('external_id', sa.String(length=200), nullable=False, comment="P-000001 by hand, or the file's id"),
    sa.Column('campaign_id', sa.Integer(), nullable=True, comment='empty: the campaign whose window holds pledged_at'),
    sa.Column('donor_key', sa.String(length=400), nullable=False,
              comment="as donors.key: 'email:<lower-cased email>', 'id:...'"),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('pledged_at', sa.DateTime(), nullable=False,
              comment='when it was promised (given, for PayPal Giving Fund)'),
    sa.Column('expected_at', sa.Date(), nullable=True, comment='the day the money is expected (local), if known'),
    sa.Column('kind', sa.String(length=24), nullable=False, comment='paypal_giving_fund, daf, check, match or other'),
    sa.Column('reference', sa.String(length=200), nullable=True,
              comment="a grant's or check's reference, or the processor id the money will arrive with"),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False, comment='who entered it, or import N'),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('fulfilled_donation_id', BigId, nullable=True,
              comment='the gift the money arrived as (each gift fulfils one pledge)'),
    sa.Column('fulfilled_at', sa.DateTime(), nullable=True, comment='when it was linked to that gift'),
    sa.Column('fulfilled_by', sa.String(length=40), nullable=True, comment='reference, donor (the rule) or hand'),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_pledges_amount_positive')),
    sa.CheckConstraint("kind IN ('paypal_giving_fund', 'daf', 'check', 'match', 'other')", name=op.f('ck_pledges_kind')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_pledges_campaign_id_campaigns'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fulfilled_donation_id'], ['donations.id'],
                            name=op.f('fk_pledges_fulfilled_donation_id_donations')),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_pledges_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledges')),
    sa.UniqueConstraint('fulfilled_donation_id', name=op.f('uq_pledges_fulfilled_donation_id')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_pledges_source_external_id'))
    )
    op.create_index('ix_pledges_open', 'pledges', ['fulfilled_donation_id', 'cancelled_at', 'expected_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_pledges_open', table_name='pledges')
    op.drop_table('pledges')
