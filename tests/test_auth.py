"""Dashboard logins: `tracker user`, argon2id hashes, the login page and the guard in front of every
request, rate-limited failures, and `tracker serve` refusing a public address without users.
Over real HTTP against the production WSGI server, on SQLite and PostgreSQL."""

import io
import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
import requests

from conftest import serving
from tracker import db, queries, users
from tracker.dates import UTC

NOW = datetime(2026, 12, 28, 20, tzinfo=UTC)


def add_user(tracker, monkeypatch, name, role, password="correct horse battery"):
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


def test_authentication_is_rate_limited_per_user_name(sessions):
    with sessions.begin() as session:
        users.add(session, "maria", "finance", "correct horse battery", now=NOW)
    def attempt(password, at, remote="10.0.0.1"):
        with sessions.begin() as session:
            return users.authenticate(session, "maria", password, remote=remote, now=at)

    assert attempt("correct horse battery", NOW).user.username == "maria"
    for i in range(users.MAX_FAILURES_PER_USER):
        assert attempt("wrong", NOW + timedelta(seconds=i)).user is None
    locked = attempt("correct horse battery", NOW + timedelta(minutes=1), remote="10.0.0.2")
    assert locked.user is None and 13 * 60 < locked.retry_after <= 14 * 60  # even the right password waits
    assert attempt("correct horse battery", NOW + timedelta(minutes=15, seconds=1)).user is not None
    with sessions.begin() as session:  # an unknown name is refused like a wrong password
        assert users.authenticate(session, "nobody", "x", remote="10.0.0.3", now=NOW).user is None


@pytest.fixture
def guarded(sessions, engine):
    from dashboards.app import create_app

    with sessions.begin() as session:
        users.add(session, "maria", "finance", "correct horse battery", now=NOW)
    with serving(create_app(sessions, clock=lambda: datetime.now(UTC)).server) as base:
        yield base


def log_in(base, name="maria", password="correct horse battery"):
    browser = requests.Session()
    page = browser.get(f"{base}/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    reply = browser.post(f"{base}/login", data={"username": name, "password": password, "csrf": token, "next": "/"},
                         allow_redirects=False)
    return browser, reply


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
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert browser.get(f"{base}/").status_code == 200
    assert "maria (finance)" in browser.get(f"{base}/_dash-layout").text
    forged = requests.Session()
    forged.cookies.set("tracker_session", "eyJ1c2VyIjoibWFyaWEifQ.forged.signature")
    assert forged.get(f"{base}/", allow_redirects=False).status_code == 302
    assert browser.post(f"{base}/logout", allow_redirects=False).status_code == 302
    assert browser.get(f"{base}/", allow_redirects=False).status_code == 302


def test_a_removed_user_is_logged_out_at_the_next_request(guarded, sessions):
    browser, _ = log_in(guarded)
    assert browser.get(f"{guarded}/", allow_redirects=False).status_code == 200
    with sessions.begin() as session:
        users.remove(session, "maria")
    assert browser.get(f"{guarded}/", allow_redirects=False).status_code == 302


def test_failed_logins_over_http_are_refused_with_429_and_a_wait(guarded):
    for _ in range(users.MAX_FAILURES_PER_USER):
        assert log_in(guarded, password="wrong password")[1].status_code == 401
    browser, reply = log_in(guarded)
    assert reply.status_code == 429 and "Too many failed logins. Try again in 15 minutes." in reply.text


def test_a_login_form_from_another_site_is_refused(guarded):
    reply = requests.post(f"{guarded}/login", data={"username": "maria", "password": "correct horse battery",
                                                    "csrf": "guess"}, allow_redirects=False)
    assert reply.status_code == 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_a_public_address_needs_users_then_requires_login(tracker, monkeypatch, db_url):
    refused = tracker("serve", "--host", "0.0.0.0")
    assert refused.code == 2 and "refusing to serve on 0.0.0.0 without users" in refused.err
    add_user(tracker, monkeypatch, "maria", "admin")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tracker", "--db", db_url, "serve", "--host", "0.0.0.0",
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert "TRACKER_SECRET_KEY is not set" in out
