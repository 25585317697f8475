"""The dashboard behind its login, in headless Chromium, as each role: every page visited, campaign and
as-of changed, a CSV downloaded and compared with `tracker export`, and every network response a
viewer receives searched for donors' names and e-mails. Screenshots go to tests/artifacts/."""

import csv
import io
import json
from datetime import datetime

import pytest
from sqlalchemy import select

from conftest import demo_database, serving
from test_dashboard import ARTIFACTS, LA, MID_CAMPAIGN, page  # noqa: F401  (the page fixture)
from tracker import queries, users
from tracker.dates import UTC
from tracker.finance import window, write
from tracker.models import AuditEntry, Donor, Pledge
from tracker.money import format_money
from tracker.service import campaign_status

PASSWORD = "correct horse battery"
PAGES = ("overview", "donors", "appeals", "finance", "imports", "reports")
ADD_USER = {  # the Users page's callback, as a viewer might send it by hand
    "output": "..users-list.children...user-message.children...user-password.value..",
    "outputs": [{"id": "users-list", "property": "children"}, {"id": "user-message", "property": "children"},
                {"id": "user-password", "property": "value"}],
    "inputs": [{"id": "user-add", "property": "n_clicks", "value": 1},
               [{"id": {"type": "user-remove", "name": "olga"}, "property": "n_clicks", "value": None}]],
    "state": [{"id": "user-name", "property": "value", "value": "mallory"},
              {"id": "user-role", "property": "value", "value": "admin"},
              {"id": "user-password", "property": "value", "value": "a long enough password"}],
    "changedPropIds": ["user-add.n_clicks"],
}


@pytest.fixture(scope="module")
def staff_dashboard(tmp_path_factory):
    from dashboards.app import create_app

    with demo_database(tmp_path_factory.mktemp("roles"), MID_CAMPAIGN) as sessions:
        with sessions.begin() as session:
            for name, role in (("sam", "viewer"), ("maria", "finance"), ("olga", "admin")):
                users.add(session, name, role, PASSWORD, now=datetime.now(UTC))
            donors = session.execute(select(Donor.email, Donor.name)).all()
        app = create_app(sessions, as_of=MID_CAMPAIGN, require_login=True, secret_key="test secret")
        with serving(app.server) as base:
            yield base, sessions, {e for e, _ in donors if e}, {n for _, n in donors if n}


def log_in(page, base, name):
    from playwright.sync_api import expect

    page.goto(base + "/")
    expect(page.locator("#username")).to_be_visible(timeout=20_000)
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    role = {"sam": "viewer", "maria": "finance", "olga": "admin"}[name]
    expect(page.locator("#account-name")).to_have_text(f"{name} ({role})", timeout=20_000)


