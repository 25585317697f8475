"""The column-wise reading of plain CSV files (tracker.ingest.columnar) stores exactly what the row-by-row
reading stores: the same gifts, donors, rollups, counts, and rejected rows with the same file:line reasons."""

from pathlib import Path

import pytest
from sqlalchemy import text

from conftest import utc
from test_rollups import assert_kept_equals_rebuilt
from tracker import db
from tracker.dates import zone
from tracker.ingest import ImportRequest, RowRules, columnar, run_import
from tracker.ingest import run as run_mod

LA = zone("America/Los_Angeles")
COUNTS = ("rows_read", "inserted", "updated", "unchanged", "skipped", "rejected", "superseded", "file_cents",
          "stored_cents")

TRICKY = (
    "donation_id,amount,donated_at,email,name,currency,recurring,fee,donor_id,status,refunded_amount,channel\n"
    "a1,25.00,2026-12-01T10:00:00Z,Ann@X.org,Ann,,false,1.05,,,,Web\n"
    "a2,25.5,2026-12-01 10:00:00,ann@x.org,,USD,yes,,,,,\n"  # naive: read in the zone
    "a3,abc,2026-12-01T10:00:00Z,bo@x.org,,,,,,,,\n"  # bad amount
    "a4,-5,2026-12-01T10:00:00Z,bo@x.org,,,,,,,,\n"  # negative
    "a5,10,,bo@x.org,,,,,,,,\n"  # no date
    "a6,10,2026-12-01T10:00:00Z,not-an-email,,,,,,,,\n"
    "a7,10,2026-12-01T10:00:00Z,,,EUR,,,,,,\n"  # another currency
    "a8,10,2026-12-01T10:00:00Z,,,usd,,,,,,\n"  # lower-case: the per-row code takes it
    "a9,30,2026-12-02T10:00:00+01:00,cy@x.org,,,maybe,,,,,\n"  # bad recurring
    "a10,30,2026-12-02T10:00:00Z,cy@x.org,,,,,,refunded,,\n"  # a refunded gift
    "a11,30,2026-12-02T10:00:00Z,cy@x.org,,,,,,,10.00,\n"  # partly refunded
    "\n"  # a blank line
    ",,,,,,,,,,,\n"  # a row of empty values
    "a12, 40 ,2026-12-03T10:00:00Z, Dee@X.org ,Zoë,,TRUE,,,,,\n"  # spaces, a name not ASCII
    "a1,25.00,2026-12-01T10:00:00Z,Ann@X.org,Ann,,false,1.05,,,,Web\n"  # the same gift again
    "a2,26.00,2026-12-01 10:00:00,ann@x.org,,USD,yes,,,,,\n"  # the same id, other content: the later wins
    "a13,12,2026-12-04T10:00:00Z,,,,,,d-7,,,\n"  # a donor id
    "a14,12,2026-12-04T10:00:00Z,,,,,,,,,\n"  # no identity
    "a16,12,2026-12-04T10:00:00Z,ed@x.org\n"  # fewer
    "a17,99999999.00,2026-12-04T10:00:00Z,ed@x.org,,,,,,,,\n"  # over the limit per gift
    "a18,12,2026-02-30T10:00:00Z,ed@x.org,,,,,,,,\n"  # no such day
    "a19,12,2026-12-04T10:00:00Z,ed@x.org,,,,1.234,,,,\n"  # a fee of three decimals
)


def many(rows: int) -> str:
    """Plain gifts with a bad row now and then, ids seen twice, empty cells."""
    out = []
    for n in range(rows):
        i = (n * 7919) % rows
        amount = f"{5 + i % 300}.{i % 100:02d}" if i % 97 else "12.5x"
        email = f"d{i % 211}@x.org" if i % 5 else ""
        out.append(f"m{i % (rows - 40):06d},{amount},2026-12-{1 + i % 31:02d}T{i % 24:02d}:{i % 60:02d}:00Z,{email},,,"
                   f"{'true' if i % 7 == 0 else ''},,,,,\n")
    return TRICKY.split("\n", 1)[0] + "\n" + "".join(out)


@pytest.fixture
def twin(db_url, tmp_path, request):
    """A second migrated, empty database on the same backend."""
    url = (f"sqlite:///{tmp_path / 'twin.sqlite3'}" if db_url.startswith("sqlite")
           else request.getfixturevalue("postgres").create())
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield db.session_factory(engine)
    engine.dispose()


