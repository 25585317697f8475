"""Closing a month: after `tracker period close 2026-12`, nothing changes that month's figures.

At the close the month's gifts, quarter-hour rollups and donors' first gifts are copied as they stand
(closed_gifts, closed_buckets, closed_donors); from then on the figures of the month (what raised reads,
tracker.queries) come from that copy. Changes that arrive later for the month's gifts (a refund in
February of a December gift, a dispute, a void, a gift dated in December entered in January) still change
the live gifts, and the difference between live and copy is an adjustment: booked in the first open month
at or after the change, shown there with the gift's own date. Reopening drops the copy (the row stays, for
the audit). Times are UTC; a month is the organization's zone's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, case, delete, func, insert, null, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm import Session

from tracker.dates import ensure_utc, local_midnight
from tracker.db import bump_revision
from tracker.errors import UsageError
from tracker.ingest.loader import counted_cents
from tracker.models import (CLOSED_CACHE, COUNTED_STATUSES, ClosedPeriod, Donation, Donor, GiftBucket, GiftHistory, closed_buckets,
                            closed_donors, closed_gifts)
from tracker.rollups import BUCKET_SECONDS


def month_range(period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) in UTC of month "YYYY-MM" in zone `tz`; UsageError for anything else."""
    try:
        first = datetime.strptime(period.strip(), "%Y-%m").date()
    except ValueError:
        raise UsageError(f"period {period!r} is not a month; write it as YYYY-MM, e.g. 2026-12") from None
    return local_midnight(first, tz), local_midnight(first + relativedelta(months=1), tz)


def net(row) -> int:
    """What a gift counts net of its fee, by the one rule for net (README: Exports); 0 for no gift."""
    if row is None or row.status not in COUNTED_STATUSES:
        return 0
    kept = row.amount_cents - row.refunded_cents
    return kept - (row.fee_cents or 0) if kept > 0 else 0


def open_periods(session: Session) -> list[ClosedPeriod]:
    """The closed (not reopened) periods, oldest first."""
    return list(session.scalars(select(ClosedPeriod).where(ClosedPeriod.reopened_at.is_(None))
                                .order_by(ClosedPeriod.starts_at)))


def close(session: Session, period: str, *, tz: ZoneInfo, actor: str, now: datetime) -> ClosedPeriod:
    """Close month `period`: copy its gifts, rollups and first gifts as they stand at `now`."""
    start, end = month_range(period, tz)
    current = session.scalar(select(ClosedPeriod).where(ClosedPeriod.period == period,
                                                        ClosedPeriod.reopened_at.is_(None)))
    if current is not None:
        raise UsageError(f"{period} was closed already, on {current.closed_at:%Y-%m-%d %H:%M} UTC by "
                         f"{current.closed_by}; reopen it first with --reopen")
    if end > ensure_utc(now):
        raise UsageError(f"{period} has not ended yet (it ends {end:%Y-%m-%d %H:%M} UTC); close a month once it is "
                         "over")
    figures = {cur: {"raised_cents": int(raised), "gifts": int(n)} for cur, raised, n in session.execute(
        select(GiftBucket.currency, func.sum(GiftBucket.amount_cents - GiftBucket.refunded_cents),
               func.sum(GiftBucket.gifts))
        .where(GiftBucket.bucket >= _epoch(start), GiftBucket.bucket < _epoch(end)).group_by(GiftBucket.currency))}
    session.info.pop(CLOSED_CACHE, None)  # the periods read so far in this session are no longer all
    row = ClosedPeriod(period=period, timezone=tz.key, starts_at=start, ends_at=end, closed_at=now, closed_by=actor,
                       figures=json.dumps(figures, sort_keys=True))
    session.add(row)
    session.flush()
    gift_cols = [c.name for c in Donation.__table__.columns]
    session.execute(insert(closed_gifts).from_select(
        ["period_id", *gift_cols],
        select(row.id, *[Donation.__table__.c[c] for c in gift_cols])
        .where(Donation.donated_at >= start, Donation.donated_at < end)))
    bucket_cols = [c.name for c in GiftBucket.__table__.columns]
    session.execute(insert(closed_buckets).from_select(
        ["period_id", *bucket_cols],
        select(row.id, *[GiftBucket.__table__.c[c] for c in bucket_cols])
        .where(GiftBucket.bucket >= _epoch(start), GiftBucket.bucket < _epoch(end))))
    session.execute(insert(closed_donors).from_select(
        ["period_id", "donor_id", "first_gift_at"],
        select(row.id, Donor.id, Donor.first_gift_at).where(Donor.first_gift_at >= start, Donor.first_gift_at < end)))
    bump_revision(session, now)
    return row


