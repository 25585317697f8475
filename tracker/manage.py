"""Write-side operations on campaigns: validate what a person asked for, then write it.

Functions take the session first and never commit; the entry point owns the transaction.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy.orm import Session

from tracker import queries
from tracker.dates import zone
from tracker.errors import UsageError
from tracker.models import RAISED_BASES, Campaign

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def create_campaign(
    session: Session,
    *,
    slug: str,
    name: str,
    goal_cents: int,
    currency: str,
    timezone: str,
    start: date,
    end: date,
    now: datetime,
    demo: bool = False,
    goal_new_donors: int | None = None,
    goal_donors: int | None = None,
    fiscal_year_start_month: int = 1,
    raised_basis: str = "gross",
) -> Campaign:
    """Create a campaign whose window is [start 00:00, the day after end 00:00) in `timezone`.

    Raises UsageError (nothing written) for a bad slug, an existing slug, a goal that is not
    positive, an unknown currency code or time zone, or an end before the start.
    """
    if not SLUG.match(slug):
        raise UsageError(f"slug {slug!r} must be lower-case letters, digits and dashes, e.g. dec-2026")
    if not name.strip():
        raise UsageError("the campaign needs a name, e.g. --name 'Year-end 2026'")
    if goal_cents <= 0:
        raise UsageError("the goal must be more than zero, e.g. --goal 400000")
    if not CURRENCY.match(currency):
        raise UsageError(f"currency {currency!r} is not a three-letter ISO code such as USD")
    zone(timezone)
    if end < start:
        raise UsageError(f"the end date {end} is before the start date {start}")
    for label, value in (("new-donor goal", goal_new_donors), ("donor goal", goal_donors)):
        if value is not None and value <= 0:
            raise UsageError(f"the {label} must be more than zero, or left out")
    if not 1 <= fiscal_year_start_month <= 12:
        raise UsageError("the fiscal year's first month must be 1 to 12")
    if raised_basis not in RAISED_BASES:
        raise UsageError(f"raised must be one of {', '.join(RAISED_BASES)}")
    if queries.campaign_exists(session, slug):
        raise UsageError(f"a campaign with slug {slug!r} exists already; choose another slug")
    campaign = Campaign(
        slug=slug,
        name=name.strip(),
        goal_cents=goal_cents,
        currency=currency,
        timezone=timezone,
        start_date=start,
        end_date=end,
        demo=demo,
        created_at=now,
        goal_new_donors=goal_new_donors,
        goal_donors=goal_donors,
        fiscal_year_start_month=fiscal_year_start_month,
        raised_basis=raised_basis,
    )
    session.add(campaign)
    session.flush()
    return campaign
