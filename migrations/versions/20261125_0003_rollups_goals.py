"""rollups and campaign goals

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Import-time rollups for the campaign numbers: gifts summed per quarter hour (gift_buckets) and each
donor's first counted gift (donors.first_gift_at), filled here from the gifts already stored; when
a gift was first imported (donations.recorded_at, empty for gifts imported before this revision).
Campaigns get optional donor goals, the first month of their fiscal year and the basis of "raised".
The index on donated_at becomes one that covers what the campaign numbers read from a window of gifts.
The index on (donor_id, donated_at) stays: first gifts are recomputed through it when a gift changes.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COUNTED = "status IN ('succeeded', 'partially_refunded', 'refunded')"


def upgrade() -> None:
    op.create_table('gift_buckets',
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('bucket', sa.BigInteger(), autoincrement=False, nullable=False, comment='epoch seconds, a multiple of 900'),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('refunded_cents', sa.BigInteger(), nullable=False),
    sa.Column('fee_cents', sa.BigInteger(), nullable=False, comment='fees of gifts with a positive net'),
    sa.Column('gifts', sa.Integer(), nullable=False),
    sa.Column('recurring_cents', sa.BigInteger(), nullable=False, comment='net of refunds'),
    sa.Column('recurring_gifts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('currency', 'bucket', name=op.f('pk_gift_buckets'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('goal_new_donors', sa.Integer(), nullable=True, comment='optional goal in donors who never gave before'))
        batch_op.add_column(sa.Column('goal_donors', sa.Integer(), nullable=True, comment='optional goal in donors, new or not'))
        batch_op.add_column(sa.Column('fiscal_year_start_month', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('raised_basis', sa.String(length=16), server_default='gross', nullable=False, comment='gross: amount minus refunds; net_of_fees: also minus processing fees'))
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_at', sa.DateTime(), nullable=True, comment='when the gift was first imported (start of its import); empty before 0003'))
        batch_op.create_index(batch_op.f('ix_donations_recorded_at'), ['recorded_at'], unique=False)
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_index('ix_donations_donated_at')
        batch_op.create_index('ix_donations_window', ['donated_at', 'currency', 'status', 'donor_id', 'amount_cents', 'refunded_cents', 'fee_cents', 'recurring'], unique=False)
    with op.batch_alter_table('donors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_gift_at', sa.DateTime(), nullable=True, comment='their first counted gift with a positive net, kept up to date at import'))
        batch_op.create_index(batch_op.f('ix_donors_first_gift_at'), ['first_gift_at'], unique=False)

    # fill the rollups from the gifts already stored (the same SQL as tracker.rollups.rebuild)
    if op.get_bind().dialect.name == "postgresql":
        bucket = "(floor(extract(epoch from donated_at) / 900) * 900)::bigint"
    else:
        bucket = "(CAST(strftime('%s', donated_at) AS INTEGER) / 900 * 900)"
    op.execute(
        "INSERT INTO gift_buckets (currency, bucket, amount_cents, refunded_cents, fee_cents, gifts, recurring_cents, "
        f"recurring_gifts) SELECT currency, {bucket}, sum(amount_cents), sum(refunded_cents), "
        "sum(CASE WHEN amount_cents > refunded_cents THEN coalesce(fee_cents, 0) ELSE 0 END), "
        "sum(CASE WHEN amount_cents > refunded_cents THEN 1 ELSE 0 END), "
        "sum(CASE WHEN recurring THEN amount_cents - refunded_cents ELSE 0 END), "
        "sum(CASE WHEN recurring AND amount_cents > refunded_cents THEN 1 ELSE 0 END) "
        f"FROM donations WHERE {COUNTED} GROUP BY 1, 2"
    )
    op.execute(
        "UPDATE donors SET first_gift_at = f.first FROM (SELECT donor_id, min(donated_at) AS first FROM donations "
        f"WHERE {COUNTED} AND amount_cents > refunded_cents GROUP BY donor_id) f WHERE donors.id = f.donor_id"
    )


def downgrade() -> None:
    with op.batch_alter_table('donors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_donors_first_gift_at'))
        batch_op.drop_column('first_gift_at')
    with op.batch_alter_table('donations', schema=None) as batch_op:
        batch_op.drop_index('ix_donations_window')
        batch_op.create_index('ix_donations_donated_at', ['donated_at'], unique=False)
        batch_op.drop_index(batch_op.f('ix_donations_recorded_at'))
        batch_op.drop_column('recorded_at')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('raised_basis')
        batch_op.drop_column('fiscal_year_start_month')
        batch_op.drop_column('goal_donors')
        batch_op.drop_column('goal_new_donors')
    op.drop_table('gift_buckets')
