"""The wall (/wall/) and display links, and the notice over any page whose figures stop updating: the CLI, the
pure hourly series, and in headless Chromium at phone, laptop, full-HD and 4K sizes against the production WSGI
server; a removed user's open page, a stopped and restarted server, a display link across a restart and removed."""

import io
import sys
from datetime import datetime, timedelta

import pytest
import requests

from conftest import demo_database, serving
from test_auth import PASSWORD, add_user, free_port
from test_dashboard import ARTIFACTS, MID_CAMPAIGN, page  # noqa: F401  (the page fixture: Chromium)
from tracker import displays, queries
from tracker.dates import UTC
from tracker.models import DisplayLink, Donor
from tracker.money import format_money
from tracker.service import campaign_status
from tracker.wall import time_left_text, wall_view

NOW = datetime(2026, 12, 28, 20, tzinfo=UTC)
SCREENS = [(390, 844), (1366, 768), (1920, 1080), (3840, 2160)]


def test_display_links_are_made_listed_and_removed_and_only_a_hash_is_kept(tracker, sessions):
    assert "no display links" in tracker("display", "list").out
    made = tracker("display", "add", "lobby", "--base-url", "https://tracker.example.org/")
    assert made.code == 0, made
    url = made.out.strip()
    assert url.startswith("https://tracker.example.org/display/")
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 random bits
    with sessions.begin() as session:
        row = displays.get(session, "lobby")
        assert row.token_hash == displays.digest(token) and token not in (row.token_hash, row.name, row.created_by)
        assert displays.check(session, token, now=NOW).name == "lobby"
        assert displays.check(session, token + "x", now=NOW) is None
    again = tracker("display", "add", "lobby")
    assert again.code == 2 and "exists already" in again.err
    assert "lobby" in tracker("display", "list").out and "live" in tracker("display", "list").out
    assert tracker("display", "remove", "lobby").out == "removed display link lobby\n"
    with sessions.begin() as session:
        assert displays.check(session, token, now=NOW) is None  # stopped at once
    assert "removed" in tracker("display", "list").out
    missing = tracker("display", "remove", "lobby")
    assert missing.code == 2 and "no display link 'lobby'" in missing.err
    fresh = tracker("display", "add", "lobby").out.strip().rsplit("/", 1)[1]  # the name again: a new token
    with sessions.begin() as session:
        assert displays.check(session, token, now=NOW) is None
        assert displays.check(session, fresh, now=NOW).name == "lobby"
        assert session.query(DisplayLink).count() == 1


def test_time_left_on_the_wall_is_in_hours_and_minutes_in_the_last_48_hours():
    assert time_left_text(31 * 3600 + 5 * 60 + 59) == "31 h 05 min"  # the last 48 hours in hours and minutes
    assert time_left_text(48 * 3600 + 1) == "2 days 0 hours" and time_left_text(0) == "closed"


@pytest.fixture(scope="module")
def demo_sessions(tmp_path_factory):
    with demo_database(tmp_path_factory.mktemp("wall"), MID_CAMPAIGN) as sessions:
        yield sessions


def test_the_wall_shows_the_status_figures_and_last_year_at_this_moment(demo_sessions):
    with demo_sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        view = wall_view(session, c, as_of=MID_CAMPAIGN)
        st = campaign_status(session, c, as_of=MID_CAMPAIGN)
        hour = queries.raised_between(session, c.currency, MID_CAMPAIGN - timedelta(hours=1),
                                      MID_CAMPAIGN + timedelta(microseconds=1), c.raised_basis)
        day = queries.raised_between(session, c.currency, MID_CAMPAIGN - timedelta(hours=24),
                                     MID_CAMPAIGN + timedelta(microseconds=1), c.raised_basis)
    assert view.status.raised_cents == st.raised_cents and view.status.gap_cents == st.gap_cents
    assert view.last_year.slug == "dec-2025" and view.last_year == st.comparisons[-1]
    assert (view.last_hour_cents, view.last_hour_gifts) == hour and hour[1] > 0
    assert len(view.hours) == 48 and sum(c for _, c, _ in view.hours[-24:]) <= day[0] + sum(
        c for _, c, _ in view.hours[-25:-24])  # the last 24 whole hours hold the last day, give or take its start
    assert sum(c for _, c, _ in view.hours[-24:]) >= day[0] - view.hours[-25][1]


