"""Pledges, on SQLite and PostgreSQL: money promised and not received yet is never in raised, is shown beside it as
"committed, not yet received" (status, JSON, report, /api/progress, export, the Overview), and becomes a gift,
linked and not doubled, when the money arrives by a file, a webhook or by hand."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from sqlalchemy import select

from conftest import utc, write_csv
from tracker.ingest import pledges as pledge_writes
from tracker.models import Donation, Pledge

HEADER = "donation_id,amount,donated_at,email,name,status,refunded_amount,currency,processor,processor_id\n"
AS_OF = ("--as-of", "2026-12-31T12:00:00-08:00")


def status(tracker, *as_of):
    out = tracker("status", "--json", *(as_of or AS_OF))
    assert out.code == 0, out
    return json.loads(out.out)


def pledge(external_id, email, dollars, pledged, expected=None, kind="check", reference=None, currency="USD"):
    return pledge_writes.NewPledge(
        external_id=external_id, donor_key=f"email:{email}", email=email, name=None, amount_cents=dollars * 100,
        currency=currency, pledged_at=pledged, expected_at=expected, kind=kind, reference=reference)


def gift(external_id, email, amount, when, status="succeeded", refunded="0", currency="USD", processor_id=""):
    return (f"{external_id},{amount},{when},{email},,{status},{refunded},{currency},"
            f"{'stripe' if processor_id else ''},{processor_id}\n")


# each case: the pledges stored, the gifts imported after them, and which gift each pledge ends fulfilled by
LINKING = [
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8), reference="ch_123")],
        [gift("G1", "someone@example.org", "480.00", "2027-01-25T10:00:00-08:00", processor_id="ch_123")],
        {"P1": "G1"}, id="the processor id equal to the reference fulfils it, whoever gave and however much"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8))],
        [gift("G1", "ana@example.org", "500.00", "2027-01-25T10:00:00-08:00")],
        {"P1": "G1"}, id="the same donor and amount after the pledge fulfils it"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8))],
        [gift("G1", "ana@example.org", "500.00", "2026-12-19T10:00:00-08:00")],
        {"P1": None}, id="a gift before the pledge does not"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8))],
        [gift("G1", "ana@example.org", "499.99", "2027-01-25T10:00:00-08:00"),
         gift("G2", "bob@example.org", "500.00", "2027-01-25T10:00:00-08:00")],
        {"P1": None}, id="another amount or another donor does not"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8))],
        [gift("G1", "ana@example.org", "500.00", "2027-01-25T10:00:00-08:00", status="failed"),
         gift("G2", "ana@example.org", "500.00", "2027-01-26T10:00:00-08:00", status="refunded", refunded="500.00")],
        {"P1": "G2"}, id="a failed payment does not; a refunded gift that counted does"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8), expected=date(2027, 2, 1)),
         pledge("P2", "ana@example.org", 500, utc(2026, 12, 21, 8), expected=date(2027, 1, 25))],
        [gift("G1", "ana@example.org", "500.00", "2027-01-25T10:00:00-08:00")],
        {"P1": None, "P2": "G1"}, id="one gift for two pledges goes to the one expected first"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8)),
         pledge("P2", "ana@example.org", 500, utc(2026, 12, 20, 8))],
        [gift("G2", "ana@example.org", "500.00", "2027-01-26T10:00:00-08:00"),
         gift("G1", "ana@example.org", "500.00", "2027-01-25T10:00:00-08:00")],
        {"P1": "G1", "P2": "G2"}, id="each gift fulfils one pledge, the earliest gift the first pledge"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8), expected=date(2027, 1, 1)),
         pledge("P2", "bob@example.org", 500, utc(2026, 12, 20, 8), expected=date(2027, 2, 1), reference="ch_9")],
        [gift("G1", "ana@example.org", "500.00", "2027-01-25T10:00:00-08:00", processor_id="ch_9")],
        {"P1": None, "P2": "G1"}, id="a reference beats the donor rule, whatever the order"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8), currency="EUR")],
        [gift("G1", "ana@example.org", "500.00", "2027-01-25T10:00:00-08:00")],
        {"P1": None}, id="another currency does not"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8), reference="DAF-881")],
        [gift("DAF-881", "someone@example.org", "480.00", "2027-01-25T10:00:00-08:00")],
        {"P1": "DAF-881"}, id="the gift's own id (its donation id) equal to the reference fulfils it"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8), reference="DON-5")],
        [gift("DON-5", "someone@example.org", "480.00", "2027-01-25T10:00:00-08:00", processor_id="ch_other")],
        {"P1": "DON-5"}, id="so does the donation id of a gift that has a processor id of its own"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8), reference="REF-1")],
        [gift("G1", "someone@example.org", "500.00", "2027-01-26T10:00:00-08:00", processor_id="REF-1"),
         gift("REF-1", "other@example.org", "500.00", "2027-01-25T10:00:00-08:00")],
        {"P1": "REF-1"}, id="of two gifts with the reference, one by processor id, one by donation id, the earlier"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8), reference="ch_7", currency="EUR")],
        [gift("G1", "ana@example.org", "500.00", "2027-01-25T10:00:00-08:00", processor_id="ch_7")],
        {"P1": None}, id="a reference in another currency does not"),
    pytest.param(
        [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8), reference="ch_8")],
        [gift("G1", "someone@example.org", "500.00", "2027-01-25T10:00:00-08:00", status="failed",
              processor_id="ch_8")],
        {"P1": None}, id="a failed payment with the reference does not"),
]


@pytest.mark.parametrize("stored, gifts, links", LINKING)
def test_a_pledge_is_fulfilled_by_the_gift_its_money_arrived_as(tracker, sessions, make_campaign, tmp_path, stored,
                                                                gifts, links):
    make_campaign()
    with sessions.begin() as session:
        assert pledge_writes.store(session, "crm", stored, actor="test", now=utc(2026, 12, 22)) == (len(stored), 0, 0)
    path = write_csv(tmp_path / "gifts.csv", HEADER + "".join(gifts))
    result = tracker("ingest", "donations", path, "--format", "generic", "--as-of", "2027-02-01T12:00:00-08:00")
    assert result.code == 0, result
    with sessions.begin() as session:
        found = {p.external_id: g for p, g in session.execute(
            select(Pledge, Donation.external_id).outerjoin(Donation, Donation.id == Pledge.fulfilled_donation_id))}
    assert found == links
    linked = sum(1 for g in links.values() if g)
    assert (f"{linked} pledge{'s' if linked != 1 else ''} fulfilled" in result.out) == bool(linked), result.out
    # running the pass again changes nothing
    with sessions.begin() as session:
        assert pledge_writes.link_open(session, now=utc(2027, 2, 2)) == 0


def test_pledged_money_is_never_in_raised_and_leaves_committed_once_the_gift_arrives(tracker, make_campaign, tmp_path):
    make_campaign()
    added = tracker("gift", "add", "--pledged", "--amount", "1,000", "--donated-at", "2026-12-20", "--expected",
                    "2026-12-28", "--kind", "check", "--reference", "CHECK-77", "--donor-email", "Ana@Example.org",
                    "--as-of", "2026-12-20T12:00")
    assert added.code == 0, added
    assert added.out.startswith("added pledge 1 (manual:P-000001): $1,000.00 pledged on 2026-12-20 08:00 UTC, "
                                "expected 2026-12-28; not in raised")
    tracker("gift", "add", "--pledged", "--amount", "250", "--donated-at", "2026-12-21", "--kind",
            "paypal_giving_fund", "--expected", "2027-01-25", "--donor-email", "bo@example.org", "--as-of", "2026-12-21")
    before = status(tracker, "--as-of", "2026-12-27T12:00")
    assert before["raised"] == "0.00" and before["pledged"] == "1250.00"
    assert before["pledges"]["open"] == 2 and before["pledges"]["overdue"] == 0
    assert [e["date"] for e in before["pledges"]["expected"]] == ["2026-12-28", "2027-01-25"]
    # the expected day passed: overdue, still committed, still not in raised
    late = status(tracker, "--as-of", "2026-12-29T12:00")
    assert late["pledged"] == "1250.00" and late["raised"] == "0.00"
    assert late["pledges"]["overdue"] == 1 and late["pledges"]["overdue_amount"] == "1000.00"
    assert late["pledges"]["expected"][0] == {"date": "2026-12-28", "pledges": 1, "amount": "1000.00", "overdue": True}
    text = tracker("status", "--as-of", "2026-12-29T12:00").out
    assert ("  Committed  $1,250.00 in 2 pledges, expected Dec 28, 2026 to Jan 25, 2027; 1 overdue ($1,000.00), "
            "not yet received (not in raised)") in text
    # the check arrives, entered by hand with its number: one gift, counted once, the pledge no longer committed
    arrived = tracker("gift", "add", "--amount", "1000", "--donated-at", "2026-12-30", "--donor-email",
                      "ana@example.org", "--reference", "CHECK-77", "--as-of", "2026-12-30T12:00")
    assert arrived.code == 0 and "the gift fulfils 1 pledge" in arrived.out, arrived
    shown = tracker("gift", "show", arrived.out.split()[2])
    assert "fulfils pledge 1 (manual:P-000001, check, 1000.00, linked by reference)" in shown.out, shown
    after = status(tracker)
    assert after["raised"] == "1000.00" and after["pledged"] == "250.00"
    assert after["pledges"]["received"] == {"pledges": 1, "amount": "1000.00"}
    # as of before it arrived, the figures are what they were
    assert status(tracker, "--as-of", "2026-12-29T12:00")["pledged"] == "1250.00"
    listed = json.loads(tracker("pledge", "list", "--json", *AS_OF).out)["pledges"]
    assert [(p["pledge_id"], p["state"], p["linked_by"]) for p in listed] == [
        ("P-000001", "fulfilled", "reference"), ("P-000002", "open", None)]
    assert "email" not in listed[0]  # names and e-mails only with --include-personal


def test_a_pledge_by_hand_gets_the_same_checks_as_a_gift_and_clear_messages(tracker, make_campaign):
    make_campaign()
    base = ["gift", "add", "--pledged", "--donor-email", "ana@example.org", "--as-of", "2026-12-20"]
    for args, message in (
        (("--amount", "500", "--donated-at", "2026-12-20", "--kind", "check", "--expected", "25/01/2027"),
         "the expected date '25/01/2027' is not a date written YYYY-MM-DD"),
        (("--amount", "500", "--donated-at", "2026-12-20", "--kind", "check", "--expected", "2026-12-01"),
         "before the pledge itself"),
        (("--amount", "1.000", "--donated-at", "2026-12-20", "--kind", "check"), "could be read two ways"),
        (("--amount", "0", "--donated-at", "2026-12-20", "--kind", "check"), "a pledge of nothing"),
        (("--amount", "500", "--donated-at", "03/12/2026", "--kind", "check"), "could be March 12 or 3 December"),
        (("--amount", "500", "--donated-at", "2026-12-20"), "a pledge needs --kind"),
    ):
        result = tracker(*base, *args)
        assert result.code != 0 and message in result.err and "Traceback" not in result.err, (args, result)
    wrong = tracker("gift", "add", "--amount", "5", "--donated-at", "2026-12-20", "--donor-email", "a@example.org",
                    "--expected", "2027-01-25")
    assert wrong.code != 0 and "add --pledged" in wrong.err
    assert status(tracker)["pledged"] == "0.00"


def test_cancel_and_link_by_hand(tracker, make_campaign, tmp_path, sessions):
    make_campaign()
    for email in ("ana@example.org", "bo@example.org"):
        assert tracker("gift", "add", "--pledged", "--amount", "300", "--donated-at", "2026-12-20", "--kind", "daf",
                       "--donor-email", email, "--as-of", "2026-12-20").code == 0
    assert status(tracker)["pledged"] == "600.00"
    cancelled = tracker("pledge", "cancel", "1", "--reason", "the donor changed their mind", "--as-of",
                        "2026-12-22T12:00")
    assert cancelled.code == 0, cancelled
    assert status(tracker)["pledged"] == "300.00"
    again = tracker("pledge", "cancel", "1", "--reason", "twice")
    assert again.code != 0 and "was cancelled on 2026-12-22 20:00 UTC" in again.err
    # the grant arrives from the fund's own address: the rule cannot tell, so finance links it by hand
    path = write_csv(tmp_path / "grant.csv", HEADER + gift("DAF-1", "grants@fund.example", "300.00",
                                                           "2026-12-29T10:00:00-08:00"))
    assert tracker("ingest", "donations", path, "--format", "generic").code == 0
    assert status(tracker)["pledged"] == "300.00"
    with sessions.begin() as session:
        gift_id = session.scalar(select(Donation.id).where(Donation.external_id == "DAF-1"))
    linked = tracker("pledge", "link", "2", str(gift_id), "--as-of", "2026-12-30")
    assert linked.code == 0 and linked.out.strip() == f"pledge 2 is fulfilled by gift {gift_id}", linked
    after = status(tracker)
    assert after["pledged"] == "0.00" and after["raised"] == "300.00"
    twice = tracker("pledge", "link", "2", str(gift_id))
    assert twice.code != 0 and f"was fulfilled already, by gift {gift_id}" in twice.err
    assert tracker("pledge", "link", "99", "1").code != 0
    listed = tracker("pledge", "list", "--state", "cancelled", *AS_OF).out
    assert "cancelled (the donor changed their mind)" in listed


PGF_MAPPING = """\
[mapping]
name = "PayPal Giving Fund"
source = "pgf"
pledged = true
pledge_kind = "paypal_giving_fund"
expected_after_days = 36
timezone = "America/Los_Angeles"

