"""Gifts in other currencies: the ECB's reference rates looked up by day (the last earlier fixing, never a guess),
conversion through the euro rounded once, Stripe's own converted amounts, a generic CSV with EUR and GBP rows,
`tracker rates import`, and the same totals in status and the exports."""

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import utc, write_csv
from tracker.currency import Conversion, RateTable, bundled_rates, bundled_through, parse_ecb_csv
from tracker.dates import zone
from tracker.errors import InputFileError, ValueProblem
from tracker.ingest.fields import RowRules, from_fields
from tracker.ingest.records import NormalizedDonation
from tracker.ingest.run import ImportRequest, Reader, run_import
from tracker.models import Donation, GiftDetail

SAMPLES = Path(__file__).parent.parent / "data" / "samples"
LA = zone("America/Los_Angeles")

# A small table in the ECB's layout: Thursday 26 November 2026 is its first day; JPY is N/A then; the 27th is a
# Friday (the weekend after it has no row); December 24 is a Thursday, 25 (Friday) is a holiday; the table stops
# on Monday 28 December, and there is a gap from 30 November to 24 December (rates missing, not holidays).
SMALL = """Date,USD,JPY,GBP,CAD,
2026-12-28,1.2000,170.00,0.9000,1.6000,
2026-12-24,1.1000,165.00,0.8000,1.5000,
2026-11-30,1.0600,161.00,0.8500,1.4600,
2026-11-27,1.0500,160.00,0.8400,1.4500,
2026-11-26,1.0400,N/A,0.8300,1.4400,
"""


@pytest.fixture
def small():
    return RateTable(parse_ecb_csv(SMALL, "small.csv"), bundled=False)


@pytest.mark.parametrize("currency, day, rate, fixing", [
    ("USD", date(2026, 11, 27), "1.0500", date(2026, 11, 27)),  # a banking day: its own fixing
    ("USD", date(2026, 11, 28), "1.0500", date(2026, 11, 27)),  # Saturday: Friday's
    ("USD", date(2026, 11, 29), "1.0500", date(2026, 11, 27)),  # Sunday: Friday's
    ("GBP", date(2026, 12, 25), "0.8000", date(2026, 12, 24)),  # Christmas, a holiday: the day before
    ("GBP", date(2026, 12, 27), "0.8000", date(2026, 12, 24)),  # the Sunday after it too
    ("CAD", date(2026, 11, 26), "1.4400", date(2026, 11, 26)),  # the first day of the table
    ("USD", date(2026, 12, 28), "1.2000", date(2026, 12, 28)),  # the last
    ("EUR", date(2026, 11, 30), "1", date(2026, 11, 30)),  # the euro is 1 per EUR
])
def test_a_gift_uses_the_fixing_of_its_day_else_the_last_earlier_one(small, currency, day, rate, fixing):
    assert small.per_euro(currency, day) == (Decimal(rate), fixing)


@pytest.mark.parametrize("currency, day, words", [
    ("JPY", date(2026, 11, 26), "the ECB's rate for JPY on 2026-11-26 is N/A"),  # N/A: no rate, not zero
    ("JPY", date(2026, 11, 26), "import a rate for that day"),
    ("USD", date(2026, 11, 25), "2026-11-25 is before the first exchange rate the tracker has (2026-11-26)"),
    ("ARS", date(2026, 11, 27), "ARS is not a currency of the ECB's reference rates"),
    ("USD", date(2026, 12, 29), "end on 2026-12-28, before 2026-12-29; import newer rates"),  # a weekday after the end
    ("USD", date(2026, 12, 10), "skip from 2026-11-30 to 2026-12-24"),  # rates missing between two tables
])
def test_a_day_or_currency_without_a_rate_is_refused_with_the_reason(small, currency, day, words):
    with pytest.raises(ValueProblem) as caught:
        small.per_euro(currency, day)
    assert words in str(caught.value)


