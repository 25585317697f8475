"""The webhook inbox: every accepted delivery is stored, in one transaction, before it is answered.

The one write of the tracker that is not gifts: an event is stored as it came (its raw body), once
however often it is delivered, then applied by a worker (tracker.webhooks.worker). Refused
deliveries are only counted. Functions take the session first and never commit, but for `claim`,
which takes events for one worker in a transaction of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tracker.models import WebhookEvent, WebhookRefusal
from tracker.webhooks.events import Envelope

LEASE_SECONDS = 30  # a worker that dies keeps its events this long; then another takes them (a batch takes well under a second)
MAX_ATTEMPTS = 8
BACKOFF_SECONDS = (5, 30, 120, 600, 1800, 3600, 7200)
WAIT_SECONDS = 30  # an event about a gift not received yet is looked at again this often (and when it arrives)


def _insert(session: Session, table):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def store(session: Session, provider: str, envelope: Envelope, body: str, *, now: datetime) -> bool:
    """Keep one delivery; False when the same event (provider, id) is stored already (a second delivery)."""
    stmt = _insert(session, WebhookEvent.__table__).values(
        provider=provider, account=envelope.account, event_id=envelope.event_id[:200], type=envelope.type[:120],
        object_id=(envelope.object_id or None) and envelope.object_id[:200], created_at=envelope.created_at,
        received_at=now, body=body, status="received", attempts=0,
    ).on_conflict_do_nothing(index_elements=["provider", "event_id"]).returning(WebhookEvent.__table__.c.id)
    return session.execute(stmt).first() is not None


def count_refusal(session: Session, provider: str, reason: str, *, now: datetime) -> None:
    """Count a refused delivery (bad signature, too old, too large, not JSON...): nothing else of it is kept."""
    stmt = _insert(session, WebhookRefusal.__table__).values(provider=provider, reason=reason[:40], n=1, last_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=["provider", "reason"],
                                               set_={"n": WebhookRefusal.__table__.c.n + 1, "last_at": now}))


def due(now: datetime):
    """The condition of events a worker should apply at `now`."""
    e = WebhookEvent
    return or_(e.status == "received",
               (e.status.in_(("failed", "waiting"))) & (e.next_attempt_at <= now),
               (e.status == "applying") & (e.lease_until < now))


def claim(sessions: sessionmaker[Session], owner: str, *, now: datetime, limit: int = 200) -> list[int]:
    """Take up to `limit` due events for `owner`, oldest first, in a transaction of its own: two workers
    never take the same one (PostgreSQL skips rows another worker is taking; SQLite has one writer)."""
    with sessions.begin() as session:
        # one statement that picks and takes: no other worker can take a row between the two
        pick = select(WebhookEvent.id).where(due(now)).order_by(WebhookEvent.created_at, WebhookEvent.id).limit(limit)
        if session.get_bind().dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        taken = session.scalars(update(WebhookEvent).where(WebhookEvent.id.in_(pick.scalar_subquery()), due(now))
                                .values(status="applying", owner=owner,
                                        lease_until=now + timedelta(seconds=LEASE_SECONDS))
                                .returning(WebhookEvent.id).execution_options(synchronize_session=False))
        return sorted(taken)


def finish(session: Session, event: WebhookEvent, status: str, *, now: datetime, error: str | None = None) -> None:
    """Record what came of one event: applied, ignored (with why), or waiting for its gift."""
    event.status, event.error, event.lease_until, event.owner = status, error, None, None
    if status == "waiting":
        event.next_attempt_at = now + timedelta(seconds=WAIT_SECONDS)
    else:
        event.applied_at = now
        event.next_attempt_at = None


def fail(session: Session, event_id: int, error: str, *, now: datetime) -> str:
    """Record a failed application: retried later with a growing delay, then given up (shown, replayed by hand)."""
    event = session.get(WebhookEvent, event_id)
    event.attempts += 1
    event.error, event.lease_until, event.owner = error[:2000], None, None
    if event.attempts >= MAX_ATTEMPTS:
        event.status, event.next_attempt_at = "gave_up", None
    else:
        event.status = "failed"
        event.next_attempt_at = now + timedelta(seconds=BACKOFF_SECONDS[min(event.attempts, len(BACKOFF_SECONDS)) - 1])
    return event.status


def wake(session: Session, provider: str, object_ids: list[str], *, now: datetime) -> None:
    """Events waiting for these gifts are due now (their gift has arrived)."""
    if object_ids:
        session.execute(update(WebhookEvent).where(
            WebhookEvent.provider == provider, WebhookEvent.status == "waiting",
            WebhookEvent.object_id.in_(sorted(set(object_ids)))).values(next_attempt_at=now))


def replay(session: Session, event_id: str, *, now: datetime) -> WebhookEvent | None:
    """Apply an event again (by its processor's id): it is due now, with its attempts counted from zero."""
    event = session.scalar(select(WebhookEvent).where(WebhookEvent.event_id == event_id))
    if event is not None:
        event.status, event.attempts, event.next_attempt_at, event.error = "received", 0, now, None
        event.lease_until = event.owner = None
    return event


def pending_count(session: Session) -> int:
    """Events not applied yet (received, applying, failed or waiting)."""
    return session.scalar(select(func.count()).select_from(WebhookEvent).where(
        WebhookEvent.status.in_(("received", "applying", "failed", "waiting")))) or 0
