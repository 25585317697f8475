"""Each import format against its sample in data/samples and real public files in tests/realdata."""

import csv
import tempfile
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import utc, write_csv
from tracker.dates import zone
from tracker.errors import InputFileError
from tracker.errors import InputFileError, UsageError
from tracker.ingest import ImportRequest, RowRules, detect_format, run_import
from tracker.models import Donation, Donor, ImportBatch, Refund

REAL = Path(__file__).parent / "realdata"
SAMPLES = Path(__file__).parent.parent / "data" / "samples"
LA = zone("America/Los_Angeles")


def load(sessions, path, *, fmt=None, mapping=None, source=None, currency="USD", tz=LA, dayfirst=False, rejects=None,
         asked=False):
    """Import a file; `asked`: the date order is the importer's `dayfirst` (else only dayfirst=True is said)."""
    rules = RowRules(source="", timezone=tz, currency=currency, dayfirst=dayfirst)
    rejects = rejects or Path(tempfile.mkdtemp()) / "rejects.csv"  # never beside the shipped files
    request = ImportRequest(path=Path(path), format=fmt, mapping=mapping, source=source, rejects=rejects,
                            dayfirst=dayfirst if asked else None)
    summary = run_import(sessions, request, rules, clock=lambda: utc(2027, 1, 2))
    assert summary.rows_read == (summary.inserted + summary.updated + summary.unchanged + summary.skipped
                                 + summary.rejected + summary.superseded)
    return summary


def gifts(sessions, source):
    with sessions.begin() as session:
        return {d.external_id: d for d in session.scalars(select(Donation).where(Donation.source == source))}


@pytest.mark.parametrize(
    "path, expected",
    [
        (SAMPLES / "donations.csv", "generic"),
        (SAMPLES / "stripe_unified_payments.csv", "stripe"),
        (SAMPLES / "stripe_payments_legacy.csv", "stripe"),
        (SAMPLES / "paypal_activity.csv", "paypal"),
        (SAMPLES / "donations.jsonl", "jsonl"),
        (REAL / "stripe-unified-payments-deidentified" / "unified_payments.csv", "stripe"),
        (REAL / "sdm-payment-exports" / "stripe.csv", "stripe"),
        (REAL / "sdm-payment-exports" / "paypal.csv", "paypal"),
        (REAL / "paypal-activity-download" / "ejbest_Download.CSV", "paypal"),
    ],
)
def test_the_format_is_recognized_from_the_header(path, expected):
    assert detect_format(path) == expected


def test_an_unknown_layout_asks_for_a_format_or_a_mapping():
    with pytest.raises(InputFileError, match="--mapping FILE"):
        detect_format(REAL / "opencollective-astro-transactions" / "astrodotbuild-transactions.csv")


# -- Stripe ---------------------------------------------------------------------------------

