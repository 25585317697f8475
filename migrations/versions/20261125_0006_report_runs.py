"""report runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Every report and alert delivered, scheduled or by hand, under a unique (job, campaign, slot) key so
that two schedulers cannot send the same slot twice; failures are kept with their next retry.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('job', sa.String(length=80), nullable=False, comment="the configured job's name, 'report' by hand, 'alert'"),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.String(length=80), nullable=False, comment="UTC time the slot was due, or the alert's key"),
    sa.Column('kind', sa.String(length=20), nullable=False, comment='report | alert'),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True, comment='while running: another scheduler may take over after'),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('owner', sa.String(length=200), nullable=False, comment='host:pid of the scheduler or command that ran it'),
    sa.Column('recipients', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False, comment='the subject sent, or why it failed or was skipped'),
    sa.Column('raised_cents', sa.BigInteger(), nullable=True, comment='raised as the report showed it'),
    sa.Column('new_donors', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True, comment='the figures reported, for --skip-unchanged'),
    sa.CheckConstraint("status IN ('running', 'sent', 'written', 'skipped', 'failed', 'gave_up')", name=op.f('ck_report_runs_status')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_report_runs_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_runs')),
    sa.UniqueConstraint('job', 'campaign_id', 'slot', name=op.f('uq_report_runs_job_campaign_id_slot'))
    )
    op.create_index('ix_report_runs_campaign_started', 'report_runs', ['campaign_id', 'started_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_runs_campaign_started', table_name='report_runs')
    op.drop_table('report_runs')
