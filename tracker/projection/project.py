"""The projection of a running campaign: the methods combined by the weights their backtest earned at this
campaign day, its range and the chance of reaching the goal; and the typical curve of earlier years.

Pure. `project_at` takes the current campaign's raised (and gifts) at a moment, the curves of the
earlier, closed campaigns (with exact totals at the moments that match, see curves.Curve.exact) and
their backtest (computed here when not given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean

from tracker.dates import Window, ensure_utc
from tracker.projection.backtest import Backtest, backtest, expectations
from tracker.projection.combine import DEFAULT_DOF, RANGE_LEVEL, Spread, combine, default_sigma, first_year_sigma, outlook
from tracker.projection.curves import Curve, aligned_offset, default_share
from tracker.projection.methods import fallback, point_at


@dataclass(frozen=True)
class Projection:
    """The expected final total, its 80% range, and the chance of reaching the goal. None where nothing can be said."""

    expected_cents: int | None
    low_cents: int | None
    high_cents: int | None
    chance_of_goal: float | None
    basis: str
    typical_share: float | None  # share of the final that earlier campaigns had reached at this campaign day and hour
    methods: tuple[tuple[str, float, int], ...] = ()  # (method, weight, its expected final in cents), as combined
    day: int | None = None  # the campaign day whose track record chose the weights
    track_error: float | None = None  # the combination's mean absolute % error at that day in the backtest
    track_campaigns: int = 0  # how many replayed campaigns that error is over

    @property
    def level(self) -> float:
        return RANGE_LEVEL


def calendar_share(current: Window, as_of: datetime, earlier: list[Curve]) -> float:
    """The geometric mean of earlier campaigns' shares of their finals at the same campaign day and wall time
    (the default curve without them): where the goal's typical curve stands."""
    shares = [s for c in earlier if (s := c.share_at(aligned_offset(current, as_of, c.window))) is not None]
    if shares and min(shares) > 0:
        return math.exp(fmean(math.log(s) for s in shares))
    if shares:
        return fmean(shares)
    return default_share(max(0.0, min(1.0, (ensure_utc(as_of) - current.starts_at).total_seconds() / current.seconds)))


def _campaign_day(current: Window, as_of: datetime) -> int:
    """The campaign day (1..days) that holds `as_of`."""
    local = ensure_utc(as_of).astimezone(current.tz).date()
    return max(1, min(current.days, (local - current.first).days + 1))


def project_at(current: Window, raised_cents: int, goal_cents: int, as_of: datetime, earlier: list[Curve], *,
               track: Backtest | None = None, gifts: int | None = None) -> Projection:
    """The projection for `current` at `as_of` from the curves of earlier, closed campaigns and their backtest.

    `gifts`: the current campaign's gifts so far (for the gifts method). Once the window is over the
    projection is the final itself. Without earlier campaigns it is the fallback (the goal read with
    the default curve) with the default spread.
    """
    as_of = ensure_utc(as_of)
    typical = calendar_share(current, as_of, earlier)
    if as_of >= current.ends_at:
        return Projection(raised_cents, raised_cents, raised_cents, 1.0 if raised_cents >= goal_cents else 0.0,
                          "final", 1.0)
    point = point_at(current, raised_cents, goal_cents, as_of, earlier, gifts)
    if not point.pasts:
        expected = fallback(point)
        if expected is None:
            return Projection(None, None, None, None, "default curve (nothing raised yet)", typical)
        o = outlook(expected, raised_cents, goal_cents, Spread(first_year_sigma(1 - point.typical_share()), DEFAULT_DOF, 0))
        return Projection(round(expected), round(o.low), round(o.high), round(o.chance_of_goal, 4),
                          "the goal read with the default curve (no earlier campaign)", typical,
                          (("fallback", 1.0, round(expected)),))
    track = backtest(earlier) if track is None else track
    day = _campaign_day(current, as_of)
    row = track.day(day)
    record = track.record
    to_come = 1 - point.typical_share()
    if row is None or record is None:
        weights, spread, used_day = {"bf": 1.0}, Spread(default_sigma(to_come), DEFAULT_DOF, 0), None
    else:
        weights, used_day = row.weights, row.day
        # the track record is of projections made at the end of that day; what is uncertain is the money still to
        # come, so between two ends of days (and on the last day, after the last end scored) the spread follows it
        then = 1 - point_at(current, raised_cents, goal_cents, current.end_of_day(row.day), earlier).typical_share()
        scored = record.spread(row.day, then, len(point.pasts))
        scale = min(3.0, to_come / then) if then > 0 else 1.0
        spread = Spread(scored.sigma * scale, scored.dof, scored.campaigns)
    found = expectations(point)
    expected = combine(found, weights)
    if expected is None:  # none of the chosen methods can say anything here (say, nothing raised yet)
        weights = {m: 1.0 / len(found) for m in found} if found else {}
        expected = combine(found, weights) if found else None
    if expected is None:
        expected = fallback(point)
        if expected is None:
            return Projection(None, None, None, None, "nothing raised yet", typical)
        found, weights = {"fallback": expected}, {"fallback": 1.0}
    used = [(m, w) for m, w in weights.items() if w > 0 and m in found]
    total = sum(w for _, w in used)
    methods = tuple((m, w / total, round(found[m])) for m, w in used)
    o = outlook(expected, raised_cents, goal_cents, spread)
    replayed = len(track.replayed)
    if row is None:
        basis = f"{_methods_text(methods)}, from {len(point.pasts)} earlier campaign{'s' if len(point.pasts) != 1 else ''}"
    else:
        basis = (f"{_methods_text(methods)}: weights from replaying {replayed} earlier campaign"
                 f"{'s' if replayed != 1 else ''} at campaign day {row.day}")
    return Projection(round(expected), round(o.low), round(o.high), round(o.chance_of_goal, 4), basis, typical,
                      methods, used_day, row.mean_abs_pct_error if row else None, row.campaigns if row else 0)


def _methods_text(methods: tuple[tuple[str, float, int], ...]) -> str:
    shown = [f"{m} {w:.0%}" for m, w, _ in methods if round(w * 100) >= 1]
    return ", ".join(shown) or "no method"


def typical_curve(current: Window, earlier: list[Curve], goal_cents: int) -> list[tuple[date, int]]:
    """Where the goal's campaign stands at the end of each day if it follows the typical shape of earlier years
    (the geometric mean of their shares at the same campaign day and hour; the default curve without them)."""
    return [(current.first + timedelta(days=n - 1), round(goal_cents * calendar_share(current, current.end_of_day(n), earlier)))
            for n in range(1, current.days + 1)]
