"""Campaign math: where a campaign stands at a moment. Pure: no database, no clock, no I/O.

Inputs are the campaign's definition and the aggregates that tracker.queries computes; the
moment ("as of") is always an argument. Money is integer cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from tracker.dates import ensure_utc, isoformat_local
from tracker.money import cents_to_decimal_str, percent_of

SECONDS_PER_DAY = 86_400


class CampaignLike(Protocol):
    slug: str
    name: str
    goal_cents: int
    currency: str
    timezone: str
    start_date: date
    end_date: date

    @property
    def starts_at(self) -> datetime: ...

    @property
    def ends_at(self) -> datetime: ...


@dataclass(frozen=True)
class Totals:
    """Aggregates over the counted gifts of a campaign's window up to a moment (see queries.campaign_totals)."""

    raised_cents: int
    donations: int
    donors: int
    new_donors: int


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

    @property
    def deadline(self) -> datetime:
        """The last second of the campaign (December 31 23:59:59 local for a December campaign), in UTC."""
        return self.ends_at - timedelta(seconds=1)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


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


def status(campaign: CampaignLike, totals: Totals, *, as_of: datetime) -> Status:
    """Combine a campaign's definition and its totals into its status at `as_of`.

    Before the window opens, the time left counts only the window itself, so the pace needed is
    spread over the campaign's days, not the wait before it.
    """
    as_of = ensure_utc(as_of)
    starts_at, ends_at = campaign.starts_at, campaign.ends_at
    gap = max(0, campaign.goal_cents - totals.raised_cents)
    left = seconds_left(ends_at, max(as_of, starts_at))
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
        percent=percent_of(totals.raised_cents, campaign.goal_cents),
        gap_cents=gap,
        donations=totals.donations,
        donors=totals.donors,
        new_donors=totals.new_donors,
        returning_donors=totals.donors - totals.new_donors,
        seconds_left=seconds_left(ends_at, as_of),
        needed_per_day_cents=needed_per_day(gap, left),
    )


def status_json(st: Status) -> dict:
    """The status as the JSON object `tracker status --json` prints. Money as decimal strings."""
    tz = st.tz
    return {
        "campaign": st.slug,
        "name": st.name,
        "currency": st.currency,
        "timezone": st.timezone,
        "as_of": isoformat_local(st.as_of, tz),
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
        "seconds_left": st.seconds_left,
        "needed_per_day": None if st.needed_per_day_cents is None else cents_to_decimal_str(st.needed_per_day_cents),
    }


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


def cumulative_by_day(campaign: CampaignLike, daily: dict[date, int], *, as_of: datetime) -> list[tuple[date, int]]:
    """Running total per local day of the window, from the first day up to the day of `as_of` (or the last day)."""
    tz = campaign.tz if hasattr(campaign, "tz") else ZoneInfo(campaign.timezone)
    last = min(campaign.end_date, ensure_utc(as_of).astimezone(tz).date())
    out: list[tuple[date, int]] = []
    total = 0
    day = campaign.start_date
    while day <= last:
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
