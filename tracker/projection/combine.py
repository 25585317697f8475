"""Combining the methods by their track record, and the range and chance of the goal from the errors they made.

Pure. The inputs are replays: for each earlier campaign, what every method projected at the end of
each of its days (tracker.projection.backtest builds them). For a campaign day d:

- weights: each method's mean squared log error over days d-2..d+2 of the replayed campaigns
  that had earlier ones (never the campaign being projected), and weights proportional to its
  inverse squared (after Bates & Granger's combination of forecasts); a method without a score gets
  none. The combination is the weighted geometric mean of the methods' projections.
- spread: the combination's own log errors on those campaigns (each of them projected with weights
  chosen without it), pooled with a default spread counted as DEFAULT_DOF campaigns (which narrows
  with the share of the final still to come by this campaign's typical curve), and scaled for how
  many earlier years the campaign is projected from (one year teaches less than six); the range and
  the chance of the goal are Student's t on the log of the final, with one degree of freedom per
  campaign, so that a range from three campaigns is wider than one from ten.

Tried and left out, because the backtest on the synthetic newsrooms of tests/test_projection.py said
worse: inverse (not squared) errors, the best method alone each day, trimming to the methods within
twice the best, correcting each method by its mean error on the other campaigns, and wider or
narrower fitting windows (no better).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tracker.projection.student import t_cdf, t_quantile

RANGE_LEVEL = 0.80  # the low-high range is meant to hold the final this often
FIT_DAYS = 2  # weights and spreads for day d come from days d-2..d+2 of the other campaigns
DEFAULT_DOF = 2  # the default spread weighs as much as this many campaigns' errors
# the log-spread of the final around the goal before any gift, without a track record (80% of finals within about
# 15% of the goal), narrowing with the share still to come, down to DEFAULT_SIGMA_LATE
DEFAULT_SIGMA0, DEFAULT_SIGMA_LATE = 0.12, 0.02
# a campaign with no earlier one reads its shape off the default curve, whose share at a point may be off by
# a third either way for a newsroom of another shape (a flat December, a steep last week)
SHAPE_DOUBT = 0.3


def default_sigma(to_come: float) -> float:
    """The log-spread assumed without a track record, when `to_come` (0..1) of the final is still to come."""
    return DEFAULT_SIGMA_LATE + DEFAULT_SIGMA0 * max(0.0, min(1.0, to_come))


def first_year_sigma(to_come: float) -> float:
    """The log-spread of a campaign with no earlier one: the default's, and the default curve's own doubt."""
    return math.hypot(default_sigma(to_come), SHAPE_DOUBT * (1 - to_come))


@dataclass(frozen=True)
class Replay:
    """One replayed campaign: what each method projected at the end of each day but the last."""

    slug: str
    final: int  # cents
    goal: int  # cents; 0 when not known
    days: int  # the window's length in days
    raised: tuple[int, ...]  # at the end of day 1, 2, ... (the last day left out)
    expected: tuple[dict[str, float], ...]  # per day: method -> expected final in cents (methods that could say)
    history: int = 0  # how many earlier campaigns it was projected from
    fallback: tuple[float | None, ...] = ()  # per day: the fallback projection (see methods.fallback)
    to_come: tuple[float, ...] = ()  # per day: the share of the final still to come by the typical curve then


@dataclass(frozen=True)
class Spread:
    sigma: float  # of the log of the final
    dof: int  # Student's t degrees of freedom
    campaigns: int  # whose errors it rests on


def combine(expected: dict[str, float], weights: dict[str, float]) -> float | None:
    """The weighted geometric mean of the methods' projections, over the methods that have both."""
    used = [(w, math.log(expected[m])) for m, w in weights.items() if w > 0 and expected.get(m, 0) > 0]
    total = sum(w for w, _ in used)
    if not used or total <= 0:
        return None
    return math.exp(sum(w * x for w, x in used) / total)


@dataclass(frozen=True)
class Fit:
    """What the track record says for one campaign day: each method's weight and its mean squared log error,
    and how many campaigns that rests on."""

    weights: dict[str, float]
    errors: dict[str, float]
    campaigns: int


