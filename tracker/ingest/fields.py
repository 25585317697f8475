"""Turning the generic fields of one row into a gift, shared by the generic CSV, JSON Lines and mapping formats.

A row arrives as a dict of field -> text (absent fields are empty). The rules
say how to read times, amounts and statuses; each problem becomes a RowError whose message says
how to fix it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from tracker.currency import Conversion, RateTable, processor_conversion
from tracker.dates import UTC, iso_instant, parse_timestamp
from tracker.errors import RowError, ValueProblem
from tracker.ingest.records import LIMITS, GiftDetails, NormalizedDonation
from tracker.ingest.states import DISPUTES
from tracker.models import STATUSES
from tracker.money import cents_to_decimal_str, format_money, parse_cents, written_currencies

DEFAULT_MAX_GIFT_CENTS = 10_000_000 * 100
_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f", ""}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_PLAIN_AMOUNT = re.compile(r"^\d{1,12}(?:\.\d{1,2})?$")
_COMMA_AMOUNT = re.compile(r"^[+-]?(?:\d{1,3}(?:[. ]\d{3})+|\d+)(?:,\d{1,2})?$")


@dataclass(frozen=True)
class RowRules:
    """How the rows of one import are read and checked."""

    source: str
    timezone: ZoneInfo | None  # naive times are read in this zone; None: naive times are rejected
    currency: str = "USD"  # the organization's currency; rows in others are converted to it with `rates`
    max_gift_cents: int = DEFAULT_MAX_GIFT_CENTS
    dayfirst: bool = False  # 05/12/2026 is 5 December (else May 12)
    date_format: str | None = None  # a strptime format, when the file's dates need one
    decimal_comma: bool = False  # amounts written 1.230,99
    statuses: dict[str, str] = field(default_factory=dict)  # source status text (lower-case) -> tracker status
    # the exchange rates for rows in another currency (tracker.currency; run_import loads them once per import);
    # None: such rows are rejected
    rates: RateTable | None = field(default=None, compare=False, repr=False)


def amount_cents(text: str, rules: RowRules, currency: str | None = None) -> int:
    """Cents from an amount as written in this file (fast path for plain "25.00").

    An amount that writes a currency of its own ("€25", "25 GBP") must agree with `currency` (the
    row's, else the organization's): "€25" in a USD file is refused, never counted as $25."""
    text = text.strip()
    if _PLAIN_AMOUNT.match(text) and not (rules.decimal_comma and "." in text):  # 25.50 is no decimal-comma amount
        whole, _, frac = text.partition(".")
        return int(whole) * 100 + int((frac + "00")[:2])
    expected = currency or rules.currency
    written = written_currencies(text)
    if written and expected not in written:
        raise ValueProblem(f"{text!r} is written in {written[0]}, but the gift's currency is {expected}; correct the "
                           "amount or give the gift's currency in its currency column")
    if rules.decimal_comma:
        bare = text.lstrip("$€£ ").rstrip(" €")
        if not _COMMA_AMOUNT.match(bare):
            raise ValueProblem(f"{text!r} is not an amount written with a decimal comma, like 25 or 1.234,56")
        text = bare.replace(".", "").replace(" ", "").replace(",", ".")
    return parse_cents(text)


def timestamp(text: str, rules: RowRules) -> datetime:
    """A UTC instant from a time as written in this file, by its rules (tracker.dates.parse_timestamp)."""
    return parse_timestamp(text, rules.timezone, dayfirst=rules.dayfirst, fmt=rules.date_format)


def from_fields(path: str, line: int, data: dict[str, str], rules: RowRules) -> NormalizedDonation | RowError:
    """Check one row's generic fields and build the gift, or say what is wrong with it.

    Fields: donation_id, amount, donated_at (required); email, donor_id, name, currency, channel,
    appeal_variant, recurring, status, refunded_amount, fee, dispute_status, dispute_amount, processor,
    processor_id, payout_id, fund, gl_code, refunded_at. This runs once per imported row, so it
    is written for speed: values are stripped once, and the common cases are tried first.
    """
    d = {k: v.strip() for k, v in data.items() if v}
    get = d.get

    def bad(message: str) -> RowError:
        return RowError(path, line, message)

    for name, value in d.items():
        if "\x00" in value:
            return bad(f"{name} holds a NUL character (\\x00), which no database column takes; remove it from the file")
    for name, limit in LIMITS.items():
        value = get(name)
        if value and len(value) > limit:
            return bad(f"{name} is {len(value):,} characters long, more than the {limit} it may have; shorten it")
    donation_id = get("donation_id", "")
    if not donation_id:
        return bad("donation_id is empty; give every row the gift's id from its source")
    raw_currency = get("currency")
    row_currency = raw_currency.upper() if raw_currency else rules.currency
    raw_amount = get("amount", "")
    try:
        amount = amount_cents(raw_amount, rules, row_currency)
    except ValueProblem as exc:
        return bad(f"amount: {exc}")
    if amount < 0:
        return bad(f"amount {raw_amount} is negative; record refunds with status and refunded_amount instead")
    if amount > rules.max_gift_cents and row_currency == rules.currency:
        return _over_limit(path, line, amount, rules)
    raw_date = get("donated_at")
    if not raw_date:
        return bad("donated_at is empty; write when the gift was made, e.g. 2026-12-31T18:30:00-08:00")
    try:
        donated_at = timestamp(raw_date, rules)
    except ValueProblem as exc:
        return bad(f"donated_at: {exc}")
    currency = rules.currency
    conversion: Conversion | None = None
    if raw_currency and row_currency != rules.currency:
        if not _CURRENCY.match(row_currency):
            return bad(f"currency {raw_currency!r} is not a three-letter ISO code; write one such as USD or EUR")
        if rules.rates is None:
            return bad(f"currency {row_currency} is not the organization's currency {rules.currency} and no exchange "
                       "rate is known here; convert the amount to the organization's currency first")
        day = donated_at.astimezone(UTC).date()
        try:
            conversion = rules.rates.conversion(row_currency, rules.currency, day)
        except ValueProblem as exc:
            return bad(f"currency {row_currency} is not the organization's currency {rules.currency}, and there is no "
                       f"exchange rate for a gift of {day}: {exc}")
        if conversion.cents(amount) > rules.max_gift_cents:
            return _over_limit(path, line, conversion.cents(amount), rules)
    elif get("original_currency"):  # the processor converted it (Stripe's Converted Amount): its rate is kept
        original_currency = get("original_currency").upper()
        try:
            original_cents = amount_cents(get("original_amount", ""), rules, original_currency)
        except ValueProblem as exc:
            return bad(f"amount in {original_currency}: {exc}")
        processor_rate = processor_conversion(original_currency, rules.currency, original_cents, amount,
                                              donated_at.astimezone(UTC).date(), get("rate_source", "processor"))
    raw_status = get("status")
    if raw_status:
        lowered = raw_status.lower()
        status = rules.statuses.get(lowered, lowered) if rules.statuses else lowered
        if status not in STATUSES:
            known = sorted(rules.statuses) if rules.statuses else STATUSES
            return bad(f"status {raw_status!r} is not a status the tracker knows; use one of {', '.join(known)}")
    else:
        status = "succeeded"
    refunded = 0
    raw_refunded = get("refunded_amount")
    if raw_refunded:
        try:
            refunded = amount_cents(raw_refunded, rules, row_currency)
        except ValueProblem as exc:
            return bad(f"refunded_amount: {exc}")
        if refunded < 0 or refunded > amount:
            return bad(
                f"refunded_amount {cents_to_decimal_str(refunded)} must be between 0 and the amount "
                f"{cents_to_decimal_str(amount)}; correct it (a refund of the whole gift is its amount)"
            )
    dispute = get("dispute_status", "").lower() or None
    if dispute is not None and dispute not in DISPUTES:
        return bad(f"dispute_status {get('dispute_status')!r} is not a dispute's state; write open, won or lost "
                   "(or leave it empty)")
    if status == "disputed":  # a dispute is beside the payment, not a step of it
        status, dispute = "succeeded", dispute or "open"
    dispute_cents = 0
    if get("dispute_amount"):
        try:
            dispute_cents = amount_cents(get("dispute_amount"), rules, row_currency)
        except ValueProblem as exc:
            return bad(f"dispute_amount: {exc}")
        if not 0 <= dispute_cents <= amount:
            return bad(f"dispute_amount {cents_to_decimal_str(dispute_cents)} must be between 0 and the amount "
                       f"{cents_to_decimal_str(amount)}; correct it")
    if status == "refunded" and not refunded:
        refunded = amount
    if status == "succeeded" and refunded:
        status = "refunded" if refunded == amount else "partially_refunded"
    fee = None
    raw_fee = get("fee")
    if raw_fee:
        try:
            fee = amount_cents(raw_fee, rules, row_currency)
        except ValueProblem as exc:
            return bad(f"fee: {exc}")
        if fee < 0:
            return bad(f"fee {raw_fee} is negative; write processing fees as positive amounts")
    raw_recurring = get("recurring")
    if not raw_recurring:
        recurring = False
    else:
        lowered = raw_recurring.lower()
        if lowered in _TRUE:
            recurring = True
        elif lowered in _FALSE:
            recurring = False
        else:
            return bad(f"recurring {raw_recurring!r} is not true or false; write true or false (or leave it empty)")
    email = get("email")
    if email:
        email = email.lower()
        if not _EMAIL.match(email):
            return bad(f"email {get('email')!r} is not an e-mail address; correct it or leave it empty")
    else:
        email = None
    donor_ref = get("donor_id")
    if donor_ref:
        key = f"id:{donor_ref}"
    elif email:
        key = f"email:{email}"
    else:
        key = f"anon:{rules.source}:{donation_id}"  # no identity: each such gift is its own donor
    channel = get("channel")
    processor, processor_id = get("processor", "").lower() or None, get("processor_id") or None
    if bool(processor) != bool(processor_id):
        return bad("processor and processor_id go together: name the processor (e.g. stripe) and its id of the "
                   "payment (e.g. ch_...), or leave both empty")
    details = None
    payout_id, fund, gl_code, raw_refunded_at = get("payout_id"), get("fund"), get("gl_code"), get("refunded_at")
    if payout_id or fund or gl_code or raw_refunded_at:
        refunded_at = None
        if raw_refunded_at:
            try:
                refunded_at = timestamp(raw_refunded_at, rules)
            except ValueProblem as exc:
                return bad(f"refunded_at: {exc}")
        details = GiftDetails(payout_id, fund, gl_code, refunded_at)
    if conversion is not None:  # every amount converted with the one rate, each rounded once
        original_cents = amount
        convert = conversion.cents
        amount, refunded, dispute_cents = convert(amount), convert(refunded), convert(dispute_cents)
        fee = None if fee is None else convert(fee)
        details = _converted(details, original_cents, conversion)
    elif get("original_currency"):
        details = _converted(details, original_cents, processor_rate)
    return NormalizedDonation(
        line, donation_id, amount, donated_at, key, email, get("name"), currency, status, refunded, fee,
        channel.lower() if channel else None, get("appeal_variant"), recurring, None, dispute, dispute_cents,
        processor, processor_id, details,
    )


def _over_limit(path: str, line: int, amount: int, rules: RowRules) -> RowError:
    return RowError(path, line,
                    f"amount {format_money(amount)} is over the limit of {format_money(rules.max_gift_cents)} per gift; "
                    "check the decimal point, or raise the limit with --max-gift")


def _converted(details: GiftDetails | None, original_cents: int, conversion: Conversion) -> GiftDetails:
    """The gift's details with its original amount and the rate it was converted with."""
    return (details or GiftDetails())._replace(
        original_cents=original_cents, original_currency=conversion.from_currency, rate=conversion.rate_text,
        rate_date=conversion.rate_date, rate_source=conversion.source)


