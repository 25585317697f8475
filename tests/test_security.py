"""The dashboard's web security over real HTTP and in headless Chromium: security headers on every
response, error bodies that can never run as a page (the reflected-script payload of issue 20), a
Content-Security-Policy the dashboard really works under, and the Host check that keeps DNS
rebinding from reading the personal export. On SQLite and PostgreSQL."""

from datetime import datetime
from urllib.parse import quote

import pytest
import requests

from conftest import demo_database, serving, utc, write_csv
from dashboards.security import content_security_policy
from test_dashboard import LA, MID_CAMPAIGN, page  # noqa: F401  (the page fixture)
from tracker import users
from tracker.dates import UTC

PASSWORD = "correct horse battery"
PAYLOAD = "<script>alert(document.domain)</script>"
NO_SLASH = "<img src=x onerror=alert(document.domain)>"  # for a path segment
GIFTS = """\
donation_id,amount,donated_at,email,name
A1,25.00,2026-12-02 10:00,ana.souza@example.org,Ana Souza
"""


@pytest.fixture
def campaign_with_a_donor(sessions, make_campaign, tmp_path):
    from tracker.ingest import ImportRequest, RowRules, run_import

    make_campaign()
    run_import(sessions, ImportRequest(path=write_csv(tmp_path / "g.csv", GIFTS), format="generic"),
               RowRules(source="generic", timezone=LA), clock=lambda: utc(2026, 12, 3))
    return sessions


def app_for(sessions, **options):
    from dashboards.app import create_app

    return create_app(sessions, as_of=utc(2026, 12, 10), **options).server


def log_in(base, name, headers=None):
    import re

    browser = requests.Session()
    token = re.search(r'name="csrf" value="([^"]+)"', browser.get(f"{base}/login", headers=headers or {}).text).group(1)
    reply = browser.post(f"{base}/login", data={"username": name, "password": PASSWORD, "csrf": token},
                         headers=headers or {}, allow_redirects=False)
    assert reply.status_code == 302, reply.text
    return browser


@pytest.fixture
def staffed(campaign_with_a_donor):
    sessions = campaign_with_a_donor
    with sessions.begin() as session:
        users.add(session, "maria", "finance", PASSWORD, now=utc(2026, 12, 1))
        users.add(session, "sam", "viewer", PASSWORD, now=utc(2026, 12, 1))
    with serving(app_for(sessions)) as base:
        yield base


def assert_hardened(response, where):
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp, where
    script = next(d for d in csp.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script and "'sha256-" in script, where
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("Referrer-Policy") == "no-referrer" and h.get("X-Frame-Options") == "DENY", where


def test_every_response_carries_the_security_headers(staffed):
    base = staffed
    anonymous = {"/": 302, "/login": 200, "/healthz": 200, "/api/progress": 200, "/_dash-layout": 401,
                 "/download/export/daily?campaign=dec-2026": 401}
    for path, status in anonymous.items():
        reply = requests.get(base + path, allow_redirects=False)
        assert reply.status_code == status, path
        assert_hardened(reply, path)
    assert_hardened(requests.post(base + "/healthz"), "405")
    browser = log_in(base, "sam")
    for path, status in {"/": 200, "/_dash-layout": 200, "/_dash-dependencies": 200, "/no/such/page": 200,
                         "/download/export/donations?campaign=dec-2026": 403}.items():
        reply = browser.get(base + path, allow_redirects=False)
        assert reply.status_code == status, path
        assert_hardened(reply, path)
    scripts = [p for p in browser.get(base + "/").text.split('src="')[1:]]
    # nothing from elsewhere: Dash's components and the dashboard's own assets (the stale-data notice)
    assert scripts and all(s.startswith(("/_dash-component-suites/", "/assets/")) for s in scripts)


def test_every_error_body_is_plain_text_or_one_line_of_json(staffed):
    base = staffed
    sam, maria = log_in(base, "sam"), log_in(base, "maria")
    errors = {
        "401 session": requests.get(base + "/_dash-layout"),
        "403 viewer": sam.get(base + "/download/export/donations?campaign=dec-2026"),
        "404 unknown export": sam.get(base + "/download/export/" + quote(NO_SLASH, safe="")),
        "404 no rejects": maria.get(base + "/download/rejects/999999"),
        "500 dash": sam.get(base + "/_dash-component-suites/" + quote(NO_SLASH, safe="") + "/x.js"),
        "400 format": sam.get(base + "/download/export/daily?campaign=dec-2026&format=" + quote(PAYLOAD)),
        "400 campaign": sam.get(base + "/download/export/daily?campaign=" + quote(PAYLOAD)),
        "405 method": requests.delete(base + "/login"),
        "400 logout": sam.post(base + "/logout"),
    }
    for what, reply in errors.items():
        assert str(reply.status_code) == what.split()[0], what
        assert reply.headers["Content-Type"] == "text/plain; charset=utf-8", what
        assert reply.headers["X-Content-Type-Options"] == "nosniff", what
    api = requests.post(base + "/api/progress")
    assert api.status_code == 405 and api.headers["Content-Type"] == "application/json"
    assert api.json() == {"error": "method not allowed"}


def test_the_reflected_script_payload_is_sent_as_inert_text_to_a_finance_login(staffed):
    maria = log_in(staffed, "maria")
    reply = maria.get(f"{staffed}/download/export/daily?campaign={quote(PAYLOAD)}")
    assert reply.status_code == 400 and "no campaign" in reply.text  # the message is still useful
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Disposition" not in reply.headers


# -- the Host header --------------------------------------------------------------------------

PERSONAL = "/download/export/donations?campaign=dec-2026&personal=1"


def test_running_open_only_loopback_host_names_get_the_personal_export(campaign_with_a_donor):
    with serving(app_for(campaign_with_a_donor, allowed_hosts={"tracker.example.org"})) as base:
        port = base.rsplit(":", 1)[1]
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io", "tracker.example.org",
                     "localhost:abc", "[::1", "localhost@evil.example", "LOCALHOST.evil.example"):
            forged = requests.get(base + PERSONAL, headers={"Host": host})
            assert forged.status_code == 400 and "ana.souza" not in forged.text, host
            assert forged.headers["Content-Type"] == "text/plain; charset=utf-8"
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "localhost", "LocalHost"):
            mine = requests.get(base + PERSONAL, headers={"Host": host})
            assert mine.status_code == 200 and "ana.souza@example.org" in mine.text, host
        assert requests.get(base + "/healthz", headers={"Host": "evil.example"}).status_code == 200