def visit_every_page(page, who, pages=PAGES):
    from playwright.sync_api import expect

    expect(page.locator("#kpi-raised")).not_to_be_empty(timeout=20_000)
    for tab in pages:
        page.locator(f"#tab-{tab}").click()
        marker = {"overview": "#kpi-raised", "donors": "#donors-segments", "appeals": "#appeals-verdict",
                  "finance": "#reconciliation-verdict", "imports": "#imports-content >> text=/Nothing has been imported|most recent imports/",
                  "reports": "#reports-content >> text=/No report or alert|most recent reports/",
                  "users": "#users-table"}[tab]
        expect(page.locator(marker).first).to_be_visible(timeout=20_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{who}-{tab}.png"), full_page=True)


def expected_export(sessions, kind, personal=False):
    out = io.StringIO(newline="")
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        write(session, c, kind, out, window(c, None, None, MID_CAMPAIGN), MID_CAMPAIGN, personal=personal,
              actor="test", now=MID_CAMPAIGN)
        session.rollback()  # the audit entry of this check is not wanted
    return out.getvalue()


@pytest.mark.browser
def test_a_viewer_sees_every_page_but_never_a_donor(staff_dashboard, page):
    from playwright.sync_api import expect

    base, sessions, emails, names = staff_dashboard
    bodies = []
    page.on("response", lambda r: bodies.append((r.url, r)))
    log_in(page, base, "sam")
    visit_every_page(page, "viewer")
    assert page.locator("#tab-users").count() == 0
    # the demo's pledges beside raised, with their expected days: amounts and kinds, never who promised them
    page.locator("#tab-overview").click()
    with sessions.begin() as session:
        now = campaign_status(session, queries.get_campaign(session, "dec-2026"), as_of=MID_CAMPAIGN)
    assert now.committed.pledges == 7
    expect(page.locator("#kpi-committed")).to_have_text(format_money(now.committed.cents), timeout=20_000)
    expect(page.locator("#committed-pledges")).to_contain_text("2027-01-25")
    expect(page.locator("#committed-pledges")).to_contain_text("overdue")
    assert "Donor" not in page.locator("#committed-pledges thead").inner_text()
    forged = page.request.post(base + "/_dash-update-component", data=json.dumps(ADD_USER), headers={
        "Content-Type": "application/json"})
    assert forged.status == 200 and "Only an admin may manage users" in forged.text() and "olga" not in forged.text()

    # the finance page offers aggregates only, and the server refuses donor-level files whatever the URL
    page.locator("#tab-finance").click()
    page.locator("#finance-kind").click()
    offered = [o.inner_text() for o in page.get_by_role("option").all()]
    assert offered == ["Daily totals", "By channel", "By popup variant", "Reconciliation"]
    page.keyboard.press("Escape")
    assert page.locator("#finance-personal").is_hidden()
    for url in ("/download/export/donations?campaign=dec-2026", "/download/export/donors?campaign=dec-2026",
                "/download/export/daily?campaign=dec-2026&personal=1", "/download/rejects/1"):
        assert page.request.get(base + url).status == 403, url
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    got = open(download.value.path(), encoding="utf-8", newline="").read()
    assert got == expected_export(sessions, "daily")  # the same code as `tracker export daily`
    assert download.value.suggested_filename == "dec-2026-daily-2026-12-01-to-2026-12-31.csv"

    # an earlier moment and another campaign
    page.locator("#tab-overview").click()
    page.fill("#as-of-picker", "2026-12-20 18:00")
    page.keyboard.press("Enter")
    with sessions.begin() as session:
        then = campaign_status(session, queries.get_campaign(session, "dec-2026"),
                               as_of=datetime(2026, 12, 20, 18, tzinfo=LA))
    expect(page.locator("#kpi-raised")).to_have_text(format_money(then.raised_cents), timeout=20_000)
    expect(page.locator("#as-of-text")).to_contain_text("Sunday Dec 20, 2026 18:00 PST")
    page.locator("#campaign-select").click()
    page.get_by_role("option", name="Year-end 2025").click()
    expect(page.locator("#kpi-time-left")).to_have_text("closed", timeout=20_000)

    # a laptop, a wall screen and a phone: nothing runs off the side
    for width, height, name in ((1280, 800, "laptop"), (2560, 1440, "wall"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
        page.screenshot(path=str(ARTIFACTS / f"viewer-overview-{name}.png"), full_page=True)

    texts = []
    for url, response in bodies:
        try:
            texts.append(response.body().decode("utf-8", "replace"))
        except Exception:  # noqa: BLE001 - redirects and evicted bodies have none
            continue
    seen = "\n".join(texts)
    assert len(texts) > 20 and "_dash-update-component" in " ".join(u for u, _ in bodies)
    leaked = [e for e in emails if e in seen] + [n for n in names if n in seen]
    assert leaked == [], leaked[:5]
    assert page.errors == []


@pytest.mark.browser
def test_finance_downloads_donor_level_files_and_each_is_audited(staff_dashboard, page):
    base, sessions, emails, _ = staff_dashboard
    log_in(page, base, "maria")
    visit_every_page(page, "finance")
    from playwright.sync_api import expect as expect_

    page.locator("#tab-overview").click()  # finance sees who promised the money
    with sessions.begin() as session:
        promised = set(session.scalars(select(Pledge.name)))
    expect_(page.locator("#committed-pledges thead")).to_contain_text("Donor", timeout=20_000)
    shown = page.locator("#committed-pledges tbody").inner_text()
    assert any(name in shown for name in promised), shown
    page.locator("#tab-finance").click()
    page.locator("#finance-kind").click()
    page.get_by_role("option", name="Donations (one row per gift)").click()
    page.locator("#finance-personal").check()
    import re

    from playwright.sync_api import expect

    # the links are redrawn by the page's callback: the one with names is there once it has answered
    expect(page.locator("#download-csv")).to_have_attribute("href", re.compile(r"personal=1"), timeout=20_000)
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    got = open(download.value.path(), encoding="utf-8", newline="").read()
    assert got == expected_export(sessions, "donations", personal=True)
    rows = list(csv.DictReader(io.StringIO(got)))
    assert len(rows) > 1000 and rows[0]["donor_email"] in emails
    with sessions.begin() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.actor, entry.action, entry.rows) == ("maria", "export donations with personal data", len(rows))
    assert page.errors == []


@pytest.mark.browser
def test_an_admin_adds_and_removes_a_user_from_the_users_page(staff_dashboard, page):
    from playwright.sync_api import expect

    base, sessions, _, _ = staff_dashboard
    log_in(page, base, "olga")
    visit_every_page(page, "admin", (*PAGES, "users"))
    page.locator("#tab-users").click()
    expect(page.locator("#users-table")).to_contain_text("sam")
    page.fill("#user-name", "lee")
    page.fill("#user-password", "short")
    page.locator("#user-add").click()
    expect(page.locator("#user-message")).to_contain_text("at least 10 characters")
    page.fill("#user-password", "another long password")
    page.locator("#user-add").click()
    expect(page.locator("#user-message")).to_contain_text("Added lee (viewer).")
    expect(page.locator("#user-password")).to_have_value("")  # never kept on the page
    with sessions.begin() as session:
        assert queries.get_user(session, "lee").role == "viewer"
        assert queries.get_user(session, "mallory") is None  # the viewer's forged call added nobody
    page.locator("#users-table tr", has_text="lee").get_by_role("button", name="Remove").click()
    expect(page.locator("#user-message")).to_contain_text("Removed lee.")
    with sessions.begin() as session:
        assert queries.get_user(session, "lee") is None
    assert page.errors == []
