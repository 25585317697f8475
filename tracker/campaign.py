"""Campaign math: where a campaign stands at a moment. Pure: no database, no clock, no I/O.

Inputs are the campaign's definition and the aggregates that tracker.queries computes; the
moment ("as of") is always an argument. Money is integer cents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from tracker.dates import Window, ensure_utc, isoformat_local
from tracker.matching import MatchSummary, ratio_text
from tracker.money import cents_to_decimal_str, format_money, percent_of
from tracker.projection import Backtest, Curve, Projection, aligned_offset, project_at

SECONDS_PER_DAY = 86_400
TYPICAL_TOLERANCE = Decimal("0.05")  # within 5% of the typical curve counts as "on" it


class CampaignLike(Protocol):
    slug: str
    name: str
    goal_cents: int
    currency: str
    timezone: str
    start_date: date
    end_date: date

    @property
    def window(self) -> Window: ...

    @property
    def starts_at(self) -> datetime: ...

    @property
    def ends_at(self) -> datetime: ...


@dataclass(frozen=True)
class Totals:
    """Aggregates over the counted gifts of a campaign's window up to a moment (tracker.service gathers them)."""

    raised_cents: int
    donations: int
    donors: int
    new_donors: int


@dataclass(frozen=True)
class Segment:
    donors: int = 0
    cents: int = 0


@dataclass(frozen=True)
class Segments:
    """Donors of the window up to as-of, by their history (see queries.segments for the rules)."""

    new: Segment = Segment()
    retained: Segment = Segment()
    reactivated: Segment = Segment()
    lybunt: Segment = Segment()  # last year's campaign donors not (yet) back; cents = what they gave then
    lybunt_campaign: str | None = None
    recurring: Segment = Segment()  # donors = gifts here: recurring installments received in the window
    one_time: Segment = Segment()
    lybunt_of: int = 0  # the donors of lybunt_campaign (tracker.service fills it: see `retention`)

    @property
    def retention(self) -> Decimal | None:
        """Last campaign's donors who gave again in this window so far, as a percentage of them (two places);
        None without a last campaign or when it had no donors."""
        if not self.lybunt_campaign or self.lybunt_of <= 0:
            return None
        return percent_of(self.lybunt_of - self.lybunt.donors, self.lybunt_of)


@dataclass(frozen=True)
class FiscalShare:
    """The campaign's total as a share of its fiscal year's, and the same for earlier campaigns."""

    year_starts: date
    year_ends: date  # inclusive
    year_cents: int
    campaign_cents: int
    earlier: tuple[tuple[str, float | None], ...] = ()

    @property
    def share(self) -> float | None:
        return None if self.year_cents <= 0 else self.campaign_cents / self.year_cents


@dataclass(frozen=True)
class Books:
    """A campaign whose window lies in closed periods: when they were closed, what the window raised at the close
    (what raised still says), and the adjustments booked since (refunds, voids, late gifts of those days)."""

    closed_at: datetime
    periods: tuple[str, ...]
    raised_cents: int
    adjustment_cents: int
    adjustments: int


def books_line(books: Books, tz, currency: str) -> str:
    """"closed on Jan 15 at $414,015.50; adjustments since: −$500.00" (the date in the campaign's zone)."""
    when = books.closed_at.astimezone(tz)
    cents = books.adjustment_cents
    sign = "−" if cents < 0 else "+" if cents > 0 else ""
    return (f"closed on {when:%b} {when.day} at {format_money(books.raised_cents, currency)}; adjustments since: "
            f"{sign}{format_money(abs(cents), currency)}")


@dataclass(frozen=True)
class ExpectedDay:
    """Open pledges expected on one local day (None: no date given), and whether that day has passed."""

    day: date | None
    pledges: int
    cents: int
    overdue: bool


@dataclass(frozen=True)
class Committed:
    """Money promised and not received yet (tracker.pledges): never in raised, shown beside it. `expected`: the open
    pledges by expected day, soonest first, undated last; `by_kind`: (kind, pledges, cents); `received`: pledges of
    the campaign fulfilled by a gift by then (that gift counts where it is dated)."""

    cents: int = 0
    pledges: int = 0
    overdue_cents: int = 0
    overdue: int = 0
    expected: tuple[ExpectedDay, ...] = ()
    by_kind: tuple[tuple[str, int, int], ...] = ()
    received: int = 0
    received_cents: int = 0


