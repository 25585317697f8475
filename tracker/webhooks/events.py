"""What a Stripe or PayPal event means for the gifts: a gift as its charge now stands, a dispute's new
state, a refund of its own, or nothing (with why). Pure: no database, no clock.

Parsing is tolerant: only the fields named here are read, so a field the processor adds never
breaks anything, and a field that is missing makes the event ignored or failed with a reason,
never a wrong gift. The gift's id and source are the ones the processor's own export gives
(Stripe's charge id ch_/py_ in unified_payments.csv, PayPal's Transaction ID), so a gift received
by webhook and later imported from a file, or the other way round, is one gift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Union

from tracker.dates import UTC, parse_timestamp
from tracker.errors import ValueProblem
from tracker.ingest import fields
from tracker.ingest.records import NormalizedDonation, RefundRow
from tracker.ingest.stripe import CHANNEL_META, VARIANT_META

STRIPE_SOURCE, PAYPAL_SOURCE = "stripe", "paypal"  # the sources of the processors' own file imports


@dataclass(frozen=True)
class GiftEffect:
    gift: NormalizedDonation
    weak: bool = False  # only counts a gift not otherwise seen (a payment intent, an invoice): never overrides


@dataclass(frozen=True)
class DisputeEffect:
    external_id: str  # the charge or transaction disputed
    state: str  # open, won, lost
    cents: int
    at: datetime | None


@dataclass(frozen=True)
class RefundEffect:
    refund: RefundRow


@dataclass(frozen=True)
class Nothing:
    reason: str  # why the event changes no gift (a type not used, test mode, ...)


Effect = Union[GiftEffect, DisputeEffect, RefundEffect, Nothing]


class EventProblem(ValueProblem):
    """The event cannot be applied as it stands (a missing field, another currency, ...)."""


@dataclass(frozen=True)
class Envelope:
    """What the inbox keeps of an event: its id, type, the object it is about, and when it was made."""

    event_id: str
    type: str
    object_id: str | None
    created_at: datetime | None
    account: str | None


def _dig(obj, *path, default=None):
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
    return default if obj is None else obj


def _epoch(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


# -- Stripe -------------------------------------------------------------------------------------

def stripe_envelope(event: dict) -> Envelope:
    """The inbox's fields of a Stripe event; EventProblem when it has no id or type."""
    event_id, kind = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str) or not kind:
        raise EventProblem("a Stripe event has an id and a type")
    obj = _dig(event, "data", "object", default={})
    about = None
    if isinstance(obj, dict):
        if kind.startswith("charge.dispute."):
            about = obj.get("charge")
        elif kind.startswith("charge."):
            about = obj.get("id")
        elif kind == "invoice.paid":
            about = obj.get("charge")
        elif kind == "payment_intent.succeeded":
            about = obj.get("latest_charge")
    return Envelope(event_id, kind, about if isinstance(about, str) else None, _epoch(event.get("created")),
                    event.get("account") if isinstance(event.get("account"), str) else None)


