"""The backtest: replay each earlier campaign day by day, score every method and their combination.

Pure. At the end of each local day of a closed campaign (but the last, whose end is the final),
every method projects its final from only what was known then: its own total and gifts so far and
the curves of the campaigns that ended before it began. The combination for a replayed campaign
uses weights and a spread fitted on the other replayed campaigns only (leave one out), so its
score is what the combination would have scored had that campaign been the current one. A
campaign with no earlier one gets the fallback projection and the default spread, as the current
campaign would.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import fmean

from tracker.projection.combine import DEFAULT_DOF, Replay, Spread, TrackRecord, first_year_sigma, outlook
from tracker.projection.curves import Curve
from tracker.projection.methods import METHODS, Point, fallback, point_at_end_of_day

FALLBACK_WEIGHTS = {"bf": 1.0}  # with earlier years but no track record yet: the goal read with their curves


def expectations(point: Point) -> dict[str, float]:
    """Method -> expected final in cents, for the methods that can say something at this point."""
    out = {}
    for name, method in METHODS.items():
        value = method(point)
        if value is not None and value > 0:
            out[name] = value
    return out


def replays(curves: list[Curve]) -> tuple[Replay, ...]:
    """Each closed campaign with a final above zero, projected by every method at the end of each day but the last."""
    curves = sorted(curves, key=lambda c: c.window.starts_at)
    out = []
    for k, curve in enumerate(curves):
        final = curve.final_cents
        if final <= 0:
            continue
        known = [c for c in curves[:k] if c.window.ends_at <= curve.window.starts_at]
        w = curve.window
        goal = curve.goal_cents  # 0 when not known: the methods that need a goal sit out (the final is no stand-in)
        raised, expected, fallbacks, to_come = [], [], [], []
        for day in range(1, w.days):
            moment = w.end_of_day(day)
            offset = (moment - w.starts_at).total_seconds()
            r = curve.at(offset)
            point = point_at_end_of_day(w, day, r, goal, known, curve.gifts_at(offset) if curve.gift_steps else None)
            raised.append(r)
            expected.append(expectations(point))
            fallbacks.append(fallback(point))
            to_come.append(1 - point.typical_share())
        out.append(Replay(curve.slug, final, goal, w.days, tuple(raised), tuple(expected), len(known),
                          tuple(fallbacks), tuple(to_come)))
    return tuple(out)


@dataclass(frozen=True)
class MethodScore:
    mean_abs_pct_error: float  # percent
    campaigns: int


@dataclass(frozen=True)
class BacktestDay:
    """Day `day` of every replayed campaign: how the combination (and each method) compared with the real finals."""

    day: int
    campaigns: int
    mean_abs_pct_error: float  # the combination's, percent (e.g. 4.2), each campaign projected without itself
    contained: int | None  # how many of the combination's ranges held the real final (None: ranges left out)
    methods: dict[str, MethodScore]  # each method over the campaigns that had earlier ones
    weights: dict[str, float]  # what the current campaign uses on this day (fitted on every replayed campaign)
    learned_error: float | None = None  # the combination's error over the same campaigns as `methods`

    @property
    def coverage(self) -> float | None:
        return None if self.contained is None or not self.campaigns else self.contained / self.campaigns


@dataclass(frozen=True)
class CalibrationBin:
    """The replayed days whose chance of the goal fell in [low, high): what was said and what happened."""

    low: float
    high: float
    count: int
    said: float  # mean chance of the goal stated
    reached: float  # share of them whose campaign reached its goal


@dataclass(frozen=True)
class Backtest:
    replayed: tuple[str, ...]
    days: tuple[BacktestDay, ...]
    calibration: tuple[CalibrationBin, ...] = ()
    record: TrackRecord | None = None

    def summary_from(self, day: int) -> tuple[float | None, float | None]:
        """The combination's mean absolute % error and share of ranges holding the final over days >= `day`."""
        rows = [d for d in self.days if d.day >= day and d.campaigns]
        if not rows:
            return None, None
        n = sum(d.campaigns for d in rows)
        held = None if rows[0].contained is None else sum(d.contained for d in rows) / n
        return sum(d.mean_abs_pct_error * d.campaigns for d in rows) / n, held

    def method_summary_from(self, method: str, day: int) -> float | None:
        """A method's mean absolute % error over days >= `day` (None if it never could say)."""
        rows = [(d.methods[method].mean_abs_pct_error, d.methods[method].campaigns) for d in self.days
                if d.day >= day and method in d.methods]
        n = sum(c for _, c in rows)
        return sum(e * c for e, c in rows) / n if n else None

    @property
    def coverage(self) -> float | None:
        """How often the combination's range held the final, over every replayed day."""
        n = sum(d.campaigns for d in self.days)
        if not n or self.days[0].contained is None:
            return None
        return sum(d.contained for d in self.days) / n

    @property
    def calibration_gap(self) -> float | None:
        """The largest difference, in points (0-100), between the chance said and the share reached, over the deciles."""
        return max((abs(b.said - b.reached) * 100 for b in self.calibration), default=None)

    def day(self, day: int) -> BacktestDay | None:
        """The row for campaign day `day`, or the nearest one there is (None without any)."""
        if not self.days:
            return None
        return min(self.days, key=lambda d: (abs(d.day - day), d.day))