def test_real_stripe_unified_export_counts_what_finance_expects(sessions):
    path = REAL / "stripe-unified-payments-deidentified" / "unified_payments.csv"
    summary = load(sessions, path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    with_id = [r for r in rows if r["id"]]
    assert (summary.rows_read, summary.inserted, summary.skipped) == (len(rows), len(with_id), len(rows) - len(with_id))
    assert summary.skip_kinds == Counter({"failed payment intent (no id)": len(rows) - len(with_id)})
    stored = gifts(sessions, "stripe")
    # independent oracle: Amount - Amount Refunded over paid (captured) charges, summed from the file with Decimal
    paid = [r for r in with_id if r["Status"].lower() in ("paid", "succeeded", "refunded") and r["Captured"] == "true"]
    expected_net = sum(Decimal(r["Amount"]) - Decimal(r["Amount Refunded"] or "0") for r in paid)
    counted = [d for d in stored.values() if d.status in ("succeeded", "partially_refunded", "refunded")]
    assert sum(d.amount_cents - d.refunded_cents for d in counted) == int(expected_net * 100)
    assert Counter(d.status for d in stored.values())["failed"] == sum(r["Status"] == "Failed" for r in with_id)
    with sessions.begin() as session:
        donors = session.scalar(select(func.count(func.distinct(Donation.donor_id))).where(Donation.source == "stripe"))
    identified = {r["Customer Email"] or r["Customer ID"] for r in with_id if r["Customer Email"] or r["Customer ID"]}
    anonymous = [r for r in with_id if not (r["Customer Email"] or r["Customer ID"])]
    assert donors == len(identified) + len(anonymous)  # a gift with neither is its own donor
    first = stored["ch_3TKW33KSaqiJUYkj1gGIG6G4"]
    assert first.donated_at == utc(2026, 4, 10, 3, 48, 2) and first.amount_cents == 800 and first.fee_cents == 53
    assert first.recurring  # has an invoice: a subscription charge


def test_stripe_sample_converts_currency_skips_test_mode_and_holds_disputes(sessions):
    load(sessions, SAMPLES / "stripe_unified_payments.csv")
    summary = load(sessions, SAMPLES / "stripe_payments_legacy.csv")
    assert summary.skip_kinds == Counter({"test-mode charge": 1})
    stored = gifts(sessions, "stripe")
    cad = stored["ch_3SampleA0000000000000005"]
    assert (cad.amount_cents, cad.currency, cad.appeal_variant) == (14602, "USD", "join-us")
    assert stored["ch_3SampleA0000000000000003"].status == "partially_refunded"
    assert stored["ch_3SampleA0000000000000003"].refunded_cents == 4000
    assert stored["ch_1SampleLegacy000000002"].status == "disputed"
    assert stored["ch_1SampleLegacy000000001"].appeal_variant == "countdown"  # from "variant (metadata)"
    with sessions.begin() as session:
        no_email = session.get(Donor, stored["ch_1SampleLegacy000000005"].donor_id)
    assert no_email.key == "id:stripe:cus_L0005"


def test_real_legacy_stripe_export_with_uk_dates(sessions):
    summary = load(sessions, REAL / "sdm-payment-exports" / "stripe.csv", currency="GBP", dayfirst=True)
    assert (summary.inserted, summary.rejected) == (4, 0)
    stored = gifts(sessions, "stripe")
    declined = stored["ch_1DzkgvKQq0uhWMx0QrN4z9OV"]
    assert declined.donated_at == utc(2019, 2, 3, 13, 7) and declined.status == "failed"
    refunded = stored["ch_1DTuSFKQq0uhWMx09fvZVE0C"]
    assert (refunded.status, refunded.refunded_cents, refunded.fee_cents) == ("refunded", 2000, 48)


def test_uk_dates_without_dayfirst_are_read_day_first_because_the_file_shows_it(sessions):
    summary = load(sessions, REAL / "sdm-payment-exports" / "stripe.csv", currency="GBP")
    assert (summary.inserted, summary.rejected) == (4, 0)
    assert "dates read day first, as line 4's 19/02/2019 11:10 shows" in summary.notes
    assert gifts(sessions, "stripe")["ch_1DzkgvKQq0uhWMx0QrN4z9OV"].donated_at == utc(2019, 2, 3, 13, 7)


STRIPE_EDGE_ROWS = """id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Status,Mode,Customer ID,Customer Email,Fee,Description,Invoice ID,Card Name,Dispute Status,channel (metadata),appeal_variant (metadata)
ch_1,2026-12-01 17:02:11,50.00,0.00,usd,true,Paid,Live,cus_1,Ana@Example.org,1.75,Year-end gift,,Ana Silva,,Email,countdown
ch_2,2026-12-01 17:02:11,50.00,0.00,usd,true,Paid,Live,cus_2,,1.75,Subscription update,,,,,
ch_3,2026-12-01 17:02:11,50.00,0.00,usd,true,Paid,Live,,,,,in_1,,,,
ch_4,2026-12-01 17:02:11,50.00,10.00,usd,true,Paid,Live,cus_4,d@x.org,1.75,,,,,,
ch_5,2026-12-01 17:02:11,50.00,0.00,usd,false,Paid,Live,cus_5,e@x.org,,,,,,,
ch_6,2026-12-01 17:02:11,50.00,0.00,usd,true,Paid,Test,cus_6,f@x.org,,,,,,,
ch_7,2026-12-01 17:02:11,50.00,0.00,eur,true,Paid,Live,cus_7,g@x.org,,,,,,,
ch_8,2026-12-01 17:02:11,50.00,0.00,usd,true,Paid,Live,cus_8,h@x.org,,,,,needs_response,,
ch_9,2026-12-01 17:02:11,50.00,0.00,usd,true,Failed,Live,cus_9,i@x.org,,,,,,,
,2026-12-01 17:02:11,50.00,0.00,usd,true,Paid,Live,cus_10,j@x.org,,,,,,,
ch_11,01/12/2026 17:02,50.00,0.00,usd,true,Paid,Live,cus_11,k@x.org,,,,,,,
ch_12,2026-12-01 17:02:11,"1,050.00",0.00,usd,true,Paid,Live,cus_12,not-an-email,,,,,,,
ch_13,2026-12-01 17:02:11,50.00,0.00,,true,succeeded,Live,cus_13,,-1.00,,,,,,
ch_14,2026-12-01 17:02:11,50.00
"""


@pytest.mark.parametrize("path, currency, dayfirst", [
    (SAMPLES / "stripe_unified_payments.csv", "USD", False),
    (SAMPLES / "stripe_payments_legacy.csv", "USD", False),
    (REAL / "stripe-unified-payments-deidentified" / "unified_payments.csv", "USD", False),
    (REAL / "sdm-payment-exports" / "stripe.csv", "GBP", True),
    (None, "USD", False),
])
def test_the_stripe_quick_path_agrees_with_the_full_check(path, currency, dayfirst, tmp_path, monkeypatch):
    from tracker.ingest import fields, stripe
    from tracker.ingest.csvfile import CsvFile
    from tracker.ingest.records import NormalizedDonation

    if path is None:
        path = tmp_path / "edge.csv"
        path.write_text(STRIPE_EDGE_ROWS, encoding="utf-8")
    rules = RowRules(source="stripe", timezone=LA, currency=currency, dayfirst=dayfirst)
    source = CsvFile(path)
    checked = []  # lines that went through the full check on the quick normalizer
    full_check = fields.from_fields

    def counting(where, line, data, rules_):
        checked.append(line)
        return full_check(where, line, data, rules_)

    try:
        quick = stripe.normalizer(path, source.header, rules)
        full = stripe.normalizer(path, source.header, rules, quick=False)
        outcomes = []
        for line, values in source.rows():
            monkeypatch.setattr(fields, "from_fields", counting)
            fast = quick(line, values)
            monkeypatch.setattr(fields, "from_fields", full_check)
            outcomes.append((fast, full(line, values)))
    finally:
        source.close()
    for fast, slow in outcomes:
        assert fast == slow
    gifts_made = [slow for _, slow in outcomes if isinstance(slow, NormalizedDonation)]
    assert gifts_made  # every file holds gifts, so the comparison covers both paths' gifts
    if path.name == "edge.csv":  # each unusual row still gets its full treatment
        kinds = [type(slow).__name__ for _, slow in outcomes]
        assert kinds.count("Skipped") == 2 and kinds.count("RowError") >= 3, kinds
        assert not {2, 3, 4} & set(checked)  # the plain charges took the quick path
        assert {5, 6, 9, 12, 13} <= set(checked)  # refunded, not captured, EUR, UK date, bad e-mail did not


# -- PayPal ---------------------------------------------------------------------------------

def test_paypal_sample_ties_a_refund_to_its_payment_and_skips_withdrawals(sessions):
    summary = load(sessions, SAMPLES / "paypal_activity.csv")
    assert summary.skip_kinds == Counter({"not an incoming payment: General Withdrawal": 1})
    assert (summary.inserted, summary.refunds_new, summary.refunds_waiting) == (5, 1, 0)
    stored = gifts(sessions, "paypal")
    assert stored["7PL00000000000003"].status == "refunded" and stored["7PL00000000000003"].refunded_cents == 3000
    assert stored["7PL00000000000002"].status == "pending"
    assert stored["7PL00000000000002"].donated_at == utc(2026, 12, 15, 13, 45)  # the row's own EST
    assert stored["7PL00000000000007"].donated_at == utc(2027, 1, 1, 7, 58, 10)  # 23:58:10 PST
    assert stored["7PL00000000000005"].recurring and stored["7PL00000000000001"].fee_cents == 248
    again = load(sessions, SAMPLES / "paypal_activity.csv")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 6)