def fast_builder(index: dict[str, int], rules: RowRules) -> Callable[[int, list[str]], NormalizedDonation | None]:
    """A quick path for the common row of a file whose columns are at `index` (field -> column).

    It returns the same gift from_fields would, or None for anything unusual (a status, a refund,
    a date that is not ISO 8601, a value to reject...), so that from_fields decides and explains.
    tests/test_ingest.py checks that both agree.
    """
    if rules.date_format or rules.decimal_comma or rules.statuses:
        return lambda line, values: None
    i_id, i_amount, i_date = index["donation_id"], index["amount"], index["donated_at"]
    optional = [index.get(k) for k in (
        "currency", "status", "refunded_amount", "fee", "recurring", "email", "donor_id", "name", "channel",
        "appeal_variant", "processor", "processor_id", "dispute_status", "dispute_amount")]
    (i_cur, i_status, i_refunded, i_fee, i_rec, i_email, i_donor, i_name, i_channel, i_variant, i_proc, i_proc_id,
     i_dispute, i_disputed) = optional
    # finance's details (payout, fund, GL code, refund time) take from_fields when a row has any
    detail_columns = [i for i in (index.get(k) for k in ("payout_id", "fund", "gl_code", "refunded_at")) if i is not None]
    optional += detail_columns
    width = max([i_id, i_amount, i_date] + [i for i in optional if i is not None]) + 1
    tz, currency, max_gift, source = rules.timezone, rules.currency, rules.max_gift_cents, rules.source
    plain, email_ok = _PLAIN_AMOUNT.match, _EMAIL.match
    max_id, max_email, max_name, max_donor, max_channel, max_variant, max_proc, max_proc_id = (LIMITS[k] for k in (
        "donation_id", "email", "name", "donor_id", "channel", "appeal_variant", "processor", "processor_id"))

    def cents(text: str) -> int:
        whole, _, frac = text.partition(".")
        return int(whole) * 100 + int((frac + "00")[:2])

    def fast(line: int, v: list[str]) -> NormalizedDonation | None:
        if len(v) < width:
            return None
        donation_id, amount_text, date_text = v[i_id].strip(), v[i_amount].strip(), v[i_date].strip()
        if not donation_id or len(donation_id) > max_id or not plain(amount_text):
            return None
        amount = cents(amount_text)
        if amount > max_gift:
            return None
        when = iso_instant(date_text, tz)
        if when is None:
            return None
        if i_cur is not None and v[i_cur].strip() and v[i_cur].strip() != currency:
            return None
        if i_status is not None and v[i_status].strip() not in ("", "succeeded"):
            return None
        if i_refunded is not None and v[i_refunded].strip():
            return None
        fee = None
        if i_fee is not None and (fee_text := v[i_fee].strip()):
            if not plain(fee_text):
                return None
            fee = cents(fee_text)
        recurring = False
        if i_rec is not None and (rec := v[i_rec].strip().lower()):
            if rec in _TRUE:
                recurring = True
            elif rec not in _FALSE:
                return None
        email = None
        if i_email is not None and (email := v[i_email].strip().lower() or None):
            if not email_ok(email):
                return None
        donor_ref = v[i_donor].strip() if i_donor is not None else ""
        key = f"id:{donor_ref}" if donor_ref else (f"email:{email}" if email else f"anon:{source}:{donation_id}")
        name = v[i_name].strip() or None if i_name is not None else None
        channel = v[i_channel].strip().lower() or None if i_channel is not None else None
        variant = v[i_variant].strip() or None if i_variant is not None else None
        if ((email and len(email) > max_email) or (name and len(name) > max_name) or len(donor_ref) > max_donor
                or (channel and len(channel) > max_channel) or (variant and len(variant) > max_variant)):
            return None  # from_fields says which is too long
        processor = processor_id = None
        if i_proc is not None or i_proc_id is not None:
            processor = (v[i_proc].strip().lower() or None) if i_proc is not None else None
            processor_id = (v[i_proc_id].strip() or None) if i_proc_id is not None else None
            if bool(processor) != bool(processor_id) or (processor_id and len(processor_id) > max_proc_id) or (
                    processor and len(processor) > max_proc):
                return None
        if (i_dispute is not None and v[i_dispute].strip()) or (i_disputed is not None and v[i_disputed].strip()):
            return None
        for i in detail_columns:
            if v[i].strip():
                return None
        return NormalizedDonation(
            line, donation_id, amount, when, key, email, name, currency, "succeeded", 0, fee, channel, variant, recurring,
            None, None, 0, processor, processor_id,
        )

    return fast
