"""Dashboard logins: `tracker user`, argon2id hashes, the login page and the guard in front of every
request, sessions that end (logout, password change, removal, idle and absolute lifetimes, kept across
restarts), throttled failures that cannot lock anyone out from elsewhere, redirects that stay on the
site, and `tracker serve` refusing a public address without users. Over real HTTP against the
production WSGI server, on SQLite and PostgreSQL."""

import html
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import requests

from conftest import serving
from test_dashboard import page  # noqa: F401  (the page fixture: Chromium)
from dashboards.security import trusted_networks
from tracker import queries, users
from tracker.dates import UTC

NOW = datetime(2026, 12, 28, 20, tzinfo=UTC)
PASSWORD = "correct horse battery"


class Clock:
    """The server's clock, moved by the test."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def add_user(tracker, monkeypatch, name, role, password=PASSWORD):
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return tracker("user", "add", name, "--role", role)


def test_users_are_added_listed_and_removed_with_hashed_passwords(tracker, monkeypatch, sessions):
    assert "no users" in tracker("user", "list").out
    assert add_user(tracker, monkeypatch, "maria", "finance").out == "added maria (finance)\n"
    assert add_user(tracker, monkeypatch, "sam", "viewer").code == 0
    listed = tracker("user", "list").out.splitlines()
    assert [line.split()[:2] for line in listed] == [["maria", "finance"], ["sam", "viewer"]]
    with sessions.begin() as session:
        stored = queries.get_user(session, "maria").password_hash
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    again = add_user(tracker, monkeypatch, "maria", "admin")
    assert again.code == 2 and "exists already" in again.err
    short = add_user(tracker, monkeypatch, "lee", "viewer", password="short")
    assert short.code == 2 and "at least 10 characters" in short.err
    assert tracker("user", "add", "lee", "--role", "owner").code == 2
    assert tracker("user", "remove", "sam").out == "removed sam\n"
    missing = tracker("user", "remove", "sam")
    assert missing.code == 2 and "no user 'sam'" in missing.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("a new long password\n"))
    assert tracker("user", "passwd", "maria").out == "changed the password of maria; ended 0 open sessions\n"
    with sessions.begin() as session:
        assert queries.get_user(session, "maria").password_hash != stored
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert "at least 10 characters" in tracker("user", "passwd", "maria").err
    assert "no user 'nobody'" in tracker("user", "passwd", "nobody").err


def test_failed_logins_wait_longer_and_longer_per_user_name_and_address(sessions):
    with sessions.begin() as session:
        users.add(session, "maria", "finance", PASSWORD, now=NOW)

    def attempt(password, at, remote="10.0.0.1", name="maria"):
        return users.authenticate(sessions, name, password, remote=remote, now=at)

    t = NOW
    for _ in range(users.FREE_FAILURES):  # the first few cost nothing
        assert attempt("wrong", t) == users.Login(None, retry_after=0)
    assert attempt(PASSWORD, t).retry_after == 2  # then even the right password waits: nothing is checked
    waits = []
    for n in range(users.FREE_FAILURES, users.FREE_FAILURES + 12):
        wait = users.delay_after(n)
        assert attempt("wrong", t + wait - timedelta(seconds=1)).retry_after == 1
        t += wait
        assert attempt("wrong", t) == users.Login(None, retry_after=0)  # its turn: checked, and wrong
        waits.append(wait.total_seconds())
    assert waits == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]  # doubling, capped at 15 minutes
    assert attempt(PASSWORD, t, remote="10.0.0.2").user.username == "maria"  # another address is not held up
    t += users.MAX_DELAY
    assert attempt(PASSWORD, t).user.username == "maria"  # the right password in its turn clears the count
    for _ in range(users.FREE_FAILURES):
        assert attempt("wrong", t).retry_after == 0
    assert attempt("wrong", t).retry_after == 2
    later = t + users.FORGET_AFTER  # a day without a failure: it starts again
    for _ in range(users.FREE_FAILURES):
        assert attempt("wrong", later).retry_after == 0
    for _ in range(users.FREE_FAILURES):  # an unknown name is refused like a wrong password, and throttled alike
        assert attempt("x", NOW, name="nobody", remote="10.0.0.3") == users.Login(None, retry_after=0)
    assert attempt("x", NOW, name="nobody", remote="10.0.0.3").retry_after == 2


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest.fixture
def guarded(sessions, engine, clock):
    from dashboards.app import create_app

    with sessions.begin() as session:
        users.add(session, "maria", "finance", PASSWORD, now=NOW)
    with serving(create_app(sessions, clock=clock, trusted_proxies=trusted_networks(["127.0.0.1"])).server) as base:
        yield base


def login_form(base, headers=None, next_="/"):
    """A browser that has opened the login page: (its session, the form's token, the form's next)."""
    browser = requests.Session()
    page = browser.get(f"{base}/login?next={next_}", headers=headers or {})
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    target = html.unescape(re.search(r'name="next" value="([^"]*)"', page.text).group(1))
    return browser, token, target


def log_in(base, name="maria", password=PASSWORD, headers=None):
    browser, token, _ = login_form(base, headers)
    reply = browser.post(f"{base}/login", data={"username": name, "password": password, "csrf": token, "next": "/"},
                         headers=headers or {}, allow_redirects=False)
    return browser, reply


def logout_token(browser, base):
    """The CSRF token of the logout form on the dashboard's page, as the browser receives it."""
    def find(node):
        if isinstance(node, dict):
            if isinstance(node.get("props"), dict) and node["props"].get("id") == "logout-csrf":
                return node["props"]["value"]
            return next((found for v in node.values() if (found := find(v))), None)
        if isinstance(node, list):
            return next((found for v in node if (found := find(v))), None)
        return None
    return find(browser.get(f"{base}/_dash-layout").json())


