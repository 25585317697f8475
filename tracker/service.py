"""The read side, assembled: what each view of a campaign shows, from the queries and the pure math.

The one place where queries and campaign math meet, so the CLI, the dashboard, the reports and
the public endpoints show the same figures. Each view has one function here (`campaign_status`,
`overview`, `donors_view`, `appeals_view`, ...). Functions take the session first and the moment
as an argument; they never commit and never read the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from tracker import closing, campaign as cm, pledges, queries
from tracker.dates import ensure_utc, local_midnight
from tracker.models import AppealVariant, Campaign
from tracker.projection import Backtest, Curve, aligned_offset, backtest, matched_offset, typical_curve

if TYPE_CHECKING:  # the appeals' modules are imported by the functions that use them (`tracker status` does not)
    from tracker.appeal_report import AppealReport
    from tracker.appeals import RenderedCopy
    from tracker.matching import MatchSummary
    from tracker.live import Live


def curve(session: Session, campaign: Campaign, as_of: datetime) -> Curve:
    """The campaign's cumulative curve (cents and gifts) up to `as_of` (its whole window once it is over), with its goal."""
    return Curve.from_buckets(campaign.slug, campaign.window, queries.bucket_series(session, campaign, as_of, gifts=True),
                              campaign.goal_cents)


def earlier_curves(session: Session, campaign: Campaign, *, as_of: datetime) -> list[Curve]:
    """The cumulative curves of the campaigns before `campaign` that had closed by `as_of`, oldest first."""
    return [curve(session, c, c.ends_at) for c in queries.earlier_campaigns(session, campaign, ensure_utc(as_of))]


def _earlier_track(session: Session, campaign: Campaign, as_of: datetime, live: Live | None,
                   earlier: list[Campaign] | None = None) -> tuple[list[Curve], Backtest]:
    """(earlier_curves, their backtest without ranges), kept by `live` until a gift dated before the campaign
    changes (or an earlier campaign is edited)."""
    earlier = queries.earlier_campaigns(session, campaign, ensure_utc(as_of)) if earlier is None else earlier

    def compute():
        curves = [curve(session, c, c.ends_at) for c in earlier]
        return curves, backtest(curves, ranges=False)

    if live is None:
        return compute()
    key = ("curves", tuple((c.id, c.slug, c.starts_at, c.ends_at, c.currency, c.raised_basis, c.goal_cents)
                           for c in earlier))
    return live.earlier(session, campaign, as_of, key, compute)


def at_the_same_moment(session: Session, campaign: Campaign, as_of: datetime, earlier: list[Curve]) -> list[Curve]:
    """The earlier curves, each answering exactly (to the gift, not the quarter hour) at the moments that match
    `as_of`: the same campaign day and wall time, and the day matched by what drives giving (projection.curves)."""
    as_of = ensure_utc(as_of)
    window = campaign.window
    if not window.starts_at < as_of < window.ends_at:
        return earlier  # before the window or after it the matching moments are its ends: whole quarter hours
    currency, basis = campaign.currency, campaign.raised_basis
    out = []
    for c in earlier:
        cents, gifts = {}, {}
        for offset in {aligned_offset(window, as_of, c.window), matched_offset(window, as_of, c.window)}:
            moment = c.window.starts_at + timedelta(seconds=offset)
            # what counts "as of" that moment: gifts donated up to and including it
            cents[offset], gifts[offset] = queries.raised_between(
                session, currency, c.window.starts_at, moment + timedelta(microseconds=1), basis)
        out.append(c.with_exact(cents, gifts))
    return out


def _totals(session: Session, campaign: Campaign, as_of: datetime,
            live: Live | None = None) -> tuple[list, cm.Segments, cm.Totals]:
    """(the earlier campaigns, the donor segments, the totals) at `as_of` (the segments kept by `live`, if any)."""
    earlier = queries.earlier_campaigns(session, campaign, as_of)
    previous = earlier[-1] if earlier else None
    segments = live.segments(session, campaign, as_of, previous) if live is not None else None
    if segments is None:
        segments = queries.segments(session, campaign, as_of, previous)
        if earlier:  # for the retention rate beside LYBUNT: how many donors last campaign had
            segments = replace(segments, lybunt_of=queries.campaign_donors(session, earlier[-1], as_of))
    raised, gifts = queries.window_raised(session, campaign, as_of)
    # the segments hold every donor of the window once, so they give the donor counts too
    # (without grouping the window's gifts a second time)
    totals = cm.Totals(raised_cents=raised, donations=gifts, new_donors=segments.new.donors,
                       donors=segments.new.donors + segments.retained.donors + segments.reactivated.donors)
    return earlier, segments, totals


