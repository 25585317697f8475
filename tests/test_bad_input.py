"""Imports where one bad row never costs the good ones, and never changes a total silently.

Each finding of the review of 125 bad input files has its test here, with the file written inline,
on SQLite and PostgreSQL; test_the_bad_input_corpus then generates a corpus of its own."""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import require, write_csv
from tracker.models import Donation, ImportBatch

ROOT = Path(__file__).parent.parent
HEADER = "donation_id,amount,donated_at,email,name\n"
GOOD = ("g1,10.00,2026-12-02T10:00:00-08:00,a@example.org,Ann\n"
        "g2,20.00,2026-12-03T10:00:00-08:00,b@example.org,Bo\n")


@pytest.fixture
def campaign(tracker):
    created = tracker("campaign", "create", "--slug", "dec-2026", "--name", "Year-end", "--goal", "400000",
                      "--start", "2026-12-01", "--end", "2026-12-31", "--timezone", "America/Los_Angeles")
    assert created.code == 0, created.err


def raised(tracker) -> str:
    out = tracker("status", "--as-of", "2027-01-05", "--json")
    assert out.code == 0, out.err
    return json.loads(out.out)["raised"]


def imported(tracker, path, *extra):
    result = tracker("ingest", "donations", path, "--quiet", *extra)
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    return result


# -- silent misreads become rejects ----------------------------------------------------------------

def test_an_unquoted_thousands_comma_is_a_row_with_too_many_values_not_one_dollar(tracker, campaign, tmp_path):
    path = write_csv(tmp_path / "g.csv", HEADER + GOOD + "g3,1,234.56,2026-12-04T10:00:00-08:00,c@example.org,Cy\n")
    result = imported(tracker, path)
    assert result.code == 3
    assert f"{path}:4: the row has 6 values but the header has 5 columns" in result.err
    assert 'must be in double quotes (e.g. "1,234.56")' in result.err
    assert raised(tracker) == "30.00"
    fixed = write_csv(tmp_path / "g.csv", HEADER + GOOD + 'g3,"1,234.56",2026-12-04T10:00:00-08:00,c@example.org,Cy\n')
    assert imported(tracker, fixed).code == 0 and raised(tracker) == "1264.56"


def test_a_quote_that_never_closes_refuses_the_file_naming_its_line_and_loads_nothing(tracker, campaign, tmp_path):
    path = write_csv(tmp_path / "g.csv", HEADER + GOOD + 'g3,5.00,2026-12-04T10:00:00-08:00,c@example.org,"Cy\n'
                     + "g4,7.00,2026-12-05T10:00:00-08:00,d@example.org,Di\n")
    result = imported(tracker, path)
    assert result.code == 1 and f"{path}:4: a quote opens on this line and is never closed" in result.err
    assert raised(tracker) == "0.00" and "nothing was imported" in result.err


def test_a_stray_quote_inside_a_value_is_text_not_an_unclosed_quote(tracker, campaign, tmp_path):
    path = write_csv(tmp_path / "g.csv", HEADER + GOOD + "g3,5.00,2026-12-04T10:00:00-08:00,c@example.org,5'11\" Cy\n")
    assert imported(tracker, path).code == 0 and raised(tracker) == "35.00"


def test_a_single_quoted_header_does_not_make_the_apostrophe_a_quote_character(tracker, campaign, tmp_path):
    path = write_csv(tmp_path / "g.csv", "'donation_id','amount','donated_at','email','name'\n"
                     "g1,10.00,2026-12-02T10:00:00-08:00,a@example.org,Pat O'Brien\n"
                     "g2,20.00,2026-12-03T10:00:00-08:00,b@example.org,Bo\n"
                     "g3,30.00,2026-12-04T10:00:00-08:00,c@example.org,Ciarán O'Neill\n")
    result = imported(tracker, path, "--format", "generic")
    assert result.code == 0, result.err
    assert "3 rows read: 3 new" in result.out and raised(tracker) == "60.00"


@pytest.mark.parametrize("amount, currency, words", [
    ("€25", "", "'€25' is written in EUR, but the gift's currency is USD"),
    ("25 GBP", "USD", "'25 GBP' is written in GBP, but the gift's currency is USD"),
    ("£25.00", "", "written in GBP"),
])
def test_a_currency_symbol_that_contradicts_the_currency_is_a_reject(tracker, campaign, tmp_path, amount, currency,
                                                                    words):
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,currency,donated_at\n"
                     f"x,{amount},{currency},2026-12-02T10:00:00-08:00\ny,$5.00,USD,2026-12-02T11:00:00-08:00\n")
    result = imported(tracker, path)
    assert result.code == 3 and words in result.err and raised(tracker) == "5.00"