def stripe_effect(event: dict, currency: str, rates=None) -> Effect:
    """What a Stripe event means (`currency`: the organization's; `rates`: a tracker.currency.RateTable for a
    charge in another currency, converted at the rate of its day as a file's row is; None: such a charge is refused)."""
    kind = event.get("type", "")
    obj = _dig(event, "data", "object", default={})
    if event.get("livemode") is False:
        return Nothing("test mode (livemode false): skipped, as in the Stripe export")
    if not isinstance(obj, dict):
        raise EventProblem("the event carries no object in data.object")
    at = _epoch(event.get("created"))
    if kind.startswith("charge.dispute."):
        return _stripe_dispute(obj, at)
    if kind in ("charge.succeeded", "charge.updated", "charge.refunded", "charge.captured", "charge.failed",
                "charge.pending", "charge.expired"):
        return GiftEffect(_stripe_charge(obj, at, currency, rates))
    if kind == "payment_intent.succeeded":
        charge = obj.get("latest_charge")
        if isinstance(charge, dict):  # expanded: the charge itself
            return GiftEffect(_stripe_charge(charge, at, currency, rates), weak=True)
        if not isinstance(charge, str):
            return Nothing("the payment intent names no charge; the charge's own event counts it")
        return GiftEffect(_stripe_gift(charge, obj.get("amount_received"), 0, obj.get("currency"), obj.get("created"),
                                       "succeeded", obj.get("receipt_email"), None, obj.get("customer"),
                                       obj.get("metadata"), bool(obj.get("invoice")), at, currency, rates), weak=True)
    if kind == "checkout.session.completed":
        intent = obj.get("payment_intent")
        charge = _dig(intent, "latest_charge") if isinstance(intent, dict) else None
        if isinstance(charge, dict):
            return GiftEffect(_stripe_charge(charge, at, currency, rates), weak=True)
        return Nothing("the checkout session carries no charge; the charge's own event counts it")
    if kind == "invoice.paid":
        charge = obj.get("charge")
        if not isinstance(charge, str) or not charge:
            return Nothing("the invoice was paid without a charge (a credit or a zero amount)")
        return GiftEffect(_stripe_gift(charge, obj.get("amount_paid"), 0, obj.get("currency"), obj.get("created"),
                                       "succeeded", obj.get("customer_email"), obj.get("customer_name"),
                                       obj.get("customer"), _dig(obj, "subscription_details", "metadata")
                                       or obj.get("metadata"), True, at, currency, rates), weak=True)
    return Nothing(f"{kind} events change no gift")


def _stripe_charge(charge: dict, at: datetime | None, currency: str, rates=None) -> NormalizedDonation:
    status = charge.get("status")
    if status == "succeeded":
        status = "succeeded" if charge.get("captured", True) and charge.get("paid", True) else "pending"
    elif status not in ("pending", "failed"):
        raise EventProblem(f"charge status {status!r} is not one Stripe gives (succeeded, pending, failed)")
    email = _dig(charge, "billing_details", "email") or charge.get("receipt_email")
    gift = _stripe_gift(charge.get("id"), charge.get("amount"), charge.get("amount_refunded", 0), charge.get("currency"),
                        charge.get("created"), status, email, _dig(charge, "billing_details", "name"),
                        charge.get("customer"), charge.get("metadata"), bool(charge.get("invoice")), at, currency,
                        rates)
    if charge.get("disputed") and gift.status != "failed":
        return gift._replace(dispute_status="open")  # at least open: a closed dispute is never reopened
    return gift


def _stripe_gift(charge_id, amount, refunded, charge_currency, created, status, email, name, customer, metadata,
                 recurring, at, currency, rates=None) -> NormalizedDonation:
    if not isinstance(charge_id, str) or not charge_id:
        raise EventProblem("the charge has no id")
    if isinstance(customer, dict):
        customer = customer.get("id")
    metadata = metadata if isinstance(metadata, dict) else {}

    def meta(names: tuple[str, ...]) -> str:
        keys = [n.removesuffix(" (metadata)") for n in names]
        return next((str(metadata[k]) for k in keys if metadata.get(k)), "")

    code = str(charge_currency or "").upper()
    if code != currency and (rates is None or not code):
        raise EventProblem(f"charge {charge_id} is in {code or 'no currency'}, not the organization's {currency}; "
                           "it counts once exchange rates are known (its Stripe export has the converted amount)")
    try:
        cents, refunded_cents = int(amount), int(refunded or 0)
    except (TypeError, ValueError):
        raise EventProblem(f"charge {charge_id} has no whole amount in cents") from None
    donated = _epoch(created)
    if donated is None:
        raise EventProblem(f"charge {charge_id} has no created time")
    money = str if code in STRIPE_ZERO_DECIMAL else _cents_text  # Stripe's amounts are in the currency's smallest unit
    data = {
        "donation_id": charge_id, "amount": money(cents), "donated_at": donated.isoformat(), "currency": code,
        "status": status, "refunded_amount": money(refunded_cents) if refunded_cents else "",
        "email": email or "", "donor_id": "" if email or not customer else f"stripe:{customer}", "name": name or "",
        "channel": meta(CHANNEL_META), "appeal_variant": meta(VARIANT_META), "recurring": "true" if recurring else "false",
        "processor": STRIPE_SOURCE, "processor_id": charge_id,
    }
    made = fields.from_fields("stripe webhook", 0, data, fields.RowRules(source=STRIPE_SOURCE, timezone=UTC,
                                                                          currency=currency, rates=rates))
    if not isinstance(made, NormalizedDonation):
        raise EventProblem(made.message)
    return made._replace(updated_at=at)


