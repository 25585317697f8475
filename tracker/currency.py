"""Exchange rates and conversion (pure): the European Central Bank's reference rates, looked up by day, and one
gift's amounts turned into the organization's currency.

The ECB publishes, on each of its banking days, how much of each currency one euro buys ("per EUR"); a day it
does not publish (a weekend, a TARGET holiday) has no row, and `N/A` in a row means no rate for that currency that
day. A gift uses the fixing of its day, else the last earlier one; a currency missing from that fixing, a day
before the first fixing, a day after the last one with a weekday in between, or a day in a gap longer than
weekends and holidays make (rates missing between a bundled and an imported table) has no rate: the gift is
refused with that reason, never converted with a guessed rate.

Conversion goes through the euro: amount × (rate of the target / rate of the source), computed in Decimal and
rounded once, half-even, to the cent. Every amount of a gift (amount, refunded part, fee, disputed part) is
converted that way with the same rate.

The bundled table (tracker/data/eurofxref-hist.zip, the ECB's eurofxref-hist.csv; tracker/data/SOURCE.md says
where it comes from and its date) is read on first need, once per process; rates imported with `tracker rates
import` (stored in exchange_rates) come on top of it, a day and currency they give replacing the bundled one.
"""

from __future__ import annotations

import csv
import io
import zipfile
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from tracker.errors import InputFileError, ValueProblem

BASE = "EUR"
BUNDLED_PATH = Path(__file__).parent / "data" / "eurofxref-hist.zip"
BUNDLED_MEMBER = "eurofxref-hist.csv"
SOURCE_BUNDLED = "ecb"  # a gift converted with the bundled ECB table
SOURCE_IMPORTED = "ecb-imported"  # ... with a rate imported by `tracker rates import`
_EXACT = Context(prec=60)  # wide enough that amount × rate is exact; the one rounding is to the cent
_RATE_DIGITS = Context(prec=28)  # the cross rate kept with each gift (target per source)
_PROCESSOR_DIGITS = Context(prec=10)  # a processor's rate (converted / given), for finance to read
_CENT = Decimal(1)
# the ECB's longest pause (Easter: Thursday's fixing, then Tuesday's) leaves a day at most 4 days after its fixing;
# a longer gap between two fixings is rates missing from the table, not a holiday
MAX_DAYS_WITHOUT_FIXING = 4


@dataclass(frozen=True)
class Conversion:
    """How a gift's amounts were turned into the organization's currency: `rate` units of the target per unit of
    the source, fixed on `rate_date`, from `source` (ecb, ecb-imported, or the processor's, e.g. stripe)."""

    from_currency: str
    to_currency: str
    rate: Decimal
    rate_date: date
    source: str

    def cents(self, original_cents: int) -> int:
        """`original_cents` (of the source currency) in cents of the target, rounded once, half-even."""
        return int(_EXACT.multiply(Decimal(original_cents), self.rate).quantize(_CENT, rounding=ROUND_HALF_EVEN))

    @property
    def rate_text(self) -> str:
        """The rate as stored and exported: plain decimal notation, no trailing zeros."""
        return format(self.rate.normalize(), "f")


def processor_conversion(from_currency: str, to_currency: str, original_cents: int, converted_cents: int,
                         day: date, source: str) -> Conversion:
    """The rate a processor used, from its own converted amount (Stripe's Converted Amount): converted / original."""
    # the processor's amount is what counts; its rate is said to 10 significant digits
    rate = _PROCESSOR_DIGITS.divide(Decimal(converted_cents), Decimal(original_cents)) if original_cents else Decimal(0)
    return Conversion(from_currency, to_currency, rate, day, source)