def replay(base, cookie):
    """A request to the dashboard with nothing but a copy of an earlier cookie."""
    other = requests.Session()
    other.cookies.set("tracker_session", cookie)
    return other.get(f"{base}/", allow_redirects=False).status_code


def test_every_page_and_callback_needs_a_login_but_the_public_api(guarded):
    base = guarded
    anonymous = requests.get(f"{base}/", allow_redirects=False)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    assert requests.get(f"{base}/_dash-layout", allow_redirects=False).status_code == 401
    assert requests.get(f"{base}/_dash-dependencies", allow_redirects=False).status_code == 401
    callback = requests.post(f"{base}/_dash-update-component", json={})
    assert callback.status_code == 401
    assert requests.get(f"{base}/api/progress").status_code in (200, 404)  # public, even with no campaign
    browser, reply = log_in(base, password="wrong password")
    assert reply.status_code == 401 and "Wrong user name or password" in reply.text
    browser, reply = log_in(base)
    assert reply.status_code == 302 and reply.headers["Location"] == "/"
    cookie = reply.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain HTTP here
    assert browser.get(f"{base}/").status_code == 200
    assert "maria (finance)" in browser.get(f"{base}/_dash-layout").text
    forged = requests.Session()
    forged.cookies.set("tracker_session", "eyJ1c2VyIjoibWFyaWEifQ.forged.signature")
    assert forged.get(f"{base}/", allow_redirects=False).status_code == 302
    assert browser.post(f"{base}/logout", data={"csrf": logout_token(browser, base)},
                        allow_redirects=False).status_code == 302
    assert browser.get(f"{base}/", allow_redirects=False).status_code == 302


def test_logout_needs_the_forms_token_and_ends_the_cookie_even_a_copy_of_it(guarded):
    browser, _ = log_in(guarded)
    copy = browser.cookies["tracker_session"]
    token = logout_token(browser, guarded)
    refused = browser.post(f"{guarded}/logout", allow_redirects=False)  # another site's form has no token
    assert refused.status_code == 400 and refused.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert browser.post(f"{guarded}/logout", data={"csrf": "guess"}, allow_redirects=False).status_code == 400
    assert replay(guarded, copy) == 200  # still logged in
    assert browser.post(f"{guarded}/logout", data={"csrf": token}, allow_redirects=False).headers["Location"] == "/login"
    assert replay(guarded, copy) == 302  # the copy kept from before the logout no longer works