[columns]
donation_id = "Transaction ID"
amount = "Gross"
donated_at = "Date"
email = "Email"
name = "Name"
reference = "Payout Reference"
"""
PGF_FILE = """\
Transaction ID,Gross,Date,Email,Name,Payout Reference
PGF-1,50.00,2026-12-18,ana@example.org,Ana,
PGF-2,75.00,2026-12-20,cy@example.org,Cy,PGF-PAYOUT-2
PGF-3,abc,2026-12-20,cy@example.org,Cy,
"""


def test_a_file_of_pledges_through_a_mapping_is_safe_to_import_again(tracker, make_campaign, tmp_path, sessions):
    make_campaign()
    mapping = write_csv(tmp_path / "pgf.toml", PGF_MAPPING)
    path = write_csv(tmp_path / "pgf.csv", PGF_FILE)
    first = tracker("ingest", "donations", path, "--format", "mapping", "--mapping", mapping, *AS_OF)
    assert first.code == 3, first  # one bad row: rejected with its line, the others stored
    assert "3 rows read: 2 new, 0 updated, 0 unchanged, 0 skipped, 1 rejected" in first.out
    assert "pgf.csv:4: amount" in first.out + first.err
    again = tracker("ingest", "donations", path, "--format", "mapping", "--mapping", mapping, *AS_OF)
    assert "3 rows read: 0 new, 0 updated, 2 unchanged" in again.out
    st = status(tracker)
    assert st["raised"] == "0.00" and st["pledged"] == "125.00"
    assert st["pledges"]["by_kind"] == [{"kind": "paypal_giving_fund", "pledges": 2, "amount": "125.00"}]
    assert [e["date"] for e in st["pledges"]["expected"]] == ["2027-01-23", "2027-01-25"]
    # January: PayPal Giving Fund pays them out; one with its payout reference, one to the same donor and amount
    payouts = write_csv(tmp_path / "payouts.csv", HEADER
                        + gift("PO-1", "giving-fund@paypal.example", "75.00", "2027-01-25T09:00:00-08:00",
                               processor_id="PGF-PAYOUT-2")
                        + gift("PO-2", "ana@example.org", "50.00", "2027-01-25T09:00:00-08:00"))
    done = tracker("ingest", "donations", payouts, "--format", "generic", "--as-of", "2027-01-26")
    assert done.code == 0 and "2 pledges fulfilled" in done.out, done
    assert status(tracker, "--as-of", "2027-01-26T12:00")["pledged"] == "0.00"
    with sessions.begin() as session:
        assert sorted(session.scalars(select(Pledge.fulfilled_by))) == ["donor", "reference"]


@pytest.mark.parametrize("toml, message", [
    ('[mapping]\npledge_kind = "daf"\n[columns]\ndonation_id = "a"\namount = "b"\ndonated_at = "c"\n',
     "add pledged = true"),
    ('[mapping]\npledged = true\n[columns]\ndonation_id = "a"\namount = "b"\ndonated_at = "c"\n',
     "a file of pledges needs their kind"),
    ('[mapping]\npledged = true\npledge_kind = "maybe"\n[columns]\ndonation_id = "a"\namount = "b"\ndonated_at = "c"\n',
     "pledge_kind = 'maybe': use one of paypal_giving_fund, daf, check, match, other"),
    ('[mapping]\n[columns]\ndonation_id = "a"\namount = "b"\ndonated_at = "c"\nexpected_at = "d"\n',
     "[columns] expected_at is a pledge's field"),
])
def test_a_mapping_of_pledges_that_cannot_work_is_refused_with_the_fix(tracker, make_campaign, tmp_path, toml, message):
    make_campaign()
    mapping = write_csv(tmp_path / "m.toml", toml)
    path = write_csv(tmp_path / "f.csv", "a,b,c,d\n1,5,2026-12-20,2027-01-01\n")
    result = tracker("ingest", "donations", path, "--format", "mapping", "--mapping", mapping)
    assert result.code == 2 and message in result.err and "Traceback" not in result.err, result


def test_the_pledges_export_and_the_report_show_the_same_figures(tracker, make_campaign, tmp_path):
    make_campaign()
    tracker("gift", "add", "--pledged", "--amount", "25000", "--donated-at", "2026-12-26", "--expected", "2027-02-15",
            "--kind", "match", "--reference", "=MATCH", "--donor-email", "sponsor@example.org", "--name", "Sponsor Co",
            "--as-of", "2026-12-26")
    out = tracker("export", "pledges", "--campaign", "dec-2026", *AS_OF)
    assert out.code == 0, out
    rows = list(csv.DictReader(io.StringIO(out.out)))
    assert [(r["pledge_id"], r["kind"], r["amount"], r["expected_date"], r["state"], r["reference"]) for r in rows] == [
        ("P-000001", "match", "25000.00", "2027-02-15", "open", "'=MATCH")]  # formula-like text made inert
    assert "donor_name" not in rows[0]
    personal = tracker("export", "pledges", "--campaign", "dec-2026", "--include-personal", *AS_OF)
    assert list(csv.DictReader(io.StringIO(personal.out)))[0]["donor_name"] == "Sponsor Co"
    assert "export pledges with personal data" in tracker("audit", "list").out
    report = json.loads(tracker("report", "--format", "json", *AS_OF).out)
    assert report["pledged"] == "25000.00" and report["raised"] == "0.00"
    text = tracker("report", "--format", "text", *AS_OF).out
    assert "Committed" in text and "$25,000.00 in 1 pledge, expected Feb 15, 2027" in text


def test_a_payment_by_webhook_fulfils_the_pledge_with_its_charge_id(sessions, make_campaign):
    import hooks as h
    from tracker.dates import utc_now
    from tracker.webhooks import inbox
    from tracker.webhooks.events import stripe_envelope
    from tracker.webhooks.worker import Worker

    make_campaign()
    with sessions.begin() as session:
        pledge_writes.store(session, "crm", [pledge("P1", "ana@example.org", 500, utc(2026, 12, 20, 8),
                                                    kind="match", reference="ch_match")], actor="test", now=utc_now())
        ev = h.event("evt_1", "charge.succeeded", h.charge("ch_match", 50_000, utc(2026, 12, 30, 18)),
                     utc(2026, 12, 30, 18))
        inbox.store(session, "stripe", stripe_envelope(ev), json.dumps(ev), now=utc_now())
    assert Worker(sessions, currency="USD", clock=utc_now).run_once().applied == 1
    with sessions.begin() as session:
        p = session.scalar(select(Pledge))
        g = session.get(Donation, p.fulfilled_donation_id)
        assert (g.external_id, p.fulfilled_by) == ("ch_match", "reference")
        from tracker import queries, service

        st = service.campaign_status(session, queries.get_campaign(session, "dec-2026"), as_of=utc(2027, 1, 2))
        assert (st.raised_cents, st.committed.cents, st.committed.received) == (50_000, 0, 1)


def test_a_reference_finds_its_gift_whatever_the_source_the_processor_or_the_id(tracker, sessions, make_campaign,
                                                                               tmp_path):
    """A reference is a gift's payment id (any processor) or its donation id (any source): a file's row, a gift
    entered by hand, a PayPal webhook's capture; one reference per pledge, each gift fulfils one."""
    import hooks as h
    from tracker.dates import utc_now
    from tracker.webhooks import inbox
    from tracker.webhooks.events import paypal_envelope
    from tracker.webhooks.worker import Worker

    make_campaign()
    path = write_csv(tmp_path / "gifts.csv", HEADER + gift("CRM-1", "a@example.org", "10.00", "2026-12-24T10:00:00Z",
                                                             processor_id="ch_crm") +
                     gift("CRM-2", "b@example.org", "11.00", "2026-12-24T11:00:00Z") +
                     "CRM-3,12.00,2026-12-24T12:00:00Z,c@example.org,,succeeded,0,USD,square,sq_3\n")
    assert tracker("ingest", "donations", path, "--format", "generic", "--source", "crm",
                   "--as-of", "2026-12-25T12:00").code == 0
    added = tracker("gift", "add", "--amount", "13", "--donated-at", "2026-12-26", "--donor-email", "d@example.org",
                    "--as-of", "2026-12-26T12:00")
    assert added.code == 0, added
    t0 = utc(2026, 12, 27, 18)
    with sessions.begin() as session:
        ev = h.paypal_event("WH-1", "PAYMENT.CAPTURE.COMPLETED", h.capture("TX-PP1", "14.00", t0), t0)
        inbox.store(session, "paypal", paypal_envelope(ev), json.dumps(ev), now=utc_now())
    assert Worker(sessions, currency="USD", clock=utc_now).run_once().applied == 1
    with sessions.begin() as session:
        manual_id = session.scalar(select(Donation.external_id).where(Donation.source == "manual"))
        # CRM-1 is named by two pledges (its charge id, its donation id): it fulfils the one expected first, P1
        wanted = {"P1": "CRM-1", "P2": "CRM-2", "P3": "CRM-3", "P4": manual_id, "P5": "TX-PP1", "P6": None,
                  "P7": None}
        references = {"P1": "ch_crm", "P2": "CRM-2", "P3": "sq_3", "P4": manual_id, "P5": "TX-PP1", "P6": "ch_none",
                      "P7": "CRM-1"}
        pledge_writes.store(session, "grants", [
            pledge(pid, f"{pid.lower()}@example.org", 777, utc(2026, 12, 20), expected=date(2027, 1, i + 1),
                   reference=ref) for i, (pid, ref) in enumerate(references.items())], actor="test", now=utc_now())
    with sessions.begin() as session:
        assert pledge_writes.link_open(session, now=utc(2026, 12, 28)) == 5
        found = {p.external_id: (g.external_id if g else None, p.fulfilled_by) for p, g in session.execute(
            select(Pledge, Donation).outerjoin(Donation, Donation.id == Pledge.fulfilled_donation_id))}
    assert found == {p: (g, "reference" if g else None) for p, g in wanted.items()}, found
    with sessions.begin() as session:
        assert {s for s, in session.execute(select(Donation.source).distinct())} == {"crm", "manual", "paypal"}