def load(sessions, path, by_columns: bool, monkeypatch, rules=None, fmt="generic", **request):
    used = []
    real = run_mod.Reader.columnar

    def columnar_or_not(self, plain):
        reader = real(self, plain) if by_columns else None
        used.append(reader is not None)
        return reader

    monkeypatch.setattr(run_mod.Reader, "columnar", columnar_or_not)
    try:
        summary = run_import(sessions, ImportRequest(path=Path(path), format=fmt, **request),
                             rules or RowRules(source=fmt, timezone=LA), clock=lambda: utc(2027, 1, 2))
    finally:
        monkeypatch.setattr(run_mod.Reader, "columnar", real)
    return summary, used[0]


def state(sessions):
    """Everything an import stores, as comparable values (database ids left out)."""
    with sessions.begin() as session:
        run = lambda sql: [tuple(r) for r in session.execute(text(sql))]  # noqa: E731
        return {
            "gifts": run("SELECT g.source, g.external_id, d.key, g.amount_cents, g.refunded_cents, g.fee_cents, "
                         "g.currency, g.donated_at, g.status, g.channel, g.appeal_variant, g.recurring, g.payment_status, "
                         "g.refund_cents, g.dispute_status, g.processor, g.processor_id FROM donations g "
                         "JOIN donors d ON d.id = g.donor_id ORDER BY g.external_id"),
            "donors": run("SELECT key, email, name, first_gift_at FROM donors ORDER BY key"),
            "buckets": run("SELECT * FROM gift_buckets ORDER BY 1, 2"),
            "imports": run("SELECT rows_read, inserted, updated, unchanged, skipped, superseded, rejected, older "
                           "FROM imports ORDER BY id"),
        }


def both(sessions, twin, path, monkeypatch, tmp_path, fmt="generic", **request):
    """Import `path` row by row into `sessions` and column-wise into `twin`; both results, compared."""
    results, mixed = [], []
    real_mixed = columnar.ColumnarReader._mixed

    def spy(self, *args):
        mixed.append(1)
        return real_mixed(self, *args)

    for target, by_columns in ((sessions, False), (twin, True)):
        monkeypatch.setattr(columnar.ColumnarReader, "_mixed", spy)
        rejects = tmp_path / f"rejects-{by_columns}.csv"
        summary, used = load(target, path, by_columns, monkeypatch, fmt=fmt, rejects=rejects, **request)
        results.append((summary, used, rejects.read_text() if rejects.exists() else None))
    (rows, rows_used, rows_rejects), (cols, cols_used, cols_rejects) = results
    assert not rows_used
    assert {c: getattr(cols, c) for c in COUNTS} == {c: getattr(rows, c) for c in COUNTS}
    assert [str(e) for e in cols.errors] == [str(e) for e in rows.errors]
    assert cols_rejects == rows_rejects
    assert state(twin) == state(sessions)
    assert_kept_equals_rebuilt(twin)
    assert not cols_used or mixed or not (cols.rejected or cols.skipped)  # rows the column checks left were there
    return rows, cols, cols_used


def test_tricky_rows_are_stored_and_rejected_exactly_as_row_by_row(sessions, twin, tmp_path, monkeypatch):
    path = tmp_path / "tricky.csv"
    path.write_text(TRICKY, encoding="utf-8")
    rows, cols, used = both(sessions, twin, path, monkeypatch, tmp_path)
    assert used
    assert rows.rejected == 8 and rows.unchanged == 1 and rows.superseded == 1
    assert any(f"{path}:4:" in str(e) for e in cols.errors)  # a3, after the header and a1, a2
    # imported again: every gift is recognized, on both
    rows, cols, used = both(sessions, twin, path, monkeypatch, tmp_path)
    assert used and cols.inserted == 0


def test_blocks_and_hand_offs_in_the_middle_of_the_file_change_nothing(sessions, twin, tmp_path, monkeypatch):
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 700)  # a block every few rows
    monkeypatch.setattr(run_mod, "HANDOFF_ROWS", 37)
    path = tmp_path / "many.csv"
    path.write_text(many(1_500) + TRICKY.split("\n", 1)[1], encoding="utf-8")
    monkeypatch.setattr(run_mod, "HANDOFF_ROWS", 37)
    rows, cols, used = both(sessions, twin, path, monkeypatch, tmp_path, chunk_rows=100)
    assert used and rows.rejected > 10 and rows.superseded + rows.unchanged > 0


def test_a_first_load_column_wise_stores_the_same(sessions, twin, tmp_path, monkeypatch):
    path = tmp_path / "many.csv"
    path.write_text(many(3_000), encoding="utf-8")
    rows, cols, used = both(sessions, twin, path, monkeypatch, tmp_path, first_load="yes")
    assert used and cols.first_load and rows.first_load