def test_the_logout_token_survives_requests_that_were_already_under_way(guarded):
    """The page's requests run side by side: one that started with the cookie of the login answers after
    the layout has been drawn. Its cookie must not take away the token the logout form shows."""
    browser, _ = log_in(guarded)
    at_login = browser.cookies["tracker_session"]
    token = logout_token(browser, guarded)
    slower = requests.Session()  # a request sent with the login's cookie, answered after the layout
    slower.cookies.set("tracker_session", at_login)
    assert slower.get(f"{guarded}/_dash-dependencies").status_code == 200
    assert slower.post(f"{guarded}/logout", data={"csrf": token}, allow_redirects=False).status_code == 302


def test_a_password_change_ends_every_session_of_that_user(guarded, tracker, monkeypatch):
    laptop, _ = log_in(guarded)
    phone, _ = log_in(guarded)
    copies = [laptop.cookies["tracker_session"], phone.cookies["tracker_session"]]
    assert [replay(guarded, c) for c in copies] == [200, 200]
    monkeypatch.setattr(sys, "stdin", io.StringIO("a brand new password\n"))
    assert tracker("user", "passwd", "maria").out == "changed the password of maria; ended 2 open sessions\n"
    assert [replay(guarded, c) for c in copies] == [302, 302]
    assert log_in(guarded)[1].status_code == 401  # the old password is gone
    assert log_in(guarded, password="a brand new password")[1].status_code == 302


def test_a_removed_user_is_logged_out_and_adding_the_name_again_does_not_revive_its_cookies(guarded, sessions):
    browser, _ = log_in(guarded)
    copy = browser.cookies["tracker_session"]
    assert browser.get(f"{guarded}/", allow_redirects=False).status_code == 200
    with sessions.begin() as session:
        users.remove(session, "maria")
    assert browser.get(f"{guarded}/", allow_redirects=False).status_code == 302
    with sessions.begin() as session:  # the same name, the same password, a new login
        users.add(session, "maria", "admin", PASSWORD, now=NOW)
    assert replay(guarded, copy) == 302
    assert log_in(guarded)[1].status_code == 302


def test_a_session_ends_after_its_idle_time_and_after_its_lifetime(sessions):
    from dashboards.app import create_app

    clock = Clock(NOW)
    with sessions.begin() as session:
        users.add(session, "maria", "finance", PASSWORD, now=NOW)
    app = create_app(sessions, clock=clock, session_idle=timedelta(minutes=30), session_max=timedelta(hours=2))
    with serving(app.server) as base:
        browser, _ = log_in(base)
        for minutes in (29, 58, 87, 116):  # used every 29 minutes: never idle for 30
            clock.now = NOW + timedelta(minutes=minutes)
            assert browser.get(f"{base}/", allow_redirects=False).status_code == 200, minutes
        clock.now = NOW + timedelta(hours=2)  # but two hours after the login it ends anyway
        assert browser.get(f"{base}/", allow_redirects=False).status_code == 302
        browser, _ = log_in(base)
        clock.now += timedelta(minutes=30)  # left alone for 30 minutes
        assert browser.get(f"{base}/", allow_redirects=False).status_code == 302


def test_without_a_secret_key_a_restart_keeps_everyone_logged_in(sessions, monkeypatch):
    from dashboards.app import create_app

    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    with sessions.begin() as session:
        users.add(session, "maria", "finance", PASSWORD, now=NOW)
    with serving(create_app(sessions).server) as base:
        browser, _ = log_in(base)
        copy = browser.cookies["tracker_session"]
    with serving(create_app(sessions).server) as base:  # the server restarted
        assert replay(base, copy) == 200
    with sessions.begin() as session:
        assert len(queries.server_secret(session, users.SIGNING_KEY)) == 64  # generated once, 256 bits


HOSTILE_NEXT = ["/%09/evil.example/", "/%0A/evil.example/", "/%0D%0A/evil.example", "//evil.example/",
                "///evil.example", "/%2F/evil.example", "%2F%2Fevil.example", "/%5Cevil.example", "%5C%5Cevil.example",
                "/%5C/evil.example", "https://evil.example/", "HTTPS:evil.example", "javascript:alert(1)",
                "%20//evil.example", "http:/evil.example", "/%00/evil.example", "evil.example"]


