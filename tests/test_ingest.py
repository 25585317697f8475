"""Generic CSV import against real SQLite and PostgreSQL databases."""

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import utc, write_csv
from tracker import queries
from tracker.dates import zone
from tracker.errors import InputFileError
from tracker.ingest import ImportRequest, RowRules, run_import
from tracker.models import Donation, Donor, ImportBatch

LA = zone("America/Los_Angeles")


def clock():
    return datetime(2026, 12, 31, 20, tzinfo=zone("UTC"))


def do_import(sessions, path, *, source="generic", fmt="generic", **rules):
    rules.setdefault("timezone", LA)
    request = ImportRequest(path=path, format=fmt, source=source)
    return run_import(sessions, request, RowRules(source=source, **rules), clock=clock)


def count(sessions, model=Donation):
    with sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_the_sample_file_loads_and_a_second_import_counts_nothing_twice(sessions):
    first = do_import(sessions, Path("data/samples/donations.csv"))
    assert (first.rows_read, first.inserted, first.duplicates, first.rejected) == (9, 9, 0, 0)
    again = do_import(sessions, Path("data/samples/donations.csv"))
    assert (again.rows_read, again.inserted, again.updated, again.duplicates) == (9, 0, 0, 9)
    assert count(sessions) == 9
    with sessions.begin() as session:
        batches = queries.list_imports(session)
        assert [(b.rows_read, b.inserted, b.unchanged) for b in batches] == [(9, 0, 9), (9, 9, 0)]
        assert batches[0].sha256 == batches[1].sha256 and len(batches[0].sha256) == 64


def test_columns_match_by_name_in_any_order_and_extra_columns_are_ignored(sessions, tmp_path):
    path = write_csv(tmp_path / "gifts.csv", """
        Notes,Amount,Donated At,DONATION_ID,Email
        thanks!,"$1,234.56",2026-12-05T10:00:00-08:00,a-1,Reader@Example.org
    """)
    assert do_import(sessions, path).inserted == 1
    with sessions.begin() as session:
        gift = session.scalar(select(Donation))
        donor = session.get(Donor, gift.donor_id)
        assert gift.amount_cents == 123456
        assert gift.donated_at == utc(2026, 12, 5, 18)
        assert donor.key == "email:reader@example.org"


def test_bad_rows_are_rejected_with_their_line_and_good_rows_still_load(sessions, tmp_path):
    path = write_csv(tmp_path / "gifts.csv", """
        donation_id,amount,donated_at
        ok-1,10,2026-12-03T10:00:00-08:00
        ,25,2026-12-03T10:00:00-08:00
        feb,25,2026-02-30T10:00:00
        words,twenty,2026-12-03T10:00:00-08:00
        neg,-5,2026-12-03T10:00:00-08:00
        huge,"20,000,000",2026-12-03T10:00:00-08:00
        "multi
        line",7,2026-12-03T10:00:00-08:00
        nodate,7,
        ok-2,20,2026-12-04T10:00:00-08:00
    """)
    summary = do_import(sessions, path)
    assert (summary.inserted, summary.rejected) == (3, 6)
    lines = {e.line: e.message for e in summary.errors}
    assert sorted(lines) == [3, 4, 5, 6, 7, 10]
    assert "donation_id is empty" in lines[3]
    assert "not a real date" in lines[4]
    assert "'twenty' is not an amount" in lines[5]
    assert "negative" in lines[6]
    assert "over the limit" in lines[7] and "--max-gift" in lines[7]
    assert "donated_at is empty" in lines[10]
    assert str(summary.errors[0]).startswith(f"{path}:3: ")
    assert count(sessions) == 3


def test_a_lower_gift_limit_rejects_gifts_above_it(sessions, tmp_path):
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at\na,5000.01,2026-12-03T10:00Z\nb,5000,2026-12-03T10:00Z\n")
    summary = do_import(sessions, path, max_gift_cents=5000_00)
    assert [e.line for e in summary.errors] == [2] and summary.inserted == 1


