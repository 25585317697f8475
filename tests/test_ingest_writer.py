"""The import's writer: batches committed whole, counts that match what was written, foreign-key
checks back on after an import, and no gift silently dropped by the bulk insert."""

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from conftest import utc
from test_rollups import assert_kept_equals_rebuilt
from tracker import db
from tracker.dates import zone
from tracker.ingest import ImportRequest, RowRules, run_import
from tracker.ingest import run as run_mod, writer as writer_mod
from tracker.ingest.loader import ImportSummary, write_chunk
from tracker.ingest.records import NormalizedDonation
from tracker.models import Donation, ImportBatch

LA = zone("America/Los_Angeles")


def big_file(path: Path, rows: int, donors: int = 700) -> int:
    """`rows` gifts in the generic layout, ids out of order; returns their total in cents."""
    total = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("donation_id,amount,donated_at,email\n")
        for n in range(rows):
            i = (n * 7919) % rows  # every id once, not in order
            cents = 500 + (i * 37) % 20_000
            total += cents
            fh.write(f"w{i:07d},{cents // 100}.{cents % 100:02d},2026-12-{1 + i % 31:02d}T{i % 24:02d}:{i % 60:02d}:00Z,"
                     f"d{(i * 13) % donors}@x.org\n")
    return total


def load(sessions, path, progress=None, **request):
    return run_import(sessions, ImportRequest(path=Path(path), format="generic", **request),
                      RowRules(source="generic", timezone=LA), clock=lambda: utc(2027, 1, 2), progress=progress)


def stored(sessions):
    with sessions.begin() as session:
        return session.execute(select(func.count(Donation.id), func.coalesce(func.sum(Donation.amount_cents), 0))).one()


def test_a_large_import_loads_every_gift_once_with_rollups_equal_to_a_rebuild(sessions, tmp_path):
    # 4,500 rows: multi-row statements of 2,000 rows and a shorter last one, donors new and known per batch
    path = tmp_path / "big.csv"
    expected = big_file(path, 4_500)
    summary = load(sessions, path)
    assert (summary.inserted, summary.unchanged) == (4_500, 0)
    assert tuple(stored(sessions)) == (4_500, expected)
    assert_kept_equals_rebuilt(sessions)
    again = load(sessions, path)
    assert (again.inserted, again.unchanged) == (0, 4_500)
    assert tuple(stored(sessions)) == (4_500, expected)


def test_commits_span_several_handoffs_and_an_interrupted_import_keeps_counts_true(sessions, tmp_path, monkeypatch):
    monkeypatch.setattr(run_mod, "HANDOFF_ROWS", 100)  # the writer gets 100 gifts at a time, commits every 300
    monkeypatch.setattr(writer_mod, "ANALYZE_EVERY", 200)  # and on PostgreSQL refreshes the statistics on the way
    path = tmp_path / "big.csv"
    expected = big_file(path, 1_000, donors=90)

    class Stop(Exception):
        pass

    def stop_midway(rows_read):
        if rows_read >= 550:
            raise Stop  # as a Ctrl-C or a reader error would, mid-file

    with pytest.raises(Stop):
        load(sessions, path, progress=stop_midway, chunk_rows=300)
    with sessions.begin() as session:
        batch = session.scalars(select(ImportBatch)).one()
        status, inserted = batch.status, batch.inserted
    count, _ = stored(sessions)
    assert status == "failed"
    assert 0 < count < 1_000 and count % 100 == 0  # whole hand-offs only
    assert inserted == count  # the import's record says exactly what is in the database
    assert_kept_equals_rebuilt(sessions)
    rerun = load(sessions, path, chunk_rows=300)
    assert (rerun.inserted, rerun.unchanged) == (1_000 - count, count)
    assert tuple(stored(sessions)) == (1_000, expected)
    assert_kept_equals_rebuilt(sessions)


def test_foreign_key_checks_are_back_on_for_every_connection_after_an_import(tmp_path):
    # SQLite only: the writer turns its connection's foreign-key checks off there, and on again
    engine = db.make_engine(f"sqlite:///{tmp_path / 'fk.sqlite3'}")
    db.upgrade(engine)
    path = tmp_path / "big.csv"
    big_file(path, 500)
    load(db.session_factory(engine), path)
    conns = [engine.connect() for _ in range(4)]  # more than the import used: every pooled one is among them
    try:
        assert [c.exec_driver_sql("PRAGMA foreign_keys").scalar() for c in conns] == [1, 1, 1, 1]
        with pytest.raises(Exception, match="FOREIGN KEY"):
            conns[0].execute(text(
                "INSERT INTO donations (source, external_id, donor_id, amount_cents, refunded_cents, currency, "
                "donated_at, status, recurring) VALUES ('x', 'x1', 999999, 100, 0, 'USD', '2026-12-01', 'succeeded', 0)"))
    finally:
        for c in conns:
            c.close()
        engine.dispose()