class TrackRecord:
    """Weights and spreads by campaign day, fitted on replays with any set of campaigns left out (memoized)."""

    def __init__(self, replays: tuple[Replay, ...], fallback: dict[str, float]):
        self.replays = replays
        self.fallback = fallback  # weights when there is nothing to fit on
        self._fit_memo: dict = {}
        self._spread_memo: dict = {}
        self._sums_memo: dict = {}

    def _points(self, day: int, exclude: frozenset[int]):
        for j, r in enumerate(self.replays):
            if j in exclude or not r.history:  # without earlier years a campaign gets the fallback: nothing to learn
                continue
            for d in range(max(1, day - FIT_DAYS), day + FIT_DAYS + 1):
                if d <= len(r.expected):
                    yield j, d, r

    def _window_sums(self, j: int, day: int) -> dict[str, tuple[float, int]]:
        """Method -> (sum of squared log errors, points) of replay j over the fitting window around `day`."""
        key = (j, day)
        found = self._sums_memo.get(key)
        if found is None:
            r = self.replays[j]
            found = {}
            for d in range(max(1, day - FIT_DAYS), min(len(r.expected), day + FIT_DAYS) + 1):
                for m, e in r.expected[d - 1].items():
                    total, n = found.get(m, (0.0, 0))
                    found[m] = (total + math.log(r.final / e) ** 2, n + 1)
            self._sums_memo[key] = found
        return found

    def weights(self, day: int, exclude: frozenset[int] = frozenset()) -> dict[str, float]:
        """Method -> weight (summing to 1) for campaign day `day`, from the replays not in `exclude`."""
        return self.fit(day, exclude).weights

    def fit(self, day: int, exclude: frozenset[int] = frozenset()) -> Fit:
        """The weights and errors for campaign day `day`, from the replays not in `exclude`."""
        key = (day, exclude)
        if key not in self._fit_memo:
            self._fit_memo[key] = self._fit(day, exclude)
        return self._fit_memo[key]

    def _fit(self, day: int, exclude: frozenset[int]) -> Fit:
        squares: dict[str, list[float]] = {}  # method -> [sum of squared log errors, points]
        campaigns = 0
        for j, r in enumerate(self.replays):
            if j in exclude or not r.history:  # without earlier years a campaign gets the fallback: nothing to learn
                continue
            sums = self._window_sums(j, day)
            campaigns += bool(sums)
            for m, (total, n) in sums.items():
                acc = squares.setdefault(m, [0.0, 0])
                acc[0] += total
                acc[1] += n
        if not squares:
            return Fit(dict(self.fallback), {}, 0)
        most = max(n for _, n in squares.values())
        # a method scored on far fewer points than the others (it needs gifts, or goals) is not compared
        mse = {m: total / n for m, (total, n) in squares.items() if n * 2 >= most}
        # inverse squared errors: sharper than Bates & Granger's inverse errors, which left a method that was
        # wrong by half early on a tenth of the weight (measured on the synthetic shapes, see the tests)
        inverse = {m: 1 / max(x, 1e-12) ** 2 for m, x in mse.items()}
        total = sum(inverse.values())
        weights = {m: x / total for m, x in sorted(inverse.items(), key=lambda kv: (-kv[1], kv[0]))}
        return Fit(weights, mse, campaigns)

    def combined(self, j: int, day: int, exclude: frozenset[int] = frozenset()) -> float | None:
        """Replay j's combined projection at `day`, with weights fitted without j and without `exclude`."""
        r = self.replays[j]
        if not r.history:
            return r.fallback[day - 1]
        return combine(r.expected[day - 1], self.weights(day, exclude | {j}))

    def spread(self, day: int, to_come: float, history: int, exclude: frozenset[int] = frozenset()) -> Spread:
        """The log-spread of the final around the combination at `day` for a campaign projected from `history`
        earlier ones, from the campaigns not in `exclude`, pooled with the default spread for `to_come` (the share
        of the final still to come by its typical curve)."""
        key = (day, round(to_come, 6), history, exclude)
        if key not in self._spread_memo:
            self._spread_memo[key] = self._fit_spread(day, to_come, history, exclude)
        return self._spread_memo[key]

    def _fit_spread(self, day: int, to_come: float, history: int, exclude: frozenset[int]) -> Spread:
        squares, campaigns = [], set()
        for j, d, r in self._points(day, exclude):
            c = self.combined(j, d, exclude)
            if c:
                # what is learned from h earlier years is off by about 1/h more than what cannot be learned at
                # all (the predictive variance of a mean of h): errors are put on one footing, then scaled back
                squares.append(math.log(r.final / c) ** 2 / (1 + 1 / r.history))
                campaigns.add(j)
        n = len(campaigns)
        prior = default_sigma(to_come)
        if not squares:
            return Spread(prior, DEFAULT_DOF, 0)
        mean_square = sum(squares) / len(squares) * (1 + 1 / max(1, history))
        sigma = math.sqrt((n * mean_square + DEFAULT_DOF * prior**2) / (n + DEFAULT_DOF))
        return Spread(sigma, n + DEFAULT_DOF, n)


@dataclass(frozen=True)
class Outlook:
    """The range and chance of the goal for one combined projection."""

    low: float
    high: float
    chance_of_goal: float


def outlook(expected: float, raised: int, goal: int, spread: Spread) -> Outlook:
    """The RANGE_LEVEL range (never below what is in) and the chance that the final reaches `goal` (> 0)."""
    q = t_quantile(0.5 + RANGE_LEVEL / 2, spread.dof)
    low, high = expected * math.exp(-q * spread.sigma), expected * math.exp(q * spread.sigma)
    if raised >= goal or goal <= 0:
        chance = 1.0
    elif spread.sigma <= 0:
        chance = 1.0 if expected >= goal else 0.0
    else:
        chance = 1.0 - t_cdf((math.log(goal) - math.log(expected)) / spread.sigma, spread.dof)
    return Outlook(max(low, float(raised)), max(high, float(raised)), chance)
