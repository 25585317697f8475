"""Every read of the database lives here. Aggregates run in the database.

Functions take the session first, never commit, and return ORM rows of small tables or small
dataclasses. Windows are half-open [start, end); "as of" is inclusive (gifts at or before it).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from tracker.campaign import Totals
from tracker.dates import local_midnight
from tracker.errors import NotFound, UsageError
from tracker.models import COUNTED_STATUSES, Campaign, Donation, ImportBatch

NET = Donation.amount_cents - Donation.refunded_cents


def list_campaigns(session: Session) -> list[Campaign]:
    """All campaigns, newest window first."""
    return list(session.scalars(select(Campaign).order_by(Campaign.start_date.desc(), Campaign.slug)))


def get_campaign(session: Session, slug: str | None = None) -> Campaign:
    """The campaign named `slug`; with no slug, the only campaign there is.

    Raises NotFound or UsageError with a message that says what to do.
    """
    if slug:
        found = session.scalar(select(Campaign).where(Campaign.slug == slug))
        if found is None:
            known = ", ".join(c.slug for c in list_campaigns(session)) or "none yet"
            raise NotFound(f"no campaign {slug!r} (campaigns: {known}); see: tracker campaign list")
        return found
    campaigns = list_campaigns(session)
    if not campaigns:
        raise NotFound("there are no campaigns yet; create one with: tracker campaign create --help")
    if len(campaigns) > 1:
        raise UsageError(
            f"there are {len(campaigns)} campaigns ({', '.join(c.slug for c in campaigns)}); choose one with --campaign SLUG"
        )
    return campaigns[0]


def campaign_exists(session: Session, slug: str) -> bool:
    return session.scalar(select(func.count()).select_from(Campaign).where(Campaign.slug == slug)) > 0


def campaign_timezones(session: Session) -> set[str]:
    return set(session.scalars(select(Campaign.timezone).distinct()))


def _counted(campaign: Campaign, as_of: datetime):
    """Counted gifts of the campaign's window donated at or before `as_of`, in the campaign's currency."""
    return and_(
        Donation.status.in_(COUNTED_STATUSES),
        Donation.currency == campaign.currency,
        Donation.donated_at >= campaign.starts_at,
        Donation.donated_at < campaign.ends_at,
        Donation.donated_at <= as_of,
    )


def campaign_totals(session: Session, campaign: Campaign, as_of: datetime) -> Totals:
    """Raised (amount minus refunds), gifts and donors counted, and new donors, as of `as_of`.

    A gift is counted when its status is succeeded, partially_refunded or refunded; `donations`
    and `donors` only count gifts whose net is positive. A donor is new when their first counted
    gift ever (up to `as_of`, any campaign, any time) falls inside the window.
    """
    in_window = _counted(campaign, as_of)
    row = session.execute(
        select(
            func.coalesce(func.sum(NET), 0),
            func.count(case((NET > 0, Donation.id))),
            func.count(distinct(case((NET > 0, Donation.donor_id)))),
        ).where(in_window)
    ).one()
    first_gift = (
        select(Donation.donor_id, func.min(Donation.donated_at).label("first_at"))
        .where(Donation.status.in_(COUNTED_STATUSES), NET > 0, Donation.donated_at <= as_of)
        .group_by(Donation.donor_id)
        .subquery()
    )
    new_donors = session.scalar(
        select(func.count())
        .select_from(first_gift)
        .where(first_gift.c.first_at >= campaign.starts_at, first_gift.c.first_at < campaign.ends_at)
    )
    return Totals(raised_cents=int(row[0]), donations=int(row[1]), donors=int(row[2]), new_donors=int(new_donors))


def daily_totals(session: Session, campaign: Campaign, as_of: datetime) -> dict[date, int]:
    """Raised per local day of the window (campaign time zone), in cents, up to `as_of`. Days without gifts are absent.

    The day of each gift is found in the database by comparing with each local midnight, which is
    exact in every time zone (including half-hour offsets and DST changes) on SQLite and PostgreSQL.
    """
    tz = campaign.tz
    days = (campaign.end_date - campaign.start_date).days + 1
    boundaries = [local_midnight(campaign.start_date + timedelta(days=i + 1), tz) for i in range(days)]
    day_index = case(*[(Donation.donated_at < b, i) for i, b in enumerate(boundaries)], else_=days)
    rows = session.execute(
        select(day_index.label("day"), func.sum(NET)).where(_counted(campaign, as_of)).group_by(day_index)
    ).all()
    return {campaign.start_date + timedelta(days=int(i)): int(total) for i, total in rows if total}


def list_imports(session: Session, limit: int = 50) -> list[ImportBatch]:
    """The most recent imports first."""
    return list(session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)))