def test_a_gift_the_database_refuses_fails_its_chunk_instead_of_vanishing(sessions):
    good = NormalizedDonation(
        line=2, external_id="ok-1", amount_cents=2_500, donated_at=utc(2026, 12, 3, 12), donor_key="a@x.org",
        email="a@x.org", name=None, currency="USD", status="succeeded", refunded_cents=0, fee_cents=None,
        channel=None, appeal_variant=None, recurring=False,
    )
    bad = good._replace(line=3, external_id="bad-1", amount_cents=-100)  # past the parser, refused by a CHECK
    with sessions.begin() as session:
        batch = ImportBatch(filename="t.csv", sha256="0" * 64, format="generic", source="generic",
                            started_at=utc(2027, 1, 2), status="running")
        session.add(batch)
        session.flush()
        batch_id = batch.id
    summary = ImportSummary(path="t.csv", format="generic", source="generic")
    with pytest.raises(Exception):
        with sessions.begin() as session:
            write_chunk(session, "generic", [good, bad], batch_id, summary)
    assert tuple(stored(sessions)) == (0, 0)  # the whole chunk rolled back, the good gift with it


def _gift(external_id: str, cents: int = 2_500) -> NormalizedDonation:
    return NormalizedDonation(
        line=2, external_id=external_id, amount_cents=cents, donated_at=utc(2026, 12, 3, 12), donor_key="a@x.org",
        email="a@x.org", name=None, currency="USD", status="succeeded", refunded_cents=0, fee_cents=None,
        channel=None, appeal_variant=None, recurring=False,
    )


def _batch(sessions) -> int:
    with sessions.begin() as session:
        batch = ImportBatch(filename="t.csv", sha256="0" * 64, format="generic", source="generic",
                            started_at=utc(2027, 1, 2), status="running")
        session.add(batch)
        session.flush()
        return batch.id


def test_a_chunk_with_stored_and_new_gifts_inserts_the_new_and_merges_the_stored(sessions):
    first = ImportSummary(path="a.csv", format="generic", source="generic")
    with sessions.begin() as session:
        write_chunk(session, "generic", [_gift("g-1"), _gift("g-2")], _batch(sessions), first)
    later = ImportSummary(path="b.csv", format="generic", source="generic")
    with sessions.begin() as session:  # g-1 as before, g-2 corrected, g-3 new: in one chunk
        write_chunk(session, "generic", [_gift("g-3"), _gift("g-1"), _gift("g-2", 3_000)], _batch(sessions), later)
    assert (first.inserted, later.inserted, later.unchanged, later.updated) == (2, 1, 1, 1)
    assert tuple(stored(sessions)) == (3, 2_500 + 3_000 + 2_500)
    assert_kept_equals_rebuilt(sessions)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite lets in one writer at a time
def test_postgresql_waits_for_a_gift_another_import_is_writing_then_counts_it_stored(sessions, engine):
    """Two imports write the same new donor and gift at once: the second waits on the unique keys,
    and once the first commits it finds both stored (no failure, no second copy)."""
    batch_a, batch_b = _batch(sessions), _batch(sessions)
    a, b = (ImportSummary(path=p, format="generic", source="generic") for p in ("a.csv", "b.csv"))
    session_a = sessions()
    session_a.begin()
    write_chunk(session_a, "generic", [_gift("same-1")], batch_a, a)  # written, not committed yet
    errors = []

    def second():
        try:
            with sessions.begin() as session_b:
                write_chunk(session_b, "generic", [_gift("same-1"), _gift("other-1")], batch_b, b)
        except Exception as exc:  # handed to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    with engine.connect() as watcher:  # wait until the second import is blocked on the first one's row
        for _ in range(200):
            waiting = watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )).scalar()
            watcher.commit()
            if waiting:
                break
            time.sleep(0.05)
    assert waiting == 1 and thread.is_alive()
    session_a.commit()
    session_a.close()
    thread.join(30)
    assert not errors and not thread.is_alive()
    assert (a.inserted, b.inserted, b.unchanged) == (1, 1, 1)
    assert tuple(stored(sessions)) == (2, 5_000)
    assert_kept_equals_rebuilt(sessions)