def test_a_zone_abbreviation_is_never_guessed(tracker, campaign, tmp_path):
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at\nx,25,2026-12-01 01:00 EST\n"
                     "y,5,2026-12-01 21:00 UTC\nz,7,2026-12-01 01:00 GMT+3\n")
    result = imported(tracker, path)
    assert result.code == 3
    assert f"{path}:2: donated_at: the time zone 'EST' is an abbreviation the tracker will not guess" in result.err
    assert f"{path}:4: donated_at: '2026-12-01 01:00 GMT+3': GMT+N is read both ways" in result.err
    assert raised(tracker) == "5.00" and "1 new" in result.out  # UTC and GMT are no guess


# -- what aborted becomes a reject -----------------------------------------------------------------

@pytest.mark.parametrize("when, words", [
    ("9999-12-31T23:00-08:00", "outside the dates the tracker can store"),
    ("0001-01-01T00:30+01:00", "outside the dates the tracker can store"),
    ("2026-12-01T10:00+25:00", "the UTC offset is a day or more"),
    ("2026-12-01 10:00 +2500", "the UTC offset is a day or more"),
])
def test_dates_that_cannot_be_stored_are_rejects_and_the_good_rows_load(tracker, campaign, tmp_path, when, words):
    path = write_csv(tmp_path / "g.csv", HEADER + GOOD + f"g3,5.00,{when},c@example.org,Cy\n")
    result = imported(tracker, path)
    assert result.code == 3 and f"{path}:4: donated_at: " in result.err and words in result.err, result.err
    assert raised(tracker) == "30.00"


def test_a_field_longer_than_csv_allows_is_a_reject_and_the_rest_loads(tracker, campaign, tmp_path):
    first, second = GOOD.splitlines(keepends=True)
    path = write_csv(tmp_path / "g.csv", HEADER + first + f"g9,5.00,2026-12-04T10:00:00-08:00,c@example.org,{'x' * 140_000}\n"
                     + second)
    result = imported(tracker, path)
    assert result.code == 3 and f"{path}:3: name is 140,000 characters long, more than the 300" in result.err
    assert raised(tracker) == "30.00"
    rejects = list(csv.reader((tmp_path / "g.rejects.csv").open(encoding="utf-8")))
    assert rejects[1][0] == "3" and len(rejects[1][-1]) < 33_000 and "(cut: 140,000 characters" in rejects[1][-1]


@pytest.mark.parametrize("field, value, words", [
    ("name", "N" * 301, "name is 301 characters long, more than the 300 it may have"),
    ("email", "a" * 390 + "@example.org", "email is 402 characters long, more than the 320"),
    ("name", "Ann\x00Lee", "holds a NUL character"),
    ("donation_id", "g\x00x", "holds a NUL character"),
])
def test_values_no_column_can_hold_are_rejects_on_both_databases(tracker, campaign, tmp_path, field, value, words):
    row = {"donation_id": "g3", "amount": "5.00", "donated_at": "2026-12-04T10:00:00-08:00", "email": "c@example.org",
           "name": "Cy", field: value}
    path = tmp_path / "g.csv"
    path.write_text(HEADER + GOOD + ",".join(row[k] for k in HEADER.strip().split(",")) + "\n", encoding="utf-8")
    result = imported(tracker, path)
    assert result.code == 3 and f"{path}:4: " in result.err and words in result.err, result.err
    assert raised(tracker) == "30.00"


def test_the_same_checks_hold_for_json_lines(tracker, campaign, tmp_path):
    lines = [
        {"donation_id": "j1", "amount": 1e2, "donated_at": "2026-12-02T10:00:00-08:00"},  # 1e2 is 100
        {"donation_id": "j2", "amount": 5, "donated_at": "2026-12-02T10:00:00-08:00", "name": "N" * 400},
        {"donation_id": "j3", "amount": "5", "donated_at": "2026-12-02T10:00:00-08:00", "name": {"first": "A"}},
        {"donation_id": "j4", "amount": "€5", "donated_at": "2026-12-02T10:00:00-08:00"},
        {"donation_id": "j5", "amount": 2.5, "donated_at": "2026-12-02T10:00:00-08:00", "email": "x\u0000@e.org"},
    ]
    text = "\n".join(json.dumps(x) for x in lines) + "\n" + "[" * 100_000 + "]" * 100_000 + "\n"
    path = tmp_path / "g.jsonl"
    path.write_text(text, encoding="utf-8")
    result = imported(tracker, path)
    assert result.code == 3, result.err
    for line, words in ((2, "name is 400 characters"), (3, "name is a JSON object or list"), (4, "written in EUR"),
                        (5, "holds a NUL character"), (6, "nested too deeply")):
        assert f"{path}:{line}: " in result.err and words in result.err, (line, result.err)
    assert raised(tracker) == "100.00"