def test_the_weekend_after_the_last_fixing_still_uses_it():
    table = RateTable(parse_ecb_csv("Date,USD\n2026-12-04,1.1\n2026-12-03,1.0\n", "f.csv"), bundled=False)
    assert table.per_euro("USD", date(2026, 12, 6)) == (Decimal("1.1"), date(2026, 12, 4))  # Sunday after Friday
    with pytest.raises(ValueProblem, match="end on 2026-12-04"):
        table.per_euro("USD", date(2026, 12, 7))  # Monday: its fixing is not in the table


@pytest.mark.parametrize("currency, day, rate, fixing", [
    ("USD", date(2025, 12, 25), "1.1787", date(2025, 12, 24)),  # Christmas 2025: the ECB's 24 December fixing
    ("USD", date(2026, 1, 1), "1.1750", date(2025, 12, 31)),  # New Year's Day
    ("GBP", date(1999, 1, 4), "0.7111", date(1999, 1, 4)),  # the ECB's first fixing
    ("USD", date(2026, 10, 31), "1.1172", date(2026, 10, 30)),  # the Saturday after the bundled table's last day
])
def test_the_bundled_ecb_table_answers_by_day(currency, day, rate, fixing):
    assert RateTable().per_euro(currency, day) == (Decimal(rate), fixing)


def test_the_bundled_table_has_the_ecbs_gaps_and_says_na():
    table = RateTable()
    assert bundled_through() == date(2026, 10, 30) and min(bundled_rates()) == date(1999, 1, 4)
    with pytest.raises(ValueProblem, match="before the first exchange rate"):
        table.per_euro("USD", date(1998, 12, 31))
    with pytest.raises(ValueProblem, match="CYP on 2010-03-03 is N/A"):  # the Cypriot pound, gone in 2008
        table.per_euro("CYP", date(2010, 3, 3))
    with pytest.raises(ValueProblem, match="end on 2026-10-30"):
        table.per_euro("USD", date(2026, 11, 2))


@pytest.mark.parametrize("rate, cents, expected", [
    ("1.5", 1, 2),  # 1.5 cents: half-even goes to the even 2
    ("1.5", 3, 4),  # 4.5: to the even 4, not 5
    ("1.5", 5, 8),  # 7.5: to 8
    ("1.0842", 2500, 2710),  # 25.00 x 1.0842 = 27.105: to the even 27.10
    ("1.1645", 2500, 2911),  # 2911.25
    ("1.375", 12, 16),  # 16.5: to 16
    ("1.375", 4, 6),  # 5.5: to 6
    ("1", 0, 0),
])
def test_conversion_rounds_once_half_even_to_the_cent(rate, cents, expected):
    assert Conversion("EUR", "USD", Decimal(rate), date(2026, 12, 1), "ecb").cents(cents) == expected


def test_a_cross_rate_goes_through_the_euro_in_decimal_and_rounds_once(small):
    gbp_usd = small.conversion("GBP", "USD", date(2026, 12, 24))  # 1.10 / 0.80 = 1.375 USD per GBP
    assert (gbp_usd.rate, gbp_usd.rate_date, gbp_usd.source) == (Decimal("1.375"), date(2026, 12, 24), "ecb-imported")
    assert [gbp_usd.cents(c) for c in (12, 4, 2000)] == [16, 6, 2750]
    # rounded once: 2 GBP cents are 2.75 USD cents -> 3; through euro cents rounded first (2.5 -> 2) they would be 2
    assert gbp_usd.cents(2) == 3
    cad_gbp = small.conversion("CAD", "GBP", date(2026, 11, 27))  # 0.84 / 1.45, not a finite decimal
    assert cad_gbp.cents(10_000_00) == 579310  # 10,000 CAD = 5,793.1034... GBP
    usd_eur = small.conversion("USD", "EUR", date(2026, 11, 27))
    assert usd_eur.cents(105_00) == 100_00


