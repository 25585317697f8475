"""Where a campaign will end: earlier campaigns' cumulative curves, the projection with its range and
the chance of reaching the goal, and the backtest that shows how good those projections have been.

Pure: no database, no clock. Money is integer cents; shares and probabilities are floats (they are
ratios, not money).

The method. Each earlier campaign is aligned with the current one by campaign day and hour in
local time (December 20 15:00 in one year is set against December 20 15:00 in another), and its
share of its own final total reached at that point is read off its curve. If this year follows the
same shape, final = raised / share. The projection takes the geometric mean of those shares; the
spread of their logarithms (widened for having only a few years, with a floor) gives a log-normal
range, reported at 80%, and the chance that the final reaches the goal. With no earlier campaign,
the shares come from DEFAULT_DAY_WEIGHTS, a documented typical year-end curve, with a wider spread.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import NormalDist, fmean, stdev

from tracker.dates import UTC, Window, ensure_utc

RANGE_LEVEL = 0.80  # the low-high range is meant to hold the final this often
_Z = NormalDist().inv_cdf(0.5 + RANGE_LEVEL / 2)

# A typical year-end December, by day (1..31), relative to an ordinary early-December day: a slow
# rise through the month, a lull at Christmas, then the last days; December 31 alone about eight times an
# average day and the last three days about 40% of the month, as fundraising benchmarks
# (M+R Benchmarks, Blackbaud's giving reports) describe year-end giving. Used only when there is no
# earlier campaign to learn from; a window of another length is mapped onto it by fraction of the window.
DEFAULT_DAY_WEIGHTS = tuple(
    (1.0 + 0.025 * d) * {24: 0.6, 25: 0.5, 26: 1.6, 27: 1.8, 28: 2.1, 29: 2.9, 30: 4.6, 31: 11.0}.get(d, 1.0)
    for d in range(1, 32)
)
# log-spread of the final around a default-curve projection: wide early, narrowing as the window passes
DEFAULT_SIGMA_START, DEFAULT_SIGMA_END = 0.45, 0.03
# the least log-spread of a projection from earlier campaigns, scaled by the share of the final still to come
SIGMA_FLOOR = 0.10


@dataclass(frozen=True)
class Curve:
    """One campaign's cumulative raised: `steps` are (seconds from its start to the end of a bucket, total so far)."""

    slug: str
    window: Window
    steps: tuple[tuple[int, int], ...]

    def by_day(self) -> list[tuple[int, int]]:
        """(campaign day 1..N, raised by the end of that day), to compare campaigns day by day."""
        days = self.window.days
        out, total, k = [], 0, 0
        for d in range(1, days + 1):
            while k < len(self.steps) and self.steps[k][0] <= d * 86_400:
                total = self.steps[k][1]
                k += 1
            out.append((d, total))
        return out

    @classmethod
    def from_buckets(cls, slug: str, window: Window, buckets: list[tuple[int, int]]) -> Curve:
        """Build from (bucket start as epoch seconds, cents raised in it); buckets are 900 seconds long."""
        start = int(window.starts_at.timestamp())
        total, steps = 0, []
        for epoch, cents in sorted(buckets):
            total += cents
            steps.append((epoch - start + 900, total))
        return cls(slug, window, tuple(steps))

    @property
    def final_cents(self) -> int:
        return self.steps[-1][1] if self.steps else 0

    def at(self, offset_seconds: int) -> int:
        """Cents raised in the first `offset_seconds` of the window (whole buckets)."""
        i = bisect_right(self.steps, (offset_seconds, math.inf))
        return self.steps[i - 1][1] if i else 0

    def share_at(self, offset_seconds: int) -> float | None:
        final = self.final_cents
        return None if final <= 0 else self.at(offset_seconds) / final


def aligned_offset(current: Window, as_of: datetime, earlier: Window) -> int:
    """Seconds into `earlier` that match `as_of` in `current` by campaign day and local hour (clamped to the window)."""
    local = ensure_utc(as_of).astimezone(current.tz).replace(tzinfo=None)
    wall = local - datetime.combine(current.first, time(0))
    target = (datetime.combine(earlier.first, time(0)) + wall).replace(tzinfo=earlier.tz).astimezone(UTC)
    return max(0, min(earlier.seconds, int((target - earlier.starts_at).total_seconds())))


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
class Projection:
    """The expected final total, its 80% range, and the chance of reaching the goal. None where nothing can be said."""

    expected_cents: int | None
    low_cents: int | None
    high_cents: int | None
    chance_of_goal: float | None
    basis: str
    typical_share: float | None  # share of the final that earlier campaigns had reached at this point

    @property
    def level(self) -> float:
        return RANGE_LEVEL


def _lognormal(raised: int, goal: int, mu_share: float, sigma: float, basis: str, typical: float) -> Projection:
    expected = raised / math.exp(mu_share)
    low, high = expected * math.exp(-_Z * sigma), expected * math.exp(_Z * sigma)
    if sigma <= 0:
        chance = 1.0 if expected >= goal else 0.0
    else:
        chance = 1.0 - NormalDist(math.log(expected), sigma).cdf(math.log(goal))
    low = max(low, raised)  # the final can't be less than what is in
    return Projection(round(expected), round(low), round(high), round(chance, 4), basis, typical)


