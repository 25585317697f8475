"""Where a campaign will end: several projection methods, combined by their own track record, with honest ranges.

Pure: no database, no clock. Money is integer cents; shares, weights and probabilities are floats.

- curves.py: campaigns' cumulative curves, and matching a moment of this year with one of an
  earlier year (by calendar, or by what drives giving: weekday, Giving Tuesday, the final stretch);
- methods.py: what is known at a moment, and the methods (share, bf, bf-record, pickup, gifts);
- combine.py: weights by track record, the spread, the range and the chance of the goal;
- backtest.py: every earlier campaign replayed day by day, each method and the combination scored;
- project.py: the projection of the running campaign, and the typical curve;
- student.py: Student's t, for ranges that rest on a few campaigns.
"""

from tracker.projection.backtest import Backtest, BacktestDay, CalibrationBin, MethodScore, backtest
from tracker.projection.combine import RANGE_LEVEL
from tracker.projection.curves import (
    DEFAULT_DAY_WEIGHTS, Curve, aligned_offset, default_share, giving_tuesday, match_days, matched_offset,
)
from tracker.projection.methods import METHODS
from tracker.projection.project import Projection, project_at, typical_curve

__all__ = [
    "Backtest", "BacktestDay", "CalibrationBin", "Curve", "DEFAULT_DAY_WEIGHTS", "METHODS", "MethodScore",
    "Projection", "RANGE_LEVEL", "aligned_offset", "backtest", "default_share", "giving_tuesday", "match_days",
    "matched_offset", "project_at", "typical_curve",
]