def test_a_block_with_a_row_of_too_many_values_is_read_row_by_row(sessions, twin, tmp_path, monkeypatch):
    monkeypatch.setattr(columnar, "BLOCK_BYTES", 700)
    path = tmp_path / "wide.csv"
    path.write_text(many(200) + "a15,12,2026-12-04T10:00:00Z,ed@x.org,,,,,,,,,extra\n" + TRICKY.split("\n", 1)[1]
                    + many(200).split("\n", 1)[1].replace("m0", "n0"), encoding="utf-8")
    rows, cols, used = both(sessions, twin, path, monkeypatch, tmp_path)
    assert used and any("the header has 12 columns" in str(e) for e in cols.errors)


def test_files_read_row_by_row_still_are(sessions, twin, tmp_path, monkeypatch):
    quoted = tmp_path / "quoted.csv"  # a quote anywhere: a row may span lines
    quoted.write_text(TRICKY + 'a20,"1,234.50",2026-12-05T10:00:00Z,,,,,,,,,\n', encoding="utf-8")
    _, _, used = both(sessions, twin, quoted, monkeypatch, tmp_path)
    assert not used
    comma = tmp_path / "comma.csv"  # a decimal comma, dates day first: the per-row code reads them
    comma.write_text("donation_id;amount;donated_at\nc1;1.234,50;05/12/2026 10:00\nc2;7,5;13/12/2026 09:00\n",
                     encoding="utf-8")
    rows, _, used = both(sessions, twin, comma, monkeypatch, tmp_path)
    assert not used and rows.inserted == 2


STRIPE = (
    "id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Converted Amount,Converted Amount Refunded,"
    "Converted Currency,Decline Reason,Description,Fee,Refunded date (UTC),Status,Customer ID,Customer Email,"
    "Invoice ID,Mode,Transfer,Dispute Status,Card Name,fund (metadata)\n"
    "ch_1,2026-12-01 10:00:00,25.00,0.00,usd,true,25.00,0.00,usd,,Year-end gift,1.03,,Paid,cus_1,Ann@X.org,,Live,,,Ann,\n"
    "ch_2,2026-12-01 11:00:00,50.00,0.00,usd,true,50.00,0.00,usd,,Monthly Subscription,1.75,,Paid,cus_2,,,Live,po_9,,,\n"
    "ch_3,2026-12-01 12:00:00,50.00,0.00,usd,true,50.00,0.00,usd,,gift,1.75,,Paid,,,in_1,Test,,,,\n"  # test mode
    "ch_4,2026-12-01 13:00:00,50.00,20.00,usd,true,50.00,20.00,usd,,gift,1.75,2026-12-02 10:00:00,Refunded,,b@x.org,,"
    "Live,,,,\n"
    "ch_5,2026-12-01 14:00:00,50.00,0.00,usd,false,50.00,0.00,usd,,gift,1.75,,Paid,,b@x.org,,Live,,,,\n"  # not captured
    "ch_6,2026-12-01 15:00:00,40.00,0.00,eur,true,44.00,0.00,usd,,gift,1.75,,Paid,,c@x.org,,Live,,,,\n"
    ",2026-12-01 16:00:00,40.00,0.00,usd,true,40.00,0.00,usd,,gift,,,Failed,,c@x.org,,Live,,,,\n"  # no id
    "ch_7,2026-12-01 17:00:00,4x.00,0.00,usd,true,40.00,0.00,usd,,gift,,,Paid,,c@x.org,,Live,,,,\n"  # bad amount
    "ch_8,2026-12-01 18:00:00,40.00,0.00,usd,true,40.00,0.00,usd,,gift,,,Weird,,c@x.org,,Live,,,,\n"  # bad status
    "ch_9,2026-12-01 19:00:00,40.00,0.00,usd,true,40.00,0.00,usd,,gift,,,Paid,,d@x.org,,Live,,won,José,\n"
    "ch_10,2026-12-01 20:00:00,40.00,0.00,USD,true,40.00,0.00,usd,,gift,,,Paid,,d@x.org,,Live,,,Zoë,Roof\n"
    "ch_1,2026-12-01 10:00:00,25.00,0.00,usd,true,25.00,0.00,usd,,Year-end gift,1.03,,Paid,cus_1,Ann@X.org,,Live,,,Ann,\n"
)


def test_a_stripe_export_is_read_row_by_row(sessions, twin, tmp_path, monkeypatch):
    path = tmp_path / "stripe.csv"
    path.write_text(STRIPE, encoding="utf-8")
    rows, cols, used = both(sessions, twin, path, monkeypatch, tmp_path, fmt="stripe")
    assert not used and rows.skipped == 2 and rows.rejected == 2 and rows.unchanged == 1
