"""What finance needs of the exports: any range of local days without a campaign, every gift's refund, dispute,
payout, fund, GL code, CRM id, method and void, dates typed in a workbook, the byte-order mark in the dashboard's
CSV, and a personal-data export recorded before its first row (even when the reader stops early)."""

import csv
import io
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select, update

from conftest import require, utc, write_csv
from tracker import rollups
from tracker.ingest.loader import COLUMNS
from tracker.ingest.states import effective
from tracker.models import AuditEntry, Donation, GiftDetail

REALDATA = Path(__file__).parent / "realdata"
COUNTED = ("succeeded", "partially_refunded", "refunded")


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def ingest(tracker, path, *extra, tz="America/New_York"):
    out = tracker("ingest", "donations", path, "--quiet", "--timezone", tz, *extra)
    assert out.code in (0, 3), out.err
    return out


NOVEMBER = """donation_id,amount,donated_at,email,donor_id,fee,payout_id,fund,gl_code,status,refunded_amount,refunded_at
before,1.00,2026-10-31T23:59:59-04:00,a@x.org,CRM-1,,,,,,,
first,10.00,2026-11-01T00:00:00-04:00,b@x.org,CRM-2,0.59,po_111,Newsroom fund,4010,,,
half,20.00,2026-11-15T12:00:00-05:00,c@x.org,,0.88,po_222,,4020,partially_refunded,5.00,2026-11-20T09:30:00-05:00
last,40.00,2026-11-30T23:59:59-05:00,d@x.org,CRM-4,,,Investigations,,,,
after,80.00,2026-12-01T00:00:00-05:00,e@x.org,CRM-5,,,,,,,
"""


def test_any_local_days_without_a_campaign_even_with_several_or_none(tracker, make_campaign, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "nov.csv", NOVEMBER)
    ingest(tracker, path)
    days = ("--from", "2026-11-01", "--to", "2026-11-30", "--as-of", "2027-01-02")
    # no campaign at all, and no zone said: the command says how to give one
    out = tracker("export", "donations", *days)
    assert out.code == 2 and "TRACKER_TIMEZONE" in out.err and "--timezone" in out.err
    out = tracker("export", "donations", *days, "--timezone", "America/New_York")
    assert out.code == 0, out.err
    assert [r["donation_id"] for r in rows_of(out.out)] == ["first", "half", "last"]
    # two campaigns in other zones, none covering November: the organization's zone from the environment
    make_campaign("dec-2026")
    make_campaign("dec-2026-eu", tz="Europe/Paris")
    monkeypatch.setenv("TRACKER_TIMEZONE", "America/New_York")
    gifts = rows_of(tracker("export", "donations", *days).out)
    assert [r["donation_id"] for r in gifts] == ["first", "half", "last"]
    assert gifts[0]["donated_at"] == "2026-11-01T00:00:00-04:00" and gifts[2]["local_date"] == "2026-11-30"
    daily = rows_of(tracker("export", "daily", *days).out)
    assert [(r["date"], r["raised"], r["share_of_goal"]) for r in daily] == [
        ("2026-11-01", "10.00", ""), ("2026-11-15", "15.00", ""), ("2026-11-30", "40.00", "")]
    channels = rows_of(tracker("export", "channels", *days).out)
    assert sum(Decimal(r["raised"]) for r in channels) == Decimal("65.00")
    recon = tracker("export", "reconciliation", *days)
    assert recon.code == 0, recon.err
    lines = rows_of(recon.out)
    assert [r["raised"] for r in lines if r["key"] == "tracker status"] == ["65.00"]
    assert [r["key"] for r in lines if r["section"] == "ties"] == ["yes"]
    out = tracker("export", "donors", *days)
    assert out.code == 2 and "needs a campaign" in out.err and "--campaign" in out.err
    # a campaign named keeps its window in its zone: November 30 23:59:59 in New York is December 1 in Paris
    out = tracker("export", "donations", "--campaign", "dec-2026-eu", "--as-of", "2027-01-02")
    assert [r["donation_id"] for r in rows_of(out.out)] == ["last", "after"]
    assert tracker("export", "donations", "--from", "2026-11-30", "--to", "2026-11-01").code == 2