MATCH_SPAN = timedelta(days=1)  # the first stretch of the pools' windows match_summary reads (then 4x each time)


def match_summary(session: Session, campaign: Campaign, *, as_of: datetime,
                  span: timedelta = MATCH_SPAN) -> "MatchSummary":
    """The campaign's match pools at `as_of`: each one's match of its gifts (tracker.matching), and the totals.

    The candidates are read in donation order a stretch of time at a time (`span`, then four times as long each
    time), only as far as a pool can still earn: a cap is usually used up early, and the gifts after that, or
    outside every open pool's window, are never read. Each stretch is a range of ix_donations_window."""
    from tracker.matching import MatchSummary, PoolMatch, pool_of

    as_of = ensure_utc(as_of)
    rows = queries.list_match_pools(session, campaign)
    if not rows:
        return MatchSummary((), as_of)
    changes = queries.match_changes(session, [r.id for r in rows])
    matchers = [PoolMatch(pool_of(r, changes[r.id]), as_of) for r in rows]
    multiplied = any(t.recurring_multiplier > 1 for m in matchers for _, t in m.pool.terms)
    moment_end = as_of + timedelta(microseconds=1)  # as-of counts
    reached = None  # every candidate before this has been read
    while True:
        open_ = [m for m in matchers if not m.done and (reached is None or reached < m.pool.ends_at)]
        if not open_:
            break
        start = min(m.pool.starts_at for m in open_)
        start = start if reached is None else max(start, reached)
        end = min(max(m.pool.ends_at for m in open_), moment_end)
        if end <= start:
            break
        upto = min(start + span, end)
        gifts = queries.match_gifts(session, campaign, start, upto, first_recurring=multiplied)
        for gift in sorted(gifts, key=lambda g: (g.donated_at, g.id)):
            for m in open_:
                if not m.done:
                    m.add(gift)
        reached, span = upto, span * 4
    return MatchSummary(tuple(m.result() for m in matchers), as_of)


def campaign_status(session: Session, campaign: Campaign, *, as_of: datetime,
                    curves: list[Curve] | None = None, track: Backtest | None = None,
                    live: Live | None = None) -> cm.Status:
    """Everything `tracker status` shows for `campaign` at `as_of` (`curves`: earlier_curves and `track`: their
    backtest without ranges, when already at hand; `live`: figures kept between reads, tracker.live)."""
    as_of = ensure_utc(as_of)
    earlier, segments, totals = _totals(session, campaign, as_of, live)
    window = campaign.window_at(as_of)
    moment_end = ensure_utc(as_of) + timedelta(microseconds=1)  # as-of counts

    def pace(hours: int) -> int:
        # the hours up to as-of, inside the window: after the deadline they shrink, and a day later they are empty
        start = max(window.starts_at, moment_end - timedelta(hours=hours))
        if window.end <= start:
            return 0
        return queries.raised_between(session, campaign.currency, start, window.end, campaign.raised_basis)[0]

    if curves is None and live is not None:
        curves, kept_track = _earlier_track(session, campaign, as_of, live, earlier)
        track = kept_track if track is None else track
    if curves is None:
        curves = [curve(session, c, c.ends_at) for c in earlier]
    if track is None:
        track = backtest(curves, ranges=False)
    late_gifts, late_cents = queries.late_totals(session, campaign, as_of)
    figures = cm.Figures(
        last_24_hours_cents=pace(24),
        last_7_days_cents=pace(24 * 7),
        earlier=tuple(at_the_same_moment(session, campaign, as_of, curves)),
        segments=segments,
        fiscal=queries.fiscal_share(session, campaign, totals.raised_cents, as_of, earlier, kept=None if live is None
                                    else lambda key, compute: live.earlier(session, campaign, as_of, key, compute)),
        late_gifts=late_gifts,
        late_cents=late_cents,
        duplicates=queries.undecided_duplicates(session, campaign, as_of),
        books=closing.books(session, campaign, as_of, totals.raised_cents),
        track_record=track,
        changes=queries.campaign_changes(session, campaign),
        committed=pledges.committed(session, campaign, as_of),
        match=match_summary(session, campaign, as_of=as_of),
    )
    return cm.status(campaign, totals, as_of=as_of, figures=figures)


def campaign_backtest(session: Session, campaign: Campaign, *, as_of: datetime) -> Backtest:
    """Replay the campaigns before `campaign` (closed by `as_of`) day by day; see projection.backtest."""
    return backtest(earlier_curves(session, campaign, as_of=as_of))