def _stripe_dispute(dispute: dict, at: datetime | None) -> Effect:
    charge = dispute.get("charge")
    if isinstance(charge, dict):
        charge = charge.get("id")
    if not isinstance(charge, str) or not charge:
        raise EventProblem("the dispute names no charge")
    status = str(dispute.get("status") or "")
    state = {"won": "won", "warning_closed": "won", "charge_refunded": "won", "lost": "lost"}.get(status, "open")
    try:
        cents = int(dispute.get("amount") or 0)
    except (TypeError, ValueError):
        cents = 0
    return DisputeEffect(charge, state, cents, at)


# currencies whose smallest unit is the unit itself in Stripe's amounts (Stripe's list of zero-decimal currencies)
STRIPE_ZERO_DECIMAL = frozenset({"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
                                 "VUV", "XAF", "XOF", "XPF"})


def _cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


# -- PayPal -------------------------------------------------------------------------------------

def paypal_envelope(event: dict) -> Envelope:
    """The inbox's fields of a PayPal event; EventProblem when it has no id or event_type."""
    event_id, kind = event.get("id"), event.get("event_type")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str) or not kind:
        raise EventProblem("a PayPal event has an id and an event_type")
    resource = event.get("resource") if isinstance(event.get("resource"), dict) else {}
    about = None
    if kind in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.SALE.COMPLETED"):
        about = resource.get("id")
    elif kind == "PAYMENT.CAPTURE.REFUNDED":
        about = _capture_of_refund(resource)
    elif kind == "PAYMENT.SALE.REFUNDED":
        about = resource.get("sale_id")
    elif kind.startswith("CUSTOMER.DISPUTE."):
        about = _disputed_transaction(resource)
    created = None
    if isinstance(event.get("create_time"), str):
        try:
            created = parse_timestamp(event["create_time"], UTC)
        except ValueProblem:
            created = None
    return Envelope(event_id, kind, about if isinstance(about, str) else None, created, None)


