"""gifts in other currencies

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-01

A gift given in another currency keeps, in its details, the amount and currency given, the rate, the rate's day
and where the rate came from (its amounts are in the organization's currency). exchange_rates holds the
reference rates imported with `tracker rates import` (per EUR, as the ECB writes them; NULL is N/A); the bundled
ECB table stays in the package and is not copied here.
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exchange_rates',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('rate', sa.String(length=24), nullable=True, comment='units per EUR as the file writes it; NULL: N/A'),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'currency', name=op.f('pk_exchange_rates'))
    )
    with op.batch_alter_table('gift_details', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_cents', sa.BigInteger(), nullable=True,
                                      comment='the amount in the currency given, cents'))
        batch_op.add_column(sa.Column('original_currency', sa.String(length=3), nullable=True,
                                      comment='the currency the gift was given in'))
        batch_op.add_column(sa.Column('rate', sa.String(length=40), nullable=True,
                                      comment="organization's currency per unit given (decimal text)"))
        batch_op.add_column(sa.Column('rate_date', sa.Date(), nullable=True, comment="the day of the rate's fixing"))
        batch_op.add_column(sa.Column('rate_source', sa.String(length=16), nullable=True,
                                      comment="ecb, ecb-imported, or the processor's (stripe)"))


def downgrade() -> None:
    with op.batch_alter_table('gift_details', schema=None) as batch_op:
        batch_op.drop_column('rate_source')
        batch_op.drop_column('rate_date')
        batch_op.drop_column('rate')
        batch_op.drop_column('original_currency')
        batch_op.drop_column('original_cents')
    op.drop_table('exchange_rates')