def appeal_report(session: Session, campaign: Campaign, *, as_of: datetime, cap: str = "p99",
                  min_donations: int = 100) -> AppealReport:
    """Each popup variant's numbers and the verdict, for the window up to `as_of` (see tracker.appeal_report).

    Daily counts belong to the copy version that was live at noon of their local day; events and
    gifts to the version live at their moment.
    """
    from tracker.appeal_report import Exposure, Gift, build_report

    as_of = ensure_utc(as_of)
    variants = queries.list_variants(session, campaign)
    keys = [v.key for v in variants]
    tz = campaign.tz
    window = campaign.window_at(as_of)
    end = window.end
    days = queries.exposure_days(session, keys, window.first, window.last_day) if window.opened else []

    def from_events(counts: dict, key: str) -> Exposure:
        n, readers = counts.get((key, "impression"), (0, 0))
        return Exposure(n, readers, counts.get((key, "click"), (0, 0))[0], counts.get((key, "dismiss"), (0, 0))[0])

    def from_days(rows) -> Exposure:
        total = Exposure()
        for d in rows:
            total = total + Exposure(d.impressions, d.readers, d.clicks, d.dismissals)
        return total

    events = queries.exposure_events(session, keys, window.starts_at, end)
    exposures = {k: from_days([d for d in days if d.variant == k]) + from_events(events, k) for k in keys}
    version_exposures = {}
    for v in variants:
        ordered = sorted(v.versions, key=lambda x: x.version)
        for i, ver in enumerate(ordered):
            since = max(ver.valid_from, window.starts_at)
            until = min(ordered[i + 1].valid_from, end) if i + 1 < len(ordered) else end

            def live_at_noon(day, since=ver.valid_from, until=ordered[i + 1].valid_from if i + 1 < len(ordered) else None):
                noon = datetime.combine(day, time(12), tzinfo=tz)
                return noon >= since and (until is None or noon < until)

            mine = [d for d in days if d.variant == v.key and live_at_noon(d.day)]
            counts = queries.exposure_events(session, [v.key], since, until) if until > since else {}
            version_exposures[(v.key, ver.version)] = from_days(mine) + from_events(counts, v.key)
    gifts = [Gift(*row) for row in queries.popup_gifts(session, campaign, as_of)]
    return build_report(variants, gifts, exposures, version_exposures, queries.no_popup_totals(session, campaign, as_of),
                        cap=cap, min_donations=min_donations, currency=campaign.currency)


# -- the dashboard's pages ------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    """What the overview page shows for one campaign at one moment."""

    status: cm.Status
    cumulative: list[tuple[date, int]]
    goal_line: list[tuple[date, int]]
    typical_line: list[tuple[date, int]]
    track_record: Backtest
    earlier: list[tuple[str, list[tuple[date, int]]]] = ()  # each earlier campaign by the same campaign day
    channel_days: object = None  # a DataFrame: raised by local day and channel (queries.channel_days)


def overview(session: Session, campaign: Campaign, *, as_of: datetime, live: Live | None = None) -> Overview:
    """The overview page: the status, the cumulative curve against the straight line, the typical
    curve and each earlier year, the projections' track record, and raised by day and channel (`live`: figures
    kept between reads, tracker.live)."""
    c = campaign
    curves, track = _earlier_track(session, c, as_of, live)
    window = c.window_at(as_of)
    by_channel = live.channel_days(session, c, as_of) if live is not None else None
    if by_channel is None:
        days = queries.daily_totals(session, c, as_of)
    else:  # the same sums: the rollups are the counted gifts' sums, and a quarter hour lies in one local day
        days = {}
        for day, cents in zip(by_channel["day"], by_channel["cents"]):
            days[day] = days.get(day, 0) + int(cents)
        days = {d: cents for d, cents in days.items() if cents}
    earlier = [(cv.slug, [(c.start_date + timedelta(days=d - 1), cents) for d, cents in cv.by_day()
                          if d - 1 <= (c.end_date - c.start_date).days]) for cv in curves]
    return Overview(
        status=campaign_status(session, c, as_of=as_of, curves=curves, track=track, live=live),
        cumulative=cm.cumulative_by_day(window, days),
        goal_line=cm.goal_line(c),
        typical_line=typical_curve(c.window, curves, c.goal_cents),
        track_record=track,
        earlier=earlier,
        channel_days=queries.channel_days(session, c, window) if by_channel is None else by_channel,
    )