def test_the_donations_export_has_refund_dispute_payout_fund_gl_crm_id_and_method(tracker, sessions, tmp_path,
                                                                                 monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "America/New_York")
    path = write_csv(tmp_path / "nov.csv", NOVEMBER)
    ingest(tracker, path)
    ingest(tracker, path)  # the same file again: nothing doubles, nothing is lost
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(GiftDetail)) == 3  # sparse: gifts that have any
    # a later file without the detail columns keeps them; one that says a new payout moves it
    write_csv(tmp_path / "again.csv", "donation_id,amount,donated_at,email,donor_id\n"
              "first,10.00,2026-11-01T00:00:00-04:00,b@x.org,CRM-2\n")
    ingest(tracker, tmp_path / "again.csv")
    gifts = {r["donation_id"]: r for r in rows_of(tracker("export", "donations", "--from", "2026-11-01", "--to",
                                                          "2026-11-30", "--as-of", "2027-01-02").out)}
    first, half, last = gifts["first"], gifts["half"], gifts["last"]
    assert (first["payout_id"], first["fund"], first["gl_code"], first["crm_donor_id"]) == (
        "po_111", "Newsroom fund", "4010", "CRM-2")
    assert (half["refunded"], half["refunded_at"], half["net"], half["crm_donor_id"]) == (
        "5.00", "2026-11-20T09:30:00-05:00", "14.12", "")  # a donor known by e-mail has no CRM id
    assert (last["fund"], last["payout_id"], last["refunded_at"], last["dispute_status"]) == ("Investigations", "", "",
                                                                                             "")
    assert {r["method"] for r in gifts.values()} == {""}  # a CRM file without a method or processor does not say
    assert {r["entered_by"] for r in gifts.values()} == {""} and {r["voided_at"] for r in gifts.values()} == {""}


def test_the_real_stripe_export_gives_each_gift_its_payout_and_refund_date(tracker, sessions, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "UTC")
    path = REALDATA / "stripe-unified-payments-deidentified" / "unified_payments.csv"
    ingest(tracker, path, "--format", "stripe", tz="UTC")
    with path.open(encoding="utf-8") as fh:
        source = {r["id"]: r for r in csv.DictReader(fh)}
    out = tracker("export", "donations", "--from", "2020-01-01", "--to", "2030-12-31", "--as-of", "2031-01-01")
    assert out.code == 0, out.err
    gifts = rows_of(out.out)
    assert gifts and {g["method"] for g in gifts} == {"card"}
    paid_out = [g for g in gifts if g["payout_id"]]
    assert len(paid_out) > 100
    assert all(g["payout_id"] == source[g["donation_id"]]["Transfer"] for g in gifts)  # each its own, none invented
    refunded = [g for g in gifts if Decimal(g["refunded"]) > 0]
    assert refunded and all(g["refunded_at"] for g in refunded)
    g = refunded[0]
    assert g["refunded_at"] == source[g["donation_id"]]["Refunded date (UTC)"].replace(" ", "T") + "+00:00"
    with sessions.begin() as session:
        stored = session.scalar(select(func.count()).select_from(GiftDetail))
    ingest(tracker, path, "--format", "stripe", tz="UTC")  # again: the same details, no more rows
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(GiftDetail)) == stored == len(
            {g["donation_id"] for g in gifts if g["payout_id"] or g["refunded_at"]})


def test_a_mapping_names_the_payout_fund_and_gl_code_columns(tracker, tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "America/New_York")
    mapping = tmp_path / "crm.toml"
    mapping.write_text('[mapping]\nsource = "crm"\n[columns]\ndonation_id = "Gift ID"\namount = "Amount"\n'
                       'donated_at = "Date"\ndonor_id = "Constituent"\nfund = "Designation"\ngl_code = "GL"\n'
                       'payout_id = "Deposit"\n', encoding="utf-8")
    path = write_csv(tmp_path / "crm.csv", "Gift ID,Amount,Date,Constituent,Designation,GL,Deposit\n"
                     "G-1,100.00,2026-11-03 10:00,C-77,=Scholarships,4100,DEP-9\n")
    ingest(tracker, path, "--format", "mapping", "--mapping", mapping)
    [g] = rows_of(tracker("export", "donations", "--from", "2026-11-01", "--to", "2026-11-30").out)
    assert (g["fund"], g["gl_code"], g["payout_id"], g["crm_donor_id"]) == ("'=Scholarships", "4100", "DEP-9", "C-77")


