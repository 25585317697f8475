"""Reads of pledges: money promised and not received yet (written by tracker.ingest.pledges).

A campaign's pledges are those entered for it, and those entered for no campaign whose pledge date falls in its
window, in its currency. At a moment `as_of` a pledge is open ("committed, not yet received") when it was pledged
by then, not cancelled by then, and not fulfilled by a gift donated by then; it is overdue when its expected day (in the
campaign's zone) is before the local day of `as_of`. Aggregates are computed in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from tracker import campaign as cm
from tracker.dates import ensure_utc
from tracker.models import Campaign, Donation, Pledge

STATES = ("open", "overdue", "fulfilled", "cancelled", "all")


def _of_campaign(campaign: Campaign):
    return and_(Pledge.currency == campaign.currency, or_(
        Pledge.campaign_id == campaign.id,
        and_(Pledge.campaign_id.is_(None), Pledge.pledged_at >= campaign.starts_at, Pledge.pledged_at < campaign.ends_at)))


def _open_at(as_of: datetime):
    """Pledged by `as_of`, not cancelled by then, and not fulfilled by a gift donated by then (the gift's date, not
    when it was linked: as raised counts a gift from its date, however late it was imported, so that no moment
    shows the same money both in raised and in committed)."""
    return and_(Pledge.pledged_at <= as_of,
                or_(Donation.id.is_(None), Donation.donated_at > as_of),
                or_(Pledge.cancelled_at.is_(None), Pledge.cancelled_at > as_of))


def _gift():
    return Donation.id == Pledge.fulfilled_donation_id


def committed(session: Session, campaign: Campaign, as_of: datetime) -> cm.Committed:
    """What `campaign` has been promised and not received by `as_of`, by expected day and kind, with the pledges
    fulfilled by then."""
    as_of = ensure_utc(as_of)
    rows = session.execute(
        select(Pledge.expected_at, Pledge.kind, func.count(), func.sum(Pledge.amount_cents))
        .select_from(Pledge).outerjoin(Donation, _gift())
        .where(_of_campaign(campaign), _open_at(as_of))
        .group_by(Pledge.expected_at, Pledge.kind)).all()
    received = session.execute(
        select(func.count(), func.coalesce(func.sum(Pledge.amount_cents), 0))
        .select_from(Pledge).join(Donation, _gift())
        .where(_of_campaign(campaign), Pledge.pledged_at <= as_of, Donation.donated_at <= as_of,
               or_(Pledge.cancelled_at.is_(None), Pledge.cancelled_at > as_of))).one()
    return cm.committed_from([(d, k, int(n), int(c)) for d, k, n, c in rows], as_of.astimezone(campaign.tz).date(),
                             (int(received[0]), int(received[1])))


@dataclass(frozen=True)
class PledgeRow:
    """One pledge as the list, the export and finance's dashboard show it (`state` at the moment asked)."""

    id: int
    source: str
    external_id: str
    campaign: str | None
    kind: str
    amount_cents: int
    currency: str
    pledged_at: datetime
    expected_at: date | None
    state: str  # open, overdue, fulfilled, cancelled
    email: str | None
    name: str | None
    reference: str | None
    note: str | None
    created_by: str
    created_at: datetime
    fulfilled_donation_id: int | None
    fulfilled_at: datetime | None
    fulfilled_by: str | None
    gift_donated_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None


def list_pledges(session: Session, *, as_of: datetime, campaign: Campaign | None = None, state: str = "all",
                 today: date | None = None) -> list[PledgeRow]:
    """Pledges pledged by `as_of` (of `campaign`, or all), soonest expected first (undated last), then by id, each
    in its state at `as_of`; `state` keeps one state (open includes overdue). `today`: the local day that decides
    overdue (default: the campaign's, else UTC's)."""
    as_of = ensure_utc(as_of)
    if state not in STATES:
        raise ValueError(state)
    today = today or (as_of.astimezone(campaign.tz).date() if campaign is not None else as_of.date())
    stmt = (select(Pledge, Campaign.slug, Donation.donated_at)
            .outerjoin(Campaign, Campaign.id == Pledge.campaign_id)
            .outerjoin(Donation, Donation.id == Pledge.fulfilled_donation_id)
            .where(Pledge.pledged_at <= as_of)
            .order_by(Pledge.expected_at.is_(None), Pledge.expected_at, Pledge.id))
    if campaign is not None:
        stmt = stmt.where(_of_campaign(campaign))
    out = []
    for p, slug, gift_at in session.execute(stmt):
        if p.cancelled_at is not None and p.cancelled_at <= as_of:
            now_state = "cancelled"
        elif gift_at is not None and gift_at <= as_of:
            now_state = "fulfilled"
        elif p.expected_at is not None and p.expected_at < today:
            now_state = "overdue"
        else:
            now_state = "open"
        if state != "all" and not (state == now_state or state == "open" and now_state == "overdue"):
            continue
        fulfilled = now_state == "fulfilled"
        out.append(PledgeRow(
            id=p.id, source=p.source, external_id=p.external_id, campaign=slug, kind=p.kind,
            amount_cents=p.amount_cents, currency=p.currency, pledged_at=p.pledged_at, expected_at=p.expected_at,
            state=now_state, email=p.email, name=p.name, reference=p.reference, note=p.note,
            created_by=p.created_by, created_at=p.created_at,
            fulfilled_donation_id=p.fulfilled_donation_id if fulfilled else None,
            fulfilled_at=p.fulfilled_at if fulfilled else None, fulfilled_by=p.fulfilled_by if fulfilled else None,
            gift_donated_at=gift_at if fulfilled else None,
            cancelled_at=p.cancelled_at if now_state == "cancelled" else None,
            cancel_reason=p.cancel_reason if now_state == "cancelled" else None))
    return out


def fulfilled_by(session: Session, gift_id: int) -> Pledge | None:
    """The pledge gift `gift_id` fulfils, if any (each gift fulfils at most one)."""
    return session.scalar(select(Pledge).where(Pledge.fulfilled_donation_id == gift_id))
