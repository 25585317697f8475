"""Receiving one delivery: check it, store it in the inbox, and say what to answer. Applying comes later.

Every delivery is answered from what is stored: 200 once the event is in the inbox (a second
delivery of the same event is answered 200 too, and stored once), 400 for a bad signature, an
expired or replayed one, or a body that is not a JSON event (nothing is stored, the refusal is
counted), 413 for a body over the size limit, 415 for one that does not say it is JSON. The
answer never waits for the event to be applied, nor, on SQLite, for an import's chunk: a delivery
that cannot be stored within a fraction of a second is spooled to disk (tracker.webhooks.spool).
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tracker.config import Webhooks
from tracker.webhooks import inbox, spool, verify
from tracker.webhooks.events import EventProblem, paypal_envelope, stripe_envelope

MAX_BODY = 1 << 20  # bytes; Stripe's and PayPal's events are a few kilobytes
SQLITE_WAIT_MS = 50  # how long a delivery waits for SQLite's write lock before it is spooled
PROVIDERS = ("stripe", "paypal")
log = logging.getLogger("tracker.webhooks")


@dataclass(frozen=True)
class Answer:
    status: int
    message: str
    stored: bool = False  # a new event was stored (the worker may be woken)


def receive(sessions: sessionmaker[Session], provider: str, body: bytes, headers, settings: Webhooks, *,
            now: datetime, content_type: str | None, certificate: bytes | None = None) -> Answer:
    """Check and store one delivery for `provider`; the answer to send (`headers`: a mapping, any case).
    `certificate`: PayPal's certificate as read from settings.paypal_cert (the caller reads it once)."""
    if provider not in PROVIDERS:
        return Answer(404, f"no webhook endpoint for {provider!r}; there are /hooks/stripe and /hooks/paypal")
    if len(body) > MAX_BODY:
        return _refused(sessions, provider, "too large", now, 413, f"the body is over {MAX_BODY:,} bytes")
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind != "application/json":
        return _refused(sessions, provider, "not json type", now, 415, "the body must be application/json")
    try:
        if provider == "stripe":
            verify.stripe(body, headers.get("Stripe-Signature"), settings.stripe_secrets, now=now)
        else:
            verify.paypal(body, headers, certificate_pem=certificate, webhook_id=settings.paypal_webhook_id, now=now)
    except verify.BadSignature as exc:
        return _refused(sessions, provider, exc.reason, now, 400, str(exc))
    try:
        text = body.decode("utf-8")
        event = json.loads(text)
        if not isinstance(event, dict):
            raise ValueError("not an object")
        envelope = (stripe_envelope if provider == "stripe" else paypal_envelope)(event)
    except (ValueError, RecursionError, EventProblem) as exc:
        log.warning("%s webhook: a signed body that is not a JSON event was refused (%s)", provider,
                    str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)
        return _refused(sessions, provider, "not an event", now, 400, "the body is not a JSON event with an id and a type")
    try:
        with sessions.begin() as session, _waiting_briefly(session):
            new = inbox.store(session, provider, envelope, text, now=now)
    except OperationalError as exc:
        where = spool.folder(sessions.kw["bind"])
        if where is None or "locked" not in str(exc.orig):
            raise
        spool.put(where, provider, text, now)  # an import is writing: kept on disk, moved to the inbox soon
        return Answer(200, "received", stored=True)
    return Answer(200, "received" if new else "received before", stored=new)


@contextmanager
def _waiting_briefly(session: Session):
    """On SQLite, wait for the write lock a fraction of a second only (then the delivery is spooled); the
    connection's own wait is set back before it goes back to the pool."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    conn = session.connection()
    conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_WAIT_MS}")
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA busy_timeout=30000")  # the engine's (db.make_engine)


def _refused(sessions, provider: str, reason: str, now: datetime, status: int, message: str) -> Answer:
    try:
        with sessions.begin() as session, _waiting_briefly(session):
            inbox.count_refusal(session, provider, reason, now=now)
    except OperationalError as exc:  # only a count: never worth waiting for an import's chunk
        log.warning("%s webhook: refused (%s), not counted: %s", provider, reason, str(exc.orig)[:100])
    return Answer(status, message)
