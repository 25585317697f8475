"""The demo organization: deterministic, back-loaded like real year-end giving, and careful with real data."""

from datetime import date, datetime

import pytest

from conftest import campaign_totals, demo_database

from tracker import campaign as cm, demo, queries
from tracker.dates import zone
from tracker.errors import UsageError
from tracker.manage import create_campaign

LA = zone("America/Los_Angeles")
MID_CAMPAIGN = datetime(2026, 12, 28, 12, tzinfo=LA)


def build(sessions, now):
    with sessions.begin() as session:
        return demo.build(session, now=now)


def standing(sessions, slug, as_of):
    with sessions.begin() as session:
        c = queries.get_campaign(session, slug)
        return cm.status(c, campaign_totals(session, c, as_of), as_of=as_of), queries.daily_totals(session, c, as_of)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """One demo database built mid-campaign, shared by the read-only tests below (SQLite)."""
    with demo_database(tmp_path_factory.mktemp("demo"), MID_CAMPAIGN) as sessions:
        yield sessions, sessions.summary


def test_demo_has_three_earlier_decembers_and_the_current_one(demo_db):
    sessions, summary = demo_db
    with sessions.begin() as session:
        slugs = [c.slug for c in queries.list_campaigns(session)]
    assert slugs == ["dec-2026", "dec-2025", "dec-2024", "dec-2023"]
    assert summary.campaigns == 4 and summary.hint is None


def test_earlier_decembers_are_back_loaded(demo_db):
    sessions, _ = demo_db
    for year in (2023, 2024, 2025):
        st, daily = standing(sessions, f"dec-{year}", MID_CAMPAIGN)
        total = st.raised_cents
        last3 = sum(daily.get(date(year, 12, d), 0) for d in (29, 30, 31))
        assert 0.3 < last3 / total < 0.55, year
        assert daily[date(year, 12, 31)] > 5 * total / 31, year  # Dec 31 is many times an average day
        assert 0.8 < total / st.goal_cents < 1.2


def test_mostly_small_gifts_with_a_few_large_ones_and_both_new_and_returning_donors(demo_db):
    sessions, _ = demo_db
    st, _ = standing(sessions, "dec-2025", MID_CAMPAIGN)
    average = st.raised_cents / st.donations
    assert 50_00 < average < 250_00
    assert st.new_donors > 0.2 * st.donors and st.returning_donors > 0.2 * st.donors


def test_the_current_campaign_stops_at_as_of_and_is_short_of_goal_mid_way(demo_db):
    sessions, _ = demo_db
    st, daily = standing(sessions, "dec-2026", MID_CAMPAIGN)
    assert max(daily) == date(2026, 12, 28)
    assert 0.3 < st.raised_cents / st.goal_cents < 0.8
    later, _ = standing(sessions, "dec-2026", datetime(2027, 1, 5, tzinfo=LA))
    assert later.raised_cents == st.raised_cents  # nothing exists after the demo's "now"


def test_the_same_moment_builds_the_same_demo_and_rebuilding_replaces_it(sessions):
    first = build(sessions, MID_CAMPAIGN)
    st1, _ = standing(sessions, "dec-2025", MID_CAMPAIGN)
    second = build(sessions, MID_CAMPAIGN)
    st2, _ = standing(sessions, "dec-2025", MID_CAMPAIGN)
    assert first == second and st1 == st2


def test_before_december_the_demo_says_how_to_see_it_mid_campaign(sessions):
    summary = build(sessions, datetime(2026, 11, 25, 7, tzinfo=LA))
    assert "tracker demo --as-of 2026-12-28T12:00" in summary.hint
    st, _ = standing(sessions, "dec-2026", datetime(2026, 11, 25, 7, tzinfo=LA))
    assert st.raised_cents == 0


def test_the_demo_never_touches_a_database_with_campaigns_of_your_own(sessions):
    with sessions.begin() as session:
        create_campaign(session, slug="ours", name="Our campaign", goal_cents=100, currency="USD",
                        timezone="UTC", start=date(2026, 12, 1), end=date(2026, 12, 31), now=MID_CAMPAIGN)
    with pytest.raises(UsageError, match="another database"):
        build(sessions, MID_CAMPAIGN)
    with sessions.begin() as session:
        assert [c.slug for c in queries.list_campaigns(session)] == ["ours"]
