"""Stripe's payments export: the current unified_payments.csv and the older payments.csv.

Columns are found by header name, never by position (Stripe lets users choose their columns).
What counts is what finance expects: live-mode charges that were captured and paid; the gift is
Amount less Amount Refunded (the Converted amounts when the charge's currency is not the
organization's). Test-mode rows and rows without an id (failed payment intents) are skipped and
reported. Times in "(UTC)" columns are UTC. The donor is the Customer Email, else the Customer ID.
Metadata columns such as "appeal_variant (metadata)" or "variant (metadata)" feed the appeal
variant; "channel (metadata)" the channel.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from tracker.dates import UTC
from tracker.errors import InputFileError, RowError
from tracker.ingest import fields
from tracker.ingest.records import Outcome, Skipped

NAME = "stripe"
CREATED = ("Created date (UTC)", "Created (UTC)")
VARIANT_META = ("appeal_variant (metadata)", "variant (metadata)", "appeal (metadata)", "popup_variant (metadata)")
CHANNEL_META = ("channel (metadata)", "utm_medium (metadata)")
STATUS = {
    "paid": "succeeded",
    "succeeded": "succeeded",
    "refunded": "refunded",
    "partially refunded": "partially_refunded",
    "failed": "failed",
    "pending": "pending",
    "canceled": "failed",
    "disputed": "disputed",
}


def matches(header: list[str]) -> bool:
    names = {h.lower() for h in header}
    return "id" in names and "amount" in names and any(c.lower() in names for c in CREATED)


def normalizer(path: Path, header: list[str], rules: fields.RowRules) -> Callable[[int, list[str]], Outcome]:
    lower = {}
    for i, h in enumerate(header):
        lower.setdefault(h.lower(), i)

    def col(*names: str) -> int | None:
        for name in names:
            if name.lower() in lower:
                return lower[name.lower()]
        return None

    idx = {
        "id": col("id"), "created": col(*CREATED), "amount": col("Amount"), "refunded": col("Amount Refunded"),
        "currency": col("Currency"), "captured": col("Captured"), "conv_amount": col("Converted Amount"),
        "conv_refunded": col("Converted Amount Refunded"), "conv_currency": col("Converted Currency"),
        "fee": col("Fee"), "status": col("Status"), "mode": col("Mode"), "email": col("Customer Email"),
        "customer": col("Customer ID"), "name": col("Card Name", "Customer Name", "Customer Description"),
        "description": col("Description"), "invoice": col("Invoice ID"), "variant": col(*VARIANT_META),
        "channel": col(*CHANNEL_META), "disputed": col("Disputed Amount"), "dispute_status": col("Dispute Status"),
    }
    missing = [name for name, key in (("id", "id"), (CREATED[0], "created"), ("Amount", "amount"),
                                      ("Status", "status")) if idx[key] is None]
    if missing:
        raise InputFileError(f"{path}: not a Stripe payments export: no column {', '.join(missing)}")
    where = str(path)
    utc_rules = replace(rules, timezone=UTC, dayfirst=rules.dayfirst)

    def normalize(line: int, values: list[str]) -> Outcome:
        n = len(values)

        def v(key: str) -> str:
            i = idx[key]
            return values[i].strip() if i is not None and i < n else ""

        charge = v("id")
        if not charge:
            return Skipped(line, "no charge id: a failed payment intent, not a gift", "failed payment intent (no id)")
        if v("mode").lower() == "test":
            return Skipped(line, f"test-mode charge {charge}", "test-mode charge")
        raw_status = v("status").lower()
        status = STATUS.get(raw_status)
        if status is None:
            return RowError(where, line, f"Status {v('status')!r} is not a Stripe charge status (Paid, Refunded, Failed)")
        if status == "succeeded" and v("captured").lower() in ("false", "f", "0"):
            status = "pending"  # authorized, not captured: not money yet
        currency = (v("currency") or rules.currency).upper()
        amount_text, refunded_text = v("amount"), v("refunded")
        if currency != rules.currency and v("conv_currency").upper() == rules.currency and v("conv_amount"):
            amount_text, refunded_text, currency = v("conv_amount"), v("conv_refunded"), rules.currency
        dispute = v("dispute_status").lower()
        if dispute and dispute not in ("won", "warning_closed"):
            if dispute == "lost":
                status, refunded_text = "refunded", amount_text
            else:
                status = "disputed"
        email, customer = v("email"), v("customer")
        data = {
                "donation_id": charge, "amount": amount_text, "donated_at": v("created"), "currency": currency,
                "status": status, "refunded_amount": refunded_text if refunded_text not in ("", "0", "0.00") else "",
                "fee": v("fee"), "email": email, "donor_id": "" if email or not customer else f"stripe:{customer}",
                "name": v("name"), "channel": v("channel"), "appeal_variant": v("variant"),
                "recurring": "true" if (v("invoice") or "subscription" in v("description").lower()) else "false",
        }
        return fields.from_fields(where, line, data, utc_rules)

    return normalize