def reopen(session: Session, period: str, *, actor: str, now: datetime) -> ClosedPeriod:
    """Reopen month `period`: its figures are the live ones again; the close and the reopening stay on record."""
    current = session.scalar(select(ClosedPeriod).where(ClosedPeriod.period == period,
                                                        ClosedPeriod.reopened_at.is_(None)))
    if current is None:
        raise UsageError(f"{period} is not closed (see: tracker period list)")
    for table in (closed_gifts, closed_buckets, closed_donors):
        session.execute(delete(table).where(table.c.period_id == current.id))
    current.reopened_at, current.reopened_by = now, actor
    session.info.pop(CLOSED_CACHE, None)
    bump_revision(session, now)
    return current


def _epoch(moment: datetime) -> int:
    return int(ensure_utc(moment).timestamp())


@dataclass(frozen=True)
class Adjustment:
    """A change, after its period closed, to what a gift of that period counts."""

    gift_id: int
    source: str
    external_id: str
    donated_at: datetime  # the gift's own date (in the closed period)
    period: str  # the closed period the gift is in
    booked_at: datetime  # when the change was made (the booking is in the first open period at or after it)
    cents: int  # what the gift counts now less what it counted at the close
    currency: str
    kind: str  # refunded, disputed, voided, late (a gift that arrived after the close), removed, ...
    donor_id: int = 0
    net_cents: int = 0  # the same change by the one rule for net (tracker.export.DonationRow.net_cents)
    booking: datetime | None = None  # when it counts: `booked_at`, or the start of the first open month after it


def adjustments(session: Session, *, currency: str | None = None, start: datetime | None = None,
                end: datetime | None = None) -> list[Adjustment]:
    """Every adjustment to closed periods (optionally of gifts donated in [start, end) and in `currency`), by
    when it was booked."""
    out = []
    shut = open_periods(session)
    for p in shut:
        if start is not None and p.ends_at <= start or end is not None and p.starts_at >= end:
            continue
        changed = _changed_since_close(session, p)
        if not changed:
            continue
        last = {}  # the latest change of each gift after the close, from its history
        ids = sorted(changed)
        for i in range(0, len(ids), 5000):
            for gift_id, at, kind in session.execute(
                    select(GiftHistory.donation_id, GiftHistory.at, GiftHistory.kind)
                    .where(GiftHistory.donation_id.in_(ids[i:i + 5000]), GiftHistory.at >= p.closed_at)
                    .order_by(GiftHistory.at, GiftHistory.id)):
                last[gift_id] = (ensure_utc(at), kind)
        for gift_id, (before, now, cents) in sorted(changed.items()):
            row = now or before
            if now is not None and before is None:
                at, kind = ensure_utc(now.recorded_at or p.closed_at), "late"
            elif now is None:
                at, kind = ensure_utc(p.closed_at), "removed"
            else:
                at, kind = last.get(gift_id, (ensure_utc(p.closed_at), "changed"))
            if currency is not None and row.currency != currency:
                continue
            booked = max(at, ensure_utc(p.closed_at))
            out.append(Adjustment(gift_id, row.source, row.external_id, ensure_utc(row.donated_at), p.period,
                                  booked, cents, row.currency, kind, row.donor_id, net(now) - net(before),
                                  _first_open(booked, shut)))
    return sorted(out, key=lambda a: (a.booked_at, a.gift_id))


def _counted_sql(t):
    return case((t.status.in_(COUNTED_STATUSES), t.amount_cents - t.refunded_cents), else_=0)


def _net_sql(t):
    kept = t.amount_cents - t.refunded_cents
    return case((and_(t.status.in_(COUNTED_STATUSES), kept > 0), kept - func.coalesce(t.fee_cents, 0)), else_=0)


