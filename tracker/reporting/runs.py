"""Recording report and alert runs so that each slot is delivered once, whoever runs it.

The protocol, safe with any number of schedulers on one database:
- claim: INSERT a "running" row under the unique (job, campaign, slot) key, in its own committed
  transaction. Whoever inserts first owns the slot; everyone else gets None and moves on.
- finish or fail: the owner records the outcome. A failure gets its next attempt time (backoff).
- retake: a failed run whose time has come, or a running one whose lease has run out (its owner
  died), is taken by an UPDATE that matches only while it is still in that state: exactly one
  scheduler's UPDATE changes the row, and only that one goes on to deliver it.
- deliver: between the claim and the record, the one way a delivery is attempted (by the scheduler
  and by `tracker report` alike): whatever the attempt raises is recorded as a failure.
A delivery that succeeds but whose owner dies before recording it would be retried: at most one
duplicate e-mail in that case, never a lost report.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tracker import db
from tracker.config import Retry
from tracker.errors import TrackerError
from tracker.models import ReportRun

OWNER = db.process_name()
DONE = ("sent", "written", "skipped")


def claim(sessions: sessionmaker[Session], *, job: str, campaign_id: int, slot: str, kind: str, now: datetime,
          due_at: datetime | None = None, lease_seconds: int = 600, recipients: str = "",
          status: str = "running", detail: str = "") -> int | None:
    """Take the slot: the new run's id, or None when another run has it already."""
    try:
        with db.transaction(sessions) as session:
            return session.execute(insert(ReportRun).values(
                job=job, campaign_id=campaign_id, slot=slot, kind=kind, status=status, attempts=1, due_at=due_at,
                started_at=now, lease_until=now + timedelta(seconds=lease_seconds) if status == "running" else None,
                finished_at=None if status == "running" else now, owner=OWNER, recipients=recipients, detail=detail,
            ).returning(ReportRun.id)).scalar_one()
    except IntegrityError:
        return None


def finish(sessions: sessionmaker[Session], run_id: int, *, status: str, now: datetime, detail: str = "",
           raised_cents: int | None = None, new_donors: int | None = None, fingerprint: str | None = None) -> None:
    """Record a run's outcome (sent, written or skipped) with the figures it reported."""
    with db.transaction(sessions) as session:
        session.execute(update(ReportRun).where(ReportRun.id == run_id).values(
            status=status, finished_at=now, lease_until=None, next_attempt_at=None, detail=detail,
            raised_cents=raised_cents, new_donors=new_donors, fingerprint=fingerprint))


def fail(sessions: sessionmaker[Session], run_id: int, *, now: datetime, error: str, retry: Retry | None) -> str:
    """Record a failure; with a retry policy, schedule the next attempt or give up. The new status."""
    with db.transaction(sessions) as session:
        attempts = session.get(ReportRun, run_id).attempts
        if retry is None or attempts >= retry.attempts:
            status, next_at = ("gave_up" if retry else "failed"), None
        else:
            status, next_at = "failed", now + timedelta(seconds=retry.delay(attempts))
        session.execute(update(ReportRun).where(ReportRun.id == run_id).values(
            status=status, finished_at=now, lease_until=None, next_attempt_at=next_at, detail=error[:2000]))
    return status


def retake(sessions: sessionmaker[Session], run_id: int, *, now: datetime, lease_seconds: int) -> bool:
    """Take a failed run that is due, or a running one whose lease ran out; True for the one taker that won."""
    with db.transaction(sessions) as session:
        due_retry = (ReportRun.status == "failed") & (ReportRun.next_attempt_at <= now)
        abandoned = (ReportRun.status == "running") & (ReportRun.lease_until < now)
        result = session.execute(update(ReportRun).where(ReportRun.id == run_id, due_retry | abandoned).values(
            status="running", attempts=ReportRun.attempts + 1, finished_at=None,
            lease_until=now + timedelta(seconds=lease_seconds), next_attempt_at=None, owner=OWNER))
        return result.rowcount == 1


@dataclass(frozen=True)
class Delivered:
    """What a successful attempt did: its status and detail, and the figures it reported."""

    status: str = "sent"  # sent | written | skipped
    detail: str = ""
    raised_cents: int | None = None
    new_donors: int | None = None
    fingerprint: str | None = None


def deliver(sessions: sessionmaker[Session], run_id: int, attempt: Callable[[], Delivered], *, now: datetime,
            retry: Retry | None, reraise: bool = False) -> tuple[str, str]:
    """Make the attempt for a claimed run and record its outcome: (status, detail).

    A failure is recorded with its reason (and, with a retry policy, its next attempt), then
    returned as ("failed" or "gave_up", reason), or raised again with `reraise`."""
    try:
        done = attempt()
    except Exception as exc:  # noqa: BLE001 - recorded whatever it is; the caller decides what follows
        if isinstance(exc, TrackerError):
            reason = str(exc)
        else:
            reason = f"{exc.__class__.__name__}: {exc}"
            if os.environ.get("TRACKER_DEBUG"):
                traceback.print_exc()
        status = fail(sessions, run_id, now=now, error=reason, retry=retry)
        if reraise:
            raise
        return status, reason
    finish(sessions, run_id, status=done.status, now=now, detail=done.detail, raised_cents=done.raised_cents,
           new_donors=done.new_donors, fingerprint=done.fingerprint)
    return done.status, done.detail