@pytest.mark.parametrize("raw", HOSTILE_NEXT)
def test_after_login_the_browser_goes_only_to_a_path_on_this_site(guarded, raw):
    browser, token, target = login_form(guarded, next_=raw)
    assert target == "/"  # the page does not even carry it
    for sent in (target, unquote(raw)):  # and the form posted by hand with the value itself is no better
        reply = browser.post(f"{guarded}/login", data={"username": "maria", "password": PASSWORD, "csrf": token,
                                                       "next": sent}, allow_redirects=False)
        assert reply.status_code == 302 and reply.headers["Location"] == "/", sent
        assert urlsplit(urljoin(guarded + "/login", reply.headers["Location"])).netloc == urlsplit(guarded).netloc
        browser, token, _ = login_form(guarded)


def test_a_path_on_this_site_is_where_the_login_returns_to(guarded):
    browser, token, target = login_form(guarded, next_="/download/export/daily%3Fcampaign%3Ddec-2026")
    assert target == "/download/export/daily?campaign=dec-2026"
    reply = browser.post(f"{guarded}/login", data={"username": "maria", "password": PASSWORD, "csrf": token,
                                                   "next": target}, allow_redirects=False)
    assert reply.headers["Location"] == "/download/export/daily?campaign=dec-2026"


def test_failed_logins_over_http_wait_with_429_and_retry_after(guarded):
    for _ in range(users.FREE_FAILURES):
        assert log_in(guarded, password="wrong password")[1].status_code == 401
    browser, reply = log_in(guarded)
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "2"
    assert "Too many failed logins for this user name from your address. Try again in 2 seconds." in reply.text


def test_forty_parallel_attempts_get_no_more_password_checks_than_the_rule_allows(guarded, sessions):
    proxy_says = {"X-Forwarded-For": "203.0.113.9"}  # the attacker, behind the trusted proxy
    prepared = [login_form(guarded, proxy_says) for _ in range(40)]
    start = threading.Barrier(40)

    def attack(form):
        browser, token, _ = form
        start.wait()
        return browser.post(f"{guarded}/login", data={"username": "maria", "password": "guess", "csrf": token},
                            headers=proxy_says, allow_redirects=False).status_code

    with ThreadPoolExecutor(40) as pool:
        codes = list(pool.map(attack, prepared))
    assert codes.count(401) == users.FREE_FAILURES and codes.count(429) == 40 - users.FREE_FAILURES, codes
    with sessions.begin() as session:
        assert queries.login_failures(session, "maria", "203.0.113.9")[0] == users.FREE_FAILURES
    assert log_in(guarded, headers=proxy_says)[1].status_code == 429  # the attacker's address waits, right password or not
    assert log_in(guarded, headers={"X-Forwarded-For": "198.51.100.7"})[1].status_code == 302  # maria's does not


def test_forty_parallel_attempts_over_a_server_with_many_threads(sessions, clock):
    """The same storm where every attempt has a thread of its own, straight from one (untrusted) address
    that invents a new X-Forwarded-For each time: still one address, still the free checks only."""
    from dashboards.app import create_app

    with sessions.begin() as session:
        users.add(session, "maria", "finance", PASSWORD, now=NOW)
    with serving(create_app(sessions, clock=clock).server, threads=40) as base:
        prepared = [login_form(base) for _ in range(40)]
        start = threading.Barrier(40)

        def attack(numbered):
            i, (browser, token, _) = numbered
            start.wait()
            return browser.post(f"{base}/login", data={"username": "maria", "password": "guess", "csrf": token},
                                headers={"X-Forwarded-For": f"192.0.2.{i}"}, allow_redirects=False).status_code

        with ThreadPoolExecutor(40) as pool:
            codes = list(pool.map(attack, enumerate(prepared)))
        assert codes.count(401) == users.FREE_FAILURES and codes.count(429) == 40 - users.FREE_FAILURES, codes
    with sessions.begin() as session:
        assert queries.login_failures(session, "maria", "127.0.0.1")[0] == users.FREE_FAILURES
        assert queries.login_failures(session, "maria", "192.0.2.1") is None  # the invented addresses were ignored


def test_a_login_form_from_another_site_is_refused(guarded):
    reply = requests.post(f"{guarded}/login", data={"username": "maria", "password": PASSWORD,
                                                    "csrf": "guess"}, allow_redirects=False)
    assert reply.status_code == 400