def _void(sessions, external_id: str, at: datetime) -> None:
    """Void a gift as `tracker gifts void` does: it stops counting, the rollups follow, the gift stays."""
    with sessions.begin() as session:
        gift = session.scalar(select(Donation).where(Donation.external_id == external_id))
        old = {c: getattr(gift, c) for c in COLUMNS}
        state = effective(gift.payment_status, gift.amount_cents, gift.refund_cents, gift.dispute_status,
                          gift.dispute_cents, "voided")
        session.execute(update(Donation).where(Donation.id == gift.id).values(
            voided_at=at, status=state.status, refunded_cents=state.refunded_cents))
        deltas = rollups.Deltas()
        deltas.change(old, {**old, "status": state.status, "refunded_cents": state.refunded_cents})
        deltas.flush(session)


def test_a_voided_gift_is_listed_and_marked_but_counts_nowhere_and_the_totals_tie(tracker, sessions, tmp_path,
                                                                                 monkeypatch):
    monkeypatch.setenv("TRACKER_TIMEZONE", "America/New_York")
    ingest(tracker, write_csv(tmp_path / "nov.csv", NOVEMBER))
    _void(sessions, "last", utc(2026, 12, 2, 15))
    days = ("--from", "2026-11-01", "--to", "2026-11-30", "--as-of", "2027-01-02")
    gifts = {r["donation_id"]: r for r in rows_of(tracker("export", "donations", *days).out)}
    assert gifts["last"]["voided_at"] == "2026-12-02T10:00:00-05:00" and gifts["last"]["net"] == "0.00"
    counted = [g for g in gifts.values() if g["status"] in COUNTED]
    recon = rows_of(tracker("export", "reconciliation", *days).out)
    assert [r["key"] for r in recon if r["section"] == "ties"] == ["yes"]
    [status] = [r["raised"] for r in recon if r["key"] == "tracker status"]
    assert sum(Decimal(g["amount"]) - Decimal(g["refunded"]) for g in counted) == Decimal(status) == Decimal("25.00")


def test_a_workbook_types_its_dates_as_dates_in_openpyxl_and_in_a_real_spreadsheet(tracker, tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.setenv("TRACKER_TIMEZONE", "America/New_York")
    ingest(tracker, write_csv(tmp_path / "nov.csv", NOVEMBER))
    days = ("--from", "2026-11-01", "--to", "2026-11-30", "--as-of", "2027-01-02", "--format", "xlsx")
    assert tracker("export", "donations", *days, "--out", tmp_path / "gifts.xlsx").code == 0
    assert tracker("export", "daily", *days, "--out", tmp_path / "daily.xlsx").code == 0
    sheet = openpyxl.load_workbook(tmp_path / "gifts.xlsx").active
    header = [c.value for c in sheet[1]]
    half = dict(zip(header, sheet[3]))
    assert half["donated_at"].is_date and half["donated_at"].value == datetime(2026, 11, 15, 12)
    assert half["donated_at"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert half["local_date"].is_date and half["local_date"].value == datetime(2026, 11, 15)
    assert half["local_date"].number_format == "yyyy-mm-dd"
    assert half["refunded_at"].is_date and half["refunded_at"].value == datetime(2026, 11, 20, 9, 30)
    assert (half["amount"].value, half["payout_id"].value, half["payout_id"].data_type) == (20, "po_222", "s")
    daily = openpyxl.load_workbook(tmp_path / "daily.xlsx").active
    assert daily["A2"].is_date and daily["A2"].value == datetime(2026, 11, 1)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    require(soffice is not None, "LibreOffice is not installed (apt-get install libreoffice-calc)")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "csv", "--outdir", str(tmp_path / "out"), str(tmp_path / "gifts.xlsx")],
                   check=True, capture_output=True, timeout=120)
    seen = rows_of((tmp_path / "out" / "gifts.csv").read_text(encoding="utf-8"))
    # the spreadsheet shows them by their number format: dates it knows as dates, not text
    assert (seen[1]["donated_at"], seen[1]["local_date"], seen[1]["refunded_at"]) == (
        "2026-11-15 12:00:00", "2026-11-15", "2026-11-20 09:30:00")


