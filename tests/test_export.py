"""Finance exports: they reconcile with `tracker status` to the cent, follow the CSV conventions, respect the
date filters in the campaign's zone, keep personal data out unless asked (and audited), and cannot run as
formulas when a real spreadsheet program opens them."""

import csv
import io
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from datetime import datetime
from decimal import Decimal

import pytest

from conftest import require, utc, write_csv
from tracker import db, demo, queries
from tracker.campaign import status_json
from tracker.dates import zone
from tracker.export import DonationRow, neutralize, write_donations
from tracker.service import campaign_status

LA = zone("America/Los_Angeles")
MID = datetime(2026, 12, 28, 12, tzinfo=LA)


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_exports_reconcile_with_status_to_the_cent(tracker, db_url):
    with db.session_factory(db.make_engine(db_url)).begin() as session:
        demo.build(session, now=MID)
        status = status_json(campaign_status(session, queries.get_campaign(session, "dec-2026"), as_of=MID))
    args = ("--campaign", "dec-2026", "--as-of", MID.isoformat())
    recon = tracker("export", "reconciliation", *args)
    assert recon.code == 0, recon.err
    lines = rows_of(recon.out)
    verdict = [r for r in lines if r["section"] == "ties"]
    assert [v["key"] for v in verdict] == ["yes"]
    assert [r["raised"] for r in lines if r["key"] == "tracker status"] == [status["raised"]]
    assert [r for r in lines if r["key"] == "by source"][0]["raised"] == status["raised"]
    daily = rows_of(tracker("export", "daily", *args).out)
    assert daily[-1]["cumulative"] == status["raised"] and daily[-1]["date"] == "2026-12-28"
    assert sum(int(r["gifts"]) for r in daily) == status["donations"]
    gifts = rows_of(tracker("export", "donations", *args).out)
    counted = [g for g in gifts if g["status"] in ("succeeded", "partially_refunded", "refunded")]
    assert sum(Decimal(g["amount"]) - Decimal(g["refunded"]) for g in counted) == Decimal(status["raised"])
    kept = [g for g in counted if Decimal(g["amount"]) > Decimal(g["refunded"])]
    assert all(Decimal(g["net"]) == Decimal(g["amount"]) - Decimal(g["refunded"]) - Decimal(g["fee"] or 0) for g in kept)
    assert all(Decimal(g["net"]) == 0 for g in gifts if g not in kept)  # refunded in full, failed, pending
    channels = rows_of(tracker("export", "channels", *args).out)
    assert sum(Decimal(r["raised"]) for r in channels) == Decimal(status["raised"])
    donors = rows_of(tracker("export", "donors", *args).out)
    seg = status["segments"]
    for name in ("new", "retained", "reactivated"):
        mine = [d for d in donors if d["segment"] == name]
        assert (len(mine), sum(Decimal(d["amount"]) for d in mine)) == (seg[name]["donors"], Decimal(seg[name]["amount"]))
    lybunt = rows_of(tracker("export", "lybunt", *args).out)
    assert (len(lybunt), sum(Decimal(r["last_campaign_amount"]) for r in lybunt)) == (
        seg["lybunt"]["donors"], Decimal(seg["lybunt"]["amount"]))
    assert not {d["donor_id"] for d in donors} & {r["donor_id"] for r in lybunt}  # lapsed donors have not given yet
    appeals = rows_of(tracker("export", "appeals", *args).out)
    report = json.loads(tracker("appeals", "report", *args, "--json").out)
    assert [(r["variant"], int(r["donations"]), r["revenue"]) for r in appeals] == [
        (v["key"], v["donations"], v["revenue"]) for v in report["variants"]]
    assert "@" not in "".join(tracker("export", k, *args).out for k in ("donations", "donors", "lybunt", "appeals"))


def test_csv_conventions_header_order_two_decimals_iso_times_and_a_bom_for_excel(tracker, make_campaign, tmp_path):
    make_campaign()
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at,email,fee\nA,\"1,234.50\",2026-12-02 10:00,a@x.org,3.10\n")
    assert tracker("ingest", "donations", path, "--quiet", "--timezone", "America/Los_Angeles").code == 0
    out = tracker("export", "donations", "--as-of", "2027-01-02", "--out", tmp_path / "e.csv", "--excel")
    raw = (tmp_path / "e.csv").read_bytes()
    assert out.code == 0 and raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header == ("donation_id,source,donated_at,local_date,donor_id,amount,fee,net,refunded,currency,status,"
                      "channel,appeal_variant,recurring,import_id,refunded_at,dispute_status,dispute_amount,payout_id,"
                      "fund,gl_code,crm_donor_id,method,entered_by,voided_at,adjusts_period,adjusted_at,"
                      "original_amount,original_currency,rate,rate_date,rate_source")
    assert "a@x.org" not in text  # no personal data without --include-personal
    assert row.split(",")[2:10] == ["2026-12-02T10:00:00-08:00", "2026-12-02", "1", "1234.50", "3.10", "1231.40",
                                   "0.00", "USD"]


