"""The dashboard: served by the production WSGI server, driven in headless Chromium, and `tracker serve` end to end."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from conftest import CHROMIUM, demo_database, require, serving
from tracker import campaign as cm, db, queries
from tracker.appeal_report import report_json
from tracker.dates import zone
from tracker.money import format_money, parse_cents
from tracker.service import appeal_report, campaign_status

LA = zone("America/Los_Angeles")
MID_CAMPAIGN = datetime(2026, 12, 28, 12, tzinfo=LA)
ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = ["--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]



@pytest.fixture(scope="module")
def demo_sessions(tmp_path_factory):
    with demo_database(tmp_path_factory.mktemp("dash"), MID_CAMPAIGN) as sessions:
        yield sessions


@pytest.fixture
def page():
    require(CHROMIUM is not None, "Chromium is not installed (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        pg.errors = []
        pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
        pg.on("pageerror", lambda e: pg.errors.append(str(e)))
        # every Content-Security-Policy violation is an error too, whether or not the browser logs it
        pg.add_init_script("document.addEventListener('securitypolicyviolation', e => console.error("
                           "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile))")
        yield pg
        browser.close()


def expected(sessions, slug):
    with sessions.begin() as session:
        c = queries.get_campaign(session, slug)
        return campaign_status(session, c, as_of=MID_CAMPAIGN)


@pytest.mark.browser
def test_overview_shows_the_campaign_and_switches_between_campaigns(demo_sessions, page):
    from playwright.sync_api import expect

    from dashboards.app import create_app

    with serving(create_app(demo_sessions, as_of=MID_CAMPAIGN).server) as base:
        url = base + "/"
        now = expected(demo_sessions, "dec-2026")
        page.goto(url)
        expect(page.locator("#cumulative-graph .main-svg").first).to_be_visible(timeout=20_000)
        expect(page.locator("#kpi-raised")).to_have_text(format_money(now.raised_cents), timeout=20_000)
        expect(page.locator("#kpi-percent")).to_have_text(f"{now.percent}%")
        expect(page.locator("#goal-progress-bar")).to_have_text(f"{now.percent}%")
        expect(page.locator("#kpi-gap")).to_have_text(format_money(now.gap_cents))
        expect(page.locator("#kpi-time-left")).to_have_text("3 days 12 hours")
        expect(page.locator("#as-of-text")).to_contain_text("Dec 28, 2026 12:00 PST")
        expect(page.locator("#cumulative-graph")).to_contain_text("Straight line to the goal")
        expect(page.locator("#cumulative-graph")).to_contain_text("Typical curve to the goal")
        expect(page.locator("#cumulative-graph")).to_contain_text("dec-2025 on the same campaign day")
        expect(page.locator("#channels-graph")).to_contain_text("raised each day, by channel")
        expect(page.locator("#channels-graph")).to_contain_text("direct mail")
        # the projection, its chance and its track record: the same figures as `tracker status --json`
        out = cm.status_json(now)
        expect(page.locator("#kpi-projected")).to_have_text(format_money(parse_cents(out["projection"]["expected"]), whole=True))
        expect(page.locator("#kpi-chance")).to_have_text(f"{out['chance_of_goal']:.0%}")
        expect(page.locator("#kpi-pace")).to_have_text(format_money(parse_cents(out["pace"]["last_24_hours"])))
        expect(page.locator("#kpi-track-record")).to_contain_text("% error")
        # the demo's match pools: the same figures as the JSON's
        expect(page.locator("#kpi-match-earned")).to_have_text(format_money(parse_cents(out["match_earned"])))
        expect(page.locator("#kpi-match-remaining")).to_have_text(format_money(parse_cents(out["match_remaining"])))
        expect(page.locator(".kpi-card", has=page.locator("#kpi-match-earned"))).to_contain_text(
            f"raised with match {format_money(parse_cents(out['raised_with_match']))}")
        expect(page.locator("#donor-segments")).to_contain_text(f"{out['segments']['new']['donors']:,}")
        expect(page.locator("#donor-segments")).to_contain_text(format_money(parse_cents(out["segments"]["retained"]["amount"])))
        assert "@" not in page.locator("#donor-segments").inner_text()  # aggregates only: no e-mails
        expect(page.locator("#campaign-notes")).to_contain_text("Phase: final week")
        expect(page.locator("#campaign-notes")).to_contain_text(f"{out['fiscal_year']['campaign_share']:.1%} of fiscal year")
        # the last 48 hours: hour by hour against the same hours of earlier years, the latest and largest gifts
        # (with names: open mode on loopback is the admin's; test_dashboard_roles.py checks that a viewer gets none)
        expect(page.locator("#hourly-graph .main-svg").first).to_be_visible(timeout=20_000)
        expect(page.locator("#hourly-graph")).to_contain_text("dec-2025, same campaign hours")
        expect(page.locator("#kpi-versus")).to_have_text(re.compile(r"^[+−]\$[\d,]+ \([+−][\d.]+%\)$"))
        expect(page.locator("#recent-facts")).to_contain_text("Last hour:")
        expect(page.locator("#recent-gifts")).to_contain_text("Mon 11:58")
        expect(page.locator("#largest-gifts")).to_contain_text("Donor")
        expect(page.locator("#donor-retention")).to_contain_text("% of dec-2025's")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "overview-dec-2026.png"), full_page=True)

        # the appeals tab: each variant's copy as readers see it now, its numbers and the verdict
        with demo_sessions.begin() as session:
            c = queries.get_campaign(session, "dec-2026")
            report = report_json(appeal_report(session, c, as_of=MID_CAMPAIGN), c.slug, out["as_of"])
        page.locator("#tab-appeals").click()
        expect(page.locator("#appeals-verdict")).to_contain_text(report["verdict"]["label"].capitalize(), timeout=20_000)
        expect(page.locator("#variant-countdown")).to_contain_text("Before you go: 3 days left to reach our goal")
        for row in report["variants"]:
            expect(page.locator(f"#variant-{row['key']}")).to_contain_text(
                f"{row['donations']:,} from {row['donors']:,} donors")
        expect(page.locator("#appeals-verdict")).to_contain_text("at least 100 donations")  # the rule is stated
        page.screenshot(path=str(ARTIFACTS / "appeals-dec-2026.png"), full_page=True)
        # where the numbers come from, on every page: the header's line above the tabs
        expect(page.locator("#data-freshness")).to_contain_text(re.compile("last file import|no file imported yet"))
        expect(page.locator("#data-freshness")).to_be_visible()
        page.get_by_role("tab", name="Overview").click()

        before = expected(demo_sessions, "dec-2025")
        page.locator("#campaign-select").click()
        page.get_by_role("option", name="Year-end 2025").click()
        expect(page.locator("#kpi-raised")).to_have_text(format_money(before.raised_cents), timeout=20_000)
        expect(page.locator("#kpi-time-left")).to_have_text("closed")
        assert before.percent > 100  # the demo's 2025 campaign passed its goal: the bar keeps counting
        expect(page.locator("#goal-progress-bar")).to_have_text(f"goal reached: {before.percent}%")
        page.screenshot(path=str(ARTIFACTS / "overview-dec-2025.png"), full_page=True)
        assert page.errors == []


@pytest.mark.browser
def test_the_reports_tab_shows_the_history_as_of_the_pinned_moment(demo_sessions, page):
    from datetime import timedelta

    from playwright.sync_api import expect

    from dashboards.app import create_app
    from tracker.reporting import runs
    from tracker.config import Retry

    with demo_sessions.begin() as session:
        campaign_id = queries.get_campaign(session, "dec-2026").id
    morning = MID_CAMPAIGN.replace(hour=8)
    sent = runs.claim(demo_sessions, job="morning", campaign_id=campaign_id, slot="2026-12-28T16:00:00Z", kind="report",
                      now=morning, due_at=morning, recipients="director@example.org")
    runs.finish(demo_sessions, sent, status="sent", now=morning, detail="Year-end 2026: $202,800 of $400,000")
    failing = runs.claim(demo_sessions, job="hourly", campaign_id=campaign_id, slot="2026-12-28T19:00:00Z",
                         kind="report", now=morning + timedelta(hours=3), due_at=morning + timedelta(hours=3),
                         recipients="director@example.org")
    runs.fail(demo_sessions, failing, now=morning + timedelta(hours=3), error="cannot send through mail:587: timed out",
              retry=Retry())
    later = runs.claim(demo_sessions, job="evening", campaign_id=campaign_id, slot="2026-12-29T02:00:00Z",
                       kind="report", now=MID_CAMPAIGN + timedelta(hours=6))
    assert later is not None
    with serving(create_app(demo_sessions, as_of=MID_CAMPAIGN).server) as base:
        page.goto(base + "/")
        page.locator("#tab-reports").click()
        expect(page.locator("[data-testid=run-morning-sent]")).to_contain_text("Mon Dec 28 08:00", timeout=20_000)
        expect(page.locator("[data-testid=run-morning-sent]")).to_contain_text("director@example.org")
        expect(page.locator("[data-testid=run-hourly-failed]")).to_contain_text("timed out; next attempt Dec 28 11:01")
        assert page.locator("[data-testid=run-evening-running]").count() == 0  # after the pinned moment
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "reports-dec-2026.png"), full_page=True)
        assert page.errors == []


@pytest.mark.browser
def test_an_empty_database_shows_guidance_not_an_error(tmp_path, page):
    from playwright.sync_api import expect

    from dashboards.app import create_app

    engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    db.upgrade(engine)
    try:
        with serving(create_app(db.session_factory(engine)).server) as url:
            page.goto(url)
            expect(page.get_by_text("There are no campaigns yet")).to_be_visible(timeout=20_000)
            expect(page.get_by_text("tracker demo", exact=False).first).to_be_visible()
            assert page.errors == []
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tracker_serve_answers_and_stops_cleanly_on_ctrl_c(tmp_path):
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--db", url, "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        first = proc.stdout.readline()
        assert first.strip() == f"dashboard at http://127.0.0.1:{port}/  (Ctrl-C stops it)"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
                    body = resp.read().decode()
                    server_header = resp.headers.get("Server", "")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert "<title>Campaign tracker</title>" in body
        assert re.search("waitress", server_header, re.I)  # the production server, not Flask's
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "dashboard stopped" in out and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