def backtest(curves: list[Curve], *, ranges: bool = True) -> Backtest:
    """Replay each closed campaign day by day, scoring every method and the combination (see the module).

    `ranges=False` leaves out the ranges and chances of the replayed campaigns (coverage and calibration:
    each needs a spread fitted without two campaigns): what a status needs is the weights and errors by day."""
    played = replays(curves)
    record = TrackRecord(played, FALLBACK_WEIGHTS)
    rows: dict[int, dict] = {}
    said: list[tuple[float, bool]] = []
    for k, r in enumerate(played):
        for day in range(1, len(r.expected) + 1):
            row = rows.setdefault(day, {"errors": [], "held": 0, "methods": {}, "learned": []})
            if r.history:
                for m, e in r.expected[day - 1].items():
                    row["methods"].setdefault(m, []).append(abs(e - r.final) / r.final * 100)
            expected = record.combined(k, day)
            if expected is None:
                continue
            row["errors"].append(abs(expected - r.final) / r.final * 100)
            if r.history:
                row["learned"].append(abs(expected - r.final) / r.final * 100)
            if not ranges:
                continue
            if r.history:
                spread = record.spread(day, r.to_come[day - 1], r.history, frozenset({k}))
            else:
                spread = Spread(first_year_sigma(r.to_come[day - 1]), DEFAULT_DOF, 0)
            o = outlook(expected, r.raised[day - 1], r.goal, spread)
            row["held"] += o.low <= r.final <= o.high
            if r.goal > 0:
                said.append((o.chance_of_goal, r.final >= r.goal))
    days = tuple(
        BacktestDay(day, len(row["errors"]), fmean(row["errors"]) if row["errors"] else 0.0,
                    row["held"] if ranges else None,
                    {m: MethodScore(fmean(v), len(v)) for m, v in row["methods"].items()}, record.weights(day),
                    fmean(row["learned"]) if row["learned"] else None)
        for day, row in sorted(rows.items())
    )
    return Backtest(tuple(r.slug for r in played), days, calibration(said), record)


def calibration(said: list[tuple[float, bool]], bins: int = 10) -> tuple[CalibrationBin, ...]:
    """Stated chances of the goal by decile, against how often the goal was reached (bins with none left out)."""
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(p, hit) for p, hit in said if low <= p < high or (b == bins - 1 and p == 1.0)]
        if inside:
            out.append(CalibrationBin(low, high, len(inside), fmean(p for p, _ in inside),
                                      sum(hit for _, hit in inside) / len(inside)))
    return tuple(out)
