"""Gather what the campaign numbers need from the database and hand it to the pure math.

The one place where queries and campaign math meet, so the CLI, the dashboard, the reports and
the public endpoints show the same figures. Functions take the session first and the moment as
an argument; they never commit and never read the clock.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from tracker import campaign as cm, queries
from tracker.appeals import AppealReport, Exposure, Gift, build_report
from tracker.dates import ensure_utc
from tracker.models import Campaign
from tracker.projection import Backtest, Curve, backtest, window_of


def curve(session: Session, campaign: Campaign, as_of: datetime) -> Curve:
    """The campaign's cumulative curve up to `as_of` (its whole window once it is over)."""
    return Curve.from_buckets(window_of(campaign), queries.bucket_series(session, campaign, as_of))


def earlier_curves(session: Session, campaign: Campaign, *, as_of: datetime) -> list[Curve]:
    """The cumulative curves of the campaigns before `campaign` that had closed by `as_of`, oldest first."""
    return [curve(session, c, c.ends_at) for c in queries.earlier_campaigns(session, campaign, ensure_utc(as_of))]


def campaign_status(session: Session, campaign: Campaign, *, as_of: datetime,
                    curves: list[Curve] | None = None) -> cm.Status:
    """Everything `tracker status` shows for `campaign` at `as_of` (`curves`: earlier_curves, when already at hand)."""
    as_of = ensure_utc(as_of)
    earlier = queries.earlier_campaigns(session, campaign, as_of)
    segments = queries.segments(session, campaign, as_of, earlier[-1] if earlier else None)
    raised, gifts = queries.window_raised(session, campaign, as_of)
    # the segments hold every donor of the window once, so they give the donor counts too
    # (the same numbers as queries.campaign_totals, without grouping the window's gifts twice)
    totals = cm.Totals(raised_cents=raised, donations=gifts, new_donors=segments.new.donors,
                       donors=segments.new.donors + segments.retained.donors + segments.reactivated.donors)
    window_end = min(campaign.ends_at, as_of + timedelta(microseconds=1))

    def pace(hours: int) -> int:
        start = max(campaign.starts_at, window_end - timedelta(hours=hours))
        if window_end <= start:
            return 0
        return queries.raised_between(session, campaign.currency, start, window_end, campaign.raised_basis)[0]

    late_gifts, late_cents = queries.late_totals(session, campaign, as_of)
    figures = cm.Figures(
        last_24_hours_cents=pace(24),
        last_7_days_cents=pace(24 * 7),
        earlier=tuple(curves if curves is not None else (curve(session, c, c.ends_at) for c in earlier)),
        segments=segments,
        fiscal=queries.fiscal_share(session, campaign, totals.raised_cents, as_of, earlier),
        late_gifts=late_gifts,
        late_cents=late_cents,
    )
    return cm.status(campaign, totals, as_of=as_of, figures=figures)


def campaign_backtest(session: Session, campaign: Campaign, *, as_of: datetime) -> Backtest:
    """Replay the campaigns before `campaign` (closed by `as_of`) day by day; see projection.backtest."""
    return backtest(earlier_curves(session, campaign, as_of=as_of))


def appeal_report(session: Session, campaign: Campaign, *, as_of: datetime, cap: str = "p99",
                  min_donations: int = 100) -> AppealReport:
    """Each popup variant's numbers and the verdict, for the window up to `as_of` (see tracker.appeals).

    Daily counts belong to the copy version that was live at noon of their local day; events and
    gifts to the version live at their moment.
    """
    as_of = ensure_utc(as_of)
    variants = queries.list_variants(session, campaign)
    keys = [v.key for v in variants]
    tz = campaign.tz
    end = min(campaign.ends_at, as_of + timedelta(microseconds=1))
    last_day = min(campaign.end_date, as_of.astimezone(tz).date())
    days = queries.exposure_days(session, keys, campaign.start_date, last_day) if end > campaign.starts_at else []

    def from_events(counts: dict, key: str) -> Exposure:
        n, readers = counts.get((key, "impression"), (0, 0))
        return Exposure(n, readers, counts.get((key, "click"), (0, 0))[0], counts.get((key, "dismiss"), (0, 0))[0])

    def from_days(rows) -> Exposure:
        total = Exposure()
        for d in rows:
            total = total + Exposure(d.impressions, d.readers, d.clicks, d.dismissals)
        return total

    events = queries.exposure_events(session, keys, campaign.starts_at, end)
    exposures = {k: from_days([d for d in days if d.variant == k]) + from_events(events, k) for k in keys}
    version_exposures = {}
    for v in variants:
        ordered = sorted(v.versions, key=lambda x: x.version)
        for i, ver in enumerate(ordered):
            since = max(ver.valid_from, campaign.starts_at)
            until = min(ordered[i + 1].valid_from, end) if i + 1 < len(ordered) else end

            def live_at_noon(day, since=ver.valid_from, until=ordered[i + 1].valid_from if i + 1 < len(ordered) else None):
                noon = datetime.combine(day, time(12), tzinfo=tz)
                return noon >= since and (until is None or noon < until)

            mine = [d for d in days if d.variant == v.key and live_at_noon(d.day)]
            counts = queries.exposure_events(session, [v.key], since, until) if until > since else {}
            version_exposures[(v.key, ver.version)] = from_days(mine) + from_events(counts, v.key)
    gifts = [Gift(*row) for row in queries.popup_gifts(session, campaign, as_of)]
    return build_report(variants, gifts, exposures, version_exposures, queries.no_popup_totals(session, campaign, as_of),
                        cap=cap, min_donations=min_donations)


def report_data(session: Session, campaign: Campaign, *, as_of: datetime, previous=None,
                milestones: tuple[int, ...] = (25, 50, 75, 100)):
    """What the progress report shows (tracker.reports), from the same figures as `tracker status`.

    `previous` is the last report delivered (a ReportRun): milestones are counted from its figures.
    """
    from tracker.alerts import milestones_crossed
    from tracker.reports import ReportData
    from tracker.projection import typical_curve

    as_of = ensure_utc(as_of)
    curves = earlier_curves(session, campaign, as_of=as_of)
    st = campaign_status(session, campaign, as_of=as_of, curves=curves)
    tz = campaign.tz
    today = as_of.astimezone(tz).date()
    daily = queries.daily_totals(session, campaign, as_of)
    end = min(campaign.ends_at, as_of + timedelta(microseconds=1))
    channels = queries.channel_breakdown(session, campaign, campaign.starts_at, end) if end > campaign.starts_at else []
    leading = None
    if queries.list_variants(session, campaign):
        verdict = appeal_report(session, campaign, as_of=as_of).verdict
        if verdict.leader:
            leading = (verdict.leader, verdict.label)
    return ReportData(
        status=st,
        yesterday_cents=daily.get(today - timedelta(days=1), 0),
        best_channel=(channels[0][0], channels[0][6]) if channels else None,
        leading_variant=leading,
        cumulative=cm.cumulative_by_day(campaign, daily, as_of=as_of),
        typical=typical_curve(window_of(campaign), curves, campaign.goal_cents),
        milestones=tuple(milestones_crossed(st, milestones, previous.raised_cents if previous else None,
                                            previous.new_donors if previous else None)),
        since=previous.finished_at if previous else None,
    )
