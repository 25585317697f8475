"""One gift, however many files it appears in: a processor's export and a CRM export of the same gifts.

With the processor's id in both (a CRM's "Stripe Charge ID"), the gift is recognized and counted once,
whichever file comes first. Without it, likely pairs are listed, both count, and a person decides.
Every test runs on SQLite and PostgreSQL through the CLI, as finance would.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from conftest import write_csv
from tracker.models import Donation, DuplicatePair

STRIPE = """\
id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Status,Mode,Customer ID,Customer Email,Fee,Description
ch_1,2026-12-02 17:02:11,50.00,0.00,usd,true,Paid,Live,cus_1,ana@example.org,1.75,Year-end gift
ch_2,2026-12-02 18:10:00,25.00,0.00,usd,true,Paid,Live,cus_2,ben@example.org,1.03,Year-end gift
ch_3,2026-12-03 09:30:00,100.00,10.00,usd,true,Paid,Live,cus_3,cy@example.org,3.20,Year-end gift
"""
STRIPE_RAISED = "165.00"  # 50 + 25 + (100 - 10 refunded)

# The CRM's own export of the same gifts, with Stripe's charge id, and a check only the CRM knows.
CRM = """\
Gift ID,Gift Date,Gift Amount,Donor Email,Donor Name,Stripe Charge ID
crm-101,2026-12-02 09:02:11,50.00,ana@example.org,Ana Silva,ch_1
crm-102,2026-12-02 10:10:00,25.00,ben@example.org,Ben Ode,ch_2
crm-103,2026-12-03 01:30:00,100.00,cy@example.org,Cy Tran,ch_3
crm-104,2026-12-04 12:00:00,40.00,dee@example.org,Dee Park,
"""
CRM_MAPPING = """\
[mapping]
name = "Our CRM"
source = "crm"
processor = "stripe"