def test_one_rule_for_net_in_every_export_refunded_and_failed_gifts_add_nothing(tracker, make_campaign, tmp_path):
    make_campaign(raised_basis="net_of_fees")
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at,email,status,refunded_amount,fee,channel\n"
                     "kept,100.00,2026-12-02 10:00,a@x.org,succeeded,,3.20,web\n"
                     "half,50.00,2026-12-02 11:00,b@x.org,partially_refunded,20.00,1.75,web\n"
                     "back,40.00,2026-12-02 12:00,c@x.org,refunded,40.00,1.46,web\n"
                     "declined,25.00,2026-12-02 13:00,d@x.org,failed,,1.03,web\n"
                     "waiting,30.00,2026-12-02 14:00,e@x.org,pending,,1.17,mail\n"
                     "contested,60.00,2026-12-03 09:00,f@x.org,disputed,,2.04,mail\n")
    assert tracker("ingest", "donations", path, "--quiet", "--timezone", "America/Los_Angeles").code == 0
    args = ("--as-of", "2027-01-02")
    nets = {g["donation_id"]: g["net"] for g in rows_of(tracker("export", "donations", *args).out)}
    assert nets == {"kept": "96.80", "half": "28.25", "back": "0.00", "declined": "0.00", "waiting": "0.00",
                    "contested": "0.00"}
    daily = rows_of(tracker("export", "daily", *args).out)
    assert [(d["date"], d["fees"], d["net"], d["raised"]) for d in daily] == [("2026-12-02", "4.95", "125.05", "125.05")]
    channels = {r["channel"]: (r["fees"], r["raised"]) for r in rows_of(tracker("export", "channels", *args).out)}
    assert channels == {"web": ("4.95", "125.05")}  # the pending and the disputed gift count nowhere yet
    recon = rows_of(tracker("export", "reconciliation", *args).out)
    assert [(r["fees"], r["raised"]) for r in recon if r["section"] == "source"] == [("4.95", "125.05")]
    assert [r["key"] for r in recon if r["section"] == "ties"] == ["yes"]
    assert json.loads(tracker("status", "--as-of", "2027-01-02", "--json").out)["raised"] == "125.05"


def test_date_filters_are_inclusive_local_days(tracker, make_campaign, tmp_path):
    make_campaign(tz="Asia/Kolkata")
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at,email\n"
                     "before,1,2026-12-04T23:59:59+05:30,a@x.org\nfirst,2,2026-12-05T00:00:00+05:30,b@x.org\n"
                     "last,4,2026-12-06T23:59:59+05:30,c@x.org\nafter,8,2026-12-07T00:00:00+05:30,d@x.org\n")
    assert tracker("ingest", "donations", path, "--quiet", "--timezone", "Asia/Kolkata").code == 0
    out = tracker("export", "donations", "--from", "2026-12-05", "--to", "2026-12-06", "--as-of", "2027-01-02")
    assert [r["donation_id"] for r in rows_of(out.out)] == ["first", "last"]
    daily = rows_of(tracker("export", "daily", "--from", "2026-12-05", "--to", "2026-12-06", "--as-of", "2027-01-02").out)
    assert [(r["date"], r["raised"]) for r in daily] == [("2026-12-05", "2.00"), ("2026-12-06", "4.00")]


def test_a_personal_data_export_is_recorded_in_the_audit_log(tracker, make_campaign, tmp_path):
    make_campaign()
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at,email,name\nA,10,2026-12-02 10:00,a@x.org,Ana\n")
    assert tracker("ingest", "donations", path, "--quiet", "--timezone", "America/Los_Angeles").code == 0
    assert tracker("audit", "list").out.strip() == "no personal data has been exported"
    out = tracker("export", "donations", "--include-personal", "--as-of", "2027-01-02", "--out", tmp_path / "p.csv")
    assert out.code == 0 and rows_of((tmp_path / "p.csv").read_text())[0]["donor_email"] == "a@x.org"
    audit = tracker("audit", "list").out
    assert "export donations with personal data: campaign dec-2026" in audit and "(1 rows)" in audit
    assert tracker("export", "daily", "--include-personal").code == 2
    out = tracker("export", "donors", "--include-personal", "--as-of", "2027-01-02")
    assert rows_of(out.out)[0]["donor_name"] == "Ana" and "export donors with personal data" in tracker("audit", "list").out


