"""Finance exports as CSV: one place that decides columns, formats and the cells a spreadsheet must not run.

Conventions (README: Exports): UTF-8 (with a byte-order mark for Excel when asked), a header
row, a stable column order, ISO 8601 dates and times in the campaign's zone (in a workbook: real
dates and date-times in that zone, with a number format), amounts with two
decimals and no thousands separators (from integer cents, never floats). A text cell that a
spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return, and not
a plain number) gets a leading apostrophe; number columns are never touched.

Pure: rows come from tracker.queries; the entry point opens the file and owns the session.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from decimal import Decimal
from datetime import date, datetime
from typing import IO, Iterable
from zoneinfo import ZoneInfo

from tracker.dates import isoformat_local
from tracker.models import COUNTED_STATUSES
from tracker.money import cents_to_decimal_str

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")

DONATION_COLUMNS = (
    "donation_id", "source", "donated_at", "local_date", "donor_id", "amount", "fee", "net", "refunded", "currency",
    "status", "channel", "appeal_variant", "recurring", "import_id",
    # finance's columns, after the first ones so that readers of those keep working (README: Exports)
    "refunded_at", "dispute_status", "dispute_amount", "payout_id", "fund", "gl_code", "crm_donor_id", "method",
    "entered_by", "voided_at",
    # an adjustment to a closed month (tracker period close): the month it adjusts and when it was made
    "adjusts_period", "adjusted_at",
    # the gift as given: its amount and currency (the same as amount and currency unless it was converted), and
    # for a converted gift the rate (the organization's currency per unit given), its day and where it came from
    "original_amount", "original_currency", "rate", "rate_date", "rate_source",
)
# the payment method of a gift whose details do not say, from its processor (or source)
METHOD_OF_PROCESSOR = {"stripe": "card", "paypal": "paypal"}
PERSONAL_COLUMNS = ("donor_name", "donor_email")
DAILY_COLUMNS = ("date", "gifts", "donors", "gross", "refunds", "fees", "net", "raised", "cumulative", "share_of_goal")
RECONCILIATION_COLUMNS = ("section", "key", "gifts", "gross", "refunds", "fees", "raised")


def neutralize(text: str) -> str:
    """A text cell made safe to open in a spreadsheet: formula-like text gets a leading apostrophe."""
    if text and text.startswith(FORMULA_START) and not PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def money(cents: int | None) -> str:
    return "" if cents is None else cents_to_decimal_str(cents)


@dataclass(frozen=True)
class DonationRow:
    """One gift as the donations export shows it (money in cents; times aware)."""

    external_id: str
    source: str
    donated_at: datetime
    donor_id: int
    amount_cents: int
    fee_cents: int | None
    refunded_cents: int
    currency: str
    status: str
    channel: str | None
    appeal_variant: str | None
    recurring: bool
    import_id: int | None
    donor_name: str | None = None
    donor_email: str | None = None
    refunded_at: datetime | None = None
    dispute_status: str | None = None
    dispute_cents: int = 0
    payout_id: str | None = None
    fund: str | None = None
    gl_code: str | None = None
    crm_donor_id: str | None = None
    method: str | None = None
    entered_by: str | None = None
    voided_at: datetime | None = None
    processor: str | None = None
    original_cents: int | None = None  # a converted gift's amount as given (gift_details)
    original_currency: str | None = None
    rate: str | None = None
    rate_date: date | None = None
    rate_source: str | None = None
    adjusts_period: str | None = None  # an adjustment row: the closed month of the gift (its donated_at is there)
    adjusted_at: datetime | None = None
    adjustment_cents: int | None = None  # what the gift's net changed by since the close

    @property
    def net_cents(self) -> int:
        """What the gift adds to raised net of fees, the one rule for net (README: Exports): amount minus refunds
        minus the fee for a gift that counts and kept something after refunds; 0 for a fully refunded gift (its fee
        is not taken off: the gift did not happen, as raised counts it) and for failed, pending, disputed and
        voided ones. An adjustment row's net is the change to the gift's net since its month was closed."""
        if self.adjustment_cents is not None:
            return self.adjustment_cents
        if self.status not in COUNTED_STATUSES or self.voided_at is not None:
            return 0
        kept = self.amount_cents - self.refunded_cents
        return kept - (self.fee_cents or 0) if kept > 0 else 0


class Writer:
    """A CSV writer that applies the conventions: text cells neutralized, numbers as given.

    `out` may also be an XlsxSheet (for --format xlsx), which types the cells."""

    def __init__(self, out, header: Iterable[str], *, excel: bool = False):
        if isinstance(out, XlsxSheet):
            self._csv = out
        else:
            if excel:
                out.write("\ufeff")
            self._csv = csv.writer(out, lineterminator="\r\n" if excel else "\n")
        self._csv.writerow(list(header))
        self.rows = 0

    def row(self, texts: dict[int, str | None], values: list) -> None:
        """Write `values`; positions in `texts` are free text and get neutralized. A date or an aware date-time
        (already in the zone it is shown in) is written ISO 8601 in a CSV and as a real date in a workbook."""
        if isinstance(self._csv, XlsxSheet):
            cells = [v if isinstance(v, (date, datetime)) else "" if v is None else str(v) for v in values]
            for i in texts:
                cells[i] = neutralize(cells[i])
            self._csv.writerow(cells, texts)
        else:
            cells = [_iso(v) if isinstance(v, (date, datetime)) else "" if v is None else str(v) for v in values]
            for i in texts:
                cells[i] = neutralize(cells[i])
            self._csv.writerow(cells)
        self.rows += 1


def _iso(value: date | datetime) -> str:
    return value.replace(microsecond=0).isoformat() if isinstance(value, datetime) else value.isoformat()


DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


class XlsxSheet:
    """One worksheet written with openpyxl: free text always as text (never a formula), numbers as numbers
    (amounts with two decimals shown as 0.00), dates as dates (yyyy-mm-dd) and date-times as date-times
    (yyyy-mm-dd hh:mm:ss, in the zone the export shows: Excel keeps no offset), everything else as text.
    `save(path)` writes the file."""

    def __init__(self, title: str):
        from openpyxl import Workbook

        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title[:31])
        self._header = True

    def writerow(self, cells: list[str], texts: dict[int, str | None] | None = None) -> None:
        from openpyxl.cell import WriteOnlyCell

        row = []
        for i, text in enumerate(cells):
            cell = WriteOnlyCell(self._sheet)
            if isinstance(text, datetime):
                cell.value = text.replace(tzinfo=None, microsecond=0)
                cell.number_format = DATETIME_FORMAT
            elif isinstance(text, date):
                cell.value = text
                cell.number_format = DATE_FORMAT
            elif not self._header and (texts is None or i not in texts) and PLAIN_NUMBER.match(text):
                cell.value = Decimal(text) if "." in text else int(text)
                if "." in text:
                    cell.number_format = "0.00" if len(text.split(".")[1]) == 2 else "0.0000"
            else:
                cell.value = text
                cell.data_type = "s"  # never a formula, whatever it starts with
            row.append(cell)
        self._sheet.append(row)
        self._header = False

    def save(self, path) -> None:
        self._book.save(path)


def _as_given(r: DonationRow) -> list:
    """original_amount, original_currency, rate, rate_date, rate_source of a gift: as given (converted or not)."""
    if r.original_currency:
        return [money(r.original_cents), r.original_currency, r.rate, r.rate_date, r.rate_source]
    if r.adjusts_period is not None:
        return [None] * 5
    return [money(r.amount_cents), r.currency, None, None, None]


def write_donations(out: IO[str], rows: Iterable[DonationRow], tz: ZoneInfo, *, personal: bool = False,
                    excel: bool = False) -> int:
    """The donations export: one row per gift, in the order given. Returns the number of rows.

    Every gift is listed, whatever its status; a voided one too, with its voided_at and a net of 0 (it counts
    nowhere, as its status says), so that finance sees it while the totals stay those that count."""
    header = DONATION_COLUMNS + (PERSONAL_COLUMNS if personal else ())
    w = Writer(out, header, excel=excel)
    # free text from the input files: ids, source, channel, variant, status, dispute, payout, fund, GL code, CRM
    # id, method, who entered it and, when asked, name and e-mail
    n = len(DONATION_COLUMNS)
    text_positions = {i: None for i in (0, 1, 10, 11, 12, 16, 18, 19, 20, 21, 22, 23, 25, n - 4, n - 1,
                                        *((n, n + 1) if personal else ()))}
    for r in rows:
        local = r.donated_at.astimezone(tz)
        values = [
            r.external_id, r.source, local, local.date(), r.donor_id,
            money(r.amount_cents), money(r.fee_cents), money(r.net_cents), money(r.refunded_cents), r.currency,
            r.status, r.channel, r.appeal_variant, "true" if r.recurring else "false", r.import_id,
            r.refunded_at and r.refunded_at.astimezone(tz), r.dispute_status,
            money(r.dispute_cents) if r.dispute_status else None, r.payout_id, r.fund, r.gl_code, r.crm_donor_id,
            r.method or METHOD_OF_PROCESSOR.get(r.processor or r.source), r.entered_by,
            r.voided_at and r.voided_at.astimezone(tz), r.adjusts_period,
            r.adjusted_at and r.adjusted_at.astimezone(tz),
            *_as_given(r),
        ]
        if personal:
            values += [r.donor_name, r.donor_email]
        w.row(text_positions, values)
    return w.rows


@dataclass(frozen=True)
class DayRow:
    day: date
    gifts: int
    donors: int
    gross_cents: int
    refunds_cents: int
    fees_cents: int
    raised_cents: int  # by the campaign's basis, as `tracker status` counts it


def write_daily(out: IO[str], days: list[DayRow], goal_cents: int, *, excel: bool = False) -> int:
    """Per local day: gifts, donors, gross, refunds, fees, net, raised, cumulative raised, share of the goal."""
    w = Writer(out, DAILY_COLUMNS, excel=excel)
    total = 0
    for d in days:
        total += d.raised_cents
        share = f"{total / goal_cents:.4f}" if goal_cents else ""
        w.row({}, [d.day, d.gifts, d.donors, money(d.gross_cents), money(d.refunds_cents),
                   money(d.fees_cents), money(d.gross_cents - d.refunds_cents - d.fees_cents), money(d.raised_cents),
                   money(total), share])
    return w.rows


@dataclass(frozen=True)
class FileTotal:
    """One import as the reconciliation shows it: what its file said its gifts count and what they count as stored."""
    import_id: int
    source: str
    filename: str
    started_at: datetime
    gifts: int  # the file's gift rows (new, updated and unchanged; the recognized are among them)
    recognized: int  # of them, gifts stored from another source (the same processor id)
    file_cents: int
    stored_cents: int


def write_reconciliation(out: IO[str], by_source: list[tuple], days: list[DayRow], status_raised_cents: int,
                         *, files: list[FileTotal] = (), duplicates: tuple[int, int] = (0, 0), tz: ZoneInfo | None = None,
                         excel: bool = False, match=None) -> bool:
    """Totals by source and by day, a total line, and a line saying whether they tie to `tracker status` to the
    cent; then each import's file total against what its gifts count as stored, and the likely duplicates awaiting
    a decision. `by_source` rows: (source, gifts, gross, refunds, fees, raised). Returns whether the totals tie."""
    w = Writer(out, RECONCILIATION_COLUMNS, excel=excel)
    for source, gifts, gross, refunds, fees, raised in by_source:
        w.row({1: None}, ["source", source, gifts, money(gross), money(refunds), money(fees), money(raised)])
    for d in days:
        w.row({}, ["day", d.day.isoformat(), d.gifts, money(d.gross_cents), money(d.refunds_cents),
                   money(d.fees_cents), money(d.raised_cents)])
    by_source_total = sum(r[5] for r in by_source)
    by_day_total = sum(d.raised_cents for d in days)
    w.row({}, ["total", "by source", sum(r[1] for r in by_source), money(sum(r[2] for r in by_source)),
               money(sum(r[3] for r in by_source)), money(sum(r[4] for r in by_source)), money(by_source_total)])
    w.row({}, ["total", "tracker status", "", "", "", "", money(status_raised_cents)])
    ties = by_source_total == by_day_total == status_raised_cents
    w.row({}, ["ties", "yes" if ties else "NO: the totals differ; report this", "", "", "", "", ""])
    # The files' own word: "gross" is what the file said its gifts count, "raised" what they count as stored.
    differ = 0
    for f in files:
        when = isoformat_local(f.started_at, tz) if tz else f.started_at.isoformat()
        w.row({1: None}, ["file", f"import {f.import_id} {f.source} {f.filename} at {when}", f.gifts,
                          money(f.file_cents), "", "", money(f.stored_cents)])
        if f.recognized:
            w.row({1: None}, ["file recognized", f"import {f.import_id}: gifts stored from another source, counted "
                              "there and not again", f.recognized, "", "", "", ""])
        differ += f.file_cents != f.stored_cents
    if files:
        w.row({}, ["files", "yes: every file's gifts count as stored what the file said" if not differ else
                   f"{differ} imports' gifts count other amounts as stored than their file said (later refunds, "
                   "disputes or newer rows from another file): see the file lines", len(files), "", "", "", ""])
    pairs, cents = duplicates
    w.row({}, ["duplicates", "none awaiting a decision" if not pairs else
               "likely duplicate pairs awaiting a decision, both counted (tracker duplicates list); raised counts "
               "this much twice if each pair is one gift", pairs, "", "", "", money(cents)])
    if match is not None and match.pools:
        # the pools' whole match up to the export's moment (their windows may start before the days above)
        for p in match.pools:
            for section, cents in (("match earned", p.earned_cents), ("match received", p.received_cents),
                                   ("match pending", p.pending_cents), ("match remaining", p.remaining_cents)):
                w.row({1: None}, [section, p.pool.name, p.gifts if section == "match earned" else "", "", "", "",
                                  money(cents)])
        w.row({}, ["total", "match earned", sum(p.gifts for p in match.pools), "", "", "", money(match.earned_cents)])
        w.row({}, ["total", "raised with match", "", "", "", "", money(status_raised_cents + match.earned_cents)])
    return ties


CHANNEL_COLUMNS = ("channel", "gifts", "donors", "gross", "refunds", "fees", "raised", "share_of_raised")
DONOR_COLUMNS = ("donor_id", "segment", "gifts", "amount", "first_gift_date")
PLEDGE_COLUMNS = ("pledge_id", "source", "kind", "amount", "currency", "pledged_at", "local_date", "expected_date",
                  "state", "reference", "gift_id", "gift_donated_at", "fulfilled_at", "linked_by", "cancelled_at",
                  "cancel_reason", "created_by", "note")
LYBUNT_COLUMNS = ("donor_id", "last_campaign", "last_campaign_amount")
APPEAL_COLUMNS = ("variant", "control", "copy_version", "impressions", "readers", "clicks", "dismissals", "donations",
                  "donors", "revenue", "revenue_capped", "revenue_per_1000_impressions", "average_gift",
                  "conversion_rate", "first_time_share", "recurring_share")


def write_channels(out: IO[str], rows: list[tuple], *, excel: bool = False) -> int:
    """Per channel (largest raised first): gifts, donors, gross, refunds, fees, raised and its share of the total."""
    w = Writer(out, CHANNEL_COLUMNS, excel=excel)
    total = sum(r[6] for r in rows)
    for channel, gifts, donors, gross, refunds, fees, raised in rows:
        w.row({0: None}, [channel or "(none)", gifts, donors, money(gross), money(refunds), money(fees), money(raised),
                          f"{raised / total:.4f}" if total else ""])
    return w.rows


def write_donors(out: IO[str], rows: list[tuple], tz: ZoneInfo, *, personal: bool = False, excel: bool = False) -> int:
    """Per donor of the window: segment (new / retained / reactivated), gifts, amount and the day of their first gift."""
    w = Writer(out, DONOR_COLUMNS + (PERSONAL_COLUMNS if personal else ()), excel=excel)
    for donor_id, segment, gifts, cents, first, *who in rows:
        w.row({5: None, 6: None} if personal else {}, [donor_id, segment, gifts, money(cents),
              None if first is None else first.astimezone(tz).date(), *who])
    return w.rows


def write_lybunt(out: IO[str], rows: list[tuple], last_campaign: str, *, personal: bool = False,
                 excel: bool = False) -> int:
    """Last campaign's donors who have not given yet in this one, with what they gave then (largest first)."""
    w = Writer(out, LYBUNT_COLUMNS + (PERSONAL_COLUMNS if personal else ()), excel=excel)
    for donor_id, cents, *who in rows:
        w.row({1: None, 3: None, 4: None} if personal else {1: None}, [donor_id, last_campaign, money(cents), *who])
    return w.rows