def test_a_generic_row_in_another_currency_is_converted_and_keeps_what_was_given(small):
    rules = RowRules(source="generic", timezone=LA, rates=small)
    gift = from_fields("g.csv", 2, {"donation_id": "e1", "amount": "25.00", "donated_at": "2026-11-28T10:00:00Z",
                                    "currency": "eur", "fee": "1.00", "refunded_amount": "5.00"}, rules)
    assert isinstance(gift, NormalizedDonation)
    # Saturday: Friday's fixing, 1.05 USD per EUR
    assert (gift.amount_cents, gift.refunded_cents, gift.fee_cents, gift.currency) == (2625, 525, 105, "USD")
    assert gift.status == "partially_refunded"
    d = gift.details
    assert (d.original_cents, d.original_currency, d.rate, d.rate_date, d.rate_source) == (
        2500, "EUR", "1.05", date(2026, 11, 27), "ecb-imported")


def test_a_row_with_no_rate_for_its_day_is_refused_never_guessed(small):
    rules = RowRules(source="generic", timezone=LA, rates=small)
    bad = from_fields("g.csv", 7, {"donation_id": "e1", "amount": "25", "donated_at": "2026-12-10T10:00:00Z",
                                   "currency": "GBP"}, rules)
    assert (bad.path, bad.line) == ("g.csv", 7)
    assert "currency GBP is not the organization's currency USD, and there is no exchange rate for a gift of " \
           "2026-12-10" in bad.message and "tracker rates import" in bad.message


def test_the_limit_per_gift_applies_to_the_converted_amount(small):
    rules = RowRules(source="generic", timezone=LA, rates=small, max_gift_cents=1000_00)
    row = {"donation_id": "j", "amount": "100000", "donated_at": "2026-11-27T10:00:00Z", "currency": "JPY"}
    gift = from_fields("g.csv", 2, row, rules)  # 100,000 yen / 160 x 1.05 = 656.25 USD: under the limit of 1,000
    assert isinstance(gift, NormalizedDonation) and gift.amount_cents == 656_25
    over = from_fields("g.csv", 2, {**row, "amount": "200000"}, rules)
    assert "over the limit of $1,000.00" in over.message


# -- imports, on SQLite and PostgreSQL -------------------------------------------------------------------------------

RATES = """Date,USD,JPY,GBP,CAD,
2026-12-04,1.1000,170.00,0.8000,1.5000,
2026-12-03,1.0800,168.00,0.8000,1.4900,
2026-12-02,1.0600,N/A,0.8500,1.4800,
2026-12-01,1.0500,166.00,0.8400,1.4700,
"""

GIFTS = """donation_id,amount,donated_at,currency,email,fee
u1,100.00,2026-12-01T18:00:00Z,USD,a@x.org,2.00
e1,25.00,2026-12-01T18:00:00Z,EUR,b@x.org,1.00
e2,10.01,2026-12-05T18:00:00Z,EUR,c@x.org,
g1,20.00,2026-12-03T18:00:00Z,GBP,d@x.org,
j1,5000,2026-12-02T18:00:00Z,JPY,e@x.org,
g2,20.00,2026-12-09T18:00:00Z,gbp,f@x.org,
"""


def ingest(tracker, path, *extra):
    return tracker("ingest", "donations", path, "--quiet", "--timezone", "UTC", "--as-of", "2027-01-02", *extra)


