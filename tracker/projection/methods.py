"""The projection methods: each turns what is known at a moment into an expected final total.

Pure. A method is a function of a Point (what this campaign has raised, its goal and gifts so
far, and each earlier campaign read at the moment that matches now) and returns the expected final
in cents as a float, or None when it cannot say anything. Every method needs at least one earlier
campaign; without any, `fallback` is the projection. `point_at` builds the Point from curves
(`point_at_end_of_day` for the backtest's whole days).

- share: the booking curve, or chain ladder (the tracker's first method). Final = raised / the
  typical share of earlier years at this point. Good late, when a year keeps its shape; unstable
  early, when one good or bad day is multiplied by fifty.
- bf: Bornhuetter-Ferguson, as actuaries blend a claims triangle with an expected loss. Final =
  raised + the goal x the share still to come. Stable early (it is mostly the goal); late it is
  mostly raised itself.
- bf-record: the same, with the goal corrected by how earlier finals compared with their goals (a
  newsroom that beats its goal by 20% every year is expected to do so again).
- pickup: the additive pickup of hotel revenue managers (Weatherford & Kimes 2003). Final = raised +
  what each earlier year raised from this point to its end, scaled by how this year's goal
  compares with its goal.
- gifts: the booking curve on the number of gifts, which a few large gifts cannot shake as they
  shake the amounts: the gifts still to come, valued at what earlier years' gifts from this point on
  averaged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from typing import Callable

from tracker.dates import Window, ensure_utc
from tracker.projection.curves import Curve, default_share, match_days, matched_share


@dataclass(frozen=True)
class Past:
    """One earlier campaign at the moment that matches now."""

    share: float  # of its own final reached by then (0..1)
    final: int  # cents
    goal: int = 0  # cents; 0 when not known
    gift_share: float | None = None  # of its final number of gifts reached by then (None: not known)
    gifts_left: int = 0  # gifts it still received after that moment


@dataclass(frozen=True)
class Point:
    """What is known at one moment of a campaign."""

    raised: int  # cents in so far
    goal: int  # cents
    fraction: float  # of the window passed (0..1)
    pasts: tuple[Past, ...] = ()  # earlier campaigns (with a final above zero) at the matching moment
    gifts: int | None = None  # gifts so far (with a positive net); None when not known

    def typical_share(self) -> float:
        """The geometric mean of the earlier shares at this point (the default curve without them)."""
        if self.pasts and min(p.share for p in self.pasts) > 0:
            return math.exp(fmean(math.log(p.share) for p in self.pasts))
        if self.pasts:
            return fmean(p.share for p in self.pasts)
        return default_share(self.fraction)


def point_at(current: Window, raised_cents: int, goal_cents: int, as_of: datetime, earlier: list[Curve],
             gifts: int | None = None) -> Point:
    """What is known at `as_of` of a campaign in `current`: its raised, goal and gifts, and each earlier
    campaign with a final above zero, its days laid out on this year's calendar (curves.match_days)."""
    as_of = ensure_utc(as_of)
    fraction = max(0.0, min(1.0, (as_of - current.starts_at).total_seconds() / current.seconds))
    pasts = []
    for c in earlier:
        cents = matched_share(current, as_of, c)
        if c.final_cents <= 0 or cents is None:
            continue
        count = matched_share(current, as_of, c, gifts=True) if c.final_gifts > 0 else None
        left = round(c.final_gifts * (1 - count)) if count is not None else 0
        pasts.append(Past(cents, c.final_cents, c.goal_cents, count, left))
    return Point(raised_cents, goal_cents, fraction, tuple(pasts), gifts)