def committed_from(rows, today: date, received: tuple[int, int] = (0, 0)) -> Committed:
    """The committed figures from open pledges grouped as (expected day or None, kind, pledges, cents): a pledge is
    overdue when its expected day is before `today` (the campaign's local day of the moment shown)."""
    days: dict = {}
    kinds: dict = {}
    for day, kind, n, cents in rows:
        d = days.setdefault(day, [0, 0])
        d[0] += n
        d[1] += cents
        k = kinds.setdefault(kind, [0, 0])
        k[0] += n
        k[1] += cents
    expected = tuple(ExpectedDay(day, n, cents, day is not None and day < today)
                     for day, (n, cents) in sorted(days.items(), key=lambda kv: (kv[0] is None, kv[0] or date.min)))
    return Committed(
        cents=sum(e.cents for e in expected), pledges=sum(e.pledges for e in expected),
        overdue_cents=sum(e.cents for e in expected if e.overdue), overdue=sum(e.pledges for e in expected if e.overdue),
        expected=expected, by_kind=tuple((k, n, c) for k, (n, c) in sorted(kinds.items())),
        received=received[0], received_cents=received[1])


KIND_NAMES = {"paypal_giving_fund": "PayPal Giving Fund", "daf": "donor-advised fund", "check": "check announced",
              "match": "match receivable", "other": "other"}


def committed_line(c: Committed, currency: str, *, amount: bool = True) -> str:
    """"$12,500.00 in 4 pledges, expected Jan 8, 2027 to Jan 25, 2027; 1 overdue ($500.00)" (none: "nothing";
    without `amount`: from "4 pledges" on)."""
    if not c.pledges:
        return "nothing"
    dated = [e.day for e in c.expected if e.day is not None]
    when = "" if not dated else (f", expected {_day(dated[0])}" if len(dated) == 1 or dated[0] == dated[-1]
                                 else f", expected {_day(dated[0])} to {_day(dated[-1])}")
    undated = sum(e.pledges for e in c.expected if e.day is None)
    if undated and dated:
        when += f" ({undated} without a date)"
    elif undated:
        when = ", no expected date given"
    late = "" if not c.overdue else f"; {c.overdue} overdue ({format_money(c.overdue_cents, currency)})"
    lead = f"{format_money(c.cents, currency)} in " if amount else ""
    return f"{lead}{c.pledges} pledge{'s' if c.pledges != 1 else ''}{when}{late}"


@dataclass(frozen=True)
class Change:
    """One edit of a campaign (`tracker campaign edit`), as stored: values as text (goals in cents, dates ISO)."""

    at: datetime
    actor: str
    field: str  # goal_cents, goal_new_donors, goal_donors, name, end_date, start_date, timezone
    old: str | None
    new: str | None


@dataclass(frozen=True)
class Figures:
    """The aggregates besides the totals that a full status needs (tracker.service gathers them)."""

    last_24_hours_cents: int = 0
    last_7_days_cents: int = 0
    earlier: tuple[Curve, ...] = ()  # closed earlier campaigns in the same currency, oldest first
    segments: Segments = Segments()
    fiscal: FiscalShare | None = None
    late_gifts: int = 0
    late_cents: int = 0
    duplicates: tuple[int, int] = (0, 0)  # (pairs, cents) of likely duplicates awaiting a decision
    books: Books | None = None  # the window's period is closed (tracker.closing): when, and the adjustments since
    track_record: Backtest | None = None  # the earlier campaigns' backtest (computed from `earlier` when None)
    changes: tuple[Change, ...] = ()  # the campaign's edits, oldest first
    committed: Committed = Committed()  # promised, not received yet (tracker.pledges)
    match: MatchSummary | None = None  # the campaign's match pools (tracker.matching); None: none


GOAL_COUNTS = ("raised", "with_match", "with_received_match")  # what the goal's progress counts


