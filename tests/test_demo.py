"""The demo organization: deterministic, back-loaded like real year-end giving, and careful with real data."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from conftest import campaign_totals, demo_database, serving
from test_dashboard import page  # noqa: F401 (the browser fixture)

from tracker import campaign as cm, demo, queries
from tracker.dates import utc_now, zone
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


def test_the_demo_has_a_few_pledges_beside_raised_one_of_them_overdue(demo_db):
    from tracker import pledges
    from tracker.service import campaign_status

    sessions, _ = demo_db
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        st = campaign_status(session, c, as_of=MID_CAMPAIGN)
        listed = pledges.list_pledges(session, as_of=MID_CAMPAIGN, campaign=c)
        earlier = pledges.committed(session, c, datetime(2026, 12, 12, tzinfo=LA))
    committed = st.committed
    assert committed.pledges == len(listed) >= 5 and committed.overdue == 1
    assert {k for k, _, _ in committed.by_kind} == {"paypal_giving_fund", "daf", "check", "match"}
    assert committed.cents == sum(p.amount_cents for p in listed)
    assert st.raised_cents == standing(sessions, "dec-2026", MID_CAMPAIGN)[0].raised_cents  # never in raised
    assert earlier.pledges < committed.pledges  # a pledge shows from the moment it was made
    assert all(p.state in ("open", "overdue") for p in listed)  # no demo gift fulfils one


def test_the_same_moment_builds_the_same_demo_and_rebuilding_replaces_it(sessions):
    first = build(sessions, MID_CAMPAIGN)
    st1, _ = standing(sessions, "dec-2025", MID_CAMPAIGN)
    second = build(sessions, MID_CAMPAIGN)
    st2, _ = standing(sessions, "dec-2025", MID_CAMPAIGN)
    assert first == second and st1 == st2


def test_before_december_the_demo_says_how_to_see_it_mid_campaign(sessions):
    summary = build(sessions, datetime(2026, 11, 25, 7, tzinfo=LA))
    assert "leave --as-of out (the demo's own moment, 2026-12-28T12:00)" in summary.hint
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


# The demo's own moment: in full swing whatever today is, and said by serve and status.

def test_the_demo_has_its_own_moment_in_full_swing_whatever_today_is():
    for today in (datetime(2026, 12, 1, 9, tzinfo=LA), datetime(2026, 11, 3, tzinfo=LA), datetime(2027, 2, 14, tzinfo=LA)):
        assert demo.resolve_moment(None, today) == (MID_CAMPAIGN, False)
    assert demo.resolve_moment(None, datetime(2027, 11, 20, tzinfo=LA)) == (datetime(2027, 12, 28, 12, tzinfo=LA), False)
    clock = datetime(2026, 12, 1, 9, 30, tzinfo=LA)
    assert demo.resolve_moment("now", clock) == (clock, True)
    assert demo.resolve_moment(" NOW ", clock) == (clock, True)
    assert demo.resolve_moment("2026-12-20T18:00", clock) == (datetime(2026, 12, 20, 18, tzinfo=LA), False)
    with pytest.raises(UsageError, match="--as-of now for the clock"):
        demo.resolve_moment("yesterday", clock)
    assert demo.label(MID_CAMPAIGN) == "demo as of Dec 28, 12:00"
    end_of_day, _ = demo.resolve_moment("2026-12-20", clock)
    assert demo.as_of_text(end_of_day) == "2026-12-20T23:59:59" and demo.as_of_text(MID_CAMPAIGN) == "2026-12-28T12:00"


def test_on_december_1_the_default_demo_is_in_full_swing_and_remembers_its_moment(sessions):
    moment, _ = demo.resolve_moment(None, datetime(2026, 12, 1, 9, tzinfo=LA))
    summary = build(sessions, moment)
    assert summary.hint is None
    st, daily = standing(sessions, "dec-2026", moment)
    assert st.raised_cents > 0.3 * st.goal_cents and st.donations > 1000 and len(daily) == 28
    with sessions.begin() as session:
        assert demo.built_for(session) == moment
        assert demo.notice(session, "serve") == (
            "this database holds the demo built for Dec 28, 12:00 (2026-12-28T12:00 America/Los_Angeles); "
            "to see it as built: tracker serve --as-of 2026-12-28T12:00")
        assert demo.notice(session, "status").endswith("tracker status --campaign dec-2026 --as-of 2026-12-28T12:00")
        create_campaign(session, slug="ours", name="Our campaign", goal_cents=100, currency="USD",
                        timezone="UTC", start=date(2026, 12, 1), end=date(2026, 12, 31), now=moment)
        assert demo.built_for(session) is None and demo.notice(session, "serve") is None  # not only the demo now


def test_demo_without_as_of_builds_its_moment_and_status_says_how_to_see_it(tracker, sessions):
    year = demo.current_year(utc_now())
    built = tracker("demo", "--no-serve")
    assert built.code == 0, built
    assert f"as of {year}-12-28T12:00:00-08:00" in built.out
    assert f"to see it as built: tracker serve --as-of {year}-12-28T12:00" in built.out
    plain = tracker("status", "--campaign", f"dec-{year}", "--json")
    assert plain.code == 0, plain
    json.loads(plain.out)  # the notice goes to stderr: the JSON stays valid
    assert plain.err.strip() == (
        f"this database holds the demo built for Dec 28, 12:00 ({year}-12-28T12:00 America/Los_Angeles); "
        f"to see it as built: tracker status --campaign dec-{year} --as-of {year}-12-28T12:00")
    then = tracker("status", "--campaign", f"dec-{year}", "--as-of", f"{year}-12-28T12:00", "--json")
    assert then.code == 0 and then.err == ""
    assert Decimal(json.loads(then.out)["raised"]) > 100_000


def test_demo_as_of_now_follows_the_clock(tracker, sessions):
    before = utc_now()
    built = tracker("demo", "--as-of", "now", "--no-serve")
    after = utc_now()
    assert built.code == 0, built
    assert "to see it as built" not in built.out
    with sessions.begin() as session:
        moment = demo.built_for(session)
    assert before - timedelta(seconds=1) <= moment <= after
    bad = tracker("demo", "--as-of", "soon", "--no-serve")
    assert bad.code == 2 and "--as-of now for the clock" in bad.err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5):
                return
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.3)


def _run_serving(args, port):
    proc = subprocess.Popen([sys.executable, "-m", "tracker", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait_for(port, proc)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_dash-layout", timeout=30) as resp:
            layout = resp.read().decode()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    return out, layout


def test_tracker_demo_serves_its_moment_pinned_and_serve_later_says_how_to_see_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    year = demo.current_year(utc_now())
    port = free_port()
    out, layout = _run_serving(["--db", url, "demo", "--port", str(port)], port)
    assert f"showing the campaigns as of {year}-12-28T12:00:00-08:00 (demo as of Dec 28, 12:00)" in out
    assert '"demo as of Dec 28, 12:00"' in layout  # in the header above the tabs: on every page
    port = free_port()
    out, layout = _run_serving(["--db", url, "serve", "--port", str(port)], port)
    assert (f"this database holds the demo built for Dec 28, 12:00 ({year}-12-28T12:00 America/Los_Angeles); "
            f"to see it as built: tracker serve --as-of {year}-12-28T12:00") in out
    assert "demo as of" not in layout


@pytest.mark.browser
def test_the_demo_dashboard_says_its_moment_on_every_page(demo_db, page):
    from playwright.sync_api import expect

    from dashboards.app import create_app
    from tracker.money import format_money

    sessions, _ = demo_db
    st, _ = standing(sessions, "dec-2026", MID_CAMPAIGN)
    with serving(create_app(sessions, as_of=MID_CAMPAIGN, pinned_label=demo.label(MID_CAMPAIGN)).server) as base:
        page.goto(base + "/")
        expect(page.locator("#kpi-raised")).to_have_text(format_money(st.raised_cents), timeout=20_000)
        assert st.raised_cents > 0
        for tab in ("overview", "donors", "appeals", "finance", "imports", "reports"):
            page.locator(f"#tab-{tab}").click()
            expect(page.locator("#pinned-label")).to_have_text("demo as of Dec 28, 12:00")
            expect(page.locator("#pinned-label")).to_be_visible()
        expect(page.locator("#as-of-text")).to_contain_text("Dec 28, 2026 12:00 PST (pinned)")
        assert page.errors == []


def test_the_demo_has_readers_abroad_whose_gifts_show_what_they_gave(demo_db):
    import csv
    import io

    from sqlalchemy import select

    from dashboards.pages import finance as finance_page
    from tracker.export import write_donations
    from tracker.models import GiftDetail

    sessions, _ = demo_db
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2025")
        out = io.StringIO()
        write_donations(out, queries.export_donations(session, c, c.starts_at, c.window.end), c.tz)
        abroad = session.scalars(select(GiftDetail).where(GiftDetail.original_currency.is_not(None))).all()
        _, summary = finance_page.show(session, "dec-2025", "donations", None, None, c.window.end, donor_level=True,
                                       chosen=False)
    assert {d.original_currency for d in abroad} == {"EUR", "GBP"} and all(d.rate_source == "stripe" for d in abroad)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    given = [r for r in rows if r["original_currency"] in ("EUR", "GBP")]
    assert given and all(r["currency"] == "USD" and r["rate"] and r["rate_source"] == "stripe" for r in given)
    for r in given:  # the processor's rate ties the amount given to the dollars counted, to the cent
        assert abs(Decimal(r["original_amount"]) * Decimal(r["rate"]) - Decimal(r["amount"])) < Decimal("0.01")
    table = _find(summary, "reconciliation-currencies")
    assert [row[0] for row in table.data["body"]] == ["EUR", "GBP"]


def _find(component, wanted):
    if getattr(component, "id", None) == wanted:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children] if children is not None else []:
        found = _find(child, wanted)
        if found is not None:
            return found
    return None
