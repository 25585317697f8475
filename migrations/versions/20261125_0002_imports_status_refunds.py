"""imports status, refunds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Imports record their status (running until finished, so a killed import shows), skipped and superseded
rows, where their rejects went, and a message; imports made before this revision count as completed.
Refunds reported as rows of their own (PayPal) get a table, tied to their gift by its id.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('refunds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('donation_external_id', sa.String(length=200), nullable=False),
    sa.Column('donation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('amount_cents', sa.BigInteger(), nullable=False),
    sa.Column('refunded_at', sa.DateTime(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['donation_id'], ['donations.id'], name=op.f('fk_refunds_donation_id_donations')),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_refunds_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('source', 'external_id', name=op.f('uq_refunds_source_external_id'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index('ix_refunds_source_donation_external_id', ['source', 'donation_external_id'], unique=False)

    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='completed', nullable=False, comment='running (or killed while running), completed, failed, strict_rejected'))
        batch_op.add_column(sa.Column('skipped', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('superseded', sa.Integer(), server_default='0', nullable=False, comment='rows replaced by a later row with the same id in the file'))
        batch_op.add_column(sa.Column('rejects_path', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('message', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_column('message')
        batch_op.drop_column('rejects_path')
        batch_op.drop_column('superseded')
        batch_op.drop_column('skipped')
        batch_op.drop_column('status')

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index('ix_refunds_source_donation_external_id')

    op.drop_table('refunds')
