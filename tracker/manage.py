"""Write-side operations on campaigns: validate what a person asked for, then write it.

Functions take the session first and never commit; the entry point owns the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from tracker import queries
from tracker.db import bump_revision
from tracker.dates import zone
from tracker.errors import UsageError
from tracker.appeals import VariantSpec
from tracker.models import RAISED_BASES, AppealCopyVersion, AppealVariant, Campaign

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
    bump_revision(session, now)
    return campaign


@dataclass
class AppealsLoaded:
    """What `load_appeals` did, variant keys by outcome."""

    created: list[str] = field(default_factory=list)
    new_version: list[str] = field(default_factory=list)
    settings_changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)


def load_appeals(session: Session, campaign: Campaign, specs: list[VariantSpec], *, now: datetime) -> AppealsLoaded:
    """Create or update the campaign's popup variants from `specs` (tracker.appeals.parse_variants).

    A variant whose headline, body or button changed gets a new copy version valid from `now`; its
    earlier versions and their results stay. Name, control, active and share change in place.
    Variants of the campaign that are not in the file are kept as they are. Safe to run again.
    """
    result = AppealsLoaded()
    existing = {v.key: v for v in queries.list_variants(session, campaign)}
    for spec in specs:
        variant = existing.get(spec.key)
        if variant is None:
            variant = AppealVariant(campaign_id=campaign.id, key=spec.key, name=spec.name, headline=spec.headline,
                                    body=spec.body, button=spec.button, is_control=spec.control, active=spec.active,
                                    share_bp=spec.share_bp)
            variant.versions.append(AppealCopyVersion(version=1, headline=spec.headline, body=spec.body,
                                                      button=spec.button, valid_from=now))
            session.add(variant)
            result.created.append(spec.key)
            continue
        copy_changed = (variant.headline, variant.body, variant.button) != spec.copy
        settings = (variant.name, variant.is_control, variant.active, variant.share_bp)
        if copy_changed:
            latest = max((v.version for v in variant.versions), default=0)
            variant.versions.append(AppealCopyVersion(version=latest + 1, headline=spec.headline, body=spec.body,
                                                      button=spec.button, valid_from=now))
            variant.headline, variant.body, variant.button = spec.copy
            result.new_version.append(spec.key)
        variant.name, variant.is_control, variant.active, variant.share_bp = (
            spec.name, spec.control, spec.active, spec.share_bp)
        if not copy_changed:
            changed = settings != (variant.name, variant.is_control, variant.active, variant.share_bp)
            (result.settings_changed if changed else result.unchanged).append(spec.key)
    result.not_in_file = sorted(set(existing) - {s.key for s in specs})
    controls = [v for v in [*existing.values()] if v.is_control and v.key not in {s.key for s in specs}]
    if controls:
        raise UsageError(
            f"variant {controls[0].key!r} of {campaign.slug} is a control and is not in the file; "
            "add it with control = false, or make it the file's control"
        )
    session.flush()
    bump_revision(session, now)
    return result
