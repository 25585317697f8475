"""Pure campaign math: deadlines, time left, pace, and which campaign to show."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from tracker import campaign as cm
from tracker.dates import UTC, local_midnight, zone
from tracker.models import Campaign


def make(tz="America/Los_Angeles", start=date(2026, 12, 1), end=date(2026, 12, 31), goal=400_000_00, slug="dec-2026"):
    return Campaign(slug=slug, name="Year-end", goal_cents=goal, currency="USD", timezone=tz,
                    start_date=start, end_date=end)


@pytest.mark.parametrize(
    "tz, opens_utc, closes_utc",
    [
        ("America/Los_Angeles", datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2027, 1, 1, 8, tzinfo=UTC)),
        ("America/New_York", datetime(2026, 12, 1, 5, tzinfo=UTC), datetime(2027, 1, 1, 5, tzinfo=UTC)),
        ("Europe/Berlin", datetime(2026, 11, 30, 23, tzinfo=UTC), datetime(2026, 12, 31, 23, tzinfo=UTC)),
        ("Asia/Kolkata", datetime(2026, 11, 30, 18, 30, tzinfo=UTC), datetime(2026, 12, 31, 18, 30, tzinfo=UTC)),
        ("Pacific/Auckland", datetime(2026, 11, 30, 11, tzinfo=UTC), datetime(2026, 12, 31, 11, tzinfo=UTC)),
        ("UTC", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_window_is_local_midnight_to_the_midnight_after_the_last_day(tz, opens_utc, closes_utc):
    c = make(tz)
    assert (c.starts_at, c.ends_at) == (opens_utc, closes_utc)
    st = cm.status(c, cm.Totals(0, 0, 0, 0), as_of=closes_utc - timedelta(seconds=1))
    assert st.deadline.astimezone(zone(tz)).strftime("%m-%d %H:%M:%S") == "12-31 23:59:59"
    assert st.seconds_left == 1
    assert cm.status(c, cm.Totals(0, 0, 0, 0), as_of=closes_utc).seconds_left == 0


def test_gap_is_never_negative_and_percent_keeps_counting():
    st = cm.status(make(goal=100_00), cm.Totals(150_00, 3, 2, 1), as_of=datetime(2026, 12, 10, tzinfo=UTC))
    assert st.gap_cents == 0
    assert st.percent == Decimal("150.00")
    assert st.needed_per_day_cents == 0
    assert st.returning_donors == 1


@pytest.mark.parametrize(
    "gap, seconds, needed",
    [
        (100_00, 86_400, 100_00),
        (100_00, 2 * 86_400, 50_00),
        (100_01, 2 * 86_400, 50_01),  # 50.005 rounds up: what is needed is never understated
        (1, 86_400 * 3, 1),
        (0, 86_400, 0),
        (100_00, 0, None),
    ],
)
def test_needed_per_day_is_exact_and_rounds_up(gap, seconds, needed):
    assert cm.needed_per_day(gap, seconds) == needed


def test_before_the_window_opens_the_pace_is_spread_over_the_campaign_days_only():
    c = make(goal=31_000_00)
    st = cm.status(c, cm.Totals(0, 0, 0, 0), as_of=datetime(2026, 11, 1, tzinfo=UTC))
    assert st.needed_per_day_cents == 1_000_00
    assert st.seconds_left > 31 * 86_400  # the clock still counts to the deadline


@pytest.mark.parametrize(
    "seconds, text",
    [
        (12 * 86_400 + 5 * 3600 + 59, "12 days 5 hours"),
        (86_400, "1 day 0 hours"),
        (5 * 3600 + 12 * 60 + 30, "5 hours 12 minutes"),
        (3600 + 60, "1 hour 1 minute"),
        (59 * 60, "59 minutes"),
        (42, "42 seconds"),
        (0, "closed"),
    ],
)
def test_time_left_reads_as_people_say_it_and_never_zero_days(seconds, text):
    assert cm.time_left_text(seconds) == text


def test_status_json_has_money_as_two_place_strings():
    c = make()
    st = cm.status(c, cm.Totals(385_965_42, 10, 8, 3), as_of=datetime(2026, 12, 20, 20, tzinfo=UTC))
    js = cm.status_json(st)
    assert js["raised"] == "385965.42" and js["goal"] == "400000.00" and js["gap"] == "14034.58"
    assert js["percent"] == 96.49
    assert js["deadline"] == "2026-12-31T23:59:59-08:00"
    assert js["as_of"] == "2026-12-20T12:00:00-08:00"
    assert js["seconds_left"] == int((c.ends_at - st.as_of).total_seconds())
    assert js["needed_per_day"] == "1220.40"  # 14,034.58 over 11.5 days = 1,220.398..., rounded up
    assert (js["donations"], js["donors"], js["new_donors"], js["returning_donors"]) == (10, 8, 3, 5)


def test_cumulative_curve_runs_to_the_day_of_as_of_and_goal_line_reaches_goal():
    c = make(goal=31_00)
    daily = {date(2026, 12, 1): 500, date(2026, 12, 3): 250}
    as_of = local_midnight(date(2026, 12, 4), c.tz) + timedelta(hours=1)
    assert cm.cumulative_by_day(c.window_at(as_of), daily) == [
        (date(2026, 12, 1), 500), (date(2026, 12, 2), 500), (date(2026, 12, 3), 750), (date(2026, 12, 4), 750),
    ]
    line = cm.goal_line(c)
    assert line[0] == (date(2026, 12, 1), 100) and line[-1] == (date(2026, 12, 31), 31_00) and len(line) == 31


def test_default_campaign_is_running_else_next_else_latest():
    a = make(slug="dec-2025", start=date(2025, 12, 1), end=date(2025, 12, 31))
    b = make(slug="dec-2026")
    assert cm.default_campaign([a, b], datetime(2026, 12, 5, tzinfo=UTC)).slug == "dec-2026"
    assert cm.default_campaign([a, b], datetime(2026, 11, 25, tzinfo=UTC)).slug == "dec-2026"
    assert cm.default_campaign([a, b], datetime(2027, 2, 1, tzinfo=UTC)).slug == "dec-2026"
    assert cm.default_campaign([a, b], datetime(2025, 12, 5, tzinfo=UTC)).slug == "dec-2025"
    assert cm.default_campaign([], datetime(2025, 12, 5, tzinfo=UTC)) is None