def test_a_paypal_refund_that_arrives_before_its_payment_waits_for_it(sessions, tmp_path):
    header = '"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net","From Email Address","Transaction ID","Reference Txn ID"\n'
    refund = write_csv(tmp_path / "refund.csv", header + '"12/29/2026","10:00:00","PST","A","Payment Refund","Completed","USD","-10.00","0.30","-9.70","a@x.org","R1","P1"\n')
    payment = write_csv(tmp_path / "payment.csv", header + '"12/20/2026","10:00:00","PST","A","Donation Payment","Completed","USD","25.00","-0.80","24.20","a@x.org","P1",""\n')
    first = load(sessions, refund)
    assert (first.refunds_new, first.refunds_waiting) == (1, 1)
    load(sessions, payment)
    gift = gifts(sessions, "paypal")["P1"]
    assert (gift.status, gift.refunded_cents) == ("partially_refunded", 1000)
    assert load(sessions, refund).unchanged == 1
    assert gifts(sessions, "paypal")["P1"].refunded_cents == 1000  # the same refund row never counts twice
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Refund).where(Refund.donation_id.is_not(None))) == 1


def test_real_uk_paypal_download(sessions):
    summary = load(sessions, REAL / "sdm-payment-exports" / "paypal.csv", currency="GBP", dayfirst=True,
                   tz=zone("Europe/London"))
    assert (summary.inserted, summary.skipped, summary.rejected) == (3, 1, 0)
    stored = gifts(sessions, "paypal")
    assert stored["41U96238575808349"].donated_at == utc(2018, 10, 1, 11, 27, 44)  # BST is UTC+1
    assert stored["5DE230869C8753128"].recurring  # a subscription payment