def test_with_logins_only_the_configured_host_names_are_answered(staffed_on_a_name):
    base = staffed_on_a_name
    for host in ("tracker.example.org", "tracker.example.org:443", "TRACKER.example.org", "127.0.0.1"):
        assert requests.get(base + "/", headers={"Host": host}, allow_redirects=False).status_code == 302, host
    for host in ("evil.example", "www.tracker.example.org", "tracker.example.org.evil.example"):
        for path in ("/", "/login", "/api/progress", PERSONAL):
            reply = requests.get(base + path, headers={"Host": host}, allow_redirects=False)
            assert reply.status_code == 400 and "--allowed-host" in reply.text, (host, path)
    maria = log_in(base, "maria", headers={"Host": "tracker.example.org"})
    assert "ana.souza@example.org" in maria.get(base + PERSONAL, headers={"Host": "tracker.example.org"}).text
    assert maria.get(base + PERSONAL, headers={"Host": "evil.example"}).status_code == 400


@pytest.fixture
def staffed_on_a_name(campaign_with_a_donor):
    sessions = campaign_with_a_donor
    with sessions.begin() as session:
        users.add(session, "maria", "finance", PASSWORD, now=utc(2026, 12, 1))
    with serving(app_for(sessions, allowed_hosts={"tracker.example.org"})) as base:
        yield base


def test_the_policy_allows_dashs_inline_script_by_hash_and_nothing_inline_else():
    policy = content_security_policy(["'sha256-abc='"])
    assert "script-src 'self' 'sha256-abc='" in policy and "'unsafe-eval'" not in policy
    assert policy.count("'unsafe-inline'") == 1 and "style-src 'self' 'unsafe-inline'" in policy


# -- in Chromium ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_with_staff(tmp_path_factory):
    from dashboards.app import create_app

    with demo_database(tmp_path_factory.mktemp("security"), MID_CAMPAIGN) as sessions:
        with sessions.begin() as session:
            users.add(session, "maria", "finance", PASSWORD, now=datetime.now(UTC))
        with serving(create_app(sessions, as_of=MID_CAMPAIGN, require_login=True).server) as base:
            yield base


@pytest.mark.browser
def test_in_chromium_no_payload_runs_and_the_dashboard_works_under_its_policy(demo_with_staff, page):
    from playwright.sync_api import expect

    base = demo_with_staff
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_content("<script>alert('the oracle works')</script>")  # a control: a script that runs is seen
    assert dialogs == ["the oracle works"]
    dialogs.clear()

    # an open redirect in the login link: the browser drops the tab, but the server never sends it
    page.goto(base + "/login?next=/%09/evil.example/")
    page.fill("#username", "maria")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#account-name")).to_have_text("maria (finance)", timeout=20_000)
    assert page.url == base + "/"

    # the reflected payload, and one that needs no <script> tag, as a finance login opens them
    for payload in (PAYLOAD, '<img src=x onerror="window.__xss=1;alert(1)">',
                    "<script>window.__xss=2</script>"):
        reply = page.goto(f"{base}/download/export/daily?campaign={quote(payload)}")
        assert reply.status == 400 and reply.headers["content-type"] == "text/plain; charset=utf-8"
        assert page.evaluate("window.__xss") is None and page.locator("img").count() == 0
    assert dialogs == []
    assert page.errors == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"] * 3
    page.errors.clear()  # those three refusals were asked for

    # the dashboard itself: drawn, every tab's callback answered, a campaign switched, a chart saved as PNG
    page.goto(base + "/")
    expect(page.locator("#kpi-raised")).not_to_be_empty(timeout=20_000)
    expect(page.locator("#cumulative-graph .main-svg").first).to_be_visible(timeout=20_000)
    for tab, marker in (("donors", "#donors-segments"), ("appeals", "#appeals-verdict"),
                        ("finance", "#reconciliation-verdict"), ("overview", "#kpi-raised")):
        page.locator(f"#tab-{tab}").click()
        expect(page.locator(marker).first).to_be_visible(timeout=20_000)
    page.locator("#campaign-select").click()
    page.get_by_role("option", name="Year-end 2025").click()
    expect(page.locator("#kpi-time-left")).to_have_text("closed", timeout=20_000)
    graph = page.locator("#cumulative-graph .main-svg").first.bounding_box()
    page.mouse.move(graph["x"] + graph["width"] / 2, graph["y"] + graph["height"] / 2)
    with page.expect_download(timeout=20_000) as png:
        page.locator("#cumulative-graph .modebar-btn[data-title^='Download']").first.click()
    assert png.value.suggested_filename.endswith(".png")
    assert page.errors == [] and dialogs == []  # no console error, no policy violation

    # logging out is a form with its token; afterwards the dashboard asks for a login again
    page.locator("#logout").click()
    expect(page.locator("#username")).to_be_visible(timeout=20_000)
    page.goto(base + "/")
    expect(page.locator("#username")).to_be_visible(timeout=20_000)
    assert page.errors == []
