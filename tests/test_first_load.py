"""A first load: a large file into a database with no gift yet goes in as one transaction, with the
secondary indexes set aside and built once at the end. It must leave exactly the database a
chunked import leaves, with every index and constraint back, and a kill must leave nothing."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import utc
from test_reimport import write_big_file
from test_rollups import assert_kept_equals_rebuilt
from tracker import db
from tracker.dates import zone
from tracker.errors import UsageError
from tracker.ingest import ImportRequest, RowRules, run_import
from tracker.ingest import run as run_mod

LA = zone("America/Los_Angeles")


def load(sessions, path, progress=None, **request):
    return run_import(sessions, ImportRequest(path=Path(path), format="generic", **request),
                      RowRules(source="generic", timezone=LA), clock=lambda: utc(2027, 1, 2), progress=progress)


def schema(engine) -> list:
    """Every table, index and constraint as the database itself reports it."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"))
        else:
            rows = conn.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1"))
        return [tuple(r) for r in rows]


def contents(engine) -> dict:
    """The gifts (with their donor's key), the donors and the gift buckets, without generated ids."""
    with engine.connect() as conn:
        return {
            "donations": conn.execute(text(
                "SELECT d.external_id, n.key, d.amount_cents, d.refunded_cents, d.fee_cents, d.currency, d.donated_at, "
                "d.status, d.channel, d.appeal_variant, d.recurring FROM donations d JOIN donors n ON n.id = d.donor_id "
                "ORDER BY d.external_id")).all(),
            "donors": conn.execute(text("SELECT key, email, name, first_gift_at FROM donors ORDER BY key")).all(),
            "buckets": conn.execute(text("SELECT * FROM gift_buckets ORDER BY currency, bucket")).all(),
        }


