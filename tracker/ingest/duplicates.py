"""Likely duplicates across sources: gifts that look like one, listed for a person to decide, never merged silently.

Two gifts are a likely pair when they come from different sources, have the same donor and the same
amount, and were made within WINDOW of each other, and nothing ties them already (a shared processor
id makes them one gift when they arrive: tracker.ingest.loader). Both count until someone decides:
`merge` makes the second a duplicate of the first (it counts no longer, and stays so however often
its file is imported again), `keep` says they are two real gifts. The caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from tracker import rollups
from tracker.ingest import history
from tracker.ingest.history import Cause
from tracker.errors import NotFound, UsageError
from tracker.ingest.loader import COLUMNS
from tracker.ingest.states import effective
from tracker.models import Donation, DuplicatePair, UTCDateTime

WINDOW = timedelta(minutes=10)


def find_pairs(session: Session, *, import_id: int | None = None, gift_ids: list[int] | None = None,
               now: datetime) -> int:
    """Record the likely pairs of the gifts an import inserted (or of `gift_ids`) with gifts of other sources;
    how many new pairs. Quick when there is one source only."""
    if session.execute(text("SELECT count(DISTINCT source) FROM donations")).scalar() < 2:
        return 0
    pg = session.get_bind().dialect.name == "postgresql"
    minutes = int(WINDOW.total_seconds() // 60)
    if pg:
        near = (f"o.donated_at BETWEEN n.donated_at - interval '{minutes} minutes' "
                f"AND n.donated_at + interval '{minutes} minutes'")
    else:
        near = (f"o.donated_at BETWEEN datetime(n.donated_at, '-{minutes} minutes') "
                f"AND datetime(n.donated_at, '+{minutes} minutes', '+1 second')")
    if gift_ids is not None:
        if not gift_ids:
            return 0
        which, params = "n.id IN :ids", {"ids": sorted(set(gift_ids))}
    else:
        which, params = ("n.import_id = :import_id AND n.recorded_at = (SELECT started_at FROM imports WHERE id = "
                         ":import_id)", {"import_id": import_id})
    stmt = text(
        "INSERT INTO duplicate_pairs (a_id, b_id, status, found_at) "
        "SELECT DISTINCT CASE WHEN o.id < n.id THEN o.id ELSE n.id END, CASE WHEN o.id < n.id THEN n.id ELSE o.id END, "
        "'undecided', :now FROM donations n JOIN donations o ON o.donor_id = n.donor_id "
        f"AND o.amount_cents = n.amount_cents AND o.source <> n.source AND {near} "
        f"WHERE {which} AND n.duplicate_of IS NULL AND o.duplicate_of IS NULL "
        # one processor's two payments are two gifts (a missing processor must not make the test NULL)
        "AND (o.processor IS NULL OR n.processor IS NULL OR o.processor <> n.processor) "
        "AND NOT EXISTS (SELECT 1 FROM duplicate_pairs p WHERE (p.a_id = o.id AND p.b_id = n.id) "
        "OR (p.a_id = n.id AND p.b_id = o.id))"
    )
    stmt = stmt.bindparams(bindparam("now", type_=UTCDateTime))
    if gift_ids is not None:
        stmt = stmt.bindparams(bindparam("ids", expanding=True))
    return session.execute(stmt, {**params, "now": now}).rowcount or 0


def _pair(session: Session, a: int, b: int) -> DuplicatePair:
    pair = session.scalar(select(DuplicatePair).where(
        ((DuplicatePair.a_id == a) & (DuplicatePair.b_id == b)) | ((DuplicatePair.a_id == b) & (DuplicatePair.b_id == a))))
    if pair is None:
        raise NotFound(f"gifts {a} and {b} are not a listed pair (see: tracker duplicates list)")
    if pair.status != "undecided":
        raise UsageError(f"gifts {a} and {b} were decided already ({pair.status} on {pair.decided_at:%Y-%m-%d})")
    return pair


def merge(session: Session, keep_id: int, duplicate_id: int, *, actor: str, now: datetime) -> DuplicatePair:
    """Make gift `duplicate_id` a duplicate of `keep_id`: it counts no longer (the rollups follow)."""
    pair = _pair(session, keep_id, duplicate_id)
    gift = session.get(Donation, duplicate_id)
    old = {c: getattr(gift, c) for c in COLUMNS}
    status, refunded = effective(gift.payment_status, gift.amount_cents, gift.refund_cents, gift.dispute_status,
                                 gift.dispute_cents, "duplicate")
    session.execute(update(Donation).where(Donation.id == duplicate_id).values(
        duplicate_of=keep_id, status=status, refunded_cents=refunded))
    new = {**old, "status": status, "refunded_cents": refunded, "duplicate_of": keep_id}
    deltas = rollups.Deltas()
    deltas.change(old, new)
    deltas.flush(session)
    rollups.refresh_first_gifts(session, [gift.donor_id])
    history.record(session, [(duplicate_id, {**old, "duplicate_of": None}, new)],
                   Cause(at=now, actor=actor, note=f"a duplicate of gift {keep_id}"))
    pair.status, pair.decided_at, pair.decided_by = "merged", now, actor
    return pair


def keep(session: Session, a: int, b: int, *, actor: str, now: datetime) -> DuplicatePair:
    """Say gifts `a` and `b` are two real gifts: both keep counting and the pair is not listed again."""
    pair = _pair(session, a, b)
    pair.status, pair.decided_at, pair.decided_by = "kept", now, actor
    return pair