def point_at_end_of_day(current: Window, day: int, raised_cents: int, goal_cents: int, earlier: list[Curve],
                        gifts: int | None = None) -> Point:
    """As point_at at the end of day `day` (1-based, before the last) of `current`: whole days only, so each earlier
    campaign's share is read off its running totals laid out on this year's calendar (the backtest's moments)."""
    pasts = []
    for c in earlier:
        days = match_days(current.at(None), c.window.at(None))
        cents = c.laid_out(days)
        if c.final_cents <= 0 or cents[-1] <= 0:
            continue
        count = None
        left = 0
        if c.final_gifts > 0:
            counts = c.laid_out(days, gifts=True)
            if counts[-1] > 0:
                count = counts[day] / counts[-1]
                left = round(c.final_gifts * (1 - count))
        pasts.append(Past(cents[day] / cents[-1], c.final_cents, c.goal_cents, count, left))
    fraction = (current.end_of_day(day) - current.starts_at).total_seconds() / current.seconds
    return Point(raised_cents, goal_cents, fraction, tuple(pasts), gifts)


def share(point: Point) -> float | None:
    """Raised divided by the typical share of earlier years at this point."""
    s = point.typical_share()
    if not point.pasts or point.raised <= 0 or s <= 0:
        return None
    return point.raised / s


def bf(point: Point) -> float | None:
    """Raised plus the goal's part still to come (Bornhuetter-Ferguson with the goal as the expected final)."""
    if not point.pasts or point.goal <= 0:
        return None
    return point.raised + point.goal * (1 - min(1.0, point.typical_share()))


def bf_record(point: Point) -> float | None:
    """As `bf`, the goal multiplied by the geometric mean of earlier campaigns' final / goal."""
    ratios = [p.final / p.goal for p in point.pasts if p.goal > 0]
    if not ratios or point.goal <= 0:
        return None
    expected = point.goal * math.exp(fmean(math.log(r) for r in ratios))
    return point.raised + expected * (1 - min(1.0, point.typical_share()))


def pickup(point: Point) -> float | None:
    """Raised plus the mean of what earlier years raised from this point on, each scaled by goal / its goal."""
    parts = [p.final * (1 - p.share) * point.goal / p.goal for p in point.pasts if p.goal > 0]
    if not parts or point.goal <= 0:
        return None
    return point.raised + fmean(parts)


def gifts(point: Point) -> float | None:
    """Raised plus the gifts still to come (gifts so far / typical share of gifts, minus gifts so far), valued at
    what earlier years' gifts from this point on averaged."""
    pasts = [p for p in point.pasts if p.gift_share]
    if not pasts or point.gifts is None or point.gifts <= 0:
        return None
    s = math.exp(fmean(math.log(p.gift_share) for p in pasts))
    left_gifts = sum(p.gifts_left for p in pasts)
    if left_gifts <= 0:
        return float(point.raised)
    per_gift = sum(p.final * (1 - p.share) for p in pasts) / left_gifts
    return point.raised + max(0.0, point.gifts / s - point.gifts) * per_gift


def fallback(point: Point) -> float | None:
    """Without earlier campaigns: raised plus the goal's part still to come by the default curve (without a goal,
    raised / the default curve's share; None before anything is raised)."""
    if point.goal > 0:
        return point.raised + point.goal * (1 - default_share(point.fraction))
    s = default_share(point.fraction)
    return point.raised / s if point.raised > 0 and s > 0 else None


METHODS: dict[str, Callable[[Point], float | None]] = {
    "share": share,
    "bf": bf,
    "bf-record": bf_record,
    "pickup": pickup,
    "gifts": gifts,
}
DESCRIPTIONS = {  # one line each, for `tracker backtest`
    "share": "raised / the typical share earlier years had reached by this point",
    "bf": "raised + the goal x the share still to come",
    "bf-record": "as bf, the goal corrected by how earlier finals compared with their goals",
    "pickup": "raised + what earlier years raised from here to their end, scaled by goal",
    "gifts": "raised + the gifts still to come, at earlier years' average late gift",
    "fallback": "raised + the goal x what the default curve leaves to come (no earlier campaign)",
}
