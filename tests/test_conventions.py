"""Imports never guess a convention: the date order and the decimal mark are decided per file, from all its
values, before a row is loaded; a file that cannot tell loads nothing and says how to choose.

Through the CLI on SQLite and PostgreSQL, with the files written inline, and with real UK exports.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import write_csv
from tracker.ingest import conventions
from tracker.ingest.csvfile import CsvFile

REAL = Path(__file__).parent / "realdata"
AS_OF = ("--as-of", "2027-01-02T12:00:00-08:00")


@pytest.fixture(autouse=True)
def campaign(make_campaign):
    make_campaign()


def raised(tracker) -> str:
    result = tracker("status", *AS_OF, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)["raised"]


def gifts(tracker) -> dict[str, tuple[str, str]]:
    """donation_id -> (local date, amount), from the donations export."""
    import csv
    import io

    out = tracker("export", "donations", "--campaign", "dec-2026", *AS_OF).out
    return {r["donation_id"]: (r["local_date"], r["amount"]) for r in csv.DictReader(io.StringIO(out))}


def imported(sessions) -> int:
    """How many imports are recorded (a refused file records none: nothing was imported)."""
    from sqlalchemy import func, select

    from tracker.models import Donation, ImportBatch

    with sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(ImportBatch)) + session.scalar(
            select(func.count()).select_from(Donation))


# -- the decimal mark --------------------------------------------------------------------------------

EURO = """\
donation_id;amount;donated_at;email
e-1;1.000;2026-12-03T10:00:00-08:00;ana@example.org
e-2;2.500;2026-12-04T10:00:00-08:00;ben@example.org
"""


def test_a_file_whose_every_amount_reads_both_ways_loads_nothing_and_names_both_readings(tracker, tmp_path, sessions):
    path = write_csv(tmp_path / "euro.csv", EURO)
    result = tracker("ingest", "donations", path)
    assert result.code == 1 and "Traceback" not in result.err
    assert "cannot tell the decimal mark" in result.err and "nothing was imported" in result.err
    assert "line 2: amount 1.000 reads as $1.00 with --decimal-point, $1,000.00 with --decimal-comma" in result.err
    assert "line 3: amount 2.500 reads as $2.50 with --decimal-point, $2,500.00 with --decimal-comma" in result.err
    assert raised(tracker) == "0.00" and imported(sessions) == 0
    assert tracker("ingest", "donations", path, "--decimal-comma").code == 0
    assert raised(tracker) == "3500.00"


def test_the_decimal_comma_of_one_amount_decides_the_whole_file(tracker, tmp_path):
    path = write_csv(tmp_path / "euro.csv", EURO + "e-3;1.234,56;2026-12-05T10:00:00-08:00;cy@example.org\n")
    result = tracker("ingest", "donations", path)
    assert result.code == 0, result.err
    assert "amounts read with a decimal comma, as line 4's 1.234,56 shows" in result.out
    assert {k: v[1] for k, v in gifts(tracker).items()} == {"e-1": "1000.00", "e-2": "2500.00", "e-3": "1234.56"}


def test_a_decimal_point_elsewhere_in_the_file_reads_1_000_as_one_dollar(tracker, tmp_path):
    path = write_csv(tmp_path / "us.csv", """\
        donation_id,amount,donated_at,email
        u-1,"1,000",2026-12-03T10:00:00-08:00,ana@example.org
        u-2,25.50,2026-12-04T10:00:00-08:00,ben@example.org
        """)
    assert tracker("ingest", "donations", path).code == 0
    assert {k: v[1] for k, v in gifts(tracker).items()} == {"u-1": "1000.00", "u-2": "25.50"}


def test_a_file_mixing_both_marks_is_refused_and_a_flag_rejects_the_other_rows(tracker, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", """\
        donation_id;amount;donated_at;email
        m-1;25,50;2026-12-03T10:00:00-08:00;ana@example.org
        m-2;25.50;2026-12-04T10:00:00-08:00;ben@example.org
        """)
    refused = tracker("ingest", "donations", path)
    assert refused.code == 1 and "writes amounts both ways: line 3 amount '25.50' has a decimal point" in refused.err
    assert "line 2 amount '25,50' a decimal comma" in refused.err
    chosen = tracker("ingest", "donations", path, "--decimal-comma")
    assert chosen.code == 3 and "25.50" in chosen.err and "decimal comma" in chosen.err
    assert raised(tracker) == "25.50"  # m-1 read with the comma; m-2 rejected, not read as 2,550


# -- the date order ----------------------------------------------------------------------------------

def test_03_12_without_dayfirst_is_refused_when_no_date_tells_the_order(tracker, tmp_path, sessions):
    path = write_csv(tmp_path / "uk.csv", """\
        donation_id,amount,donated_at,email
        d-1,10.00,03/12/2026 10:00,ana@example.org
        d-2,12.00,05/12/2026 11:00,ben@example.org
        """)
    result = tracker("ingest", "donations", path)
    assert result.code == 1 and "cannot tell the date order" in result.err
    assert "line 2: donated_at 03/12/2026 10:00 reads as 3 December 2026 with --dayfirst, 12 March 2026 with " \
           "--monthfirst" in result.err
    assert "line 3:" in result.err and imported(sessions) == 0
    assert tracker("ingest", "donations", path, "--dayfirst").code == 0
    assert gifts(tracker) == {"d-1": ("2026-12-03", "10.00"), "d-2": ("2026-12-05", "12.00")}


def test_one_day_above_12_decides_day_first_for_every_row(tracker, tmp_path):
    path = write_csv(tmp_path / "uk.csv", """\
        donation_id,amount,donated_at,email
        d-1,10.00,03/12/2026 10:00,ana@example.org
        d-2,12.00,19/12/2026 11:00,ben@example.org
        """)
    result = tracker("ingest", "donations", path)
    assert result.code == 0, result.err
    assert "dates read day first, as line 3's 19/12/2026 11:00 shows" in result.out
    assert gifts(tracker) == {"d-1": ("2026-12-03", "10.00"), "d-2": ("2026-12-19", "12.00")}


def test_a_file_mixing_both_orders_is_refused_naming_a_row_of_each(tracker, tmp_path):
    path = write_csv(tmp_path / "mixed.csv", """\
        donation_id,amount,donated_at,email
        d-1,10.00,19/12/2026,ana@example.org
        d-2,12.00,12/20/2026,ben@example.org
        """)
    refused = tracker("ingest", "donations", path)
    assert refused.code == 1
    assert "line 2 donated_at '19/12/2026' is day first, line 3 donated_at '12/20/2026' month first" in refused.err
    chosen = tracker("ingest", "donations", path, "--dayfirst")
    assert chosen.code == 3 and "12/20/2026" in chosen.err
    assert gifts(tracker) == {"d-1": ("2026-12-19", "10.00")}


def test_a_mapping_fixes_the_convention_for_its_source_and_a_contrary_flag_is_refused(tracker, tmp_path):
    data = write_csv(tmp_path / "crm.csv", """\
        Gift;Date;Amount
        c-1;03.12.2026;1.000
        c-2;04.12.2026;50
        """)
    mapping = write_csv(tmp_path / "crm.toml", """\
        [mapping]
        source = "crm"
        dayfirst = true
        decimal_comma = true
        [columns]
        donation_id = "Gift"
        donated_at = "Date"
        amount = "Amount"
        """)
    assert tracker("ingest", "donations", data, "--mapping", mapping).code == 0
    assert gifts(tracker) == {"c-1": ("2026-12-03", "1000.00"), "c-2": ("2026-12-04", "50.00")}
    contrary = tracker("ingest", "donations", data, "--mapping", mapping, "--monthfirst")
    assert contrary.code == 2 and "says dayfirst = true, and --monthfirst says otherwise" in contrary.err


def test_the_real_uk_paypal_download_whose_every_date_reads_both_ways_is_refused(tracker, tmp_path, sessions):
    path = tmp_path / "paypal.csv"
    shutil.copy(REAL / "sdm-payment-exports" / "paypal.csv", path)  # its dates: 01/01, 01/10, 02/01, 12/11
    result = tracker("ingest", "donations", path, "--currency", "GBP")
    assert result.code == 1 and "cannot tell the date order" in result.err
    assert "line 3: Date 01/10/2018 reads as 1 October 2018 with --dayfirst, 10 January 2018 with --monthfirst" \
        in result.err
    assert imported(sessions) == 0
    loaded = tracker("ingest", "donations", path, "--currency", "GBP", "--dayfirst", "--timezone", "Europe/London")
    assert loaded.code == 0 and "3 new" in loaded.out


def test_the_real_uk_stripe_export_reads_day_first_without_a_flag(tracker, tmp_path):
    path = tmp_path / "stripe.csv"
    shutil.copy(REAL / "sdm-payment-exports" / "stripe.csv", path)  # 19/02/2019 on line 4
    result = tracker("ingest", "donations", path, "--currency", "GBP")
    assert result.code == 0 and "dates read day first, as line 4's 19/02/2019 11:10 shows" in result.out
    assert "4 new" in result.out


def test_the_configuration_says_a_sources_convention_once_for_files_that_cannot_tell(tracker, tmp_path, db_url):
    config = write_csv(tmp_path / "tracker.toml", """\
        [imports.paypal]
        dayfirst = false
        """)
    path = tmp_path / "paypal.csv"
    path.write_text('"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","From Email Address",'
                    '"Transaction ID"\n"12/05/2026","10:00:00","PST","Ann","Donation Payment","Completed","USD","25.00",'
                    '"-1.00","ann@example.org","TX1"\n', encoding="utf-8")
    assert tracker("ingest", "donations", path).code == 1  # 12/05: December 5 or 12 May
    assert tracker("--config", config, "ingest", "donations", path).code == 0
    assert gifts(tracker) == {"TX1": ("2026-12-05", "25.00")}
    day_first = tmp_path / "uk.csv"
    day_first.write_text(path.read_text().replace("12/05/2026", "13/12/2026"), encoding="utf-8")
    assert tracker("--config", config, "ingest", "donations", day_first).code == 0  # the file shows it: day first
    assert gifts(tracker)["TX1"] == ("2026-12-13", "25.00")


# -- time zones and dates that look wrong -------------------------------------------------------------

def test_times_without_an_offset_are_read_in_the_organizations_zone_and_the_import_says_so_once(tracker, tmp_path):
    naive = write_csv(tmp_path / "naive.csv", """\
        donation_id,amount,donated_at,email
        n-1,10.00,2026-12-03 10:00,ana@example.org
        n-2,10.00,2026-12-04 10:00,ben@example.org
        """)
    result = tracker("ingest", "donations", naive)
    assert result.out.count("times without an offset were read as America/Los_Angeles (2 of them") == 1
    explicit = write_csv(tmp_path / "explicit.csv", """\
        donation_id,amount,donated_at,email
        x-1,10.00,2026-12-03T10:00:00Z,ana@example.org
        x-2,10.00,2026-12-04T10:00:00+01:00,ben@example.org
        """)
    assert "without an offset" not in tracker("ingest", "donations", explicit).out


def test_a_file_dated_entirely_in_the_future_or_outside_every_campaign_loads_with_a_one_line_warning(tracker,
                                                                                                     tmp_path):
    future = write_csv(tmp_path / "future.csv", """\
        donation_id,amount,donated_at,email
        f-1,10.00,2031-12-03T10:00:00Z,ana@example.org
        f-2,10.00,2031-12-04T10:00:00Z,ben@example.org
        """)
    result = tracker("ingest", "donations", future)
    assert result.code == 0 and "warning: all 2 gifts are dated in the future" in result.out
    outside = write_csv(tmp_path / "march.csv", """\
        donation_id,amount,donated_at,email
        o-1,10.00,2026-03-12T10:00:00Z,ana@example.org
        """)
    result = tracker("ingest", "donations", outside)
    assert result.code == 0 and "warning: the file's one gift is not dated within a campaign (dec-2026)" in result.out
    inside = write_csv(tmp_path / "dec.csv", """\
        donation_id,amount,donated_at,email
        i-1,10.00,2026-03-12T10:00:00Z,ana@example.org
        i-2,10.00,2026-12-12T10:00:00Z,ana@example.org
        """)
    assert "warning" not in tracker("ingest", "donations", inside).out


def test_json_lines_dates_are_decided_the_same_way(tracker, tmp_path):
    path = tmp_path / "gifts.jsonl"
    path.write_text('{"donation_id": "j-1", "amount": 1.000, "donated_at": "03/12/2026"}\n'
                    '{"donation_id": "j-2", "amount": "25.00", "donated_at": "04/12/2026"}\n', encoding="utf-8")
    refused = tracker("ingest", "donations", path)
    assert refused.code == 1 and "cannot tell the date order" in refused.err
    assert tracker("ingest", "donations", path, "--dayfirst").code == 0
    assert gifts(tracker) == {"j-1": ("2026-12-03", "1.00"), "j-2": ("2026-12-04", "25.00")}  # JSON's 1.000 is 1


# -- the survey reads files as the import does ------------------------------------------------------

HOSTILE = """\
id;when;amount;note
1;"03/12/2026";"1.000";"a note
that spans lines; with 19/12/2026 and 1.234,56 in it"
2;2026-12-04;25;plain
3;05/12/2026;"€ 2.500";x
4;=cmd|' /C calc'!A0;-;"the value is not a date"
5;12/12/2026;1.000.000;too many;values;here
"""


@pytest.mark.parametrize("bom", [False, True])
def test_the_fast_survey_and_the_row_by_row_survey_see_the_same(tmp_path, bom):
    path = tmp_path / "hostile.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + HOSTILE.encode("utf-8"))
    source = CsvFile(path)
    header, delimiter = source.header, source.delimiter
    source.close()
    cols = conventions.Columns(dates=((1, "when"),), amounts=((2, "amount"),), zoned=((1, "when"),))
    fast = conventions._survey_arrow(path, header, cols, 1, delimiter, "utf-8")
    slow = conventions._survey_rows(conventions._csv_rows(path, 1, "utf-8"), cols)
    assert fast == slow
    # the note's dates and amounts are not in the date or amount column: they decide nothing
    assert fast.dates == {} and [e.value for e in fast.either_dates] == ["03/12/2026", "05/12/2026"]
    assert [e.value for e in fast.either_amounts] == ["1.000", "€ 2.500"] and fast.amounts == {}


@pytest.mark.parametrize("text, reading", [
    ("25.50", "point"), ("1,234.56", "point"), ("$1,234,567", "point"), ("0.500", "point"), ("1234.567", "point"),
    ("25,50", "comma"), ("1.234,56", "comma"), ("1.234.567", "comma"), ("€ 2,5", "comma"), ("1 234,56", "comma"),
    ("1.000", "either"), ("12,500", "either"), ("(1.000)", "either"), ("25.125", "either"), ("25", None), ("", None),
    ("abc", None), ("1.0000", "point"), ("12,34,5", None), ("1.2.3", None), ("5..0", None), ("0,5", "comma"),
])
def test_an_amount_reads_one_way_either_way_or_no_way(text, reading, tmp_path):
    assert conventions.amount_reading(text) == reading
    path = write_csv(tmp_path / "one.csv", f'amount\n"{text}"\n')
    cols = conventions.Columns(amounts=((0, "amount"),))
    fast = conventions._survey_arrow(path, ["amount"], cols, 1, ",", "utf-8")
    assert (list(fast.amounts) or [e and "either" for e in fast.either_amounts][:1] or [None])[0] == reading


@pytest.mark.parametrize("text, reading", [
    ("19/02/2026", "dayfirst"), ("02/19/2026 10:00", "monthfirst"), ("03/12/2026", "either"), ("3.12.26", "either"),
    ("05/05/2026", None), ("2026-12-03", None), ("Dec 3, 2026", None), ("31/31/2026", None),
])
def test_a_date_reads_day_first_month_first_either_or_in_one_way_only(text, reading):
    assert conventions.date_reading(text) == reading