def progress_cents(goal_counts: str, raised_cents: int, match: MatchSummary | None) -> int:
    """What the goal's percent and gap count: raised; raised + match earned; or raised + match received."""
    if match is None or goal_counts == "raised":
        return raised_cents
    return raised_cents + (match.earned_cents if goal_counts == "with_match" else match.received_cents)


@dataclass(frozen=True)
class Comparison:
    """Where an earlier campaign stood at the same campaign day and hour."""

    slug: str
    cents_then: int
    final_cents: int
    share_of_final: float | None
    difference_cents: int  # this campaign now minus that one then


@dataclass(frozen=True)
class GoalProgress:
    """Progress towards a goal counted in donors."""

    name: str
    goal: int
    count: int
    needed_per_day: int | None  # donors a day still needed, rounded up; None once closed

    @property
    def percent(self) -> Decimal:
        return percent_of(self.count, self.goal)

    @property
    def gap(self) -> int:
        return max(0, self.goal - self.count)


@dataclass(frozen=True)
class Status:
    """Where a campaign stands at `as_of`."""

    slug: str
    name: str
    currency: str
    timezone: str
    as_of: datetime
    starts_at: datetime
    ends_at: datetime  # exclusive: 00:00 local of the day after the last day
    goal_cents: int
    raised_cents: int
    percent: Decimal  # keeps counting past 100
    gap_cents: int  # never negative
    donations: int
    donors: int
    new_donors: int
    returning_donors: int
    seconds_left: int
    needed_per_day_cents: int | None  # None once no time is left
    phase: str = "running"
    needed_per_hour_cents: int | None = None
    last_24_hours_cents: int = 0
    last_7_days_cents: int = 0
    typical_position: str | None = None  # behind | on | ahead of the typical curve; None without a curve yet
    typical_cents_by_now: int | None = None  # where the goal's typical curve stands now
    comparisons: tuple[Comparison, ...] = ()
    projection: Projection | None = None
    goals: tuple[GoalProgress, ...] = ()
    segments: Segments = Segments()
    fiscal: FiscalShare | None = None
    late_gifts: int = 0
    late_cents: int = 0
    duplicate_pairs: int = 0  # likely duplicates awaiting a decision (tracker duplicates list)
    duplicate_cents: int = 0  # what they count twice if each pair is one gift
    raised_basis: str = "gross"
    books: Books | None = None  # closed by finance: raised stays what it was at the close; adjustments since
    changes: tuple[Change, ...] = ()  # the campaign's edits, oldest first (all of them: the figures use its
    # definition as it is now, whatever the moment shown)
    committed: Committed = Committed()  # promised, not received yet: never in raised (tracker.pledges)
    match: MatchSummary = MatchSummary()  # the match pools at as-of
    goal_counts: str = "raised"  # what percent and gap count (GOAL_COUNTS)
    progress_cents: int | None = None  # the figure percent and gap count; None: raised

    @property
    def progress(self) -> int:
        return self.raised_cents if self.progress_cents is None else self.progress_cents

    @property
    def raised_with_match_cents(self) -> int:
        return self.raised_cents + self.match.earned_cents

    @property
    def deadline(self) -> datetime:
        """The last second of the campaign (December 31 23:59:59 local for a December campaign), in UTC."""
        return self.ends_at - timedelta(seconds=1)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def pace_needed(self) -> tuple[int, str] | None:
        """(cents, "day" or "hour") still needed to reach the goal: per hour on the last day; None once closed."""
        if self.needed_per_day_cents is None:
            return None
        if self.phase == "last_day":
            return self.needed_per_hour_cents, "hour"
        return self.needed_per_day_cents, "day"


@dataclass(frozen=True)
class VersusEarlier:
    """This campaign now against an earlier one at the same campaign hour: the difference and its percentage."""

    slug: str
    cents_then: int
    difference_cents: int
    percent: Decimal | None  # difference as a percentage of then (two places); None when it had raised nothing

    def text(self, currency: str) -> str:
        """"+$12,345 (+8.2%) vs dec-2025 at this hour" (money whole dollars, percent to one place)."""
        sign = "+" if self.difference_cents >= 0 else "−"
        money = format_money(abs(self.difference_cents), currency, whole=True)
        pct = "" if self.percent is None else f" ({sign}{abs(self.percent):.1f}%)"
        return f"{sign}{money}{pct} vs {self.slug} at this hour"