def test_real_paypal_file_with_bad_rows_rejects_each_with_its_reason(sessions, tmp_path):
    rejects = tmp_path / "rejects.csv"
    summary = load(sessions, REAL / "sdm-payment-exports" / "paypalWithBadRows.csv", currency="GBP", dayfirst=True,
                   rejects=rejects)
    assert summary.rejected == 3 and summary.inserted == 0
    rows = list(csv.DictReader(rejects.open(encoding="utf-8")))
    assert [r["line"] for r in rows] == ["2", "3", "4"]
    assert "Date is empty" in rows[0]["reason"] and rows[0]["Name"] == "baddate"
    assert "Type is empty" in rows[1]["reason"] and rows[1]["Transaction ID"] == "2E419243RP642233L"
    assert "Status" in rows[2]["reason"]


def test_real_personal_paypal_download_has_no_gifts(sessions):
    with pytest.raises(InputFileError, match="cannot tell the date order"):  # 01/04/2024 ... no day above 12
        load(sessions, REAL / "paypal-activity-download" / "ejbest_Download.CSV")
    summary = load(sessions, REAL / "paypal-activity-download" / "ejbest_Download.CSV", dayfirst=False, asked=True)
    assert (summary.rows_read, summary.skipped, summary.inserted) == (9, 9, 0)


