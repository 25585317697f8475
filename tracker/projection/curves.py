"""Campaigns' cumulative curves, and how a moment of one campaign is matched with a moment of an earlier one.

Pure: no database, no clock. Money is integer cents; offsets are seconds from a window's start.

A Curve holds one campaign's raised by quarter hour (from the gift_buckets rollup), its goal, and
optionally the exact totals at a few moments, which tracker.service fills from the gifts
themselves, so that an earlier year is read at the same moment as now and not at the start of the
quarter hour.

Two ways of matching a moment of the current window with one of an earlier window:
- calendar: the same campaign day and local wall time (December 20 15:00 with December 20 15:00);
- events: by what drives giving. The last eight days (December 24-31 in December) keep their
  distance from the deadline; Giving Tuesday is matched with Giving Tuesday when both windows hold
  it; every other day with the nearest day of the same weekday. The earlier year's days are then
  laid out on this year's calendar, and its share is read off that.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache

from tracker.dates import UTC, Window, ensure_utc

BUCKET_SECONDS = 900
FINAL_STRETCH_DAYS = 8  # the last days are driven by the deadline (and Christmas), not by the weekday

# A typical year-end December, by day (1..31), relative to an ordinary early-December day: a slow
# rise through the month, a lull at Christmas, then the last days; December 31 alone about eight times an
# average day and the last three days about 40% of the month, as fundraising benchmarks
# (M+R Benchmarks, Blackbaud's giving reports) describe year-end giving. Used only when there is no
# earlier campaign to learn from; a window of another length is mapped onto it by fraction of the window.
DEFAULT_DAY_WEIGHTS = tuple(
    (1.0 + 0.025 * d) * {24: 0.6, 25: 0.5, 26: 1.6, 27: 1.8, 28: 2.1, 29: 2.9, 30: 4.6, 31: 11.0}.get(d, 1.0)
    for d in range(1, 32)
)


def giving_tuesday(year: int) -> date:
    """Giving Tuesday: the Tuesday after the fourth Thursday of November (US Thanksgiving)."""
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(days=21 + 5)


def default_share(fraction: float) -> float:
    """The default curve's share of the final reached after `fraction` (0..1) of the window, linear within a day."""
    fraction = max(0.0, min(1.0, fraction))
    total = sum(DEFAULT_DAY_WEIGHTS)
    pos = fraction * len(DEFAULT_DAY_WEIGHTS)
    whole = int(pos)
    done = sum(DEFAULT_DAY_WEIGHTS[:whole])
    if whole < len(DEFAULT_DAY_WEIGHTS):
        done += (pos - whole) * DEFAULT_DAY_WEIGHTS[whole]
    return done / total


