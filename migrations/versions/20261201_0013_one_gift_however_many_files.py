"""one gift however many files

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

A gift may carry its payment processor's id (a CRM's "Stripe Charge ID"), unique per processor,
so the processor's own export and the CRM's name one gift; the other names it arrived under are
kept in gift_aliases. Likely duplicates across sources without a shared id wait in duplicate_pairs
for a person to decide. Imports record what the file's gifts count as it says them and as stored.
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('donations') as batch:
        batch.add_column(sa.Column('processor', sa.String(length=16), nullable=True,
                                   comment='the payment processor (stripe, paypal), if known'))
        batch.add_column(sa.Column('processor_id', sa.String(length=200), nullable=True,
                                   comment="the processor's id of the payment (ch_...)"))
        batch.add_column(sa.Column('duplicate_of', BigId, nullable=True,
                                   comment='the id of the gift this one was merged into as a duplicate: it no longer counts'))
    # the processors' own gifts are named by their processor's id
    op.execute("UPDATE donations SET processor = source, processor_id = external_id WHERE source IN ('stripe', 'paypal')")
    op.create_index('uq_donations_payment', 'donations', ['processor', 'processor_id'], unique=True,
                    sqlite_where=sa.text('processor IS NOT NULL'), postgresql_where=sa.text('processor IS NOT NULL'))
    with op.batch_alter_table('imports') as batch:
        batch.add_column(sa.Column('recognized', sa.Integer(), server_default='0', nullable=False,
                                   comment='rows recognized as a gift stored from another source (processor id)'))
        batch.add_column(sa.Column('file_cents', sa.BigInteger(), nullable=True,
                                   comment="what the file's gifts count, as it says them"))
        batch.add_column(sa.Column('stored_cents', sa.BigInteger(), nullable=True,
                                   comment='what the same gifts count as stored after it'))
    op.create_table('gift_aliases',
    sa.Column('id', BigId, nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('donation_id', BigId, nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_gift_aliases_donation_id_donations')),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_gift_aliases_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gift_aliases')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_gift_aliases_source_external_id'))
    )
    op.create_index(op.f('ix_gift_aliases_donation_id'), 'gift_aliases', ['donation_id'], unique=False)
    op.create_table('duplicate_pairs',
    sa.Column('id', BigId, nullable=False),
    sa.Column('a_id', BigId, nullable=False),
    sa.Column('b_id', BigId, nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.CheckConstraint("status IN ('undecided', 'merged', 'kept')", name=op.f('ck_duplicate_pairs_status')),
    sa.ForeignKeyConstraint(['a_id'], ['donations.id'], name=op.f('fk_duplicate_pairs_a_id_donations')),
    sa.ForeignKeyConstraint(['b_id'], ['donations.id'], name=op.f('fk_duplicate_pairs_b_id_donations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duplicate_pairs')),
    sa.UniqueConstraint('a_id', 'b_id', name=op.f('uq_duplicate_pairs_a_id_b_id'))
    )
    op.create_index(op.f('ix_duplicate_pairs_b_id'), 'duplicate_pairs', ['b_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_duplicate_pairs_b_id'), table_name='duplicate_pairs')
    op.drop_table('duplicate_pairs')
    op.drop_index(op.f('ix_gift_aliases_donation_id'), table_name='gift_aliases')
    op.drop_table('gift_aliases')
    with op.batch_alter_table('imports') as batch:
        batch.drop_column('stored_cents')
        batch.drop_column('file_cents')
        batch.drop_column('recognized')
    op.drop_index('uq_donations_payment', table_name='donations')
    with op.batch_alter_table('donations') as batch:
        batch.drop_column('duplicate_of')
        batch.drop_column('processor_id')
        batch.drop_column('processor')