def stored(sessions):
    with sessions.begin() as session:
        rows = session.execute(select(Donation.external_id, Donation.amount_cents, Donation.fee_cents,
                                      Donation.currency, GiftDetail.original_cents, GiftDetail.original_currency,
                                      GiftDetail.rate, GiftDetail.rate_date, GiftDetail.rate_source)
                               .outerjoin(GiftDetail, GiftDetail.donation_id == Donation.id)).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_rates_import_then_a_csv_with_eur_and_gbp_rows_converts_them(tracker, sessions, make_campaign, tmp_path):
    make_campaign()
    rates = write_csv(tmp_path / "eurofxref-hist.csv", RATES)
    out = tracker("rates", "import", rates)
    assert out.code == 0, out.err
    assert "imported 16 rates of 4 currencies on 4 days, 2026-12-01 to 2026-12-04" in out.out
    assert tracker("rates", "import", rates).code == 0  # again: the same rates, nothing doubled
    path = write_csv(tmp_path / "gifts.csv", GIFTS)
    out = ingest(tracker, path)
    assert out.code == 3, out.err  # g2: no rate yet for December 9
    assert "gifts.csv:7: currency GBP is not the organization's currency USD, and there is no exchange rate for a " \
           "gift of 2026-12-09: the exchange rates the tracker has end on 2026-12-04" in out.err
    gifts = stored(sessions)
    assert gifts["u1"] == (100_00, 2_00, "USD", None, None, None, None, None)
    assert gifts["e1"] == (26_25, 1_05, "USD", 25_00, "EUR", "1.05", date(2026, 12, 1), "ecb-imported")
    assert gifts["e2"] == (11_01, None, "USD", 10_01, "EUR", "1.1", date(2026, 12, 4), "ecb-imported")  # Saturday
    assert gifts["g1"] == (27_00, None, "USD", 20_00, "GBP", "1.35", date(2026, 12, 3), "ecb-imported")
    assert "j1" not in gifts and "g2" not in gifts  # JPY is N/A on December 2
    rejects = list(csv.DictReader((tmp_path / "gifts.rejects.csv").open(encoding="utf-8")))
    assert [r["donation_id"] for r in rejects] == ["j1", "g2"]
    assert "the ECB's rate for JPY on 2026-12-02 is N/A" in rejects[0]["reason"] and rejects[0]["line"] == "6"

    # newer rates arrive: the rejected row imports, the others are unchanged
    write_csv(rates, "Date,USD,GBP\n2026-12-09,1.2000,0.8000\n2026-12-08,1.1900,0.8000\n2026-12-07,1.1800,0.8000\n")
    assert tracker("rates", "import", rates).code == 0
    out = ingest(tracker, path)
    assert "g2" in stored(sessions) and stored(sessions)["g2"][0] == 30_00  # 20 x 1.2 / 0.8

    raised = 100_00 + 26_25 + 11_01 + 27_00 + 30_00
    status = json.loads(tracker("status", "--json", "--as-of", "2026-12-31").out)
    assert status["raised"] == f"{raised / 100:.2f}"
    export = tracker("export", "donations", "--as-of", "2026-12-31")
    rows = list(csv.DictReader(io.StringIO(export.out)))
    assert sum(Decimal(r["amount"]) for r in rows) * 100 == raised  # the export ties out with status
    by_id = {r["donation_id"]: r for r in rows}
    assert {k: by_id["g1"][k] for k in ("amount", "currency", "original_amount", "original_currency", "rate",
                                        "rate_date", "rate_source")} == {
        "amount": "27.00", "currency": "USD", "original_amount": "20.00", "original_currency": "GBP", "rate": "1.35",
        "rate_date": "2026-12-03", "rate_source": "ecb-imported"}
    assert (by_id["u1"]["original_amount"], by_id["u1"]["original_currency"], by_id["u1"]["rate"]) == (
        "100.00", "USD", "")  # not converted: given as counted
    show = json.loads(tracker("gift", "show", str(_id_of(sessions, "e1")), "--json").out)
    assert show["details"]["original_amount"] == "25.00" and show["details"]["rate_source"] == "ecb-imported"


def _id_of(sessions, external_id):
    with sessions.begin() as session:
        return session.scalar(select(Donation.id).where(Donation.external_id == external_id))