[columns]
donation_id = "Gift ID"
donated_at = "Gift Date"
amount = "Gift Amount"
email = "Donor Email"
name = "Donor Name"
processor_id = "Stripe Charge ID"
"""

ARGS = ("--as-of", "2026-12-20T12:00:00-08:00")


@pytest.fixture
def files(tmp_path, make_campaign):
    make_campaign()
    return {"stripe": write_csv(tmp_path / "unified_payments.csv", STRIPE),
            "crm": write_csv(tmp_path / "crm_gifts.csv", CRM),
            "mapping": write_csv(tmp_path / "crm.toml", CRM_MAPPING)}


def status(tracker) -> dict:
    result = tracker("status", *ARGS, "--json")
    assert result.code == 0, result.err
    return json.loads(result.out)


def import_stripe(tracker, files):
    return tracker("ingest", "donations", files["stripe"])


def import_crm(tracker, files):
    return tracker("ingest", "donations", files["crm"], "--mapping", files["mapping"])


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("stripe_first", [True, False], ids=["stripe-then-crm", "crm-then-stripe"])
def test_a_stripe_export_and_a_crm_export_of_the_same_charges_count_the_stripe_total_once(tracker, files, sessions,
                                                                                          stripe_first):
    first, second = (import_stripe, import_crm) if stripe_first else (import_crm, import_stripe)
    assert first(tracker, files).code == 0
    result = second(tracker, files)
    assert result.code == 0, result.err
    assert "3 rows are gifts stored from another source" in result.out  # said, not silent
    st = status(tracker)
    assert st["raised"] == "205.00"  # Stripe's 165.00 once, and the CRM's check of 40.00
    assert st["donations"] == 4
    with sessions.begin() as session:
        # the processor's own export names the gift and says its money, whichever came first
        named = dict(session.execute(select(Donation.processor_id, Donation.source).where(
            Donation.processor_id.is_not(None))).all())
        assert named == {"ch_1": "stripe", "ch_2": "stripe", "ch_3": "stripe"}
        assert session.scalar(select(Donation.refunded_cents).where(Donation.processor_id == "ch_3")) == 1000
        assert session.scalar(select(func.count()).select_from(DuplicatePair)) == 0  # nothing left to decide
    # both files again, in either order: nothing new, nothing counted twice
    for again in (import_crm, import_stripe):
        assert again(tracker, files).code == 0
    assert status(tracker)["raised"] == "205.00"
    recon = rows_of(tracker("export", "reconciliation", "--campaign", "dec-2026", *ARGS).out)
    assert [r["key"] for r in recon if r["section"] == "ties"] == ["yes"]
    files_lines = [r for r in recon if r["section"] == "file"]
    assert len(files_lines) == 4
    crm_lines = [r for r in files_lines if " crm " in r["key"]]
    assert {r["gross"] for r in crm_lines} == {"215.00"}  # what the CRM's file says, refund unknown to it
    if stripe_first:  # stored, ch_3 counts Stripe's refund: the CRM file's line shows the difference
        assert crm_lines[0]["raised"] == "205.00"
    # recognized: the second file, and the CRM's again (Stripe's own rows name their gifts once they are stored)
    assert [r["gifts"] for r in recon if r["section"] == "file recognized"] == ["3", "3"]
    assert [(r["gifts"], r["raised"]) for r in recon if r["section"] == "duplicates"] == [("0", "0.00")]


def test_the_generic_csv_names_the_processor_and_its_id(tracker, files, tmp_path):
    crm = write_csv(tmp_path / "gifts.csv", """\
        donation_id,donated_at,amount,email,processor,processor_id
        g-1,2026-12-02 09:02:11,50.00,ana@example.org,Stripe,ch_1
        g-2,2026-12-02 10:10:00,25.00,ben@example.org,stripe,ch_2
        g-3,2026-12-02 10:10:00,25.00,ben@example.org,stripe,
        """)
    assert tracker("ingest", "donations", crm, "--source", "crm").code == 3  # g-3 rejected: id without processor
    result = import_stripe(tracker, files)
    assert "2 rows are gifts stored from another source" in result.out
    assert status(tracker)["raised"] == STRIPE_RAISED


def test_without_the_charge_ids_likely_pairs_are_listed_and_count_once_only_after_merge(tracker, files, sessions,
                                                                                       tmp_path):
    crm = write_csv(tmp_path / "crm_no_ids.csv", """\
        donation_id,donated_at,amount,email
        crm-1,2026-12-02 09:04:00,50.00,ana@example.org
        crm-2,2026-12-02 10:13:30,25.00,ben@example.org
        crm-3,2026-12-02 14:00:00,25.00,ben@example.org
        crm-4,2026-12-05 10:00:00,30.00,cy@example.org
        """)  # crm-1, crm-2 are minutes from ch_1, ch_2; crm-3 is hours away; crm-4 another amount
    assert import_stripe(tracker, files).code == 0
    result = tracker("ingest", "donations", crm, "--source", "crm")
    assert result.code == 0, result.err
    assert "2 gifts look like gifts of another source" in result.out
    st = status(tracker)
    assert st["raised"] == "295.00"  # both count until someone decides: 165 + 50 + 25 + 25 + 30
    assert st["duplicates_undecided"] == {"pairs": 2, "amount": "75.00"}
    assert "Duplicates 2 likely pairs await a decision ($75.00 counted twice" in tracker("status", *ARGS).out
    listed = json.loads(tracker("duplicates", "list", "--json").out)
    assert listed["undecided"] == 2 and listed["undecided_amounts"] == {"USD": "75.00"}
    pairs = {p["b"]["donation_id"]: (p["a"]["id"], p["b"]["id"]) for p in listed["pairs"]}
    assert set(pairs) == {"crm-1", "crm-2"} and all(p["a"]["source"] == "stripe" for p in listed["pairs"])
    recon = rows_of(tracker("export", "reconciliation", "--campaign", "dec-2026", *ARGS).out)
    assert [(r["gifts"], r["raised"]) for r in recon if r["section"] == "duplicates"] == [("2", "75.00")]

    merged = tracker("duplicates", "merge", *pairs["crm-1"])
    assert merged.code == 0, merged.err
    assert tracker("duplicates", "keep", *pairs["crm-2"]).code == 0
    st = status(tracker)
    assert st["raised"] == "245.00" and st["donations"] == 6  # crm-1 counts no longer; crm-2 is a real gift
    assert st["duplicates_undecided"] == {"pairs": 0, "amount": "0.00"}
    # the CRM file again: the merged gift stays a duplicate, the kept pair is not listed again
    again = tracker("ingest", "donations", crm, "--source", "crm")
    assert again.code == 0 and "look like gifts" not in again.out
    assert status(tracker)["raised"] == "245.00"
    assert "no likely duplicates awaiting a decision" in tracker("duplicates", "list").out
    with sessions.begin() as session:
        gift = session.scalar(select(Donation).where(Donation.external_id == "crm-1"))
        assert (gift.status, gift.duplicate_of) == ("duplicate", pairs["crm-1"][0])
        decided = {p.status: p.decided_by for p in session.scalars(select(DuplicatePair))}
        assert set(decided) == {"merged", "kept"} and all("uid" in who or who for who in decided.values())
    # the merge is in the gift's history, with who decided it; the re-import changed nothing more
    shown = json.loads(tracker("gift", "show", pairs["crm-1"][1], "--json").out)
    assert [(h["kind"], h["note"]) for h in shown["history"]] == [("duplicate", f"a duplicate of gift {pairs['crm-1'][0]}")]
    assert "(uid " in shown["history"][0]["by"]


def test_deciding_a_pair_twice_or_one_that_is_not_listed_says_why(tracker, files, tmp_path):
    crm = write_csv(tmp_path / "crm.csv", """\
        donation_id,donated_at,amount,email
        crm-1,2026-12-02 09:04:00,50.00,ana@example.org
        """)
    import_stripe(tracker, files)
    tracker("ingest", "donations", crm, "--source", "crm")
    pair = json.loads(tracker("duplicates", "list", "--json").out)["pairs"][0]
    a, b = pair["a"]["id"], pair["b"]["id"]
    missing = tracker("duplicates", "merge", a, 9999)
    assert missing.code != 0 and "not a listed pair" in missing.err and "Traceback" not in missing.err
    assert tracker("duplicates", "merge", a, b).code == 0
    twice = tracker("duplicates", "keep", a, b)
    assert twice.code != 0 and "decided already (merged" in twice.err
    assert status(tracker)["raised"] == STRIPE_RAISED


def test_a_later_refund_of_a_merged_duplicate_does_not_make_it_count_again(tracker, files, tmp_path):
    crm = write_csv(tmp_path / "crm.csv", """\
        donation_id,donated_at,amount,email,status,refunded_amount
        crm-1,2026-12-02 09:04:00,50.00,ana@example.org,succeeded,0
        """)
    import_stripe(tracker, files)
    tracker("ingest", "donations", crm, "--source", "crm")
    pair = json.loads(tracker("duplicates", "list", "--json").out)["pairs"][0]
    tracker("duplicates", "merge", pair["a"]["id"], pair["b"]["id"])
    write_csv(crm, """\
        donation_id,donated_at,amount,email,status,refunded_amount
        crm-1,2026-12-02 09:04:00,50.00,ana@example.org,partially_refunded,20.00
        """)
    assert tracker("ingest", "donations", crm, "--source", "crm").code == 0
    assert status(tracker)["raised"] == STRIPE_RAISED


def test_the_dashboard_imports_tab_says_how_many_pairs_await_a_decision(tracker, files, sessions, tmp_path):
    from dashboards.pages import imports

    crm = write_csv(tmp_path / "crm.csv", """\
        donation_id,donated_at,amount,email
        crm-1,2026-12-02 09:04:00,50.00,ana@example.org
        """)
    import_stripe(tracker, files)
    with sessions.begin() as session:
        assert "await a decision" not in str(imports.show(session, "dec-2026", True))
    tracker("ingest", "donations", crm, "--source", "crm")
    with sessions.begin() as session:
        page = str(imports.show(session, "dec-2026", True))
    assert "1 likely duplicate pair awaits a decision" in page and "tracker duplicates merge A B" in page