@dataclass(frozen=True)
class Curve:
    """One campaign's cumulative raised: `steps` are (seconds from its start to the end of a bucket, total so far).

    `exact` holds (offset in seconds, cents raised up to and including that moment) for moments that
    are not on a quarter hour; `at` answers them exactly. `goal_cents` is 0 when not known."""

    slug: str
    window: Window
    steps: tuple[tuple[int, int], ...]
    goal_cents: int = 0
    exact: tuple[tuple[float, int], ...] = ()
    gift_steps: tuple[tuple[int, int], ...] = ()  # as `steps`, counting gifts (those with a positive net)
    exact_gifts: tuple[tuple[float, int], ...] = ()

    @classmethod
    def from_buckets(cls, slug: str, window: Window, buckets: list[tuple], goal_cents: int = 0) -> Curve:
        """Build from (bucket start as epoch seconds, cents raised in it[, gifts]); buckets are 900 seconds long."""
        start = int(window.starts_at.timestamp())
        total, gifts, steps, gift_steps = 0, 0, [], []
        for epoch, cents, *count in sorted(buckets):
            total += cents
            steps.append((epoch - start + BUCKET_SECONDS, total))
            if count:
                gifts += count[0]
                gift_steps.append((epoch - start + BUCKET_SECONDS, gifts))
        return cls(slug, window, tuple(steps), goal_cents, gift_steps=tuple(gift_steps))

    @property
    def final_gifts(self) -> int:
        return self.gift_steps[-1][1] if self.gift_steps else 0

    def gifts_at(self, offset_seconds: float) -> int:
        """Gifts in the first `offset_seconds` of the window (exact where known, else whole quarter hours)."""
        return _step_at(self.exact_gifts, self.gift_steps, offset_seconds)

    def with_exact(self, cents: dict[float, int], gifts: dict[float, int] | None = None) -> Curve:
        """The same curve, answering these moments (offset -> cents, and gifts, up to and including it) exactly."""
        merged, counted = dict(self.exact), dict(self.exact_gifts)
        merged.update(cents)
        counted.update(gifts or {})
        return replace(self, exact=tuple(sorted(merged.items())), exact_gifts=tuple(sorted(counted.items())))

    @property
    def final_cents(self) -> int:
        return self.steps[-1][1] if self.steps else 0

    def at(self, offset_seconds: float) -> int:
        """Cents raised in the first `offset_seconds` of the window: exact where known, else whole quarter hours."""
        return _step_at(self.exact, self.steps, offset_seconds)

    def share_at(self, offset_seconds: float) -> float | None:
        final = self.final_cents
        return None if final <= 0 else self.at(offset_seconds) / final

    @cached_property
    def day_starts(self) -> tuple[float, ...]:
        """Offsets of the start of each local day, and of the window's end (days + 1 values)."""
        w = self.window
        return (0.0,) + tuple((w.end_of_day(n) - w.starts_at).total_seconds() for n in range(1, w.days + 1))

    @cached_property
    def day_totals(self) -> tuple[int, ...]:
        """Cents raised on each local day of the window."""
        cum = [self.at(s) for s in self.day_starts]
        return tuple(b - a for a, b in zip(cum, cum[1:]))

    @cached_property
    def day_gifts(self) -> tuple[int, ...]:
        """Gifts on each local day of the window."""
        cum = [self.gifts_at(s) for s in self.day_starts]
        return tuple(b - a for a, b in zip(cum, cum[1:]))

    def laid_out(self, days: tuple[int, ...], gifts: bool = False) -> tuple[int, ...]:
        """Running totals (cents, or gifts) of this campaign's days taken in the order `days` (match_days): the
        total before each of them, and the whole at the end."""
        memo = self._laid_out
        key = (days, gifts)
        if key not in memo:
            totals = self.day_gifts if gifts else self.day_totals
            acc, out = 0, [0]
            for j in days:
                acc += totals[j]
                out.append(acc)
            memo[key] = tuple(out)
        return memo[key]

    @cached_property
    def _laid_out(self) -> dict:
        return {}

    def by_day(self) -> list[tuple[int, int]]:
        """(campaign day 1..N, raised by the end of that day), to compare campaigns day by day."""
        out, total = [], 0
        for d, cents in enumerate(self.day_totals, start=1):
            total += cents
            out.append((d, total))
        return out


def _wall(current: Window, as_of: datetime) -> tuple[int, time]:
    """(0-based day of `current` that holds `as_of`, the local wall time), clamped to the window."""
    local = ensure_utc(as_of).astimezone(current.tz).replace(tzinfo=None)
    day = (local.date() - current.first).days
    if day < 0:
        return 0, time(0)
    if day >= current.days:
        return current.days, time(0)
    return day, local.time()


def _offset(window: Window, day: int, wall: time) -> float:
    """Seconds into `window` of wall time `wall` on its day `day` (0-based), clamped to that day."""
    if day >= window.days:
        return float(window.seconds)
    start = datetime.combine(window.first + timedelta(days=day), time(0), tzinfo=window.tz).astimezone(UTC)
    end = datetime.combine(window.first + timedelta(days=day + 1), time(0), tzinfo=window.tz).astimezone(UTC)
    moment = datetime.combine(window.first + timedelta(days=day), wall, tzinfo=window.tz).astimezone(UTC)
    moment = min(max(moment, start), end)
    return (moment - window.starts_at).total_seconds()


