"""Helpers for the webhook tests: events shaped as Stripe and PayPal send them, signed by their rules,
posted over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
import zlib
from datetime import datetime, timedelta, timezone

SECRET = "whsec_test_secret_for_the_tracker"
WEBHOOK_ID = "8PT597110X687430LKGECATA"


def post(url: str, body: bytes, headers: dict) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20) as reply:
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, (json.loads(raw) if raw.startswith(b"{") else {"raw": raw.decode(errors="replace")})


def stripe_headers(body: bytes, secret: str = SECRET, ts: int | None = None, extra_v1: str | None = None) -> dict:
    ts = int(time.time()) if ts is None else ts
    sig = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    header = f"t={ts},v1={sig}" + (f",v1={extra_v1}" if extra_v1 else "")
    return {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header}


def send_stripe(base: str, event: dict, **kw) -> tuple[int, dict]:
    body = json.dumps(event).encode()
    return post(f"{base}/hooks/stripe", body, stripe_headers(body, **kw))


def charge(charge_id: str, cents: int, created: datetime, *, email="donor@example.org", refunded=0, status="succeeded",
           captured=True, disputed=False, livemode=True, currency="usd", customer="cus_1", metadata=None,
           invoice=None) -> dict:
    return {"id": charge_id, "object": "charge", "amount": cents, "amount_refunded": refunded, "currency": currency,
            "created": int(created.timestamp()), "paid": status == "succeeded", "captured": captured,
            "refunded": refunded >= cents, "disputed": disputed, "status": status, "livemode": livemode,
            "billing_details": {"email": email, "name": "Ann Donor"}, "receipt_email": email, "customer": customer,
            "metadata": metadata or {}, "invoice": invoice, "balance_transaction": "txn_1",
            "some_field_stripe_added_later": {"nested": [1, 2, 3]}}


def event(event_id: str, kind: str, obj: dict, created: datetime, livemode=True) -> dict:
    return {"id": event_id, "object": "event", "type": kind, "created": int(created.timestamp()), "livemode": livemode,
            "api_version": "2024-06-20", "data": {"object": obj}, "pending_webhooks": 1}


def dispute(dispute_id: str, charge_id: str, cents: int, status: str, created: datetime) -> dict:
    return {"id": dispute_id, "object": "dispute", "charge": charge_id, "amount": cents, "status": status,
            "created": int(created.timestamp()), "currency": "usd", "reason": "fraudulent"}


# -- PayPal ---------------------------------------------------------------------------------------

def paypal_key_and_certificate(folder):
    """A signing key and its self-signed certificate (PEM file), as PayPal's would be."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts.paypal.example")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    path = folder / "paypal-cert.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, path


def paypal_headers(key, body: bytes, webhook_id: str = WEBHOOK_ID, sent: datetime | None = None) -> dict:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    transmission_id = "b2384410-f8d2-11e7-8d7b-c9e5e1f6e2d3"
    when = (sent or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    message = f"{transmission_id}|{when}|{webhook_id}|{zlib.crc32(body)}".encode()
    signature = base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    return {"Content-Type": "application/json", "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": when, "PAYPAL-TRANSMISSION-SIG": signature, "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"}


def paypal_event(event_id: str, kind: str, resource: dict, created: datetime) -> dict:
    return {"id": event_id, "event_version": "1.0", "create_time": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resource_type": "capture", "event_type": kind, "summary": kind, "resource": resource, "links": []}


def capture(txn: str, value: str, created: datetime, currency="USD", fee="0.59") -> dict:
    return {"id": txn, "amount": {"currency_code": currency, "value": value}, "status": "COMPLETED",
            "create_time": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seller_receivable_breakdown": {"gross_amount": {"value": value}, "paypal_fee": {"value": fee}}}


def paypal_refund(refund_id: str, txn: str, value: str, created: datetime) -> dict:
    return {"id": refund_id, "amount": {"currency_code": "USD", "value": value}, "status": "COMPLETED",
            "create_time": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": [{"rel": "up", "method": "GET", "href": f"https://api.paypal.com/v2/payments/captures/{txn}"}]}


def paypal_dispute(dispute_id: str, txn: str, value: str, status: str, outcome: str | None) -> dict:
    return {"dispute_id": dispute_id, "status": status, "dispute_amount": {"currency_code": "USD", "value": value},
            "disputed_transactions": [{"seller_transaction_id": txn}],
            **({"dispute_outcome": {"outcome_code": outcome}} if outcome else {})}
