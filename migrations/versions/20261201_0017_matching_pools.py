"""matching pools

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01

Match pools (NewsMatch, a board member's match) on a campaign's gifts: ratio, caps, window, which gifts
qualify, what was received; their edits in match_changes. A campaign says whether its goal's progress
counts the match (campaigns.goal_counts).
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'goal_counts', sa.String(length=24), server_default='raised', nullable=False,
            comment="what the goal's progress counts: raised, with_match (raised + match earned) or "
                    "with_received_match (raised + match received)"))
    op.create_table('match_pools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('ratio', sa.String(length=24), nullable=False,
              comment='match per dollar given, decimal text: 1 = 1:1, 0.5'),
    sa.Column('cap_cents', sa.BigInteger(), nullable=False, comment='the most the pool matches in all'),
    sa.Column('per_donor_cap_cents', sa.BigInteger(), nullable=True, comment="the most one donor's gifts earn"),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False, comment='exclusive'),
    sa.Column('new_donors_only', sa.Boolean(), nullable=False),
    sa.Column('recurring_multiplier', sa.Integer(), nullable=False,
              comment="a new monthly donor's first gift counts this many times"),
    sa.Column('exclude_methods', sa.String(length=200), nullable=True,
              comment='payment methods not matched, comma-separated'),
    sa.Column('received_cents', sa.BigInteger(), nullable=False,
              comment='match money received (tracker match receive)'),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint('cap_cents > 0', name=op.f('ck_match_pools_cap_positive')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_match_pools_ends_after_start')),
    sa.CheckConstraint('recurring_multiplier >= 1', name=op.f('ck_match_pools_multiplier_at_least_one')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_match_pools_campaign_id_campaigns'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_pools')),
    sa.UniqueConstraint('campaign_id', 'name', name=op.f('uq_match_pools_campaign_id_name'))
    )
    with op.batch_alter_table('match_pools', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_pools_campaign_id'), ['campaign_id'], unique=False)
    op.create_table('match_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['pool_id'], ['match_pools.id'], name=op.f('fk_match_changes_pool_id_match_pools'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_changes'))
    )
    with op.batch_alter_table('match_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_changes_pool_id'), ['pool_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('match_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_changes_pool_id'))
    op.drop_table('match_changes')
    with op.batch_alter_table('match_pools', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_match_pools_campaign_id'))
    op.drop_table('match_pools')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('goal_counts')