def versus_last_year(st: Status) -> VersusEarlier | None:
    """The status against the latest earlier campaign at the same moment (its comparisons), or None without one."""
    if not st.comparisons:
        return None
    c = st.comparisons[-1]
    return versus(c.slug, c.cents_then + c.difference_cents, c.cents_then)


def versus(slug: str, now_cents: int, then_cents: int) -> VersusEarlier:
    """This campaign's `now_cents` against `then_cents`, what campaign `slug` had at the same moment."""
    diff = now_cents - then_cents
    return VersusEarlier(slug, then_cents, diff, percent_of(diff, then_cents) if then_cents > 0 else None)


HOUR = 3600


def last_hours(starts_at: datetime, ends_at: datetime, as_of: datetime, hours: int = 48) -> list[datetime]:
    """The starts (UTC) of the last `hours` hours up to `as_of` on the hours before the deadline (whole hours back
    from `ends_at`, so local hours in every zone), the last one holding `as_of`; the hours before `starts_at` left
    out; after the deadline, the campaign's last hours; before it opens, none."""
    as_of, starts_at, ends_at = ensure_utc(as_of), ensure_utc(starts_at), ensure_utc(ends_at)
    if as_of < starts_at:
        return []
    back = (ends_at - as_of).total_seconds()
    # exactly on an hour, the hour that opens at as-of (its gift counts)
    current = ends_at - timedelta(hours=math.ceil(back / HOUR) if back > 0 else 1)
    out = [current - timedelta(hours=k) for k in reversed(range(hours))]
    return [h for h in out if h + timedelta(hours=1) > starts_at]


def by_hour(hour_starts: list[datetime], quarter_hours: list[tuple]) -> list[tuple[int, int]]:
    """(cents, gifts) of each hour starting at `hour_starts` (UTC, sorted, an hour long each), from quarter-hour
    rows (epoch seconds, cents, gifts) as queries.quarter_hours gives them; rows outside the hours are left out."""
    import bisect

    starts = [int(h.timestamp()) for h in hour_starts]
    out = [[0, 0] for _ in starts]
    for epoch, cents, gifts in quarter_hours:
        i = bisect.bisect_right(starts, epoch) - 1
        if i >= 0 and epoch < starts[i] + HOUR:
            out[i][0] += cents
            out[i][1] += gifts
    return [(c, n) for c, n in out]


def seconds_left(ends_at: datetime, as_of: datetime) -> int:
    """Whole seconds from `as_of` to the end of the window (exclusive end), never negative."""
    return max(0, int((ensure_utc(ends_at) - ensure_utc(as_of)).total_seconds()))