def test_a_personal_export_read_by_head_is_recorded_before_its_first_row(db_url, tmp_path):
    env = {**os.environ, "TRACKER_TIMEZONE": "America/New_York"}
    lines = ["donation_id,amount,donated_at,email,name"] + [
        f"g{i:05d},{i % 90 + 1}.00,2026-11-{i % 28 + 1:02d}T10:00:00-05:00,d{i}@x.org,Zoë Ñandú {i}"
        for i in range(4000)]
    (tmp_path / "many.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tracker = [sys.executable, "-m", "tracker", "--db", db_url]
    subprocess.run([*tracker, "ingest", "donations", str(tmp_path / "many.csv"), "--quiet"], env=env, check=True,
                   capture_output=True, timeout=300)
    command = " ".join([*tracker, "export", "donations", "--include-personal", "--from", "2026-11-01", "--to",
                        "2026-11-30"]) + " | head -1"
    done = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.startswith("donation_id,source,") and done.stdout.count("\n") == 1
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    audit = subprocess.run([*tracker, "audit", "list"], env=env, capture_output=True, text=True, timeout=120).stdout
    assert "export donations with personal data: local days 2026-11-01 to 2026-11-30 (America/New_York, no " \
           "campaign)" in audit and "(4,000 rows)" in audit


def test_the_dashboard_offers_the_csv_for_excel_with_the_same_bytes_as_the_cli(tracker, sessions, tmp_path,
                                                                               monkeypatch):
    from dashboards.app import create_app
    from dashboards.pages import finance as finance_page

    monkeypatch.setenv("TRACKER_TIMEZONE", "America/New_York")
    ingest(tracker, write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at,email,name\n"
                              "A,10,2026-11-02 10:00,a@x.org,José Núñez\n"))
    assert tracker("export", "donations", "--from", "2026-11-01", "--to", "2026-11-30", "--as-of", "2027-01-02",
                   "--include-personal", "--excel", "--out", tmp_path / "cli.csv").code == 0
    clock = lambda: utc(2026, 12, 5)  # noqa: E731
    app = create_app(sessions, as_of=utc(2027, 1, 2, 5), clock=clock, require_login=False)
    client = app.server.test_client()
    got = client.get("/download/export/donations?from=2026-11-01&to=2026-11-30&excel=1&personal=1")
    assert got.status_code == 200, got.data
    assert got.data.startswith(b"\xef\xbb\xbf") and got.data == (tmp_path / "cli.csv").read_bytes()
    assert "José Núñez".encode() in got.data
    plain_csv = client.get("/download/export/donations?from=2026-11-01&to=2026-11-30")
    assert not plain_csv.data.startswith(b"\xef\xbb\xbf") and b"Jos" not in plain_csv.data
    with sessions.begin() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert len(entries) == 2 and "dashboard download" in entries[1].detail
    # the finance page links the same download
    from tracker.manage import create_campaign

    with sessions.begin() as session:
        create_campaign(session, slug="dec-2026", name="December", goal_cents=100_00, currency="USD",
                        timezone="America/New_York", start=date(2026, 12, 1), end=date(2026, 12, 31), now=clock())
    with sessions.begin() as session:
        links, _ = finance_page.show(session, "dec-2026", "donations", None, False, utc(2027, 1, 2), donor_level=True,
                                     chosen=False)
    hrefs = [c.href for c in links.children]
    assert any("excel=1" in h and "format=csv" in h for h in hrefs)
