"""Checking that a delivery comes from the processor: Stripe's signed header, PayPal's transmission signature.

Stripe signs "{t}.{raw body}" with HMAC-SHA256 and the endpoint's secret and sends
`Stripe-Signature: t=...,v1=...` (several v1 while a secret is being rotated); the stripe
package's own check is used (constant-time compare, a tolerance so a captured body cannot be
replayed later). Several secrets may be configured, for the same reason.

PayPal signs "{transmission id}|{transmission time}|{webhook id}|{CRC32 of the body}" with its
certificate's key (SHA256withRSA). The certificate is the one the operator configured (a PEM
file): nothing is fetched at run time, so PAYPAL-CERT-URL is only recorded, never followed.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from datetime import datetime

from tracker.dates import UTC, parse_timestamp
from tracker.errors import TrackerError, ValueProblem

TOLERANCE_SECONDS = 300


class BadSignature(TrackerError):
    """The delivery's signature does not check out (or is too old): answered 400, stored as nothing."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason  # a short key the refusals are counted by


def stripe(body: bytes, header: str | None, secrets: tuple[str, ...], *, now: datetime,
           tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise BadSignature unless `header` signs `body` with one of `secrets`, made within `tolerance` of `now`."""
    if not secrets:
        raise BadSignature("no Stripe webhook secret is configured (TRACKER_STRIPE_WEBHOOK_SECRET)", "not configured")
    if not header:
        raise BadSignature("no Stripe-Signature header", "no signature")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadSignature("the body is not UTF-8 text", "not text") from None
    from stripe import SignatureVerificationError, WebhookSignature

    stamp = _stripe_time(header)
    if stamp is None:
        raise BadSignature("the Stripe-Signature header has no timestamp t=", "no timestamp")
    age = now.timestamp() - stamp
    if abs(age) > tolerance:
        raise BadSignature(f"the signature was made {int(age)} s from now, outside the {tolerance} s tolerance "
                           "(a replayed or delayed delivery)", "too old")
    for secret in secrets:
        try:
            # the tolerance is checked above against the caller's clock, so the check here is of the signature alone
            WebhookSignature.verify_header(text, header, secret, tolerance=None)
            return
        except SignatureVerificationError:
            continue
    raise BadSignature("no v1 signature of the Stripe-Signature header matches a configured secret", "bad signature")


def _stripe_time(header: str) -> int | None:
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.strip().isdigit():
            return int(value.strip())
    return None


def paypal(body: bytes, headers, *, certificate_pem: bytes | None, webhook_id: str | None, now: datetime,
           tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise BadSignature unless PayPal's transmission headers sign `body` for `webhook_id` with the configured
    certificate (a PEM), and the transmission is within `tolerance` of `now`."""
    if not certificate_pem or not webhook_id:
        raise BadSignature("no PayPal certificate and webhook id are configured (TRACKER_PAYPAL_CERT, "
                           "TRACKER_PAYPAL_WEBHOOK_ID)", "not configured")
    transmission_id = headers.get("PAYPAL-TRANSMISSION-ID")
    transmission_time = headers.get("PAYPAL-TRANSMISSION-TIME")
    signature = headers.get("PAYPAL-TRANSMISSION-SIG")
    algorithm = (headers.get("PAYPAL-AUTH-ALGO") or "SHA256withRSA").upper()
    if not (transmission_id and transmission_time and signature):
        raise BadSignature("PayPal's transmission headers (PAYPAL-TRANSMISSION-ID, -TIME, -SIG) are missing",
                           "no signature")
    if algorithm != "SHA256WITHRSA":
        raise BadSignature(f"PAYPAL-AUTH-ALGO {algorithm} is not SHA256withRSA", "bad signature")
    try:
        sent = parse_timestamp(transmission_time, UTC)
    except ValueProblem:
        raise BadSignature("PAYPAL-TRANSMISSION-TIME is not a time", "no timestamp") from None
    age = (now - sent).total_seconds()
    if abs(age) > tolerance:
        raise BadSignature(f"the transmission was made {int(age)} s from now, outside the {tolerance} s tolerance",
                           "too old")
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()
    try:
        key = x509.load_pem_x509_certificate(certificate_pem).public_key()
        key.verify(base64.b64decode(signature, validate=True), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError, TypeError):
        raise BadSignature("the PayPal transmission signature does not match the configured certificate",
                           "bad signature") from None
