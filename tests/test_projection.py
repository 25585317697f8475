"""Deadline phases at their boundaries, pace, alignment with earlier years, projections on curves whose answer is known."""

import math
from datetime import date, datetime, timedelta

import pytest

from tracker import campaign as cm
from tracker.dates import UTC, Window, local_midnight, parse_as_of, zone
from tracker.models import Campaign
from tracker.projection import (
    DEFAULT_DAY_WEIGHTS, Curve, aligned_offset, backtest, default_share, project, project_at,
)

ZONES = ["America/Los_Angeles", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe", "Europe/London"]


def make(tz="America/Los_Angeles", start=date(2026, 12, 1), end=date(2026, 12, 31), goal=400_000_00, slug="dec-2026",
         **extra):
    return Campaign(slug=slug, name="Year-end", goal_cents=goal, currency="USD", timezone=tz,
                    start_date=start, end_date=end, **extra)


def at(c, as_of, raised=0, donors=0, new=0):
    return cm.status(c, cm.Totals(raised, 0, donors, new), as_of=as_of)


# -- deadline --------------------------------------------------------------------------------

@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize(
    "local_day, seconds, phase",
    [
        (date(2026, 12, 1), -1, "not_started"),
        (date(2026, 12, 1), 0, "running"),
        (date(2026, 12, 25), -1, "running"),
        (date(2026, 12, 25), 0, "final_week"),
        (date(2026, 12, 30), -1, "final_week"),
        (date(2026, 12, 30), 0, "final_48_hours"),
        (date(2026, 12, 31), -1, "final_48_hours"),
        (date(2026, 12, 31), 0, "last_day"),
        (date(2027, 1, 1), -1, "last_day"),
        (date(2027, 1, 1), 0, "closed"),
    ],
)
def test_phase_changes_exactly_at_local_midnight(tz, local_day, seconds, phase):
    moment = local_midnight(local_day, zone(tz)) + timedelta(seconds=seconds)
    assert at(make(tz), moment).phase == phase


@pytest.mark.parametrize("tz", ZONES)
def test_the_deadline_read_from_utc_offset_and_naive_inputs_is_the_same_instant(tz):
    c = make(tz)
    last_second = local_midnight(date(2027, 1, 1), zone(tz)) - timedelta(seconds=1)
    offset = last_second.astimezone(zone(tz)).isoformat()
    inputs = [last_second.isoformat(), offset, "2026-12-31T23:59:59", "2026-12-31"]
    moments = {parse_as_of(text, zone(tz)) for text in inputs}
    assert moments == {last_second}
    st = at(c, last_second, raised=1)
    assert (st.phase, st.seconds_left, cm.time_left_text(st.seconds_left)) == ("last_day", 1, "1 second")
    after = at(c, last_second + timedelta(seconds=1))
    assert (after.phase, after.seconds_left, after.needed_per_day_cents) == ("closed", 0, None)


def test_on_the_last_day_time_left_is_hours_and_minutes_and_pace_is_per_hour():
    c = make()
    st = at(c, local_midnight(date(2026, 12, 31), zone(c.timezone)) + timedelta(hours=13, minutes=30), raised=390_000_00)
    assert cm.time_left_text(st.seconds_left) == "10 hours 30 minutes"
    assert st.needed_per_hour_cents == 952_39  # $10,000 over 10.5 hours = $952.380..., rounded up
    assert st.phase == "last_day"


def test_donor_goals_have_their_own_progress_and_pace_and_keep_counting_past_100():
    c = make(goal_new_donors=100, goal_donors=1000)
    st = at(c, local_midnight(date(2026, 12, 22), zone(c.timezone)), donors=1200, new=40)
    goals = {g.name: g for g in st.goals}
    assert (goals["new_donors"].gap, goals["new_donors"].needed_per_day) == (60, 6)  # 60 over 10 days
    assert str(goals["donors"].percent) == "120.00" and goals["donors"].needed_per_day == 0
    assert cm.status_json(st)["goals"]["new_donors"]["needed_per_day"] == 6


def test_late_gifts_show_only_once_the_campaign_is_closed():
    c = make()
    figures = cm.Figures(late_gifts=3, late_cents=150_00)
    running = cm.status(c, cm.Totals(1, 1, 1, 1), as_of=datetime(2026, 12, 31, tzinfo=UTC), figures=figures)
    closed = cm.status(c, cm.Totals(1, 1, 1, 1), as_of=datetime(2027, 1, 5, tzinfo=UTC), figures=figures)
    assert (running.late_cents, closed.late_cents, closed.late_gifts) == (0, 150_00, 3)
    assert cm.status_json(closed)["late_after_deadline"] == {"gifts": 3, "amount": "150.00"}


# -- alignment and curves ----------------------------------------------------------------------

def window(year, tz="America/Los_Angeles", start=(12, 1), end=(12, 31)):
    return Window(date(year, *start), date(year, *end), zone(tz))


def test_earlier_years_are_aligned_by_campaign_day_and_local_hour_across_dst():
    now = datetime(2026, 12, 20, 15, tzinfo=zone("America/Los_Angeles"))
    assert aligned_offset(window(2026), now, window(2025)) == (19 * 24 + 15) * 3600
    # a November window crossing the end of DST: local hour, not elapsed seconds, is matched
    nov = window(2026, start=(10, 31), end=(11, 30))
    moment = datetime(2026, 11, 2, 9, tzinfo=zone("America/Los_Angeles"))
    assert aligned_offset(nov, moment, nov) == int((moment - nov.starts_at).total_seconds()) == (2 * 24 + 10) * 3600


def shaped_curve(w: Window, final: int, share=lambda f: f):
    """A curve whose share of `final` after fraction f of the window is share(f), in whole quarter hours."""
    start, n = int(w.starts_at.timestamp()), w.seconds // 900
    cum = [round(final * share((i + 1) / n)) for i in range(n)]
    return Curve.from_buckets(f"dec-{w.first.year}", w, [(start + i * 900, cum[i] - (cum[i - 1] if i else 0)) for i in range(n)])


def test_a_curve_reads_whole_quarter_hours():
    w = window(2025)
    start = int(w.starts_at.timestamp())
    curve = Curve.from_buckets("dec-2025", w, [(start, 100), (start + 1800, 300)])
    assert (curve.at(899), curve.at(900), curve.at(2699), curve.at(2700), curve.final_cents) == (0, 100, 100, 400, 400)
    assert curve.share_at(900) == 0.25


def test_years_of_the_same_shape_project_exactly_with_a_narrow_range():
    shape = lambda f: f ** 2  # noqa: E731  back-loaded
    earlier = [shaped_curve(window(y), final) for y, final in ((2023, 300_000_00), (2024, 330_000_00))]
    earlier = [shaped_curve(c.window, c.final_cents, shape) for c in earlier]
    now = window(2026).starts_at + timedelta(days=20)
    share = earlier[0].share_at(aligned_offset(window(2026), now, earlier[0].window))
    p = project_at(window(2026), 100_000_00, 400_000_00, now, earlier)
    assert p.basis == "from 2 earlier campaigns"
    assert p.expected_cents == pytest.approx(100_000_00 / share, rel=1e-6)  # both years: the same share, to the cent
    assert p.low_cents < p.expected_cents < p.high_cents
    assert (p.high_cents - p.low_cents) / p.expected_cents < 0.25  # only the floor's spread is left


def test_the_projection_uses_the_geometric_mean_of_earlier_shares_and_its_spread():
    p = project(raised_cents=60_000, goal_cents=240_000, fraction_elapsed=0.5, shares=[0.2, 0.3], finals=[1, 1])
    assert p.expected_cents == round(60_000 / math.sqrt(0.2 * 0.3))
    wider = project(raised_cents=60_000, goal_cents=240_000, fraction_elapsed=0.5, shares=[0.1, 0.6], finals=[1, 1])
    assert wider.high_cents - wider.low_cents > p.high_cents - p.low_cents


@pytest.mark.parametrize("goal_factor, low, high", [(0.5, 0.95, 1.0), (1.0, 0.45, 0.55), (2.0, 0.0, 0.05)])
def test_chance_of_goal_is_one_half_at_the_expected_total_and_moves_with_the_goal(goal_factor, low, high):
    base = project(raised_cents=100_000, goal_cents=1, fraction_elapsed=0.5, shares=[0.25, 0.3, 0.35], finals=[1] * 3)
    p = project(raised_cents=100_000, goal_cents=round(base.expected_cents * goal_factor), fraction_elapsed=0.5,
                shares=[0.25, 0.3, 0.35], finals=[1] * 3)
    assert low <= p.chance_of_goal <= high


def test_without_earlier_campaigns_the_default_curve_is_the_basis():
    assert default_share(0) == 0 and default_share(1) == 1
    last_three = 1 - default_share(28 / 31)
    assert 0.35 < last_three < 0.5  # back-loaded, as documented
    assert DEFAULT_DAY_WEIGHTS[30] / (sum(DEFAULT_DAY_WEIGHTS) / 31) > 7  # Dec 31 many times an average day
    p = project(raised_cents=100_000, goal_cents=400_000, fraction_elapsed=0.5, shares=[], finals=[])
    assert p.basis == "default curve" and p.expected_cents == round(100_000 / default_share(0.5))
    nothing = project(raised_cents=0, goal_cents=400_000, fraction_elapsed=0.1, shares=[], finals=[])
    assert nothing.expected_cents is None and nothing.chance_of_goal is None


def test_a_closed_campaign_projects_its_final():
    assert project(raised_cents=5, goal_cents=4, fraction_elapsed=1.0, shares=[0.5], finals=[9]).chance_of_goal == 1.0
    p = project(raised_cents=3, goal_cents=4, fraction_elapsed=1.0, shares=[0.5], finals=[9])
    assert (p.expected_cents, p.low_cents, p.high_cents, p.chance_of_goal, p.basis) == (3, 3, 3, 0.0, "final")


def test_before_any_gift_the_earlier_finals_are_the_projection():
    p = project(raised_cents=0, goal_cents=350, fraction_elapsed=0.0, shares=[0.0, 0.0], finals=[300, 400])
    assert p.expected_cents == round(math.sqrt(300 * 400)) and "final totals" in p.basis


def test_backtest_of_years_with_one_shape_has_no_error_after_the_first_year():
    shape = lambda f: f ** 3  # noqa: E731
    curves = [shaped_curve(window(y), final, shape) for y, final in ((2022, 100_000), (2023, 150_000), (2024, 90_000))]
    result = backtest(curves)
    assert result.replayed == ("dec-2022", "dec-2023", "dec-2024")
    assert [d.day for d in result.days] == list(range(1, 31))  # the last day is left out: its end is the final
    day20 = next(d for d in result.days if d.day == 20)
    assert day20.campaigns == 3
    # dec-2022 had only the default curve; the later two are projected exactly, so day 20's error is dec-2022's alone / 3
    alone = abs(project_at(curves[0].window, curves[0].at(int((curves[0].window.end_of_day(20)
                - curves[0].window.starts_at).total_seconds())), 1, curves[0].window.end_of_day(20), []).expected_cents
                - 100_000) / 100_000 * 100
    assert day20.mean_abs_pct_error == pytest.approx(alone / 3, abs=0.01)