def no_donor_names(sessions, text):
    with sessions.begin() as session:
        names = [n for n, in session.query(Donor.name).filter(Donor.name.isnot(None)).all()]
        emails = [e for e, in session.query(Donor.email).filter(Donor.email.isnot(None)).all()]
    assert names and emails
    assert not [n for n in names if len(n) > 4 and n in text] and "@" not in text


@pytest.mark.browser
@pytest.mark.parametrize("width,height", SCREENS)
def test_the_wall_fits_each_screen_with_the_raised_figure_large_and_no_donor_names(demo_sessions, page, width,
                                                                                    height):
    from playwright.sync_api import expect

    from dashboards.app import create_app

    with demo_sessions.begin() as session:
        st = campaign_status(session, queries.get_campaign(session, "dec-2026"), as_of=MID_CAMPAIGN)
    page.set_viewport_size({"width": width, "height": height})
    with serving(create_app(demo_sessions, as_of=MID_CAMPAIGN, pinned_label="demo as of Dec 28, 12:00").server) as base:
        page.goto(base + "/wall")
        expect(page.locator("#wall-raised")).to_have_text(format_money(st.raised_cents, whole=True), timeout=20_000)
        expect(page.locator("#wall-chart .main-svg").first).to_be_visible(timeout=20_000)
        expect(page.locator("#wall-gap")).to_have_text(format_money(st.gap_cents, whole=True))
        expect(page.locator("#wall-time-left")).to_have_text("3 days 12 hours")
        expect(page.locator("#pinned-label")).to_have_text("demo as of Dec 28, 12:00")  # as on every page
        expect(page.locator("#wall-last-year")).to_have_text(format_money(st.comparisons[-1].cents_then, whole=True))
        expect(page.locator("#wall-bar-label")).to_contain_text(f"{st.percent}% of the $400,000 goal")
        expect(page.locator("#wall-last-hour")).to_contain_text("gift")
        page.wait_for_timeout(500)  # plotly's responsive resize
        wide, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert wide <= inner, f"{wide} px wide in a {inner} px viewport"
        if width >= 1366:  # a screen, not a phone: all of it at once, without scrolling
            tall = page.evaluate("document.documentElement.scrollHeight")
            assert tall <= height, f"{tall} px tall in a {height} px viewport"
        overflowing = page.evaluate("""[...document.querySelectorAll('.wall *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5).map(e => e.className || e.tagName)""")
        assert overflowing == []
        box = page.locator("#wall-raised").bounding_box()
        size = float(page.locator("#wall-raised").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
        assert box["height"] >= 0.08 * height and size >= 0.08 * height * 0.9, (box, size)
        assert box["x"] + box["width"] <= width
        assert page.locator("input, select, button, textarea").count() == 0  # no controls
        left = page.locator("#wall-time-left")
        lines = left.evaluate("e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)")
        if width >= 1366:  # on one line on a screen; elsewhere it may break between its units only
            assert lines < 1.5, f"time left on {lines:.1f} lines"
        tick = float(page.locator("#wall-chart .ytick text").first.evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)"))
        assert tick >= min(height / 50, 40), f"the chart's type is {tick} px on a {height} px screen"
        no_donor_names(demo_sessions, page.locator("body").inner_text())
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"wall-{width}x{height}.png"))
        assert page.errors == []


def serve_on(flask_app, port):
    """Serve on a given loopback port (for a restart on the same address)."""
    return serving(flask_app, port=port)


def live_app(sessions, refresh=1):
    from dashboards.app import create_app

    return create_app(sessions, clock=lambda: NOW, refresh_seconds=refresh).server


