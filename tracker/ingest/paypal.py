"""PayPal's activity download, in its several layouts (full business layout, the short "balance
affecting" one, US and UK date orders).

Incoming, completed payments are gifts (Gross is the gift, Fee its fee). A refund row (Type
containing "Refund" or "Reversal", negative Gross) is tied to its payment through Reference Txn ID
and updates that gift, whether the payment is in this file or comes later. Everything else
(withdrawals, card deposits, authorisations, outgoing payments, currency conversions) is skipped
and reported. Each row's own TimeZone column sets its time.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Callable

from tracker.dates import zone_from_text
from tracker.errors import InputFileError, RowError, ValueProblem
from tracker.ingest import fields
from tracker.ingest.records import Outcome, RefundRow, Skipped

NAME = "paypal"
PENDING = {"pending", "held", "unclaimed", "on hold"}
COMPLETED = {"completed", "cleared", "success", "succeeded"}


def matches(header: list[str]) -> bool:
    names = {h.lower() for h in header}
    return {"date", "time", "type", "status"} <= names and ("gross" in names or "amount" in names) and (
        "timezone" in names or "time zone" in names
    )


def normalizer(path: Path, header: list[str], rules: fields.RowRules) -> Callable[[int, list[str]], Outcome]:
    lower = {}
    for i, h in enumerate(header):
        lower.setdefault(h.lower(), i)
    idx = {key: lower.get(name) for key, name in {
        "date": "date", "time": "time", "zone": "timezone", "zone2": "time zone", "name": "name", "type": "type",
        "status": "status", "currency": "currency", "gross": "gross", "amount": "amount", "fee": "fee",
        "email": "from email address", "txn": "transaction id", "ref": "reference txn id", "receipt": "receipt id",
        "subject": "subject", "item": "item title", "impact": "balance impact",
    }.items()}
    if idx["zone"] is None:
        idx["zone"] = idx["zone2"]
    if idx["gross"] is None:
        idx["gross"] = idx["amount"]
    if idx["date"] is None or idx["gross"] is None or idx["type"] is None:
        raise InputFileError(f"{path}: not a PayPal activity download: needs Date, Time, TimeZone, Type and Gross")
    where = str(path)

    def normalize(line: int, values: list[str]) -> Outcome:
        n = len(values)

        def v(key: str) -> str:
            i = idx[key]
            return values[i].strip() if i is not None and i < n else ""

        kind = v("type")
        if not kind:
            return RowError(where, line, "Type is empty; PayPal rows say what they are (Donation Payment, Refund, ...): download the activity again")
        if not v("date"):
            return RowError(where, line, "Date is empty; every PayPal row has the date of the transaction: download the activity again")
        try:
            tz = zone_from_text(v("zone") or "UTC")
            row_rules = replace(rules, timezone=tz)
            when = fields.timestamp(f"{v('date')} {v('time')}".strip(), row_rules)
            gross = fields.amount_cents(v("gross"), rules)
        except ValueProblem as exc:
            return RowError(where, line, str(exc))
        txn = v("txn") or "row-" + hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:24]
        status_text = v("status").lower()
        kind_l = kind.lower()
        if ("refund" in kind_l or "reversal" in kind_l) and gross < 0:
            if not v("ref"):
                return RowError(where, line, f"refund {txn} has no Reference Txn ID, so it cannot be tied to its payment; add the payment's Transaction ID")
            if status_text not in COMPLETED:
                return Skipped(line, f"refund {txn} is {v('status') or 'not completed'}", "refund not completed")
            if (v("currency") or rules.currency).upper() != rules.currency:
                return RowError(where, line, f"refund in {v('currency')}, not the organization's currency {rules.currency}; convert it, or import it with --currency {v('currency')}")
            return RefundRow(line, txn, v("ref"), -gross, when)
        if "payment" not in kind_l or gross <= 0 or v("impact").lower() == "debit":
            return Skipped(line, f"not an incoming payment ({kind}, {v('gross')})", f"not an incoming payment: {kind}")
        if status_text in PENDING:
            status = "pending"
        elif status_text in COMPLETED:
            status = "succeeded"
        elif status_text in ("denied", "failed", "canceled", "cancelled", "expired", "voided"):
            status = "failed"
        elif status_text in ("refunded", "reversed"):
            status = "refunded"
        elif status_text == "partially refunded":
            status = "partially_refunded"
        else:
            return RowError(where, line, f"Status {v('status')!r} is not a PayPal payment status; use Completed, Pending, Refunded, ...")
        fee = v("fee").lstrip("-")
        data = {
            "donation_id": txn, "amount": v("gross"), "donated_at": when.isoformat(), "currency": v("currency"),
            "status": status, "fee": fee, "email": v("email"), "name": v("name"),
            "recurring": "true" if ("subscription" in kind_l or "recurring" in kind_l or "preapproved" in kind_l)
            else "false",
            "channel": "paypal", "processor": "paypal" if v("txn") else "",
            "processor_id": txn if v("txn") else "",
        }
        return fields.from_fields(where, line, data, rules)

    return normalize