def test_a_byte_in_another_encoding_refuses_the_file_before_anything_is_written(tracker, campaign, tmp_path):
    rows = "".join(f"g{i},1.00,2026-12-02T10:00:00-08:00,d{i}@example.org,D{i}\n" for i in range(60_000))
    path = tmp_path / "g.csv"
    path.write_bytes((HEADER + rows).encode() + "g-x,1.00,2026-12-02T10:00:00-08:00,x@example.org,Jos".encode()
                     + "é".encode("latin-1") + b"\n")
    result = imported(tracker, path, "--chunk-rows", "1000")
    assert result.code == 1, result.err
    assert f"{path}:60002: is not utf-8 text (byte 0xe9); nothing was imported" in result.err
    assert "--encoding" in result.err and raised(tracker) == "0.00"
    again = imported(tracker, path, "--encoding", "latin-1")
    assert again.code == 0 and raised(tracker) == "60001.00"
    assert "José" not in again.err  # no personal data in the summary


# -- re-imports: newest wins, for amounts too --------------------------------------------------------

def test_reimporting_an_older_file_never_undoes_a_corrected_amount(tracker, campaign, tmp_path, sessions):
    old = write_csv(tmp_path / "monday.csv", HEADER + "g1,100.00,2026-12-02T10:00:00-08:00,a@example.org,Ann\n")
    new = write_csv(tmp_path / "tuesday.csv", HEADER + "g1,1000.00,2026-12-02T10:00:00-08:00,a@example.org,Ann\n")
    assert imported(tracker, old).code == 0 and imported(tracker, new).code == 0
    assert raised(tracker) == "1000.00"
    again = imported(tracker, old)
    assert again.code == 0 and "1 rows are older than what is stored" in again.out
    assert raised(tracker) == "1000.00"
    with sessions.begin() as session:
        assert session.scalar(select(ImportBatch.older).order_by(ImportBatch.id.desc()).limit(1)) == 1
    # a new file with a new correction still wins
    newest = write_csv(tmp_path / "wednesday.csv", HEADER + "g1,999.00,2026-12-02T10:00:00-08:00,a@example.org,Ann\n")
    assert imported(tracker, newest).code == 0 and raised(tracker) == "999.00"


# -- files the tracker writes are inert ------------------------------------------------------------

def test_formulas_planted_in_rejected_rows_never_run_in_a_spreadsheet(tracker, campaign, tmp_path):
    soffice = shutil.which("soffice")
    require(soffice is not None, "LibreOffice is not installed (apt-get install --no-install-recommends libreoffice-calc)")
    path = write_csv(tmp_path / "g.csv", HEADER + GOOD
                     + 'g3,five,2026-12-04T10:00:00-08:00,c@example.org,"=HYPERLINK(""http://x.example"",""y"")"\n'
                     + "g4,six,2026-12-04T10:00:00-08:00,d@example.org,=1+1\n"
                     + "g5,seven,2026-12-04T10:00:00-08:00,e@example.org,=cmd|' /C calc'!A0\n")
    assert imported(tracker, path).code == 3
    rejects = tmp_path / "g.rejects.csv"
    out = tmp_path / "out"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--convert-to", "xlsx",
                    "--outdir", str(out), str(rejects)], check=True, capture_output=True, timeout=120)
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    sheet = ET.fromstring(zipfile.ZipFile(out / "g.rejects.xlsx").read("xl/worksheets/sheet1.xml"))
    assert [c.get("r") for c in sheet.iter(f"{ns}c") if c.find(f"{ns}f") is not None] == []
    assert len(list(csv.reader(rejects.open(encoding="utf-8")))) == 4