def test_without_imported_rates_the_bundled_ecb_table_converts_older_gifts(tracker, sessions, make_campaign, tmp_path):
    make_campaign("dec-2025", start=date(2025, 12, 1), end=date(2025, 12, 31))
    path = write_csv(tmp_path / "g.csv", """donation_id,amount,donated_at,currency
        e1,25.00,2025-12-05T10:00:00Z,EUR
        g1,20.00,2025-12-27T10:00:00Z,GBP
    """)
    assert ingest(tracker, path).code == 0
    gifts = stored(sessions)
    assert gifts["e1"][:1] + gifts["e1"][3:] == (29_11, 25_00, "EUR", "1.1645", date(2025, 12, 5), "ecb")
    # Saturday after Christmas: the ECB's fixing of December 24 (USD 1.1787, GBP 0.8729), through the euro
    expected = int((Decimal(2000) * Decimal("1.1787") / Decimal("0.8729")).quantize(Decimal(1)))
    assert gifts["g1"][0] == expected and gifts["g1"][6] == date(2025, 12, 24)


def test_a_generic_file_read_column_wise_sends_foreign_rows_to_the_per_row_path(sessions, make_campaign, tmp_path,
                                                                                  small):
    make_campaign()
    path = write_csv(tmp_path / "g.csv", "donation_id,amount,donated_at,currency,email\n"
                     + "".join(f"u{i},10.00,2026-11-27T10:00:00Z,USD,u{i}@x.org\n" for i in range(50))
                     + "e1,10.00,2026-11-27T10:00:00Z,EUR,e@x.org\n"
                     + "u50,10.00,2026-11-27T10:00:00Z,,z@x.org\n")
    rules = RowRules(source="", timezone=LA, rates=small)
    reader = Reader(ImportRequest(path=path), rules)
    try:
        assert reader.columnar(True) is not None  # this file is read column-wise
    finally:
        reader.close()
    summary = run_import(sessions, ImportRequest(path=path), rules, clock=lambda: utc(2027, 1, 2))
    assert (summary.inserted, summary.rejected) == (52, 0)
    assert "converted to USD: 1 from EUR (rates: ecb-imported; each gift's original amount and rate are in the " \
           "donations export)" in summary.notes
    gifts = stored(sessions)
    assert gifts["e1"][:1] + gifts["e1"][3:] == (10_50, 10_00, "EUR", "1.05", date(2026, 11, 27), "ecb-imported")
    assert gifts["u50"][0] == 10_00 and gifts["u50"][3] is None
    again = run_import(sessions, ImportRequest(path=path), rules, clock=lambda: utc(2027, 1, 3))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 52)  # the same file again changes nothing
    assert stored(sessions) == gifts


STRIPE = """id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Converted Amount,Converted Amount Refunded,Converted Currency,Fee,Status,Customer Email
ch_cad,2026-12-21 19:45:12,200.00,0.00,cad,true,146.02,0.00,usd,4.54,Paid,maple@x.org
ch_eur,2026-12-22 10:00:00,50.00,10.00,eur,true,54.31,10.86,usd,1.80,Paid,euro@x.org
ch_usd,2026-12-22 10:00:00,30.00,0.00,usd,true,30.00,0.00,usd,1.17,Paid,us@x.org
"""


def test_stripes_converted_amounts_count_and_the_charge_and_rate_are_kept(tracker, sessions, make_campaign, tmp_path):
    make_campaign()
    path = write_csv(tmp_path / "unified_payments.csv", STRIPE)
    assert ingest(tracker, path).code == 0  # no ECB rate for December 2026 is needed: Stripe says what it paid out
    gifts = stored(sessions)
    assert gifts["ch_cad"][:3] == (146_02, 4_54, "USD")
    assert gifts["ch_cad"][3:] == (200_00, "CAD", "0.7301", date(2026, 12, 21), "stripe")
    assert gifts["ch_eur"][3:6] == (50_00, "EUR", "1.0862")
    with sessions.begin() as session:
        eur = session.scalar(select(Donation).where(Donation.external_id == "ch_eur"))
        assert (eur.refunded_cents, eur.status) == (10_86, "partially_refunded")
    assert gifts["ch_usd"][3] is None
    rows = {r["donation_id"]: r for r in csv.DictReader(io.StringIO(tracker("export", "donations", "--as-of", "2026-12-31").out))}
    assert (rows["ch_cad"]["amount"], rows["ch_cad"]["original_amount"], rows["ch_cad"]["original_currency"],
            rows["ch_cad"]["rate_source"]) == ("146.02", "200.00", "CAD", "stripe")
    status = json.loads(tracker("status", "--json", "--as-of", "2026-12-31").out)
    assert status["raised"] == "219.47"  # 146.02 + (54.31 - 10.86) + 30.00