def mixed_file(path: Path, seed: int = 11) -> None:
    """1,000 gifts of 90 donors in every status, then 150 rows that refund, dispute or fail gifts
    from earlier in the file (so in earlier batches), some earlier in time than their donor's
    other gifts, and 20 exact repeats."""
    rng = random.Random(seed)
    rows = []
    for i in rng.sample(range(1_000), 1_000):
        cents = rng.choice([500, 2_500, 10_000, 123_456])
        status = rng.choice(["succeeded", "succeeded", "succeeded", "pending", "failed", "partially_refunded"])
        refunded = cents // 3 if status == "partially_refunded" else 0
        when = f"2026-12-{1 + rng.randrange(31):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        rows.append((f"g{i:05d}", cents, when, f"d{rng.randrange(90)}@x.org", status, refunded))
    later = []
    for row in rng.sample(rows, 150):
        ext, cents, when, email, status, _ = row
        change = rng.choice(["refunded", "partially_refunded", "disputed", "failed"])
        refunded = {"refunded": cents, "partially_refunded": cents // 2}.get(change, 0)
        later.append((ext, cents, when, email, change, refunded))
    rows += later + rng.sample(rows[:900], 20)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("donation_id,amount,donated_at,email,status,refunded_amount\n")
        for ext, cents, when, email, status, refunded in rows:
            fh.write(f"{ext},{cents / 100:.2f},{when},{email},{status},{refunded / 100:.2f}\n")


def wipe(engine) -> None:
    with engine.begin() as conn:
        for table in ("gift_history", "gift_details", "refunds", "gift_buckets", "donations", "donors"):
            conn.execute(text(f"DELETE FROM {table}"))


COUNTS = ("rows_read", "inserted", "updated", "unchanged", "skipped", "rejected", "superseded")


def test_a_first_load_leaves_the_database_a_chunked_import_leaves(engine, sessions, tmp_path, monkeypatch):
    monkeypatch.setattr(run_mod, "HANDOFF_ROWS", 100)  # ten batches and more: later rows find their gift stored
    path = tmp_path / "gifts.csv"
    mixed_file(path)
    before = schema(engine)
    chunked = load(sessions, path, chunk_rows=300, first_load="no")
    assert not chunked.first_load
    assert chunked.updated > 0 and chunked.unchanged > 0  # the later rows did meet stored gifts
    expected = contents(engine)
    wipe(engine)

    first = load(sessions, path, chunk_rows=300, first_load="yes")

    assert first.first_load
    assert [getattr(first, c) for c in COUNTS] == [getattr(chunked, c) for c in COUNTS]
    assert contents(engine) == expected
    assert schema(engine) == before  # every index and foreign key is back, as it was
    assert_kept_equals_rebuilt(sessions)  # gift buckets and first gifts agree with the gifts


def test_a_first_load_is_taken_by_size_and_only_into_a_database_with_no_gift(engine, sessions, tmp_path, monkeypatch):
    path = tmp_path / "gifts.csv"
    mixed_file(path)
    monkeypatch.setattr(run_mod, "FIRST_LOAD_MIN_BYTES", path.stat().st_size + 1)
    assert not load(sessions, path).first_load  # auto: the file is below the size
    wipe(engine)
    monkeypatch.setattr(run_mod, "FIRST_LOAD_MIN_BYTES", path.stat().st_size)
    assert load(sessions, path).first_load
    again = load(sessions, path, first_load="yes")  # gifts are stored now: a plain import, in chunks
    assert not again.first_load and again.inserted == 0
    with pytest.raises(UsageError, match="first load 'always'"):
        load(sessions, path, first_load="always")


def test_a_first_load_stopped_mid_way_keeps_what_it_wrote_with_its_indexes_back(engine, sessions, tmp_path, monkeypatch):
    monkeypatch.setattr(run_mod, "HANDOFF_ROWS", 100)
    path = tmp_path / "gifts.csv"
    mixed_file(path)
    before = schema(engine)

    class Stop(Exception):
        pass

    def stop_midway(rows_read):
        if rows_read >= 550:
            raise Stop  # as a Ctrl-C or a reader error would

    with pytest.raises(Stop):
        load(sessions, path, progress=stop_midway, chunk_rows=300, first_load="yes")
    with engine.connect() as conn:
        status, inserted = conn.execute(text("SELECT status, inserted FROM imports")).one()
        count = conn.execute(text("SELECT count(*) FROM donations")).scalar()
    assert status == "failed" and 0 < count < 1_000 and inserted == count
    assert schema(engine) == before
    assert_kept_equals_rebuilt(sessions)
    rerun = load(sessions, path, chunk_rows=300, first_load="yes")
    assert not rerun.first_load  # gifts are stored now
    assert rerun.inserted == 1_000 - count


def _first_load_holds_the_tables(db_url: str, engine) -> bool:
    """The import in the other process is inside its first load's transaction."""
    if db_url.startswith("sqlite"):
        with engine.connect() as conn:  # its record is committed before its writer begins
            if not conn.execute(text("SELECT count(*) FROM imports")).scalar():
                return False
        probe = sqlite3.connect(db_url.removeprefix("sqlite:///"), timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")  # fails while another connection holds the write lock
            probe.rollback()
            return False
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return True
        finally:
            probe.close()
    with engine.connect() as conn:  # only a first load takes this lock (and until it commits, imports is locked too)
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND c.relname = 'donations' AND l.mode = 'AccessExclusiveLock' AND l.granted")).scalar())


def test_a_first_load_killed_mid_way_leaves_the_database_as_it_was_and_a_rerun_completes_it(db_url, engine, tmp_path):
    rows = 100_000
    path = tmp_path / "big.csv"
    expected = write_big_file(path, rows)
    before = schema(engine)
    cmd = [sys.executable, "-m", "tracker", "--db", db_url, "ingest", "donations", str(path), "--quiet",
           "--timezone", "UTC", "--chunk-rows", "1000", "--first-load", "yes"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, holding = time.monotonic() + 60, False
        while not holding and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
            holding = _first_load_holds_the_tables(db_url, engine)
        time.sleep(0.3)  # well into it: at 1,000 gifts a chunk, a chunked import would have committed some
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert holding and proc.returncode == -signal.SIGKILL, (
        f"the import was not killed inside its first load (exit {proc.returncode}): {proc.stdout.read().decode()}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM donations")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM donors")).scalar() == 0
        assert conn.execute(text("SELECT status FROM imports")).scalar() == "running"  # killed
    assert schema(engine) == before
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{rows:,} rows read: {rows:,} new, 0 updated, 0 unchanged" in rerun.stdout
    assert "first load" in rerun.stdout
    with engine.connect() as conn:
        n, cents, distinct = conn.execute(text(
            "SELECT count(*), sum(amount_cents), count(DISTINCT external_id) FROM donations")).one()
    assert (n, cents, distinct) == (rows, expected, rows)
    assert schema(engine) == before


def test_after_a_first_load_every_sqlite_connection_has_its_page_cache_back(tmp_path):
    # the indexes are built with a smaller page cache (less memory, and faster); the writer's
    # connection goes back to the pool with the engine's own
    engine = db.make_engine(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    db.upgrade(engine)
    path = tmp_path / "gifts.csv"
    mixed_file(path)
    with engine.connect() as conn:
        expected = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    assert load(db.session_factory(engine), path, first_load="yes").first_load
    conns = [engine.connect() for _ in range(4)]  # more than the import used: every pooled one is among them
    try:
        assert [c.exec_driver_sql("PRAGMA cache_size").scalar() for c in conns] == [expected] * 4
    finally:
        for c in conns:
            c.close()
        engine.dispose()