@pytest.mark.browser
def test_a_removed_users_open_page_says_so_within_one_refresh_and_a_new_login_recovers(
        sessions, make_campaign, tracker, monkeypatch, page):
    from playwright.sync_api import expect

    make_campaign()
    add_user(tracker, monkeypatch, "lee", "admin")  # another user: logins stay required when maria goes
    add_user(tracker, monkeypatch, "maria", "viewer")
    with serving(live_app(sessions)) as base:
        for path, figure in (("/", "#kpi-raised"), ("/wall/", "#wall-raised")):
            page.goto(base + "/login?next=" + path)
            page.fill("#username", "maria")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator(figure)).to_have_text("$0" if path == "/wall/" else "$0.00", timeout=30_000)
            expect(page.locator("#stale-notice")).to_have_count(0)
            assert tracker("user", "remove", "maria").code == 0
            notice = page.locator("#stale-notice")
            expect(notice).to_be_visible(timeout=2_500)  # refreshing every second: within one refresh
            expect(notice).to_contain_text("Not updating since ")
            expect(notice).to_contain_text("your session has ended; log in again")
            assert page.locator("#stale-login").get_attribute("href") == "/login?next=" + path.replace("/", "%2F")
            box = notice.bounding_box()
            assert box["y"] == 0 and box["width"] == page.viewport_size["width"]  # over the numbers, at the top
            page.screenshot(path=str(ARTIFACTS / f"stale-login{path.replace('/', '-')}.png"))
            add_user(tracker, monkeypatch, "maria", "viewer")
            page.click("#stale-login")
            page.fill("#username", "maria")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator(figure)).to_be_visible(timeout=30_000)
            assert page.url == base + path
            page.wait_for_timeout(1_500)
            expect(page.locator("#stale-notice")).to_have_count(0)
            assert tracker("user", "remove", "maria").code == 0
            add_user(tracker, monkeypatch, "maria", "viewer")
    assert not dash_errors(page.errors)


def dash_errors(errors):
    """The page's errors but the 401s themselves and Dash's reading of their body twice (its own retry, then its
    error report: "body stream already read"), which every callback refused with 401 brings."""
    return [e for e in errors if "status of 401" not in e and "body stream already read" not in e]


@pytest.mark.browser
def test_a_display_link_opens_the_wall_only_survives_a_restart_and_stops_at_once_when_removed(
        sessions, make_campaign, tracker, monkeypatch, page):
    from playwright.sync_api import expect

    make_campaign()
    add_user(tracker, monkeypatch, "maria", "finance")  # logins are required: the link needs none
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)  # the cookie's key comes from the database
    port = free_port()
    with serve_on(live_app(sessions), port) as base:
        link = tracker("display", "add", "lobby", "--base-url", base).out.strip()
        assert requests.get(base + "/display/not-a-token", allow_redirects=False).status_code == 404
        screen = requests.Session()
        assert screen.get(link, allow_redirects=False).headers["Location"] == "/wall/"
        assert screen.get(base + "/wall/", allow_redirects=False).status_code == 200
        renewed = screen.get(base + "/wall/_dash-layout", allow_redirects=False)
        assert renewed.status_code == 200 and "Expires=" in renewed.headers["Set-Cookie"]  # each refresh renews it
        for elsewhere in ("/", "/_dash-layout", "/download/donations.csv", "/account/password"):
            answer = screen.get(base + elsewhere, allow_redirects=False)  # viewer rights to the wall only
            assert answer.status_code == 302 and answer.headers["Location"] == "/wall/", elsewhere
        page.goto(link)
        expect(page.locator("#wall-raised")).to_have_text("$0", timeout=30_000)
        assert page.url == base + "/wall/"
    notice = page.locator("#stale-notice")
    expect(notice).to_contain_text("server not reachable", timeout=5_000)  # the server stopped
    page.screenshot(path=str(ARTIFACTS / "stale-unreachable.png"))
    with serve_on(live_app(sessions), port) as base:  # a new server over the same database
        expect(notice).to_be_hidden(timeout=10_000)  # recovers by itself
        before = page.locator("#wall-as-of").inner_text()
        assert "refreshing every 1 s" in before
        with sessions.begin() as session:
            used = displays.get(session, "lobby").last_used_at
        assert used is not None
        assert tracker("display", "remove", "lobby").code == 0
        expect(notice).to_contain_text("this display link was removed", timeout=2_500)
        page.reload()
        assert "/login" in page.url  # the link no longer opens anything
        assert requests.get(link, allow_redirects=False).status_code == 404
    # while the server was stopped: the refused connections, an answer cut off by the stop, and Dash's own
    # report of them
    stopped = ("ERR_CONNECTION_REFUSED", "the server did not respond", "ERR_CONTENT_LENGTH_MISMATCH", "Failed to fetch")
    assert not [e for e in dash_errors(page.errors) if not any(s in e for s in stopped)]