def test_a_gift_voided_or_an_import_undone_opens_its_pledge_again(tracker, make_campaign, tmp_path):
    make_campaign()
    assert tracker("gift", "add", "--pledged", "--amount", "200", "--donated-at", "2026-12-20", "--kind", "check",
                   "--donor-email", "ana@example.org", "--as-of", "2026-12-20T12:00").code == 0
    path = write_csv(tmp_path / "g.csv", HEADER + gift("G1", "ana@example.org", "200.00", "2026-12-29T10:00:00-08:00"))
    assert "1 pledge fulfilled" in tracker("ingest", "donations", path, "--format", "generic").out
    assert (status(tracker)["pledged"], status(tracker)["raised"]) == ("0.00", "200.00")
    undone = tracker("imports", "undo", "1")
    assert undone.code == 0, undone  # the gift it created goes; the pledge it fulfilled does not block that
    assert (status(tracker)["pledged"], status(tracker)["raised"]) == ("200.00", "0.00")
    # the check arrives by hand and is then voided (it bounced): committed again
    added = tracker("gift", "add", "--amount", "200", "--donated-at", "2026-12-30", "--donor-email", "ana@example.org",
                    "--as-of", "2026-12-30T12:00")
    assert "the gift fulfils 1 pledge" in added.out
    gift_id = int(added.out.split()[2])
    assert status(tracker)["pledged"] == "0.00"
    assert tracker("gift", "void", gift_id, "--reason", "the check bounced").code == 0
    assert (status(tracker)["pledged"], status(tracker)["raised"]) == ("200.00", "0.00")
    # a file of pledges undone takes its pledges with it
    mapping = write_csv(tmp_path / "pgf.toml", PGF_MAPPING)
    pledged = tracker("ingest", "donations", write_csv(tmp_path / "pgf.csv", PGF_FILE), "--format", "mapping",
                      "--mapping", mapping)
    import_id = int(pledged.out.split("(import #")[1].split(")")[0])
    assert status(tracker)["pledged"] == "325.00"
    assert tracker("imports", "undo", str(import_id)).code == 0
    assert status(tracker)["pledged"] == "200.00"


def test_the_public_progress_says_the_committed_total_and_never_who(tracker, make_campaign, sessions):
    import urllib.request

    from conftest import serving
    from dashboards.app import create_app

    make_campaign()
    assert tracker("gift", "add", "--pledged", "--amount", "700", "--donated-at", "2026-12-20", "--kind", "daf",
                   "--donor-email", "quiet.donor@example.org", "--name", "Quiet Donor", "--as-of", "2026-12-20").code == 0
    at = utc(2026, 12, 28, 20)
    with serving(create_app(sessions, as_of=at).server) as base:
        with urllib.request.urlopen(f"{base}/api/progress?campaign=dec-2026", timeout=10) as answer:
            raw = answer.read().decode()
    body = json.loads(raw)
    assert (body["raised"], body["pledged"]) == ("0.00", "700.00")
    assert "quiet.donor" not in raw and "Quiet Donor" not in raw
    assert body["pledged"] == status(tracker, "--as-of", "2026-12-28T12:00")["pledged"]
