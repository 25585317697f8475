"""Schema only through Alembic: up, down, up again on both databases, and models that match the migrations."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from tracker import db
from tracker.models import Base

TABLES = {"alembic_version", "pledges", "display_links", "match_pools", "match_changes", "exchange_rates", "gift_details", "gift_history", "campaign_changes", "closed_periods", "closed_gifts", "closed_buckets", "closed_donors", "gift_aliases", "duplicate_pairs", "webhook_events", "webhook_refusals", "audit_log", "appeal_copy_versions", "appeal_daily", "appeal_events", "appeal_variants", "campaigns", "donations", "donors", "gift_buckets", "imports", "refunds", "report_runs", "users", "web_sessions", "login_throttle", "server_secrets", "data_revision"}


def tables(engine):
    return set(inspect(engine).get_table_names())


def test_upgrade_downgrade_upgrade(empty_db_url):
    engine = db.make_engine(empty_db_url)
    try:
        assert db.current_revision(engine) is None
        db.upgrade(engine)
        assert tables(engine) == TABLES and db.current_revision(engine) == db.head_revision()
        db.downgrade(engine, "base")
        assert tables(engine) == {"alembic_version"} and db.current_revision(engine) is None
        db.upgrade(engine)
        assert tables(engine) == TABLES
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(db_url):
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diffs == []
    finally:
        engine.dispose()


def test_every_other_command_waits_for_the_schema(tracker, empty_db_url):
    result = tracker("campaign", "list", db=empty_db_url)
    assert result.code == 1 and result.err.rstrip().endswith("run: tracker db upgrade")


def test_the_revision_every_command_checks_is_alembics_head():
    assert db.SCHEMA_REVISION == db.head_revision()


def test_a_database_behind_by_one_revision_is_refused_with_the_fix(tracker, empty_db_url):
    engine = db.make_engine(empty_db_url)
    try:
        db.upgrade(engine, "0002")
    finally:
        engine.dispose()
    result = tracker("campaign", "list", db=empty_db_url)
    assert result.code == 1
    assert f"is at schema revision 0002, this tracker needs {db.head_revision()}; run: tracker db upgrade" in result.err