class RateTable:
    """Reference rates per EUR by day: the bundled ECB table (read on first need) with imported rates on top.

    `imported`: day -> {currency: rate text, or None for N/A} (tracker.queries.exchange_rates). `bundled=False`
    leaves the bundled table out (tests)."""

    def __init__(self, imported: dict[date, dict[str, str | None]] | None = None, *, bundled: bool = True):
        self._imported = imported or {}
        self._bundled = bundled
        self._days: list[date] | None = None
        self._rows: list[dict[str, str | None]] = []
        self._known: set[str] = set()

    def _load(self) -> None:
        merged: dict[date, dict[str, str | None]] = {}
        if self._bundled:
            for day, row in bundled_rates().items():
                merged[day] = dict(row)
        for day, row in self._imported.items():
            merged.setdefault(day, {}).update(row)
        self._days = sorted(merged)
        self._rows = [merged[d] for d in self._days]
        self._known = {code for row in self._rows for code in row}

    @property
    def days(self) -> list[date]:
        if self._days is None:
            self._load()
        return self._days

    def fixing(self, day: date) -> tuple[date, dict[str, str | None]]:
        """The fixing a gift of `day` uses: that day's, else the last earlier one. Raises ValueProblem for a day
        before the table, or after its last fixing with a weekday in between (newer rates are needed)."""
        days = self.days
        if not days:
            raise ValueProblem("no exchange rates are loaded; import the ECB's reference rates with "
                               "tracker rates import eurofxref-hist.csv")
        if day < days[0]:
            raise ValueProblem(f"{day} is before the first exchange rate the tracker has ({days[0]}); import "
                               "older rates with tracker rates import FILE, or convert the amount before importing")
        i = bisect_right(days, day) - 1
        found = days[i]
        if i == len(days) - 1 and found < day:
            between = (found + timedelta(days=k) for k in range(1, (day - found).days + 1))
            if any(d.weekday() < 5 for d in between):
                raise ValueProblem(f"the exchange rates the tracker has end on {found}, before {day}; import newer "
                                   "rates with tracker rates import eurofxref-hist.csv (the ECB's file)")
        elif (day - found).days > MAX_DAYS_WITHOUT_FIXING:
            raise ValueProblem(f"the exchange rates the tracker has skip from {found} to {days[i + 1]}, more than "
                               "weekends and holidays do; import the rates between them with tracker rates import "
                               "eurofxref-hist.csv (the ECB's file)")
        return found, self._rows[i]

    def per_euro(self, currency: str, day: date) -> tuple[Decimal, date]:
        """(units of `currency` per EUR, the fixing's day) for a gift of `day`. Raises ValueProblem when there is none."""
        found, row = self.fixing(day)
        if currency == BASE:
            return Decimal(1), found
        if currency not in self._known:
            raise ValueProblem(f"{currency} is not a currency of the ECB's reference rates; convert the amount "
                               "to the organization's currency before importing")
        text = row.get(currency)
        if text is None:
            shown = "is N/A" if currency in row else "is missing"
            raise ValueProblem(f"the ECB's rate for {currency} on {found} {shown} (no rate that day); convert the "
                               "amount before importing, or import a rate for that day with tracker rates import FILE")
        return Decimal(text), found

    def source_of(self, currency: str, found: date) -> str:
        imported = self._imported.get(found)
        return SOURCE_IMPORTED if imported is not None and currency in imported else SOURCE_BUNDLED

    def conversion(self, from_currency: str, to_currency: str, day: date) -> Conversion:
        """The rate to turn `from_currency` into `to_currency` for a gift of `day` (through the euro)."""
        rate_from, found = self.per_euro(from_currency, day)
        rate_to, _ = self.per_euro(to_currency, day)
        imported = any(self.source_of(c, found) == SOURCE_IMPORTED for c in (from_currency, to_currency) if c != BASE)
        rate = _RATE_DIGITS.divide(rate_to, rate_from)
        return Conversion(from_currency, to_currency, rate, found, SOURCE_IMPORTED if imported else SOURCE_BUNDLED)


MAX_RATE_CHARS = 24  # a rate's text as stored (exchange_rates.rate); the ECB writes at most about ten