def _changed_since_close(session: Session, p: ClosedPeriod) -> dict:
    """{gift id: (as copied at the close or None, as it is now or None, gross change)} for the gifts of period `p`
    that count differently now: changed or removed since (one pass over the copy, each gift looked up by its id),
    and gifts of the period recorded after the close (found by when they were recorded, an index)."""
    c = closed_gifts.c
    d = aliased(Donation)
    fields = ("id", "status", "amount_cents", "refunded_cents", "fee_cents", "currency", "donated_at", "source",
              "external_id", "donor_id")
    in_period = and_(d.donated_at >= p.starts_at, d.donated_at < p.ends_at)
    copy_cols = [c[f].label(f"c_{f}") for f in fields]
    live_cols = [getattr(d, f).label(f"d_{f}") for f in fields] + [d.recorded_at.label("d_recorded_at")]
    rows = session.execute(
        select(*copy_cols, *live_cols).select_from(closed_gifts)
        .outerjoin(d, and_(d.id == c.id, in_period))
        .where(c.period_id == p.id, or_(d.id.is_(None), _counted_sql(c) != _counted_sql(d), _net_sql(c) != _net_sql(d))))
    late = session.execute(
        select(*[null().label(f"c_{f}") for f in fields], *live_cols)
        .where(in_period, d.recorded_at >= p.closed_at, ~select(c.id).where(c.period_id == p.id, c.id == d.id).exists(),
               or_(_counted_sql(d) != 0, _net_sql(d) != 0)))
    out = {}
    for r in [*rows, *late]:
        m = r._mapping
        before = _Gift(*(m[f"c_{f}"] for f in fields), None) if m["c_id"] is not None else None
        now = _Gift(*(m[f"d_{f}"] for f in fields), m["d_recorded_at"]) if m["d_id"] is not None else None
        was = counted_cents(before.status, before.amount_cents, before.refunded_cents) if before else 0
        is_ = counted_cents(now.status, now.amount_cents, now.refunded_cents) if now else 0
        out[(now or before).id] = (before, now, is_ - was)
    return out


@dataclass(frozen=True)
class _Gift:
    id: int
    status: str
    amount_cents: int
    refunded_cents: int
    fee_cents: int | None
    currency: str
    donated_at: datetime
    source: str
    external_id: str
    donor_id: int
    recorded_at: datetime | None


def _first_open(at: datetime, shut: list[ClosedPeriod]) -> datetime:
    """`at`, or when it falls in a closed period, the end of the closed periods that follow one another from it."""
    moved = True
    while moved:
        moved = False
        for p in shut:
            if ensure_utc(p.starts_at) <= at < ensure_utc(p.ends_at):
                at, moved = ensure_utc(p.ends_at), True
    return at


def booking_period(at: datetime, closed: list[ClosedPeriod], tz: ZoneInfo) -> str:
    """The month ("YYYY-MM", zone `tz`) an adjustment made at `at` is booked in: its own month, or the first
    month after it that is not closed."""
    month = ensure_utc(at).astimezone(tz).date().replace(day=1)
    shut = {p.period for p in closed}
    while month.strftime("%Y-%m") in shut:
        month += relativedelta(months=1)
    return month.strftime("%Y-%m")


def closed_ranges(session: Session) -> list[tuple[int, int, int]]:
    """(period id, first bucket, end bucket) of each closed period: the quarter hours whose figures are the copy's."""
    return [(p.id, _epoch(p.starts_at) // BUCKET_SECONDS * BUCKET_SECONDS, _epoch(p.ends_at))
            for p in open_periods(session)]


def first_day(period: str) -> date:
    return datetime.strptime(period, "%Y-%m").date()


def books(session: Session, campaign, as_of: datetime, raised_cents: int):
    """tracker.campaign.Books for a campaign whose window ends in a closed period (its raised, `raised_cents`, is
    then the close's); None when it does not."""
    from tracker.campaign import Books

    closed = [p for p in open_periods(session)
              if p.starts_at < campaign.ends_at and campaign.starts_at < p.ends_at]
    if not closed or not any(p.starts_at < campaign.ends_at <= p.ends_at for p in closed):
        return None
    as_of = ensure_utc(as_of)
    found = [a for a in adjustments(session, currency=campaign.currency, start=campaign.starts_at,
                                    end=campaign.ends_at)
             if campaign.starts_at <= a.donated_at < campaign.ends_at and a.booked_at <= as_of]
    return Books(closed_at=max(ensure_utc(p.closed_at) for p in closed), periods=tuple(p.period for p in closed),
                 raised_cents=raised_cents, adjustments=len(found),
                 adjustment_cents=sum(a.net_cents if campaign.raised_basis == "net_of_fees" else a.cents for a in found))
