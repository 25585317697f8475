"""Write-side operations on campaigns: validate what a person asked for, then write it.

Functions take the session first and never commit; the entry point owns the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tracker import queries
from tracker.db import bump_revision
from tracker.dates import zone
from tracker.errors import UsageError
from tracker.names import check_name
from tracker.appeals import VariantSpec
from tracker.models import RAISED_BASES, AppealCopyVersion, AppealVariant, Campaign, CampaignChange, ReportRun
from tracker.wording import count, verb

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


CAMPAIGN_NAME_CHARS = 200  # campaigns.name


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
    goal_counts: str = "raised",
) -> Campaign:
    """Create a campaign whose window is [start 00:00, the day after end 00:00) in `timezone`.

    Raises UsageError (nothing written) for a bad slug, an existing slug, a goal that is not
    positive, an unknown currency code or time zone, or an end before the start.
    """
    if not SLUG.match(slug):
        raise UsageError(f"slug {slug!r} must be lower-case letters, digits and dashes, e.g. dec-2026")
    name = check_name(name, "the campaign", "--name 'Year-end 2026'", CAMPAIGN_NAME_CHARS)
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
    _goal_counts(goal_counts)
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
        goal_counts=goal_counts,
    )
    session.add(campaign)
    session.flush()
    bump_revision(session, now)
    return campaign


def _goal_counts(value: str) -> None:
    from tracker.campaign import GOAL_COUNTS

    if value not in GOAL_COUNTS:
        raise UsageError(f"the goal counts {value!r}? give one of {', '.join(GOAL_COUNTS)}")


@dataclass
class AppealsLoaded:
    """What `load_appeals` did, variant keys by outcome."""

    created: list[str] = field(default_factory=list)
    new_version: list[str] = field(default_factory=list)
    settings_changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    hours_checked: int = 0  # the hours of the campaign each text was rendered at before loading


def load_appeals(session: Session, campaign: Campaign, specs: list[VariantSpec], *, now: datetime) -> AppealsLoaded:
    """Create or update the campaign's popup variants from `specs` (tracker.appeals.parse_variants).

    A variant whose headline, body or button changed gets a new copy version valid from `now`; its
    earlier versions and their results stay. Name, control, active and share change in place.
    Variants of the campaign that are not in the file are kept as they are. Safe to run again. Copy that
    would read wrong at some moment of the campaign is refused first (tracker.appeals.check_copy).
    """
    from tracker.appeals import check_copy, original_goal

    hours = check_copy(specs, campaign, original_goal_cents=original_goal(queries.campaign_changes(session, campaign),
                                                                         campaign.goal_cents))
    result = AppealsLoaded(hours_checked=hours)
    existing = {v.key: v for v in queries.list_variants(session, campaign)}
    for spec in specs:
        variant = existing.get(spec.key)
        if variant is None:
            variant = AppealVariant(campaign_id=campaign.id, key=spec.key, name=spec.name, headline=spec.headline,
                                    body=spec.body, button=spec.button, is_control=spec.control, active=spec.active,
                                    share_bp=spec.share_bp, alternatives=spec.alternatives_json)
            variant.versions.append(AppealCopyVersion(version=1, headline=spec.headline, body=spec.body,
                                                      button=spec.button, alternatives=spec.alternatives_json,
                                                      valid_from=now))
            session.add(variant)
            result.created.append(spec.key)
            continue
        copy_changed = (variant.headline, variant.body, variant.button, variant.alternatives) != (
            *spec.copy, spec.alternatives_json)
        settings = (variant.name, variant.is_control, variant.active, variant.share_bp)
        if copy_changed:
            latest = max((v.version for v in variant.versions), default=0)
            variant.versions.append(AppealCopyVersion(version=latest + 1, headline=spec.headline, body=spec.body,
                                                      button=spec.button, alternatives=spec.alternatives_json,
                                                      valid_from=now))
            variant.headline, variant.body, variant.button = spec.copy
            variant.alternatives = spec.alternatives_json
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


WINDOW_FIELDS = ("start_date", "end_date", "timezone")  # what moves gifts into or out of the campaign
FORCED_FIELDS = ("start_date", "timezone")  # changed only with force=True: they re-count gifts from the start


@dataclass
class Edited:
    """What `edit_campaign` did: the fields changed (field, old, new as stored), and, when the window
    changed, the counted gifts that moved into and out of it ((gifts, cents) each)."""

    changed: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    moved_in: tuple[int, int] | None = None
    moved_out: tuple[int, int] | None = None


def _stored(value) -> str | None:
    return None if value is None else value.isoformat() if isinstance(value, date) else str(value)


def edit_campaign(session: Session, campaign: Campaign, *, actor: str, now: datetime, force: bool = False,
                  **wanted) -> Edited:
    """Change the given fields of `campaign` (goal_cents, name, goal_new_donors, goal_donors, end_date,
    start_date, timezone; a donor goal of None removes it), each change recorded as a campaign_changes row
    with `actor` and `now`. Fields given with their current value are left alone.

    start_date and timezone move the window's opening (and the zone every day is read in), so they need
    `force`. Raises UsageError, writing nothing, for an unknown field, a goal that is not positive, an
    empty name, an unknown zone, an end before the start, or start/timezone without force.
    The rollups are by quarter hour and currency, not by campaign, so a new window needs no rebuild;
    the data revision is bumped, so cached pages are recomputed."""
    unknown = set(wanted) - {"goal_cents", "name", "goal_new_donors", "goal_donors", "goal_counts", *WINDOW_FIELDS}
    if unknown:
        raise UsageError(f"cannot edit {', '.join(sorted(unknown))} of a campaign")
    if "name" in wanted:
        wanted["name"] = check_name(wanted["name"] or "", "the campaign", "--name 'Year-end 2026'", CAMPAIGN_NAME_CHARS)
    if "goal_cents" in wanted and wanted["goal_cents"] <= 0:
        raise UsageError("the goal must be more than zero, e.g. --goal 450000")
    for key, label in (("goal_new_donors", "new-donor goal"), ("goal_donors", "donor goal")):
        if wanted.get(key) is not None and wanted[key] <= 0:
            raise UsageError(f"the {label} must be more than zero (or 'none' to remove it)")
    if "timezone" in wanted:
        zone(wanted["timezone"])
    if "goal_counts" in wanted:
        _goal_counts(wanted["goal_counts"])
    order = ("name", "goal_cents", "goal_new_donors", "goal_donors", "goal_counts", "start_date", "end_date",
             "timezone")
    changes = {k: wanted[k] for k in order if k in wanted and getattr(campaign, k) != wanted[k]}
    start = changes.get("start_date", campaign.start_date)
    end = changes.get("end_date", campaign.end_date)
    if end < start:
        raise UsageError(f"the end date {end} is before the start date {start}")
    forced = [k for k in FORCED_FIELDS if k in changes]
    if forced and not force:
        raise UsageError(
            f"changing the {' and the '.join('start date' if k == 'start_date' else 'time zone' for k in forced)} "
            "of a campaign re-counts its gifts from its first day; add --force to do it (the command then says "
            "how many gifts move into and out of the window)")
    result = Edited()
    if not changes:
        return result
    old_window = (campaign.starts_at, campaign.ends_at)
    for key, value in changes.items():
        old = getattr(campaign, key)
        result.changed.append((key, _stored(old), _stored(value)))
        session.add(CampaignChange(campaign_id=campaign.id, at=now, actor=actor, field=key, old_value=_stored(old),
                                   new_value=_stored(value)))
        setattr(campaign, key, value)
    if any(k in changes for k in WINDOW_FIELDS):
        result.moved_in, result.moved_out = queries.window_moves(
            session, campaign.currency, campaign.raised_basis, old_window, (campaign.starts_at, campaign.ends_at))
    session.flush()
    bump_revision(session, now)
    return result


def scheduled_for(config, campaign: Campaign, only: bool) -> list[str]:
    """The configuration's jobs that report on `campaign`: by its slug, or, when it is the `only` campaign
    there is, every job that names none."""
    jobs = [f"[[reports]] {j.name!r}" for j in config.reports if j.campaign == campaign.slug or (only and not j.campaign)]
    alerts = config.alerts
    if alerts is not None and (alerts.campaign == campaign.slug or (only and not alerts.campaign)):
        jobs.append("[alerts]")
    return jobs


def delete_campaign(session: Session, campaign: Campaign, *, now: datetime, force: bool = False,
                    scheduled: list[str] | tuple[str, ...] = ()) -> dict[str, int]:
    """Delete a campaign with its report runs, popup variants (and their copy versions), edits and match pools (with
    their history); returns what
    referred to it (queries.campaign_references). Gifts are not the campaign's to delete: they stay, and count
    for any campaign whose window holds them.

    Without `force`, raises UsageError (nothing deleted) saying what refers to it, when anything does: counted
    gifts in its window, report runs, popup variants, match pools, or `scheduled` (the configuration's jobs reporting
    on it)."""
    refs = queries.campaign_references(session, campaign)
    if not force:
        what = [count(refs["gifts"], "counted gift") + " in its window" if refs["gifts"] else "",
                count(refs["report_runs"], "report run") + " (reports and alerts sent or tried)" if refs["report_runs"] else "",
                count(refs["variants"], "popup variant") if refs["variants"] else "",
                count(refs["match_pools"], "match pool") if refs["match_pools"] else "",
                ("the configuration's " + ", ".join(scheduled) + " " + verb(len(scheduled), "reports", "report")
                 + " on it") if scheduled else ""]
        what = [w for w in what if w]
        if what:
            raise UsageError(f"campaign {campaign.slug!r} is referred to by {'; '.join(what)}: add --force to delete "
                             "it with its report history, variants and match pools (the gifts stay)")
    session.execute(delete(ReportRun).where(ReportRun.campaign_id == campaign.id))
    session.execute(delete(CampaignChange).where(CampaignChange.campaign_id == campaign.id))
    from tracker.match_pools import delete_campaign_pools

    refs["match_pools"] = delete_campaign_pools(session, campaign)
    session.delete(campaign)  # its variants and their copy versions go with it (ORM cascade, and ON DELETE CASCADE)
    session.flush()
    bump_revision(session, now)
    return refs
