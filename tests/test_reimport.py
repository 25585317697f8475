"""Importing again, and again: overlapping files, later refunds, older files, strict runs, rejects, and a killed import."""

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from conftest import utc, write_csv
from tracker.dates import zone
from tracker.ingest import ImportRequest, RowRules, run_import
from tracker.ingest.loader import merge
from tracker.models import Donation, ImportBatch

LA = zone("America/Los_Angeles")
HEADER = "donation_id,amount,donated_at,email,status,refunded_amount\n"


def load(sessions, path, **request):
    rules = RowRules(source="generic", timezone=LA)
    summary = run_import(sessions, ImportRequest(path=Path(path), format="generic", **request), rules,
                         clock=lambda: utc(2027, 1, 2))
    if not summary.strict_failed:  # every row read is accounted for exactly once
        assert summary.rows_read == (summary.inserted + summary.updated + summary.unchanged + summary.skipped
                                     + summary.rejected + summary.superseded)
    return summary


def gift(sessions, external_id):
    with sessions.begin() as session:
        return session.scalar(select(Donation).where(Donation.external_id == external_id))


def total(sessions):
    with sessions.begin() as session:
        return session.execute(select(func.count(), func.coalesce(func.sum(Donation.amount_cents), 0))).one()


def row(status="succeeded", refunded=0, amount=100, dispute=None, disputed=0):
    """A stored or arriving gift as the loader sees it: the parts, and what counts worked out from them."""
    from tracker.ingest.states import effective

    if status == "disputed":
        status, dispute = "succeeded", dispute or "open"
    counted = effective(status, amount, refunded, dispute, disputed)
    return {"donor_id": 1, "amount_cents": amount, "refunded_cents": counted.refunded_cents, "fee_cents": None,
            "currency": "USD", "donated_at": utc(2026, 12, 3), "status": counted.status, "channel": None,
            "appeal_variant": None, "recurring": False, "payment_status": status, "refund_cents": refunded,
            "dispute_status": dispute, "dispute_cents": disputed, "processor": None, "processor_id": None}


@pytest.mark.parametrize(
    "old, new, result",
    [
        (row("pending"), row("succeeded"), ("succeeded", 0)),
        (row("succeeded"), row("partially_refunded", 30), ("partially_refunded", 30)),
        (row("partially_refunded", 30), row("refunded", 100), ("refunded", 100)),
        (row("refunded", 100), row("succeeded"), None),  # an older file never undoes a refund
        (row("refunded", 100), row("partially_refunded", 30), None),
        (row("partially_refunded", 60), row("partially_refunded", 30), None),  # refunds never shrink
        (row("partially_refunded", 30), row("partially_refunded", 60), ("partially_refunded", 60)),
        (row("succeeded"), row("disputed"), ("disputed", 0)),
        (row("disputed"), row("succeeded"), None),
        (row("pending"), row("failed"), ("failed", 0)),
        (row("failed"), row("succeeded"), None),  # failed is final
        (row("succeeded"), row("failed"), None),
        (row("succeeded"), row("succeeded"), None),
        (row("succeeded", amount=100), row("succeeded", amount=120), ("succeeded", 0)),  # a corrected amount
        # a dispute is beside the payment: it can end either way, and a closed one never reopens
        (row("disputed"), row("succeeded", dispute="won"), ("succeeded", 0)),
        (row("disputed"), row("succeeded", dispute="lost"), ("refunded", 100)),
        (row("partially_refunded", 30, dispute="open"), row("succeeded", dispute="lost", disputed=70), ("refunded", 100)),
        (row("succeeded", dispute="won"), row("disputed"), None),  # a late "dispute created" changes nothing
        (row("succeeded", dispute="lost"), row("succeeded"), None),
        (row("succeeded", dispute="lost", disputed=40), row("partially_refunded", 20), ("partially_refunded", 60)),
        (row("refunded", 100), row("disputed"), ("disputed", 100)),  # held back while open, however much is left
    ],
)
def test_status_only_moves_forward(old, new, result):
    merged = merge(old, new)
    assert (None if merged is None else (merged["status"], merged["refunded_cents"])) == result


def test_overlapping_exports_count_each_gift_once(sessions, tmp_path):
    gifts = [f"g{i},{10 + i},2026-12-{1 + i:02d}T12:00:00-08:00,d{i}@x.org,,\n" for i in range(6)]
    first = load(sessions, write_csv(tmp_path / "a.csv", HEADER + "".join(gifts[:4])))
    second = load(sessions, write_csv(tmp_path / "b.csv", HEADER + "".join(gifts[2:])))
    assert (first.inserted, second.inserted, second.unchanged) == (4, 2, 2)
    assert total(sessions) == (6, sum(10 + i for i in range(6)) * 100)


def test_a_later_refund_updates_the_gift_and_an_older_file_cannot_undo_it(sessions, tmp_path):
    original = write_csv(tmp_path / "dec20.csv", HEADER + "x,80,2026-12-03T12:00:00-08:00,a@x.org,succeeded,\n")
    partial = write_csv(tmp_path / "dec22.csv", HEADER + "x,80,2026-12-03T12:00:00-08:00,a@x.org,partially_refunded,20\n")
    full = write_csv(tmp_path / "dec28.csv", HEADER + "x,80,2026-12-03T12:00:00-08:00,a@x.org,refunded,80\n")
    load(sessions, original)
    assert load(sessions, partial).updated == 1
    assert (gift(sessions, "x").status, gift(sessions, "x").refunded_cents) == ("partially_refunded", 2000)
    assert load(sessions, full).updated == 1
    for older in (original, partial):
        again = load(sessions, older)
        assert (again.updated, again.unchanged) == (0, 1)
    assert (gift(sessions, "x").status, gift(sessions, "x").refunded_cents) == ("refunded", 8000)


