"""The tracker's own CSV layout ("generic"): columns matched by header name, in any order.

Required: donation_id, amount, donated_at. Optional: email, donor_id, name, currency, channel,
appeal_variant, recurring, status, refunded_amount, fee. Other columns are ignored.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from tracker.dates import parse_timestamp
from tracker.errors import InputFileError, RowError, ValueProblem
from tracker.ingest.records import NormalizedDonation
from tracker.models import STATUSES
from tracker.money import cents_to_decimal_str, format_money, parse_cents

REQUIRED = ("donation_id", "amount", "donated_at")
OPTIONAL = (
    "email", "donor_id", "name", "currency", "channel", "appeal_variant",
    "recurring", "status", "refunded_amount", "fee",
)
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f", ""}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
DEFAULT_MAX_GIFT_CENTS = 10_000_000 * 100


@dataclass(frozen=True)
class RowRules:
    """What a row is checked against."""

    source: str
    timezone: ZoneInfo | None  # naive times are read here; None: naive times are rejected
    currency: str = "USD"  # the organization's currency; rows in others are rejected for now
    max_gift_cents: int = DEFAULT_MAX_GIFT_CENTS


def _header_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) for each data row of a CSV file, keys normalized to lower_snake case.

    The line number is the file line the row starts on (the header is line 1). The delimiter
    (comma, semicolon, tab) is detected by the csv module's Sniffer; a UTF-8 BOM is ignored.
    Raises InputFileError when the file cannot be read or lacks a required column.
    """
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder, not a CSV file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror})") from None
    with handle:
        try:
            sample = handle.read(64 * 1024)
        except UnicodeDecodeError:
            raise InputFileError(f"{path}: is not UTF-8 text; save it as CSV UTF-8 and try again") from None
        handle.seek(0)
        if not sample.strip():
            raise InputFileError(f"{path}: is empty; expected a header row with {', '.join(REQUIRED)}")
        try:
            dialect = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        header = [_header_key(h) for h in next(reader)]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InputFileError(
                f"{path}: missing required column(s) {', '.join(missing)}; the header has: {', '.join(header)}"
            )
        index = {name: i for i, name in reversed(list(enumerate(header)))}  # first column of a name wins
        start = reader.line_num + 1
        try:
            for values in reader:
                line, start = start, reader.line_num + 1
                if not any(v.strip() for v in values):
                    continue  # blank line
                yield line, {name: (values[i] if i < len(values) else "") for name, i in index.items()}
        except UnicodeDecodeError:
            raise InputFileError(f"{path}: is not UTF-8 text after line {start - 1}; save it as CSV UTF-8") from None
        except csv.Error as exc:
            raise InputFileError(f"{path}:{start}: broken CSV ({exc}); check the quotes on that line") from None


def normalize(path: Path, line: int, row: dict[str, str], rules: RowRules) -> NormalizedDonation | RowError:
    """Check one generic row and turn it into a NormalizedDonation, or say what is wrong with it."""

    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    def bad(message: str) -> RowError:
        return RowError(str(path), line, message)

    donation_id = get("donation_id")
    if not donation_id:
        return bad("donation_id is empty; every row needs the gift's id from its source")
    if len(donation_id) > 200:
        return bad("donation_id is longer than 200 characters")
    try:
        amount = parse_cents(get("amount"))
    except ValueProblem as exc:
        return bad(f"amount: {exc}")
    if amount < 0:
        return bad(f"amount {get('amount')} is negative; record refunds with status and refunded_amount instead")
    if amount > rules.max_gift_cents:
        return bad(
            f"amount {format_money(amount)} is over the limit of {format_money(rules.max_gift_cents)} per gift; "
            "check the decimal point, or raise the limit with --max-gift"
        )
    raw_date = get("donated_at")
    if not raw_date:
        return bad("donated_at is empty; write when the gift was made, e.g. 2026-12-31T18:30:00-08:00")
    try:
        donated_at = parse_timestamp(raw_date, rules.timezone)
    except ValueProblem as exc:
        return bad(f"donated_at: {exc}")
    currency = (get("currency") or rules.currency).upper()
    if not _CURRENCY.match(currency):
        return bad(f"currency {get('currency')!r} is not a three-letter ISO code such as USD")
    if currency != rules.currency:
        return bad(f"currency {currency} is not the organization's currency {rules.currency}; convert the amount first")
    status = (get("status") or "succeeded").lower()
    if status not in STATUSES:
        return bad(f"status {get('status')!r} is not one of {', '.join(STATUSES)}")
    refunded = 0
    if get("refunded_amount"):
        try:
            refunded = parse_cents(get("refunded_amount"))
        except ValueProblem as exc:
            return bad(f"refunded_amount: {exc}")
        if refunded < 0 or refunded > amount:
            return bad(
                f"refunded_amount {cents_to_decimal_str(refunded)} must be between 0 and the amount {cents_to_decimal_str(amount)}"
            )
    elif status == "refunded":
        refunded = amount
    fee = None
    if get("fee"):
        try:
            fee = parse_cents(get("fee"))
        except ValueProblem as exc:
            return bad(f"fee: {exc}")
        if fee < 0:
            return bad(f"fee {get('fee')} is negative; write processing fees as positive amounts")
    recurring_text = get("recurring").lower()
    if recurring_text in _TRUE:
        recurring = True
    elif recurring_text in _FALSE:
        recurring = False
    else:
        return bad(f"recurring {get('recurring')!r} is not true or false")
    email = get("email").lower() or None
    if email and not _EMAIL.match(email):
        return bad(f"email {get('email')!r} is not an e-mail address; correct it or leave it empty")
    donor_ref = get("donor_id")
    if donor_ref:
        key = f"id:{donor_ref}"
    elif email:
        key = f"email:{email}"
    else:
        key = f"anon:{rules.source}:{donation_id}"  # no identity: each such gift is its own donor
    return NormalizedDonation(
        line=line,
        external_id=donation_id,
        amount_cents=amount,
        donated_at=donated_at,
        donor_key=key,
        email=email,
        name=get("name") or None,
        currency=currency,
        status=status,
        refunded_cents=refunded,
        fee_cents=fee,
        channel=get("channel").lower() or None,
        appeal_variant=get("appeal_variant") or None,
        recurring=recurring,
    )