@dataclass(frozen=True)
class DonorsView:
    """The donors page: the status (segments, donor goals) and the gifts by size."""

    status: cm.Status
    sizes: list[tuple[int, int, int]]  # (band's lower bound in cents, gifts, raised), smallest first


def donors_view(session: Session, campaign: Campaign, *, as_of: datetime, live: Live | None = None) -> DonorsView:
    """The donors page: the status and the gifts by size, up to `as_of` (`live`: tracker.live)."""
    window = campaign.window_at(as_of)
    sizes = queries.gift_sizes(session, campaign, window.starts_at, window.end) if window.opened else \
        [(low, 0, 0) for low in queries.GIFT_SIZES]
    return DonorsView(campaign_status(session, campaign, as_of=as_of, live=live), sizes)


@dataclass(frozen=True)
class AppealsView:
    """The appeals page: the report, and each variant's copy as readers see it at that moment."""

    report: AppealReport | None  # None: the campaign has no popup variants yet
    copies: dict[str, RenderedCopy]
    as_of: datetime


def appeals_view(session: Session, campaign: Campaign, *, as_of: datetime) -> AppealsView:
    """The appeals page: the report and each variant's copy as readers see it at `as_of`."""
    from tracker.appeals import copy_moment, render_copy

    variants = queries.list_variants(session, campaign)
    if not variants:
        return AppealsView(None, {}, as_of)
    values = copy_moment(campaign_status(session, campaign, as_of=as_of))
    return AppealsView(appeal_report(session, campaign, as_of=as_of),
                       {v.key: render_copy(v, values) for v in variants}, as_of)


def copy_status(session: Session, campaign: Campaign, *, as_of: datetime) -> cm.Status:
    """The part of the status that popup copy is filled from: raised, donors and new donors as `campaign_status`
    counts them, the phase, the time left and the campaign's edits; without the comparisons, projection and
    pace (the website asks for copy far more often than anyone reads the status)."""
    as_of = ensure_utc(as_of)
    _earlier, segments, totals = _totals(session, campaign, as_of)
    return cm.status(campaign, totals, as_of=as_of,
                     figures=cm.Figures(segments=segments, changes=queries.campaign_changes(session, campaign),
                                       match=match_summary(session, campaign, as_of=as_of)))


def live_copy(session: Session, campaign: Campaign, *, as_of: datetime) -> tuple[cm.Status, list[tuple[AppealVariant, RenderedCopy]]]:
    """The active popup variants with their copy filled from the numbers at `as_of` (for the website): each
    variant's text for the phase and the goal's state then (tracker.appeals.choose)."""
    from tracker.appeals import copy_moment, render_copy

    st = copy_status(session, campaign, as_of=as_of)
    values = copy_moment(st)
    return st, [(v, render_copy(v, values)) for v in queries.list_variants(session, campaign) if v.active]


@dataclass(frozen=True)
class Freshness:
    """Where the numbers come from: when each webhook source last delivered, and the last file import."""

    received: dict  # provider -> when its latest event was received (UTC)
    imported: datetime | None


def freshness(session: Session, *, as_of: datetime) -> Freshness:
    """When the data last came in, by webhook and by file, up to `as_of`."""
    return Freshness(queries.last_received(session, before=as_of), queries.last_file_import(session, before=as_of))


# -- the last 48 hours ----------------------------------------------------------------------

@dataclass(frozen=True)
class Hourly:
    """Raised hour by hour over the last 48 hours, and in the same campaign hours of each earlier campaign."""

    hours: list[datetime]  # each hour's start (UTC), oldest first; the last one holds as-of (unfinished)
    cents: list[int]
    gifts: list[int]
    earlier: list[tuple[str, list[int]]]  # (slug, cents in the matching hours), oldest campaign first


def hourly(session: Session, campaign: Campaign, *, as_of: datetime, hours: int = 48) -> Hourly:
    """The hourly series of the last `hours` hours up to `as_of` (gifts at as-of count), from the quarter-hour
    rollups, against the same campaign hours of each earlier campaign (matched as the comparisons at the same
    moment are: campaign day and local wall time, projection.aligned_offset)."""
    as_of = ensure_utc(as_of)
    w = campaign.window
    starts = cm.last_hours(w.starts_at, w.ends_at, as_of, hours)
    if not starts:
        return Hourly([], [], [], [])
    end = min(as_of + timedelta(microseconds=1), w.ends_at)
    mine = cm.by_hour(starts, queries.quarter_hours(session, campaign.currency, starts[0], end, campaign.raised_basis))
    earlier = []
    for c in queries.earlier_campaigns(session, campaign, as_of):
        cw = c.window
        matched = [cw.starts_at + timedelta(seconds=aligned_offset(w, h, cw)) for h in starts]
        rows = queries.quarter_hours(session, c.currency, matched[0], min(matched[-1] + timedelta(hours=1), cw.ends_at),
                                     c.raised_basis)
        earlier.append((c.slug, [cents for cents, _ in cm.by_hour(matched, rows)]))
    return Hourly(starts, [c for c, _ in mine], [n for _, n in mine], earlier)