def parse_ecb_csv(text: str, where: str) -> dict[date, dict[str, str | None]]:
    """The rates of a file in the layout of the ECB's eurofxref-hist.csv: a Date column (YYYY-MM-DD), then one
    column per currency (ISO code) with the units per EUR or N/A (an empty trailing column is allowed). Raises
    InputFileError naming the line and what to fix; a rate is kept as its text (Decimal when used)."""
    reader = csv.reader(io.StringIO(text))

    def lines():
        while True:
            try:
                yield next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a field over the csv module's limit, a stray quote, a NUL
                raise InputFileError(f"{where}:{reader.line_num}: cannot be read as CSV ({exc}); the ECB's file has "
                                     "one short value per column") from None

    rows = lines()
    header = next(rows, None)
    if not header or header[0].strip().lstrip("\ufeff") != "Date":
        raise InputFileError(f"{where}:1: not an ECB rates file: its first column must be Date, followed by one "
                             "column per currency (USD, GBP, ...), as in the ECB's eurofxref-hist.csv")
    names = [h.strip() for h in header[1:]]
    while names and not names[-1]:
        names.pop()
    codes = []
    for name in names:
        if len(name) != 3 or not name.isalpha() or not name.isupper():
            raise InputFileError(f"{where}:1: column {name!r} is not a three-letter currency code; the ECB's file has "
                                 "Date, then USD, JPY, ...")
        codes.append(name)
    if not codes:
        raise InputFileError(f"{where}:1: no currency column after Date; the ECB's file has Date, then USD, JPY, ...")
    if len(set(codes)) != len(codes):
        raise InputFileError(f"{where}:1: a currency column appears twice; keep one of each")
    found: dict[date, dict[str, str | None]] = {}
    for line, values in enumerate(rows, start=2):
        if not any(v.strip() for v in values):
            continue
        raw_day = values[0].strip()
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise InputFileError(f"{where}:{line}: date {raw_day!r} is not a date written YYYY-MM-DD, as the ECB "
                                 "writes them") from None
        cells = [v.strip() for v in values[1:]]
        if any(cells[len(codes):]):
            raise InputFileError(f"{where}:{line}: more values than the header has currencies; check the separators")
        row: dict[str, str | None] = {}
        for code, cell in zip(codes, cells + [""] * (len(codes) - len(cells))):
            if cell in ("", "N/A"):
                row[code] = None
                continue
            try:
                rate = Decimal(cell)
            except InvalidOperation:
                rate = None
            if len(cell) > MAX_RATE_CHARS:
                raise InputFileError(f"{where}:{line}: {code} rate {cell[:30]!r}... has {len(cell):,} characters, more "
                                     f"than the {MAX_RATE_CHARS} a rate may have (the ECB writes like 1.0842)")
            if rate is None or not rate.is_finite() or rate <= 0:
                raise InputFileError(f"{where}:{line}: {code} rate {cell!r} is not a positive number (units per "
                                     "EUR, like 1.0842) or N/A")
            row[code] = cell
        if day in found:
            raise InputFileError(f"{where}:{line}: {day} appears twice; keep one row per day")
        found[day] = row
    if not found:
        raise InputFileError(f"{where}: no rates below the header; the file needs one row per banking day")
    return found


@cache
def bundled_rates() -> dict[date, dict[str, str | None]]:
    """The bundled ECB table (read once per process)."""
    with zipfile.ZipFile(BUNDLED_PATH) as z:
        text = z.read(BUNDLED_MEMBER).decode("utf-8")
    return parse_ecb_csv(text, str(BUNDLED_PATH))


def bundled_through() -> date:
    """The last day of the bundled table."""
    return max(bundled_rates())


def currencies(table: dict[date, dict[str, str | None]]) -> list[str]:
    """The currencies a parsed table has a column for, in order of first appearance."""
    seen: dict[str, None] = {}
    for row in table.values():
        for code in row:
            seen.setdefault(code)
    return list(seen)