def needed_per_day(gap_cents: int, seconds_remaining: int) -> int | None:
    """Cents a day still needed to close `gap_cents` in `seconds_remaining`, rounded up to the cent.

    None when no time is left; 0 when the goal is reached.
    """
    if seconds_remaining <= 0:
        return None
    if gap_cents <= 0:
        return 0
    return -(-gap_cents * SECONDS_PER_DAY // seconds_remaining)  # ceiling division, exact


def phase(campaign: CampaignLike, as_of: datetime) -> str:
    """The campaign's phase at `as_of`, by local calendar day: the final week is its last 7 days, the final
    48 hours its last 2 days, the last day its last day; closed from the deadline on."""
    as_of = ensure_utc(as_of)
    if as_of < campaign.starts_at:
        return "not_started"
    if as_of >= campaign.ends_at:
        return "closed"
    days_to_end = (campaign.end_date - as_of.astimezone(ZoneInfo(campaign.timezone)).date()).days
    if days_to_end == 0:
        return "last_day"
    if days_to_end == 1:
        return "final_48_hours"
    if days_to_end < 7:
        return "final_week"
    return "running"


def needed_per_hour(gap_cents: int, seconds_remaining: int) -> int | None:
    """Cents an hour still needed, rounded up; None when no time is left."""
    if seconds_remaining <= 0:
        return None
    return 0 if gap_cents <= 0 else -(-gap_cents * 3600 // seconds_remaining)


def typical_position(raised_cents: int, expected_cents: int) -> str:
    """behind / on / ahead of where the typical curve says the goal's campaign stands now (5% either way is "on")."""
    if expected_cents <= 0:
        return "ahead" if raised_cents > 0 else "on"
    ratio = Decimal(raised_cents) / Decimal(expected_cents)
    if ratio < 1 - TYPICAL_TOLERANCE:
        return "behind"
    if ratio > 1 + TYPICAL_TOLERANCE:
        return "ahead"
    return "on"


def status(campaign: CampaignLike, totals: Totals, *, as_of: datetime, figures: Figures = Figures()) -> Status:
    """Combine a campaign's definition, its totals and the other aggregates into its status at `as_of`.

    Before the window opens, the time left counts only the window itself, so the pace needed is
    spread over the campaign's days, not the wait before it.
    """
    as_of = ensure_utc(as_of)
    starts_at, ends_at = campaign.starts_at, campaign.ends_at
    goal_counts = getattr(campaign, "goal_counts", None) or "raised"
    progress = progress_cents(goal_counts, totals.raised_cents, figures.match)
    gap = max(0, campaign.goal_cents - progress)
    left = seconds_left(ends_at, max(as_of, starts_at))
    window = campaign.window
    comparisons = tuple(
        Comparison(
            slug=c.slug,
            cents_then=(then := c.at(aligned_offset(window, max(as_of, starts_at), c.window))),
            final_cents=c.final_cents,
            share_of_final=c.share_at(aligned_offset(window, max(as_of, starts_at), c.window)),
            difference_cents=totals.raised_cents - then,
        )
        for c in figures.earlier
    )
    projection = project_at(window, totals.raised_cents, campaign.goal_cents, max(as_of, starts_at),
                            list(figures.earlier), track=figures.track_record, gifts=totals.donations)
    position = typical = None
    if as_of >= starts_at and projection.typical_share is not None:
        typical = round(campaign.goal_cents * projection.typical_share)
        position = typical_position(totals.raised_cents, typical)
    goals = []
    for name, goal, count in (("new_donors", getattr(campaign, "goal_new_donors", None), totals.new_donors),
                              ("donors", getattr(campaign, "goal_donors", None), totals.donors)):
        if goal:
            goals.append(GoalProgress(name, goal, count, needed_per_day(max(0, goal - count), left)))
    closed = as_of >= ends_at
    return Status(
        slug=campaign.slug,
        name=campaign.name,
        currency=campaign.currency,
        timezone=campaign.timezone,
        as_of=as_of,
        starts_at=starts_at,
        ends_at=ends_at,
        goal_cents=campaign.goal_cents,
        raised_cents=totals.raised_cents,
        percent=percent_of(progress, campaign.goal_cents),
        gap_cents=gap,
        donations=totals.donations,
        donors=totals.donors,
        new_donors=totals.new_donors,
        returning_donors=totals.donors - totals.new_donors,
        seconds_left=seconds_left(ends_at, as_of),
        needed_per_day_cents=needed_per_day(gap, left),
        phase=phase(campaign, as_of),
        needed_per_hour_cents=needed_per_hour(gap, left),
        last_24_hours_cents=figures.last_24_hours_cents,
        last_7_days_cents=figures.last_7_days_cents,
        typical_position=position,
        typical_cents_by_now=typical,
        comparisons=comparisons,
        projection=projection,
        goals=tuple(goals),
        segments=figures.segments,
        fiscal=figures.fiscal,
        late_gifts=figures.late_gifts if closed else 0,
        late_cents=figures.late_cents if closed else 0,
        duplicate_pairs=figures.duplicates[0],
        duplicate_cents=figures.duplicates[1],
        raised_basis=getattr(campaign, "raised_basis", "gross") or "gross",
        books=figures.books,
        changes=figures.changes,
        committed=figures.committed,
        match=figures.match or MatchSummary((), as_of),
        goal_counts=goal_counts,
        progress_cents=progress,
    )


def _money(cents: int | None) -> str | None:
    return None if cents is None else cents_to_decimal_str(cents)


def _ratio(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def status_json(st: Status) -> dict:
    """The status as the JSON object `tracker status --json` prints. Money as decimal strings (README: Status JSON)."""
    tz = st.tz
    p = st.projection
    seg = st.segments

    def segment(x: Segment, unit: str = "donors") -> dict:
        return {unit: x.donors, "amount": cents_to_decimal_str(x.cents)}

    return {
        "campaign": st.slug,
        "name": st.name,
        "currency": st.currency,
        "timezone": st.timezone,
        "as_of": isoformat_local(st.as_of, tz),
        "raised_basis": st.raised_basis,
        "goal": cents_to_decimal_str(st.goal_cents),
        "raised": cents_to_decimal_str(st.raised_cents),
        "percent": float(st.percent),  # a ratio, not money: two decimals, e.g. 96.49
        "gap": cents_to_decimal_str(st.gap_cents),
        "donations": st.donations,
        "donors": st.donors,
        "new_donors": st.new_donors,
        "returning_donors": st.returning_donors,
        "starts_at": isoformat_local(st.starts_at, tz),
        "deadline": isoformat_local(st.deadline, tz),
        "phase": st.phase,
        "seconds_left": st.seconds_left,
        "time_left": time_left_text(st.seconds_left),
        "needed_per_day": _money(st.needed_per_day_cents),
        "pace": {
            "needed_per_day": _money(st.needed_per_day_cents),
            "needed_per_hour": _money(st.needed_per_hour_cents),
            "last_24_hours": cents_to_decimal_str(st.last_24_hours_cents),
            "last_7_days": cents_to_decimal_str(st.last_7_days_cents),
            "typical_curve": st.typical_position,
            "typical_by_now": _money(st.typical_cents_by_now),
        },
        "earlier_campaigns": [
            {"campaign": c.slug, "raised_then": cents_to_decimal_str(c.cents_then), "final": cents_to_decimal_str(c.final_cents),
             "share_of_final": _ratio(c.share_of_final), "difference": cents_to_decimal_str(c.difference_cents)}
            for c in st.comparisons
        ],
        "projection": {
            "expected": _money(p.expected_cents), "low": _money(p.low_cents), "high": _money(p.high_cents),
            "level": p.level, "basis": p.basis,
            "methods": [{"method": m, "weight": round(w, 4), "expected": cents_to_decimal_str(e)}
                        for m, w, e in p.methods],
            "track_record": None if p.track_error is None else {
                "day": p.day, "mean_abs_pct_error": round(p.track_error, 2), "campaigns": p.track_campaigns},
        } if p else None,
        "chance_of_goal": _ratio(p.chance_of_goal) if p else None,
        "goals": {
            g.name: {"goal": g.goal, "count": g.count, "percent": float(g.percent), "gap": g.gap,
                     "needed_per_day": g.needed_per_day}
            for g in st.goals
        },
        "segments": {
            "new": segment(seg.new),
            "retained": segment(seg.retained),
            "reactivated": segment(seg.reactivated),
            "lybunt": {**segment(seg.lybunt), "campaign": seg.lybunt_campaign,
                       "retention": None if seg.retention is None else float(seg.retention)},
            "recurring": segment(seg.recurring, "gifts"),
            "one_time": segment(seg.one_time, "gifts"),
        },
        "fiscal_year": None if st.fiscal is None else {
            "starts": st.fiscal.year_starts.isoformat(),
            "ends": st.fiscal.year_ends.isoformat(),
            "raised": cents_to_decimal_str(st.fiscal.year_cents),
            "campaign_share": _ratio(st.fiscal.share),
            "earlier": [{"campaign": slug, "campaign_share": _ratio(share)} for slug, share in st.fiscal.earlier],
        },
        "late_after_deadline": {"gifts": st.late_gifts, "amount": cents_to_decimal_str(st.late_cents)},
        "duplicates_undecided": {"pairs": st.duplicate_pairs, "amount": cents_to_decimal_str(st.duplicate_cents)},
        "closed": None if st.books is None else {
            "closed_at": st.books.closed_at.isoformat(), "periods": list(st.books.periods),
            "raised_at_close": cents_to_decimal_str(st.books.raised_cents),
            "adjustments_since": cents_to_decimal_str(st.books.adjustment_cents),
            "adjustments": st.books.adjustments},
        "changes": [change_json(c, tz, st.currency) for c in st.changes],
        "goal_counts": st.goal_counts,
        "progress": cents_to_decimal_str(st.progress),
        "match_earned": cents_to_decimal_str(st.match.earned_cents),
        "match_received": cents_to_decimal_str(st.match.received_cents),
        "match_pending": cents_to_decimal_str(st.match.pending_cents),
        "match_remaining": cents_to_decimal_str(st.match.remaining_cents),
        "raised_with_match": cents_to_decimal_str(st.raised_with_match_cents),
        "matches": [match_json(p, st) for p in st.match.pools],
        "pledged": cents_to_decimal_str(st.committed.cents),
        "pledges": committed_json(st.committed),
    }


def committed_json(c: Committed) -> dict:
    """What is promised and not received yet, as `tracker status --json` prints it under "pledges"."""
    return {
        "open": c.pledges, "amount": cents_to_decimal_str(c.cents),
        "overdue": c.overdue, "overdue_amount": cents_to_decimal_str(c.overdue_cents),
        "expected": [{"date": None if e.day is None else e.day.isoformat(), "pledges": e.pledges,
                      "amount": cents_to_decimal_str(e.cents), "overdue": e.overdue} for e in c.expected],
        "by_kind": [{"kind": k, "pledges": n, "amount": cents_to_decimal_str(cents)} for k, n, cents in c.by_kind],
        "received": {"pledges": c.received, "amount": cents_to_decimal_str(c.received_cents)},
    }


def match_json(p, st: Status) -> dict:
    """One match pool as `tracker status --json` prints it (money as decimal strings)."""
    pool, tz = p.pool, st.tz
    terms = pool.terms_at(st.as_of)
    return {
        "name": pool.name, "ratio": ratio_text(terms.ratio), "cap": cents_to_decimal_str(p.cap_cents),
        "per_donor_cap": _money(terms.per_donor_cap_cents),
        "starts_at": isoformat_local(pool.starts_at, tz), "ends_at": isoformat_local(pool.ends_at, tz),
        "live": pool.live(st.as_of), "new_donors_only": pool.new_donors_only,
        "recurring_multiplier": terms.recurring_multiplier, "exclude_methods": sorted(pool.exclude_methods),
        "earned": cents_to_decimal_str(p.earned_cents), "received": cents_to_decimal_str(p.received_cents),
        "pending": cents_to_decimal_str(p.pending_cents), "remaining": cents_to_decimal_str(p.remaining_cents),
        "used_percent": p.used_percent, "gifts": p.gifts, "donors": p.donors,
    }


GOAL_COUNTS_TEXT = {"raised": "", "with_match": "counting the match earned",
                    "with_received_match": "counting the match received"}


def match_line(p, st: Status) -> str:
    """One pool for people: "NewsMatch 1:1: $12,000.00 earned of $15,000.00 ($3,000.00 left; $0.00 received)"."""
    money = lambda cents: format_money(cents, st.currency)  # noqa: E731
    terms = p.pool.terms_at(st.as_of)
    left = "exhausted" if p.remaining_cents == 0 else f"{money(p.remaining_cents)} left"
    when = "" if p.pool.live(st.as_of) else (" (not open yet)" if st.as_of < p.pool.starts_at else " (ended)")
    return (f"{p.pool.name} {ratio_text(terms.ratio)}: {money(p.earned_cents)} earned of {money(p.cap_cents)} "
            f"({left}; {money(p.received_cents)} received, {money(p.pending_cents)} pending){when}")


CHANGE_FIELDS = {"goal_counts": "goal counts", "goal_cents": "goal", "goal_new_donors": "new-donor goal", "goal_donors": "donor goal",
                 "name": "name", "end_date": "last day", "start_date": "first day", "timezone": "time zone"}


JSON_FIELDS = {"goal_cents": "goal", "end_date": "end", "start_date": "start"}  # as the options of campaign edit


def _day(d: date, year: int | None = None) -> str:
    """'Dec 29'; with the year when it is not `year`: 'Jan 2, 2027'."""
    return f"{d:%b} {d.day}" + ("" if year == d.year else f", {d.year}")


def change_text(change: Change, tz: ZoneInfo | str, currency: str) -> str:
    """A campaign edit for people: "goal raised to $450,000 on Dec 29", "goal lowered to $350,000 on Dec 29",
    "last day moved to Jan 2, 2027 (was Dec 31) on Dec 29". The day is the local date in `tz` (the campaign's
    zone); the year is said only when it is not the year of the edit."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    when = ensure_utc(change.at).astimezone(tz).date()
    on = f"on {_day(when, when.year)}"
    f, old, new = change.field, change.old, change.new
    if f == "goal_cents":
        o, n = int(old), int(new)
        money = format_money(n, currency, whole=n % 100 == 0)
        return f"goal {'raised' if n > o else 'lowered'} to {money} {on}"
    if f in ("goal_new_donors", "goal_donors"):
        label = CHANGE_FIELDS[f]
        if new is None:
            return f"{label} of {int(old):,} removed {on}"
        if old is None:
            return f"{label} of {int(new):,} set {on}"
        return f"{label} {'raised' if int(new) > int(old) else 'lowered'} to {int(new):,} {on}"
    if f in ("end_date", "start_date"):
        o, n = date.fromisoformat(old), date.fromisoformat(new)
        return f"{CHANGE_FIELDS[f]} moved to {_day(n, when.year)} (was {_day(o, when.year)}) {on}"
    if f == "timezone":
        return f"time zone changed to {new} (was {old}) {on}"
    if f == "name":
        return f"renamed from {old!r} {on}"
    if f == "goal_counts":
        words = {"raised": "raised alone", "with_match": "raised and the match earned",
                 "with_received_match": "raised and the match received"}
        return f"goal progress counts {words.get(new, new)} (was {words.get(old, old)}) {on}"
    return f"{f} changed from {old} to {new} {on}"


def change_json(change: Change, tz: ZoneInfo, currency: str) -> dict:
    """One edit as `tracker status --json` prints it: goals as decimal strings (donor goals as counts)."""
    def value(v: str | None):
        if v is None:
            return None
        if change.field == "goal_cents":
            return cents_to_decimal_str(int(v))
        return int(v) if change.field in ("goal_new_donors", "goal_donors") else v

    return {"at": isoformat_local(change.at, tz), "by": change.actor,
            "field": JSON_FIELDS.get(change.field, change.field),
            "old": value(change.old), "new": value(change.new), "text": change_text(change, tz, currency)}


def time_left_text(seconds: int) -> str:
    """Time left for people: '12 days 5 hours', on the last day '5 hours 12 minutes', then 'closed'."""
    if seconds <= 0:
        return "closed"
    days, rest = divmod(seconds, SECONDS_PER_DAY)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60

    def unit(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    if days:
        return f"{unit(days, 'day')} {unit(hours, 'hour')}"
    if hours:
        return f"{unit(hours, 'hour')} {unit(minutes, 'minute')}"
    if minutes:
        return unit(minutes, "minute")
    return unit(seconds, "second")


def cumulative_by_day(window: Window, daily: dict[date, int]) -> list[tuple[date, int]]:
    """Running total per local day of the window, from its first day up to its last day that counts (as of)."""
    out: list[tuple[date, int]] = []
    total = 0
    day = window.first
    while day <= window.last_day:
        total += daily.get(day, 0)
        out.append((day, total))
        day += timedelta(days=1)
    return out


def goal_line(campaign: CampaignLike) -> list[tuple[date, int]]:
    """The straight line to the goal: where the total would stand at the end of each day if raised evenly."""
    days = (campaign.end_date - campaign.start_date).days + 1
    return [
        (campaign.start_date + timedelta(days=i), campaign.goal_cents * (i + 1) // days) for i in range(days)
    ]


def default_campaign(campaigns: list[CampaignLike], now: datetime) -> CampaignLike | None:
    """The campaign a person most likely wants to see at `now`: the running one, else the next to open, else the latest."""
    if not campaigns:
        return None
    now = ensure_utc(now)
    running = [c for c in campaigns if c.starts_at <= now < c.ends_at]
    if running:
        return min(running, key=lambda c: c.ends_at)
    upcoming = [c for c in campaigns if c.starts_at > now]
    if upcoming:
        return min(upcoming, key=lambda c: c.starts_at)
    return max(campaigns, key=lambda c: c.ends_at)