def paypal_effect(event: dict, currency: str, rates=None) -> Effect:
    """What a PayPal event means (`currency`: the organization's; `rates`: as for `stripe_effect`)."""
    kind = event.get("event_type", "")
    resource = event.get("resource")
    if not isinstance(resource, dict):
        raise EventProblem("the event carries no resource")
    at = paypal_envelope(event).created_at
    if kind == "PAYMENT.CAPTURE.COMPLETED":
        return GiftEffect(_paypal_gift(resource.get("id"), _dig(resource, "amount", "value"),
                                       _dig(resource, "amount", "currency_code"), resource.get("create_time"),
                                       _dig(resource, "seller_receivable_breakdown", "paypal_fee", "value"),
                                       _dig(resource, "payer", "email_address"), False, at, currency, rates))
    if kind == "PAYMENT.SALE.COMPLETED":
        return GiftEffect(_paypal_gift(resource.get("id"), _dig(resource, "amount", "total"),
                                       _dig(resource, "amount", "currency"), resource.get("create_time"),
                                       _dig(resource, "transaction_fee", "value"), _dig(resource, "payer", "email_address"),
                                       bool(resource.get("billing_agreement_id")), at, currency, rates))
    if kind in ("PAYMENT.CAPTURE.REFUNDED", "PAYMENT.SALE.REFUNDED"):
        payment = _capture_of_refund(resource) if kind == "PAYMENT.CAPTURE.REFUNDED" else resource.get("sale_id")
        value = _dig(resource, "amount", "value") or _dig(resource, "amount", "total")
        code = _dig(resource, "amount", "currency_code") or _dig(resource, "amount", "currency")
        refund_id = resource.get("id")
        if not isinstance(payment, str) or not isinstance(refund_id, str):
            raise EventProblem("the refund names no payment (links rel=up) or has no id")
        if str(code or currency).upper() != currency:
            raise EventProblem(f"refund {refund_id} is in {code}, not the organization's {currency}")
        when = _paypal_time(resource.get("create_time")) or at
        return RefundEffect(RefundRow(0, refund_id, payment, abs(_paypal_cents(value, refund_id)), when))
    if kind.startswith("CUSTOMER.DISPUTE."):
        txn = _disputed_transaction(resource)
        if not txn:
            raise EventProblem("the dispute names no disputed transaction (seller_transaction_id)")
        outcome = str(_dig(resource, "dispute_outcome", "outcome_code") or "")
        state = "open"
        if str(resource.get("status", "")).upper() == "RESOLVED" or outcome:
            state = "won" if outcome in ("RESOLVED_SELLER_FAVOUR", "CANCELED_BY_BUYER", "DENIED") else "lost"
        value = _dig(resource, "dispute_amount", "value")
        return DisputeEffect(txn, state, _paypal_cents(value, txn) if value else 0, at)
    return Nothing(f"{kind} events change no gift")


def _capture_of_refund(resource: dict) -> str | None:
    for link in resource.get("links") or []:
        if isinstance(link, dict) and link.get("rel") == "up" and isinstance(link.get("href"), str):
            return link["href"].rstrip("/").rsplit("/", 1)[-1]
    return _dig(resource, "supplementary_data", "related_ids", "capture_id")


def _disputed_transaction(resource: dict) -> str | None:
    for txn in resource.get("disputed_transactions") or []:
        if isinstance(txn, dict) and isinstance(txn.get("seller_transaction_id"), str):
            return txn["seller_transaction_id"]
    return None


def _paypal_time(text) -> datetime | None:
    try:
        return parse_timestamp(str(text), UTC) if text else None
    except ValueProblem:
        return None


def _paypal_cents(value, what: str) -> int:
    try:
        return int((Decimal(str(value)) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        raise EventProblem(f"{what}: {value!r} is not an amount") from None


def _paypal_gift(txn, value, code, created, fee, email, recurring, at, currency, rates=None) -> NormalizedDonation:
    if not isinstance(txn, str) or not txn:
        raise EventProblem("the payment has no id")
    code = str(code or "").upper()
    if code != currency and (rates is None or not code):
        raise EventProblem(f"payment {txn} is in {code or 'no currency'}, not the organization's {currency}; it "
                           "counts once exchange rates are known")
    when = _paypal_time(created)
    if when is None:
        raise EventProblem(f"payment {txn} has no create_time")
    data = {"donation_id": txn, "amount": str(value or ""), "donated_at": when.isoformat(), "currency": code,
            "status": "succeeded", "fee": str(fee).lstrip("-") if fee else "", "email": email or "",
            "channel": "paypal", "recurring": "true" if recurring else "false", "processor": PAYPAL_SOURCE,
            "processor_id": txn}
    made = fields.from_fields("paypal webhook", 0, data, fields.RowRules(source=PAYPAL_SOURCE, timezone=UTC,
                                                                          currency=currency, rates=rates))
    if not isinstance(made, NormalizedDonation):
        raise EventProblem(made.message)
    return made._replace(updated_at=at)