def test_the_cookie_is_secure_over_https_from_a_trusted_proxy_or_when_configured(sessions, monkeypatch):
    from dashboards.app import create_app

    monkeypatch.delenv("TRACKER_COOKIE_SECURE", raising=False)
    with sessions.begin() as session:
        users.add(session, "maria", "finance", PASSWORD, now=NOW)
    https = {"X-Forwarded-Proto": "https"}

    def cookie_of(app, headers):
        with serving(app.server) as base:
            reply = requests.get(f"{base}/login", headers=headers)
        return reply.headers["Set-Cookie"], reply.headers.get("Strict-Transport-Security")

    trusting = create_app(sessions, trusted_proxies=trusted_networks(["127.0.0.0/8"]))
    assert "; Secure" in cookie_of(trusting, https)[0] and cookie_of(trusting, https)[1] == "max-age=31536000"
    assert "Secure" not in cookie_of(trusting, {})[0] and cookie_of(trusting, {})[1] is None
    elsewhere = create_app(sessions, trusted_proxies=trusted_networks(["10.9.9.9"]))  # not this peer
    assert "Secure" not in cookie_of(elsewhere, https)[0] and cookie_of(elsewhere, https)[1] is None
    monkeypatch.setenv("TRACKER_COOKIE_SECURE", "1")
    assert "; Secure" in cookie_of(create_app(sessions), {})[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_a_public_address_needs_users_then_requires_login_on_its_host_names(tracker, monkeypatch, db_url):
    refused = tracker("serve", "--host", "0.0.0.0")
    assert refused.code == 2 and "refusing to serve on 0.0.0.0 without users" in refused.err
    add_user(tracker, monkeypatch, "maria", "admin")
    bad = tracker("serve", "--host", "0.0.0.0", "--trusted-proxy", "nginx")
    assert bad.code == 2 and "--trusted-proxy 'nginx' is not an IP address or network" in bad.err
    monkeypatch.setenv("TRACKER_SESSION_IDLE_MINUTES", "half an hour")
    bad = tracker("serve", "--host", "0.0.0.0")
    assert bad.code == 2 and "TRACKER_SESSION_IDLE_MINUTES='half an hour': give a whole number above 0" in bad.err
    port = free_port()
    env = {**os.environ, "TRACKER_SESSION_IDLE_MINUTES": "30", "TRACKER_ALLOWED_HOSTS": "intranet.example.org, [fd00::5]"}
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "--db", db_url, "serve", "--host", "0.0.0.0",
                             "--port", str(port), "--allowed-host", "tracker.example.org", "--trusted-proxy",
                             "127.0.0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = requests.get(f"http://127.0.0.1:{port}/", allow_redirects=False, timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
                time.sleep(0.3)
        assert reply.status_code == 302 and reply.headers["Location"].startswith("/login")
        for name in ("tracker.example.org", "intranet.example.org:8443", "[fd00::5]"):
            named = requests.get(f"http://127.0.0.1:{port}/", headers={"Host": name}, allow_redirects=False)
            assert named.status_code == 302, name
        other = requests.get(f"http://127.0.0.1:{port}/", headers={"Host": "evil.example"}, allow_redirects=False)
        assert other.status_code == 400 and "--allowed-host" in other.text
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert "TRACKER_SECRET_KEY is not set: cookies are signed with a key generated once and kept in the database" in out
    assert ("answering to the host names 127.0.0.1, [::1], [fd00::5], intranet.example.org, localhost, "
            "tracker.example.org") in out


def password_form(browser, base):
    page = browser.get(f"{base}/account/password", allow_redirects=False)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def change(browser, base, token, current=PASSWORD, new="a brand new password", confirm=None):
    return browser.post(f"{base}/account/password", allow_redirects=False,
                        data={"csrf": token, "current": current, "new": new,
                              "confirm": new if confirm is None else confirm})


def test_anyone_logged_in_changes_their_own_password_and_their_other_sessions_end(guarded, sessions):
    with sessions.begin() as session:
        users.add(session, "sam", "viewer", PASSWORD, now=NOW)
    assert requests.get(f"{guarded}/account/password", allow_redirects=False).headers["Location"] == \
        "/login?next=%2Faccount%2Fpassword"  # not without a login
    laptop, _ = log_in(guarded, "sam")
    phone, _ = log_in(guarded, "sam")
    maria, _ = log_in(guarded)
    layout = laptop.get(f"{guarded}/_dash-layout").json()  # linked from the account area
    assert re.search(r'"id": "change-password", "href": "/account/password"', json.dumps(layout))
    token = password_form(laptop, guarded)
    assert change(laptop, guarded, "guess").status_code == 400  # another site's form
    assert "differ" in change(laptop, guarded, token, confirm="something else entirely").text
    short = change(laptop, guarded, token, new="short")
    assert short.status_code == 400 and "at least 10 characters" in short.text
    wrong = change(laptop, guarded, token, current="not my password")
    assert wrong.status_code == 401 and "The current password is wrong." in wrong.text
    before = laptop.cookies["tracker_session"]
    done = change(laptop, guarded, token)
    assert done.status_code == 200, done.text
    assert "Your password was changed. 1 other session of sam ended; this one continues." in done.text
    assert laptop.get(f"{guarded}/", allow_redirects=False).status_code == 200  # this browser stays logged in
    assert replay(guarded, before) == 302  # with a new session: a copy of its old cookie is no good
    assert phone.get(f"{guarded}/", allow_redirects=False).status_code == 302  # the other session ended
    assert maria.get(f"{guarded}/", allow_redirects=False).status_code == 200  # other users are untouched
    assert log_in(guarded, "sam")[1].status_code == 401
    assert log_in(guarded, "sam", "a brand new password")[1].status_code == 302
    assert password_form(laptop, guarded) != token  # a new form token with the new session
    with sessions.begin() as session:
        assert queries.get_user(session, "maria").password_hash != queries.get_user(session, "sam").password_hash


def test_the_password_form_escapes_and_its_current_password_is_throttled_like_a_login(guarded, sessions):
    name = '<b>"x"</b>'
    with sessions.begin() as session:
        users.add(session, name, "viewer", PASSWORD, now=NOW)
    browser, reply = log_in(guarded, name)
    assert reply.status_code == 302
    page = browser.get(f"{guarded}/account/password").text
    assert "<b>" not in page and "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in page
    token = password_form(browser, guarded)
    for _ in range(users.FREE_FAILURES):
        assert change(browser, guarded, token, current="guess one two").status_code == 401
    held = change(browser, guarded, token)  # even the right password waits, and is not checked
    assert held.status_code == 429 and held.headers["Retry-After"] == "2"
    with sessions.begin() as session:
        assert users.authenticate(sessions, name, PASSWORD, remote="10.1.1.1", now=NOW).user is not None


def test_running_open_there_is_no_password_to_change(sessions):
    from dashboards.app import create_app

    with serving(create_app(sessions).server) as base:
        reply = requests.get(f"{base}/account/password", allow_redirects=False)
    assert reply.status_code == 404 and "No users are set up" in reply.text


@pytest.mark.browser
def test_in_chromium_the_overview_says_the_stretch_goal_and_the_password_is_changed_from_the_account_area(
        guarded, make_campaign, sessions, page):
    from playwright.sync_api import expect

    from tracker.manage import edit_campaign

    make_campaign()
    with sessions.begin() as session:
        edit_campaign(session, queries.get_campaign(session, "dec-2026"), actor="maria", force=False,
                      now=datetime(2026, 12, 28, 18, tzinfo=UTC), goal_cents=450_000_00)
    page.goto(guarded + "/login")
    page.fill("#username", "maria")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#goal-changes")).to_have_text("Goal raised to $450,000 on Dec 28.", timeout=30_000)
    page.click("#change-password")
    page.fill("#current", PASSWORD)
    page.fill("#new", "a brand new password")
    page.fill("#confirm", "a brand new password")
    page.click("#change-password-submit")
    expect(page.locator("#password-done")).to_contain_text("Your password was changed.")
    page.click("#back-to-dashboard")
    expect(page.locator("#account-name")).to_have_text("maria (finance)", timeout=30_000)
    assert page.errors == []