def test_the_oracle_finds_formulas_in_a_csv_written_without_the_rule(tmp_path):
    soffice = shutil.which("soffice")
    require(soffice is not None, "LibreOffice is not installed")
    raw = tmp_path / "raw.csv"
    raw.write_text("name\n=1+1\n", encoding="utf-8")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--convert-to", "xlsx",
                    "--outdir", str(tmp_path), str(raw)], check=True, capture_output=True, timeout=120)
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    sheet = ET.fromstring(zipfile.ZipFile(tmp_path / "raw.xlsx").read("xl/worksheets/sheet1.xml"))
    assert [c.get("r") for c in sheet.iter(f"{ns}c") if c.find(f"{ns}f") is not None] == ["A2"]


def test_rejects_pointing_at_the_input_file_is_refused_and_the_input_kept(tracker, campaign, tmp_path):
    path = write_csv(tmp_path / "g.csv", HEADER + GOOD + "g3,five,2026-12-04T10:00:00-08:00,c@example.org,Cy\n")
    before = path.read_bytes()
    result = imported(tracker, path, "--rejects", path)
    assert result.code == 2 and "is the input file itself" in result.err
    assert path.read_bytes() == before and raised(tracker) == "0.00"


# -- imports at the same time, and imports that were killed -------------------------------------------

def overlapping_files(tmp_path, n=3000):
    rows = [f"g{i},{1 + i % 50}.00,2026-12-{2 + i % 20:02d}T10:00:00-08:00,d{i % 700}@example.org,D{i % 700}\n"
            for i in range(n)]
    a = write_csv(tmp_path / "a.csv", HEADER + "".join(rows[: 2 * n // 3]))
    b = write_csv(tmp_path / "b.csv", HEADER + "".join(rows[n // 3:]))
    return a, b, sum(1 + i % 50 for i in range(n))


def test_two_chunked_imports_started_together_both_complete_and_count_each_gift_once(tracker, campaign, db_url, tmp_path):
    a, b, dollars = overlapping_files(tmp_path)
    env = {**os.environ, "TRACKER_DATABASE_URL": db_url, "TRACKER_TIMEZONE": "America/Los_Angeles"}
    runs = [subprocess.Popen([sys.executable, "-m", "tracker", "ingest", "donations", str(f), "--quiet",
                              "--chunk-rows", "100", "--first-load", "no"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in (a, b)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in runs]
    for code, out, err in results:
        assert code == 0 and "internal error" not in err, (out, err)
    assert raised(tracker) == f"{dollars}.00"
    listed = tracker("imports", "list")
    assert listed.out.count("completed") == 2


def test_an_import_whose_process_is_gone_shows_as_interrupted(tracker, campaign, sessions, tmp_path):
    from tracker.dates import utc_now
    from tracker.db import process_name

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host = process_name().rpartition(":")[0]
    with sessions.begin() as session:
        for owner in (f"{host}:{gone.pid}", process_name(), "another-host:1"):
            session.add(ImportBatch(filename=f"{owner}.csv", sha256="0" * 64, format="generic", source="generic",
                                    started_at=utc_now(), status="running", rows_read=0, inserted=0, updated=0,
                                    unchanged=0, skipped=0, superseded=0, rejected=0, older=0, owner=owner))
    listed = tracker("imports", "list").out.splitlines()
    state = {line.split()[-2]: line.split()[5] for line in listed[1:]}
    assert state == {f"{host}:{gone.pid}.csv": "interrupted", f"{process_name()}.csv": "running",
                     "another-host:1.csv": "running"}


def test_a_killed_import_shows_as_interrupted_and_running_it_again_completes_it(tracker, campaign, db_url, tmp_path):
    rows = "".join(f"g{i},1.00,2026-12-02T10:00:00-08:00,d{i}@example.org,D{i}\n" for i in range(200_000))
    path = tmp_path / "big.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    env = {**os.environ, "TRACKER_DATABASE_URL": db_url, "TRACKER_TIMEZONE": "America/Los_Angeles"}
    run = subprocess.Popen([sys.executable, "-m", "tracker", "ingest", "donations", str(path), "--quiet",
                            "--chunk-rows", "20000", "--first-load", "no"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    from tracker import db

    engine = db.make_engine(db_url)
    try:
        import time

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # killed once a chunk is in
            with engine.connect() as conn:
                if conn.execute(select(func.count()).select_from(Donation)).scalar() >= 20_000:
                    break
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)
        run.wait()
    finally:
        engine.dispose()
    assert "interrupted" in tracker("imports", "list").out
    assert imported(tracker, path, "--first-load", "no").code == 0
    assert raised(tracker) == "200000.00"