def write_pledges(out: IO[str], rows, tz: ZoneInfo, *, personal: bool = False, excel: bool = False) -> int:
    """Per pledge (tracker.pledges.PledgeRow, soonest expected first): what was promised, when its money is
    expected, its state at the moment of the export (open, overdue, fulfilled with the gift it became, cancelled).
    None of it is in raised; a fulfilled pledge's gift is, once, where it is dated."""
    w = Writer(out, PLEDGE_COLUMNS + (PERSONAL_COLUMNS if personal else ()), excel=excel)
    n = len(PLEDGE_COLUMNS)
    texts = {i: None for i in (0, 1, 2, 8, 9, 13, 15, 16, 17, *((n, n + 1) if personal else ()))}

    def local(t):
        return None if t is None else t.astimezone(tz)

    for p in rows:
        w.row(texts, [p.external_id, p.source, p.kind, money(p.amount_cents), p.currency, local(p.pledged_at),
                      local(p.pledged_at).date(), p.expected_at, p.state, p.reference, p.fulfilled_donation_id,
                      local(p.gift_donated_at), local(p.fulfilled_at), p.fulfilled_by, local(p.cancelled_at),
                      p.cancel_reason, p.created_by, p.note, *((p.name, p.email) if personal else ())])
    return w.rows


def write_appeals(out: IO[str], report, *, excel: bool = False) -> int:
    """Per popup variant and copy version, from the appeals report (tracker.appeal_report.AppealReport)."""
    w = Writer(out, APPEAL_COLUMNS, excel=excel)
    unit = report.unit
    for v in report.variants:
        for version, _since, m in v.versions:
            e = m.exposure
            rate = m.conversion_rate(unit)
            w.row({0: None}, [v.key, "true" if v.control else "false", version, e.impressions, e.readers, e.clicks,
                              e.dismissals, m.donations, m.donors, money(m.revenue_cents),
                              money(m.capped_revenue_cents), money(m.revenue_per_1000_impressions_cents),
                              money(m.average_gift_cents), _share(rate, 6), _share(m.first_time_share),
                              _share(m.recurring_share)])
    return w.rows


def _share(x: float | None, places: int = 4) -> str:
    """A share as the JSON shows it (rounded to `places`, no trailing zeros), or empty."""
    return "" if x is None else repr(round(x, places))