def test_rejects_go_to_a_csv_beside_the_input_with_line_reason_and_original_values(sessions, tmp_path):
    path = write_csv(tmp_path / "gifts.csv", HEADER + "ok,5,2026-12-03T12:00:00-08:00,a@x.org,,\nbad,five,2026-12-03,b@x.org,,\n")
    summary = load(sessions, path)
    rejects = tmp_path / "gifts.rejects.csv"
    assert summary.rejects_path == str(rejects)
    rows = list(csv.reader(rejects.open(encoding="utf-8")))
    assert rows[0] == ["line", "reason", "donation_id", "amount", "donated_at", "email", "status", "refunded_amount"]
    assert rows[1][:4] == ["3", "amount: 'five' is not an amount; write it like 25, 25.50 or 1,234.56", "bad", "five"]
    fixed = write_csv(tmp_path / "gifts.csv", HEADER + "ok,5,2026-12-03T12:00:00-08:00,a@x.org,,\nbad,5,2026-12-03,b@x.org,,\n")
    assert load(sessions, fixed).rejected == 0
    assert not rejects.exists()  # a stale rejects file would mislead


def test_strict_loads_nothing_when_any_row_is_bad(sessions, tmp_path):
    path = write_csv(tmp_path / "gifts.csv", HEADER + "ok,5,2026-12-03T12:00:00-08:00,a@x.org,,\nbad,-5,2026-12-03,b@x.org,,\n")
    summary = load(sessions, path, strict=True)
    assert summary.strict_failed and summary.rejected == 1 and summary.inserted == 0
    assert total(sessions) == (0, 0)
    with sessions.begin() as session:
        assert session.scalar(select(ImportBatch.status)) == "strict_rejected"
    good = write_csv(tmp_path / "good.csv", HEADER + "ok,5,2026-12-03T12:00:00-08:00,a@x.org,,\n")
    assert load(sessions, good, strict=True).inserted == 1


def test_cli_exit_statuses(tracker, tmp_path):
    good = write_csv(tmp_path / "good.csv", HEADER + "ok,5,2026-12-03T12:00:00-08:00,a@x.org,,\n")
    bad = write_csv(tmp_path / "bad.csv", HEADER + "ok2,5,2026-12-03T12:00:00-08:00,a@x.org,,\nbad,-5,2026-12-03T12:00Z,b@x.org,,\n")
    assert tracker("ingest", "donations", good, "--timezone", "UTC").code == 0
    mixed = tracker("ingest", "donations", bad, "--timezone", "UTC")
    assert mixed.code == 3 and f"{bad}:3: amount -5 is negative" in mixed.err
    assert f"rejected rows with their reasons: {tmp_path / 'bad.rejects.csv'}" in mixed.out
    strict = tracker("ingest", "donations", bad, "--timezone", "UTC", "--strict", "--source", "other")
    assert strict.code == 3 and "nothing was loaded" in strict.out
    assert tracker("ingest", "donations", good, "--format", "excel").code == 2
    assert tracker("ingest", "donations", tmp_path / "missing.csv").code == 1
    listed = tracker("imports", "list")
    assert listed.code == 0 and "strict_rejected" in listed.out and "completed" in listed.out


def write_big_file(path: Path, rows: int, seed: int = 7) -> int:
    """A generic CSV of `rows` gifts in random id order; returns the total in cents."""
    rng = random.Random(seed)
    ids = list(range(rows))
    rng.shuffle(ids)
    total_cents = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("donation_id,amount,donated_at,email\n")
        for i in ids:
            cents = rng.randrange(500, 50_000)
            total_cents += cents
            fh.write(f"k{i:08d},{cents // 100}.{cents % 100:02d},2026-12-{1 + i % 31:02d}T{i % 24:02d}:00:00Z,d{i % 5000}@x.org\n")
    return total_cents


@pytest.mark.parametrize("rows, chunk", [
    (60_000, 1_000),  # a commit per hand-off to the writer
    (150_000, 100_000),  # a commit every two hand-offs of 50,000: killed in between, the first one is undone
])
def test_an_import_killed_mid_way_leaves_whole_chunks_and_a_rerun_completes_it_exactly(db_url, engine, tmp_path, rows, chunk):
    path = tmp_path / "big.csv"
    expected = write_big_file(path, rows)
    cmd = [sys.executable, "-m", "tracker", "--db", db_url, "ingest", "donations", str(path), "--quiet",
           "--timezone", "UTC", "--chunk-rows", str(chunk)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    count = 0
    try:
        deadline = time.monotonic() + 60
        while count == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
            with engine.connect() as conn:
                count = conn.execute(text("SELECT count(*) FROM donations")).scalar()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed; make the file bigger"
    with engine.connect() as conn:
        after_kill = conn.execute(text("SELECT count(*) FROM donations")).scalar()
        status = conn.execute(text("SELECT status FROM imports")).scalar()
    assert 0 < after_kill < rows and after_kill % chunk == 0  # only whole committed chunks
    assert status == "running"  # killed: it never finished
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{rows:,} rows read: {rows - after_kill:,} new, 0 updated, {after_kill:,} unchanged" in rerun.stdout
    with engine.connect() as conn:
        n, cents, distinct = conn.execute(text(
            "SELECT count(*), sum(amount_cents), count(DISTINCT external_id) FROM donations")).one()
    assert (n, cents, distinct) == (rows, expected, rows)