def project(
    *, raised_cents: int, goal_cents: int, fraction_elapsed: float, shares: list[float], finals: list[int]
) -> Projection:
    """Project the final total.

    `shares`: each earlier campaign's share of its final at the aligned point (campaigns with a
    final of zero left out); `finals`: their final totals; `fraction_elapsed`: how much of the
    current window has passed (0..1), used by the default curve and once the window is over.
    """
    if fraction_elapsed >= 1.0:
        return Projection(raised_cents, raised_cents, raised_cents, 1.0 if raised_cents >= goal_cents else 0.0,
                          "final", 1.0)
    n = len(shares)
    if n and raised_cents > 0 and min(shares) > 0:
        logs = [math.log(s) for s in shares]
        mu = fmean(logs)
        typical = math.exp(mu)
        spread = stdev(logs) if n >= 2 else DEFAULT_SIGMA_START * (1 - typical)
        sigma = math.sqrt(spread**2 * (1 + 1 / n) + (SIGMA_FLOOR * (1 - typical)) ** 2)
        basis = f"from {n} earlier campaign{'s' if n != 1 else ''}"
        return _lognormal(raised_cents, goal_cents, mu, sigma, basis, typical)
    if n and raised_cents <= 0:
        # nothing in yet: the earlier finals themselves are the best guess
        good = [f for f in finals if f > 0]
        if good:
            logs = [math.log(f) for f in good]
            mu = fmean(logs)
            sigma = math.sqrt((stdev(logs) if len(logs) >= 2 else 0.0) ** 2 + DEFAULT_SIGMA_START**2)
            expected = math.exp(mu)
            chance = 1.0 - NormalDist(mu, sigma).cdf(math.log(goal_cents))
            return Projection(round(expected), round(expected * math.exp(-_Z * sigma)),
                              round(expected * math.exp(_Z * sigma)), round(chance, 4),
                              f"from {len(good)} earlier campaign{'s' if len(good) != 1 else ''}' final totals",
                              min(shares) if shares else 0.0)
    share = default_share(fraction_elapsed)
    if raised_cents <= 0 or share <= 0:
        return Projection(None, None, None, None, "default curve (nothing raised yet)", share)
    sigma = DEFAULT_SIGMA_END + (DEFAULT_SIGMA_START - DEFAULT_SIGMA_END) * (1 - share)
    return _lognormal(raised_cents, goal_cents, math.log(share), sigma, "default curve", share)


def project_at(current: Window, raised_cents: int, goal_cents: int, as_of: datetime, earlier: list[Curve]) -> Projection:
    """The projection for `current` at `as_of` from the curves of earlier, closed campaigns."""
    as_of = ensure_utc(as_of)
    fraction = (as_of - current.starts_at).total_seconds() / current.seconds
    shares, finals = [], []
    for curve in earlier:
        share = curve.share_at(aligned_offset(current, as_of, curve.window))
        if share is not None:
            shares.append(share)
            finals.append(curve.final_cents)
    return project(raised_cents=raised_cents, goal_cents=goal_cents, fraction_elapsed=max(0.0, fraction),
                   shares=shares, finals=finals)


@dataclass(frozen=True)
class BacktestDay:
    """How the projections made at the end of day `day` of each replayed campaign compared with its real final."""

    day: int
    campaigns: int
    mean_abs_pct_error: float  # percent, e.g. 4.2
    contained: int  # how many stated ranges held the real final

    @property
    def coverage(self) -> float:
        return self.contained / self.campaigns if self.campaigns else 0.0


@dataclass(frozen=True)
class Backtest:
    replayed: tuple[str, ...]
    days: tuple[BacktestDay, ...]

    def summary_from(self, day: int) -> tuple[float | None, float | None]:
        """Mean absolute % error and share of ranges holding the final over days >= `day`."""
        rows = [d for d in self.days if d.day >= day and d.campaigns]
        if not rows:
            return None, None
        n = sum(d.campaigns for d in rows)
        return (sum(d.mean_abs_pct_error * d.campaigns for d in rows) / n, sum(d.contained for d in rows) / n)


def backtest(curves: list[Curve]) -> Backtest:
    """Replay each closed campaign day by day, projecting from only what was known then.

    At the end of each local day of a campaign, its projection uses its own total so far and the
    curves of the campaigns that ended before it began (none for the first: the default curve).
    The last day is left out: at its end the final is known.
    """
    curves = sorted(curves, key=lambda c: c.window.starts_at)
    errors: dict[int, list[float]] = {}
    held: dict[int, int] = {}
    replayed = []
    for k, curve in enumerate(curves):
        final = curve.final_cents
        if final <= 0:
            continue
        replayed.append(curve.slug)
        known = [c for c in curves[:k] if c.window.ends_at <= curve.window.starts_at]
        for day in range(1, curve.window.days):
            moment = curve.window.end_of_day(day)
            raised = curve.at(int((moment - curve.window.starts_at).total_seconds()))
            p = project_at(curve.window, raised, final, moment, known)
            if p.expected_cents is None:
                continue
            errors.setdefault(day, []).append(abs(p.expected_cents - final) / final * 100)
            held[day] = held.get(day, 0) + (p.low_cents <= final <= p.high_cents)
    days = tuple(
        BacktestDay(day, len(errs), fmean(errs), held[day]) for day, errs in sorted(errors.items())
    )
    return Backtest(tuple(replayed), days)


def typical_curve(current: Window, earlier: list[Curve], goal_cents: int) -> list[tuple[date, int]]:
    """Where the goal's campaign stands at the end of each day if it follows the typical shape of earlier years
    (the geometric mean of their shares at that point; the default curve without them)."""
    out = []
    for n in range(1, current.days + 1):
        moment = current.end_of_day(n)
        shares = [s for c in earlier if (s := c.share_at(aligned_offset(current, moment, c.window))) is not None]
        if shares and min(shares) > 0:
            share = math.exp(fmean(math.log(s) for s in shares))
        elif shares:
            share = fmean(shares)
        else:
            share = default_share(n / current.days)
        out.append((current.first + timedelta(days=n - 1), round(goal_cents * share)))
    return out