def versus_last_year(session: Session, campaign: Campaign, as_of: datetime) -> cm.VersusEarlier | None:
    """The campaign's raised at `as_of` against the latest earlier campaign's at the same moment, exactly as the
    status's comparisons (at_the_same_moment, the calendar match) but without the rest of the status; None
    without an earlier campaign."""
    as_of = ensure_utc(as_of)
    earlier = queries.earlier_campaigns(session, campaign, as_of)
    if not earlier:
        return None
    last, window = earlier[-1], campaign.window
    now_cents = queries.window_raised(session, campaign, as_of)[0]
    offset = aligned_offset(window, max(as_of, window.starts_at), last.window)
    then = last.window.starts_at + timedelta(seconds=offset)
    # inside the window: gifts up to and including the matching moment; at its ends, whole
    end = then + timedelta(microseconds=1) if window.starts_at < as_of < window.ends_at else then
    then_cents = queries.raised_between(session, last.currency, last.window.starts_at, end, last.raised_basis)[0] \
        if end > last.window.starts_at else 0
    return cm.versus(last.slug, now_cents, then_cents)


@dataclass(frozen=True)
class Recent:
    """The Overview's and the wall's recent figures at one moment. Names (in `recent` and `largest`) only when
    asked for with `personal` (finance and admin); `largest` is None without it."""

    hourly: Hourly
    versus: cm.VersusEarlier | None  # against the latest earlier campaign at the same moment
    last_hour_cents: int
    last_hour_gifts: int
    last_hour_donors: int
    recent: list[tuple]  # (donated_at UTC, cents, channel[, name]), the latest first
    first_time_today: int  # donors whose first gift ever came today (campaign's zone) up to as-of
    new_recurring_donors: int  # first recurring gift in the window
    new_recurring_monthly_cents: int  # what they add a month (each one's latest installment)
    largest: list[tuple] | None  # (donated_at UTC, cents, channel, name), the largest first


def recent(session: Session, campaign: Campaign, *, as_of: datetime, personal: bool = False,
           status: cm.Status | None = None, limit: int = 10, live: Live | None = None) -> Recent:
    """The last 48 hours' figures at `as_of`: the hourly series against earlier years, this campaign against the
    last one at this hour (from `status` when at hand, else versus_last_year), the last hour's gifts and donors,
    the latest gifts, the first-time donors of today, the new recurring donors, and (with `personal`) the
    largest gifts (`live`: figures kept between reads, tracker.live)."""
    as_of = ensure_utc(as_of)
    w = campaign.window_at(as_of)
    end = w.end
    hour_ago = max(w.starts_at, as_of + timedelta(microseconds=1) - timedelta(hours=1))
    cents, _ = queries.raised_between(session, campaign.currency, hour_ago, end, campaign.raised_basis) \
        if hour_ago < end else (0, 0)
    gifts, donors = queries.gifts_and_donors(session, campaign, hour_ago, end)
    today = local_midnight(as_of.astimezone(campaign.tz).date(), campaign.tz)
    start_today = max(today, w.starts_at)
    kept = live.new_recurring(session, campaign, as_of) if live is not None else None
    n_recurring, monthly = queries.new_recurring(session, campaign, as_of) if kept is None else kept
    return Recent(
        hourly=hourly(session, campaign, as_of=as_of),
        versus=cm.versus_last_year(status) if status is not None else versus_last_year(session, campaign, as_of),
        last_hour_cents=cents, last_hour_gifts=gifts, last_hour_donors=donors,
        recent=queries.latest_gifts(session, campaign, w.starts_at, end, limit=limit, personal=personal),
        first_time_today=queries.first_time_donors(session, campaign, start_today, end),
        new_recurring_donors=n_recurring, new_recurring_monthly_cents=monthly,
        largest=queries.latest_gifts(session, campaign, w.starts_at, end, limit=limit, largest=True, personal=True)
        if personal else None,
    )