def aligned_offset(current: Window, as_of: datetime, earlier: Window) -> float:
    """Seconds into `earlier` that match `as_of` in `current` by campaign day and local wall time (calendar)."""
    as_of = ensure_utc(as_of)
    if as_of <= current.starts_at:
        return 0.0
    if as_of >= current.ends_at:
        return float(earlier.seconds)
    day, wall = _wall(current, as_of)
    return _offset(earlier, day, wall)


def _giving_tuesday_in(w: Window) -> int | None:
    for year in {w.first.year, w.last.year}:
        gt = giving_tuesday(year)
        if w.first <= gt <= w.last:
            return (gt - w.first).days
    return None


@lru_cache(maxsize=512)
def match_days(current: Window, earlier: Window) -> tuple[int, ...]:
    """For each day of `current` (0-based), the day of `earlier` that stands for it by what drives giving.

    The last FINAL_STRETCH_DAYS keep their distance from the deadline; Giving Tuesday goes with
    Giving Tuesday when both windows hold it (outside their final stretches); every other day with
    the nearest day of the same weekday that is neither the earlier Giving Tuesday nor in its final
    stretch (the same campaign day when there is none)."""
    n, m = current.days, earlier.days
    gt_now, gt_then = _giving_tuesday_in(current), _giving_tuesday_in(earlier)
    final_then = m - FINAL_STRETCH_DAYS

    def ordinary(j: int) -> bool:
        return 0 <= j < final_then and j != gt_then

    out = []
    for i in range(n):
        to_end = n - 1 - i
        if to_end < FINAL_STRETCH_DAYS and to_end < m:
            out.append(m - 1 - to_end)
            continue
        if i == gt_now and gt_then is not None and gt_then < final_then:
            out.append(gt_then)
            continue
        shift = ((current.first + timedelta(days=i)).weekday() - (earlier.first + timedelta(days=i)).weekday()) % 7
        shift = shift - 7 if shift > 3 else shift
        options = [i + shift, i + shift - 7, i + shift + 7, i, i - 1, i + 1]
        out.append(next((j for j in options if ordinary(j)), min(max(i, 0), m - 1)))
    return tuple(out)


def matched_offset(current: Window, as_of: datetime, earlier: Window) -> float:
    """Seconds into `earlier` of the moment that stands for `as_of`: the same wall time on the matched day."""
    as_of = ensure_utc(as_of)
    if as_of <= current.starts_at:
        return 0.0
    if as_of >= current.ends_at:
        return float(earlier.seconds)
    day, wall = _wall(current, as_of)
    return _offset(earlier, match_days(current.at(None), earlier.at(None))[day], wall)


def matched_share(current: Window, as_of: datetime, curve: Curve, gifts: bool = False) -> float | None:
    """The share of its final (of its gifts, with `gifts`) `curve` had reached at `as_of`, its days laid out on
    `current`'s calendar."""
    as_of = ensure_utc(as_of)
    days = match_days(current.at(None), curve.window.at(None))
    at = curve.gifts_at if gifts else curve.at
    done = curve.laid_out(days, gifts)  # what it had raised by the start of each of this year's days
    whole = done[-1]
    if whole <= 0:
        return None
    if as_of <= current.starts_at:
        return 0.0
    if as_of >= current.ends_at:
        return 1.0
    day, wall = _wall(current, as_of)
    j = days[day]
    start = curve.day_starts[j]
    partial = at(_offset(curve.window, j, wall)) - at(start)
    return (done[day] + partial) / whole


def _step_at(exact: tuple, steps: tuple, offset_seconds: float) -> int:
    """A step function's value at `offset_seconds`: the exact answer for that moment when there is one, else the
    last step at or before it (0 before the first)."""
    for offset, value in exact:
        if offset == offset_seconds:
            return value
    i = bisect_right(steps, (offset_seconds, math.inf))
    return steps[i - 1][1] if i else 0