def test_the_audit_names_the_processs_operating_system_user_whatever_logname_says(tracker, make_campaign, tmp_path,
                                                                                 monkeypatch, sessions):
    import os
    import pwd

    from sqlalchemy import select

    from tracker.models import AuditEntry

    make_campaign()
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at,email,name\nA,10,2026-12-02 10:00,a@x.org,Ana\n")
    assert tracker("ingest", "donations", path, "--quiet", "--timezone", "America/Los_Angeles").code == 0
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "mallory")  # anyone can set these before running the command
    out = tracker("export", "donations", "--include-personal", "--as-of", "2027-01-02", "--out", tmp_path / "p.csv")
    assert out.code == 0, out.err
    with sessions.begin() as session:
        [entry] = session.scalars(select(AuditEntry)).all()
    me = pwd.getpwuid(os.getuid()).pw_name
    assert entry.actor == f"{me} (uid {os.getuid()})" and "mallory" not in entry.actor
    assert "the actor is the operating-system user of the process" in entry.detail
    assert f"{me} (uid {os.getuid()})" in tracker("audit", "list").out


@pytest.mark.parametrize("text, safe", [
    ("=1+1", "'=1+1"), ("+1+1", "'+1+1"), ("-2+3", "'-2+3"), ("@SUM(1,1)", "'@SUM(1,1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("-5", "-5"), ("+12.50", "+12.50"), ("Ana Silva", "Ana Silva"), ("", ""),
])
def test_text_a_spreadsheet_would_run_gets_an_apostrophe_and_numbers_stay_numbers(text, safe):
    assert neutralize(text) == safe


def _formulas_in(csv_path, tmp_path) -> dict:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    require(soffice is not None, "LibreOffice is not installed (apt-get install libreoffice-calc)")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(csv_path)],
                   check=True, capture_output=True, timeout=120)
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    xlsx = tmp_path / "out" / (csv_path.stem + ".xlsx")
    sheet = ET.fromstring(zipfile.ZipFile(xlsx).read("xl/worksheets/sheet1.xml"))
    return {c.get("r"): c.find(f"{ns}f").text for c in sheet.iter(f"{ns}c") if c.find(f"{ns}f") is not None}


HOSTILE = DonationRow(external_id='=HYPERLINK("http://x","y")', source="=1+1", donated_at=utc(2026, 12, 2, 18),
                      donor_id=7, amount_cents=2500, fee_cents=None, refunded_cents=0, currency="USD",
                      status="succeeded", channel="@SUM(1,1)", appeal_variant="+1+1", recurring=False, import_id=1,
                      donor_name="=1+1", donor_email="-2+3")


def test_a_real_spreadsheet_runs_no_formula_from_an_export(tmp_path):
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        write_donations(fh, [HOSTILE], LA, personal=True)
    assert _formulas_in(path, tmp_path) == {}


def test_the_spreadsheet_oracle_does_see_formulas_in_an_unescaped_file(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text('a,b\n"=HYPERLINK(""http://x"",""y"")",=1+1\n', encoding="utf-8")
    assert _formulas_in(path, tmp_path) == {"A2": 'HYPERLINK("http://x","y")', "B2": "1+1"}


def test_an_xlsx_export_types_numbers_as_numbers_and_runs_no_formula(tracker, make_campaign, tmp_path):
    import openpyxl

    make_campaign()
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at,email,name,channel\n"
                     'A,25.00,2026-12-02 10:00,a@x.org,"=1+1",@SUM(1;1)\n')
    assert tracker("ingest", "donations", path, "--quiet", "--timezone", "America/Los_Angeles").code == 0
    out = tracker("export", "donations", "--include-personal", "--format", "xlsx", "--out", tmp_path / "e.xlsx",
                  "--as-of", "2027-01-02")
    assert out.code == 0, out.err
    sheet = openpyxl.load_workbook(tmp_path / "e.xlsx").active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, sheet[2]))
    assert (row["amount"].value, row["amount"].data_type, row["amount"].number_format) == (25, "n", "0.00")
    assert (row["donor_name"].value, row["channel"].value) == ("'=1+1", "'@sum(1;1)")  # channels are lower-cased on import
    assert _formulas_in(tmp_path / "e.xlsx", tmp_path) == {}
    assert tracker("export", "daily", "--format", "xlsx").code == 2  # an xlsx needs --out


def test_the_appeals_export_of_a_campaign_without_variants_says_how_to_load_them(tracker, make_campaign):
    make_campaign()
    out = tracker("export", "appeals")
    assert out.code == 2 and "has no popup variants yet; load them with: tracker appeals load FILE.toml" in out.err