def test_a_stripe_charge_without_converted_amounts_takes_the_ecb_rate(sessions, make_campaign, tmp_path, small):
    make_campaign()
    path = write_csv(tmp_path / "payments.csv", """id,Created (UTC),Amount,Amount Refunded,Currency,Captured,Status,Customer Email
        ch_1,2026-11-28 10:00:00,40.00,0.00,gbp,true,Paid,a@x.org
        ch_2,2026-12-10 10:00:00,40.00,0.00,gbp,true,Paid,b@x.org
    """)
    summary = run_import(sessions, ImportRequest(path=path), RowRules(source="", timezone=LA, rates=small),
                         clock=lambda: utc(2027, 1, 2))
    assert (summary.inserted, summary.rejected) == (1, 1)
    assert "payments.csv:3: currency GBP" in str(summary.errors[0]) and "skip from 2026-11-30" in str(summary.errors[0])
    gift = stored(sessions)["ch_1"]
    assert gift[0] == 50_00 and gift[3:] == (40_00, "GBP", "1.25", date(2026, 11, 27), "ecb-imported")


@pytest.mark.parametrize("text, words", [
    ("Day,USD\n2026-12-01,1.05\n", ":1: not an ECB rates file: its first column must be Date"),
    ("Date,USD\n01/12/2026,1.05\n", ":2: date '01/12/2026' is not a date written YYYY-MM-DD"),
    ("Date,USD\n2026-12-01,-1\n", ":2: USD rate '-1' is not a positive number"),
    ("Date,USD\n2026-12-01,one\n", ":2: USD rate 'one' is not a positive number"),
    ("Date,US Dollar\n2026-12-01,1.05\n", ":1: column 'US Dollar' is not a three-letter currency code"),
    ("Date,USD\n2026-12-01,1.05,7\n", ":2: more values than the header has currencies"),
    ("Date,USD\n2026-12-01,1.05\n2026-12-01,1.06\n", ":3: 2026-12-01 appears twice"),
    ("Date,USD\n", "no rates below the header"),
    # refused at its line whether the csv module's field limit (raised by an import earlier in the process) stops
    # the field or the rate's length does
    ("Date,USD\n2026-12-01," + "9" * 140_000 + "\n", ":2: "),
    ("Date,USD\n2026-12-01,1." + "9" * 100 + "\n", "has 102 characters, more than the 24 a rate may have"),
])
def test_a_bad_rates_file_is_refused_whole_with_a_clear_message(tracker, sessions, tmp_path, text, words):
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    out = tracker("rates", "import", path)
    assert out.code == 1 and words in out.err and "Traceback" not in out.err
    with sessions.begin() as session:
        from tracker.queries import exchange_rates
        assert exchange_rates(session) == {}  # nothing stored


def test_rates_import_of_a_missing_or_zipped_file_says_what_to_do(tracker, tmp_path):
    out = tracker("rates", "import", tmp_path / "nope.csv")
    assert out.code == 1 and "no such file" in out.err
    zipped = tmp_path / "eurofxref-hist.zip"
    zipped.write_bytes(b"PK\x03\x04\xff\xfe\x00")
    out = tracker("rates", "import", zipped)
    assert out.code == 1 and "unzip eurofxref-hist.zip first" in out.err


def test_parse_keeps_na_as_no_rate_and_the_texts_as_written():
    table = parse_ecb_csv(SMALL, "small.csv")
    assert table[date(2026, 11, 26)] == {"USD": "1.0400", "JPY": None, "GBP": "0.8300", "CAD": "1.4400"}
    with pytest.raises(InputFileError, match="small.csv:1"):
        parse_ecb_csv("USD,Date\n", "small.csv")