# -- mappings -------------------------------------------------------------------------------

OPEN_COLLECTIVE_REFERENCE = {  # from tests/realdata/opencollective-astro-transactions/SOURCE.md
    2021: (25, "15871.85", "15374.97"), 2022: (52, "84515.51", "82181.20"), 2023: (49, "96016.00", "93325.22"),
    2024: (58, "150946.16", "146391.64"), 2025: (55, "215323.35", "208657.63"), 2026: (31, "18221.00", "17641.63"),
}


def test_real_open_collective_ledger_through_the_shipped_mapping_matches_its_reference(sessions):
    summary = load(sessions, REAL / "opencollective-astro-transactions" / "astrodotbuild-transactions.csv",
                   mapping="opencollective")
    assert (summary.rows_read, summary.inserted, summary.rejected) == (3136, 1399, 0)
    by_year = {}
    for d in gifts(sessions, "opencollective").values():
        if d.status == "succeeded":
            donors, gross, net = by_year.get(d.donated_at.year, (set(), 0, 0))
            by_year[d.donated_at.year] = (donors | {d.donor_id}, gross + d.amount_cents, net + d.amount_cents - d.fee_cents)
    got = {y: (len(v[0]), f"{Decimal(v[1]) / 100:.2f}", f"{Decimal(v[2]) / 100:.2f}") for y, v in by_year.items()}
    assert got == OPEN_COLLECTIVE_REFERENCE


def test_real_actblue_export_with_repeated_header_names(sessions):
    summary = load(sessions, REAL / "actblue-parsons-fixture" / "test_csv_data.csv", mapping="actblue")
    assert summary.inserted == 1
    gift = gifts(sessions, "actblue")["AB12345678"]
    assert gift.donated_at == utc(2020, 1, 1, 9, 33, 42)  # Eastern time
    assert (gift.amount_cents, gift.fee_cents, gift.status) == (200, 8, "succeeded")
    with sessions.begin() as session:
        donor = session.get(Donor, gift.donor_id)
    assert (donor.key, donor.name) == ("email:joeschmoe@gmail.com", "Joe Schmoe")


def test_real_npsp_template_finds_its_header_below_the_instructions(sessions):
    summary = load(sessions, REAL / "npsp-data-import-template" / "NPSP_Data_Import_Template_csv.csv", mapping="npsp")
    assert (summary.rows_read, summary.skipped, summary.rejected) == (1, 1, 0)  # line 6: the API names


def test_real_civicrm_contributions(sessions):
    summary = load(sessions, REAL / "civicrm-contribution-import" / "contributions.csv", mapping="civicrm", tz=zone("UTC"))
    assert summary.inserted == 1
    gift = gifts(sessions, "civicrm")["999"]
    assert (gift.amount_cents, gift.donated_at, gift.channel) == (6500, utc(2008, 9, 20), "word of mouth")


CIVICRM_MINIMAL = """
[mapping]
source = "civi"
dayfirst = {dayfirst}
decimal_comma = {decimal_comma}
timezone = "UTC"
[columns]
donation_id = "Total Amount"
amount = "Total Amount"
donated_at = "Receive Date"
"""


@pytest.mark.parametrize("decimal_comma, good, bad", [("false", "1,230.99", "1.230,99"), ("true", "1.230,99", "1,230.99")])
def test_real_civicrm_separators_follow_the_mapping(sessions, tmp_path, decimal_comma, good, bad):
    mapping = write_csv(tmp_path / "civi.toml", CIVICRM_MINIMAL.format(dayfirst="false", decimal_comma=decimal_comma))
    summary = load(sessions, REAL / "civicrm-contribution-import" / "contributions_amount_validate.csv", mapping=str(mapping))
    assert summary.inserted == 1 and summary.rejected == 1
    assert gifts(sessions, "civi")[good].amount_cents == 123099
    assert summary.errors[0].line == (3 if bad == "1.230,99" else 2)