def test_a_file_without_the_required_columns_writes_nothing(sessions, tmp_path):
    path = write_csv(tmp_path / "wrong.csv", "id,total,date\n1,5,2026-12-01\n")
    with pytest.raises(InputFileError, match="missing required column.*donation_id, amount, donated_at"):
        do_import(sessions, path)
    assert count(sessions) == 0 and count(sessions, ImportBatch) == 0


def test_a_missing_file_is_named_in_the_error(sessions, tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        do_import(sessions, tmp_path / "nope.csv")


def test_naive_times_are_read_in_the_given_zone_and_refused_without_one(sessions, tmp_path):
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at\na,5,2026-12-31 23:59:59\nb,5,2026-12-31T23:59:59Z\n")
    summary = do_import(sessions, path, timezone=None)
    assert [e.line for e in summary.errors] == [2] and "--timezone" in summary.errors[0].message
    summary = do_import(sessions, path, timezone=LA)
    assert summary.inserted == 1 and summary.duplicates == 1
    with sessions.begin() as session:
        got = session.scalar(select(Donation.donated_at).where(Donation.external_id == "a"))
    assert got == utc(2027, 1, 1, 7, 59, 59)


def test_same_id_twice_in_a_file_identical_is_a_duplicate_and_different_means_the_later_wins(sessions, tmp_path):
    path = write_csv(tmp_path / "g.csv", """
        donation_id,amount,donated_at
        a,5,2026-12-03T10:00:00Z
        a,5,2026-12-03T10:00:00Z
        b,5,2026-12-03T10:00:00Z
        b,7,2026-12-03T10:00:00Z
    """)
    summary = do_import(sessions, path)
    assert (summary.inserted, summary.unchanged, summary.superseded) == (2, 1, 1)
    with sessions.begin() as session:
        assert session.scalar(select(Donation.amount_cents).where(Donation.external_id == "b")) == 700


def test_a_later_file_with_changed_content_updates_the_gift(sessions, tmp_path):
    do_import(sessions, write_csv(tmp_path / "a.csv", "donation_id,amount,donated_at\nx,50,2026-12-03T10:00Z\n"))
    later = do_import(sessions, write_csv(
        tmp_path / "b.csv", "donation_id,amount,donated_at,status,refunded_amount\nx,50,2026-12-03T10:00Z,partially_refunded,20\n"
    ))
    assert (later.inserted, later.updated) == (0, 1)
    with sessions.begin() as session:
        gift = session.scalar(select(Donation))
        assert (gift.status, gift.refunded_cents) == ("partially_refunded", 2000)


def test_ids_are_unique_per_source_not_across_sources(sessions, tmp_path):
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at\n1,5,2026-12-03T10:00Z\n")
    assert do_import(sessions, path, source="checks").inserted == 1
    assert do_import(sessions, path, source="events").inserted == 1
    assert count(sessions) == 2


def test_donors_are_keyed_by_donor_id_else_by_trimmed_lowercased_email(sessions, tmp_path):
    path = write_csv(tmp_path / "g.csv", """
        donation_id,amount,donated_at,email,donor_id
        1,5,2026-12-03T10:00Z, Ana@Example.org ,
        2,5,2026-12-04T10:00Z,ana@example.org,
        3,5,2026-12-05T10:00Z,ana@example.org,CRM-1
        4,5,2026-12-06T10:00Z,other@example.org,CRM-1
        5,5,2026-12-07T10:00Z,,
        6,5,2026-12-08T10:00Z,,
    """)
    do_import(sessions, path)
    with sessions.begin() as session:
        keys = sorted(session.scalars(select(Donor.key)))
    assert keys == ["anon:generic:5", "anon:generic:6", "email:ana@example.org", "id:CRM-1"]


@pytest.mark.parametrize(
    "status, refunded, stored",
    [("refunded", "", ("refunded", 5000)), ("partially_refunded", "12.50", ("partially_refunded", 1250)),
     ("pending", "", ("pending", 0)), ("FAILED", "", ("failed", 0))],
)
def test_statuses_and_refunds_are_stored(sessions, tmp_path, status, refunded, stored):
    path = write_csv(tmp_path / "g.csv", f"donation_id,amount,donated_at,status,refunded_amount\nx,50,2026-12-03T10:00Z,{status},{refunded}\n")
    assert do_import(sessions, path).inserted == 1
    with sessions.begin() as session:
        gift = session.scalar(select(Donation))
    assert (gift.status, gift.refunded_cents) == stored


@pytest.mark.parametrize(
    "header, row, words",
    [
        ("status", "maybe", "status 'maybe' is not a status the tracker knows; use one of"),
        ("refunded_amount", "60", "between 0 and the amount"),
        ("recurring", "sometimes", "not true or false"),
        ("email", "not-an-email", "not an e-mail address"),
        ("currency", "EUR", "not the organization's currency USD"),
        ("currency", "dollars", "three-letter ISO code"),
        ("fee", "-1", "fee -1 is negative"),
    ],
)
def test_each_bad_optional_value_is_explained(sessions, tmp_path, header, row, words):
    path = write_csv(tmp_path / "g.csv", f"donation_id,amount,donated_at,{header}\nx,50,2026-12-03T10:00Z,{row}\n")
    summary = do_import(sessions, path)
    assert summary.rejected == 1 and words in summary.errors[0].message


def test_semicolon_files_with_a_bom_are_read(sessions, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffdonation_id;amount;donated_at\nx;12.50;2026-12-03T10:00Z\n".encode("utf-8"))
    assert do_import(sessions, path).inserted == 1


def test_a_file_that_is_not_utf8_is_refused_with_the_fix(sessions, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("donation_id,amount,donated_at,name\nx,5,2026-12-03T10:00Z,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(InputFileError, match="UTF-8"):
        do_import(sessions, path)


ALL_COLUMNS = ["donation_id", "amount", "donated_at", "email", "donor_id", "name", "currency", "channel",
               "appeal_variant", "recurring", "status", "refunded_amount", "fee"]


@pytest.mark.parametrize(
    "values",
    [
        ["a1", "25.00", "2026-12-03T10:00:00-08:00", "Ana@Example.org", "", "Ana", "USD", "Website", "gap", "true", "", "", "1.03"],
        ["a2", "25", "2026-12-03 10:00:00", "", "", "", "", "", "", "", "succeeded", "", ""],
        ["a3", "7.5", "2026-12-03T10:00:00Z", "", "CRM-1", " Bo ", "", "", "", "FALSE", "", "", ""],
        [" a4 ", "1,234.56", "2026-12-03T10:00:00Z", "", "", "", "", "", "", "", "", "", ""],
        ["a5", "25", "12/03/2026 10:00", "", "", "", "", "", "", "", "", "", ""],
        ["a6", "25", "2026-12-03T10:00:00Z", "", "", "", "EUR", "", "", "", "", "", ""],
        ["a7", "25", "2026-12-03T10:00:00Z", "", "", "", "", "", "", "", "refunded", "", ""],
        ["a8", "25", "2026-12-03T10:00:00Z", "", "", "", "", "", "", "maybe", "", "", ""],
        ["a9", "25", "2026-12-03T10:00:00Z", "not-an-email", "", "", "", "", "", "", "", "", ""],
        ["a10", "99999999", "2026-12-03T10:00:00Z", "", "", "", "", "", "", "", "", "", ""],
        ["a11", "25", "2026-02-30T10:00:00Z", "", "", "", "", "", "", "", "", "", ""],
        ["a12", "25", "2026-12-03T10:00:00Z", "", "", "", "", "", "", "", "", "10", ""],
        ["a13", "25"],
    ],
)
def test_the_quick_path_for_common_rows_agrees_with_the_full_check(values):
    from tracker.ingest import fields

    rules = RowRules(source="generic", timezone=LA)
    fast = fields.fast_builder({name: i for i, name in enumerate(ALL_COLUMNS)}, rules)
    padded = values + [""] * (len(ALL_COLUMNS) - len(values))
    full = fields.from_fields("f.csv", 2, dict(zip(ALL_COLUMNS, padded)), rules)
    quick = fast(2, values)
    assert quick is None or quick == full
    if values[0] in ("a1", "a2", "a3"):
        assert quick is not None  # the common rows really take the quick path