def test_real_civicrm_day_first_dates(sessions, tmp_path):
    mapping = write_csv(tmp_path / "civi.toml", CIVICRM_MINIMAL.format(dayfirst="true", decimal_comma="false"))
    load(sessions, REAL / "civicrm-contribution-import" / "contributions_date_validate.csv", mapping=str(mapping))
    assert gifts(sessions, "civi")["500"].donated_at == utc(2019, 10, 26)


def test_crm_sample_with_its_own_mapping(sessions):
    summary = load(sessions, SAMPLES / "crm_export.csv", mapping=str(SAMPLES / "crm_export.toml"))
    assert summary.inserted == 4
    stored = gifts(sessions, "crm")
    assert stored["G-1002"].amount_cents == 123456 and stored["G-1002"].donated_at == datetime(2026, 12, 5, 17, 40, tzinfo=LA)
    assert [stored[k].status for k in ("G-1001", "G-1003", "G-1004")] == ["succeeded", "failed", "pending"]


@pytest.mark.parametrize(
    "toml, words",
    [
        ("[columns]\namount = 'A'\n", "must say which column holds donation_id, donated_at"),
        ("[columns]\ndonation_id='a'\namount='b'\ndonated_at='c'\nwhatever='d'\n", "whatever is not a tracker field"),
        ("[mapping]\ncolour = 'red'\n", "unknown [mapping] option(s) colour"),
        ("[columns\n", "not valid TOML"),
        ("[columns]\ndonation_id='a'\namount='b'\ndonated_at='c'\n[statuses]\nPaid = 'paid'\n", "'Paid' = 'paid'"),
    ],
)
def test_mistakes_in_a_mapping_file_are_named(sessions, tmp_path, toml, words):
    mapping = write_csv(tmp_path / "m.toml", toml)
    with pytest.raises(UsageError, match="m.toml") as exc:
        load(sessions, SAMPLES / "crm_export.csv", mapping=str(mapping))
    assert words in str(exc.value)


def test_a_mapping_naming_a_missing_column_says_which(sessions, tmp_path):
    mapping = write_csv(tmp_path / "m.toml", "[columns]\ndonation_id='Nope'\namount='Gift Amount'\ndonated_at='Gift Date'\n")
    with pytest.raises(InputFileError, match="needs a column 'Nope'"):
        load(sessions, SAMPLES / "crm_export.csv", mapping=str(mapping))


# -- JSON Lines -----------------------------------------------------------------------------

def test_jsonl_sample_reads_numbers_exactly(sessions):
    summary = load(sessions, SAMPLES / "donations.jsonl")
    assert summary.inserted == 4
    stored = gifts(sessions, "jsonl")
    assert stored["app-502"].fee_cents == 2930 and stored["app-503"].amount_cents == 1250
    assert stored["app-501"].donor_id == stored["app-503"].donor_id  # e-mail case does not split a donor
    assert stored["app-504"].status == "refunded"


def test_jsonl_bad_lines_are_rejected_with_their_line(sessions, tmp_path):
    path = write_csv(tmp_path / "g.jsonl", '{"donation_id": "a", "amount": 5, "donated_at": "2026-12-01T10:00Z"}\n{oops\n[1, 2]\n')
    summary = load(sessions, path)
    assert summary.inserted == 1 and [(e.line, e.message[:13]) for e in summary.errors] == [
        (2, "not valid JSO"), (3, "the line is n")]


def test_every_import_is_recorded_with_its_file_hash(sessions):
    load(sessions, SAMPLES / "donations.jsonl")
    with sessions.begin() as session:
        batch = session.scalar(select(ImportBatch))
    import hashlib

    assert batch.sha256 == hashlib.sha256((SAMPLES / "donations.jsonl").read_bytes()).hexdigest()
    assert (batch.format, batch.status, batch.rows_read, batch.inserted) == ("jsonl", "completed", 4, 4)
    assert batch.finished_at == utc(2027, 1, 2)
