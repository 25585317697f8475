"""Login for the dashboard: server-side sessions, the login and logout forms, the guard before every request.

- Login is required whenever the database has users, and always when the dashboard is served on an
  address other than loopback (`require_login=True`). With no users, on loopback, it runs open
  and says so on every page (dashboards/security.py then answers only to loopback host names).
- A login starts a session kept in the database (tracker.users): the cookie carries its random
  token, signed as Flask signs its session cookie with TRACKER_SECRET_KEY, else a key generated once
  and kept in the database (so restarts keep everyone logged in). Logout (a form with the CSRF
  token), a password change and removing the user end it; so do the idle and absolute lifetimes.
- The cookie: HttpOnly, SameSite=Lax, Secure when TRACKER_COOKIE_SECURE=1 or when the request came
  over HTTPS (directly, or from a trusted proxy saying X-Forwarded-Proto: https).
- Failed logins are throttled per (user name, client address) with growing delays (tracker.users);
  the client address is the peer's, or X-Forwarded-For's from a trusted proxy.
- After login the browser goes back only to a path on this site (`safe_next`), never elsewhere.
- Each request looks the session and its user up again, so an ended session, a removed user or a
  changed role takes effect at once. The role is kept on flask.g for the callbacks and download
  routes: `role()`, `can_see_donors()`.
- /account/password: any logged-in user changes their own password (the current one, the new one twice,
  the CSRF token; the current password is checked through the same throttle as a login). Every other
  session of that user ends; this browser continues in a new session (a new token and form token), so
  a copy of its cookie taken before the change ends too.
- Public: /api/* (aggregates only), /hooks/* (the processors' webhooks, checked by signature), /login, /healthz.
- Display links (tracker.displays): /display/TOKEN, for a live link, sets a cookie holding the token and
  opens the wall. With that cookie and no login, the wall (/wall/ and its callbacks) answers with viewer
  rights and every other path sends the browser back to the wall; the token is looked up on every
  request, so removing the link stops the screen at its next refresh. The cookie is renewed by every
  answer, so a screen that refreshes keeps it; it is signed with the same key, so restarts keep it.
- A Dash callback refused for want of a login answers 401 with X-Tracker-Ended: session or display, which
  assets/stale.js turns into the notice over the page.
"""

from __future__ import annotations

import html
import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from flask import Flask, g, has_request_context, redirect, request, session as cookie
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.orm import Session, sessionmaker

from dashboards.security import escaped_html, plain
from tracker import displays, queries, users

ENV_SECRET = "TRACKER_SECRET_KEY"
ENV_SECURE = "TRACKER_COOKIE_SECURE"
PUBLIC = ("/login", "/healthz", "/favicon.ico")
WALL = "/wall/"  # dashboards/wall.py; a display link opens it and nothing else
CALLBACKS = ("/_dash", WALL + "_dash")  # Dash's requests: answered 401, not a redirect, once a session ended
ENDED = "X-Tracker-Ended"  # on such a 401: "session" or "display" (assets/stale.js words its notice by it)
DISPLAY_ROLE = "viewer"
DONOR_LEVEL_ROLES = ("finance", "admin")
OPEN_ROLE = "admin"  # no users, on loopback: the person at this computer, who has the database anyway


def role() -> str | None:
    return getattr(g, "role", None) if has_request_context() else None


def username() -> str | None:
    return getattr(g, "user", None) if has_request_context() else None


def open_mode() -> bool:
    return getattr(g, "open", False) if has_request_context() else False


def can_see_donors() -> bool:
    """Donor-level data (donor ids per gift, names, e-mails, rejects): finance and admin only."""
    return role() in DONOR_LEVEL_ROLES


def csrf_token() -> str:
    """This browser's form token (kept in its signed cookie), made on first use; "" outside a request."""
    if not has_request_context():
        return ""
    token = cookie.get("csrf")
    if not token:
        token = cookie["csrf"] = secrets.token_urlsafe(24)
    return token


def _csrf_ok() -> bool:
    return secrets.compare_digest(request.form.get("csrf", ""), cookie.get("csrf") or "\0")


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site ("/", "/?x=1"), else "/".

    Refused: anything not starting with one "/" (//host, schemes), a backslash (browsers read it as
    "/"), and any space or control character (browsers drop tabs and newlines, so "/\\t/evil.example"
    would become "//evil.example")."""
    if not target or not target.startswith("/") or target.startswith("//") or len(target) > 2000:
        return "/"
    if any(ord(c) <= 0x20 or c in "\x7f\\" for c in target):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


class LoginRule:
    """Whether a login is needed now: always with `require_login=True`, never with False; with None,
    exactly when users exist (looked up again every few seconds, so a first user counts at once)."""

    def __init__(self, sessions: sessionmaker[Session], require_login: bool | None):
        self.sessions, self.fixed = sessions, require_login
        self.seen, self.at = None, 0.0

    def required(self) -> bool:
        if self.fixed is not None:
            return self.fixed
        if self.seen is None or time.monotonic() - self.at > 5:
            with self.sessions.begin() as s:
                self.seen, self.at = queries.user_count(s) > 0, time.monotonic()
        return self.seen


class _Cookies(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure when so configured or when this request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)


def install(server: Flask, sessions: sessionmaker[Session], clock: Callable[[], datetime], rule: LoginRule, *,
            secret_key: str | None = None, idle: timedelta = users.IDLE, absolute: timedelta = users.ABSOLUTE) -> None:
    """Guard every non-public request of `server`; sessions end after `idle` without a request or `absolute`
    after their login."""
    key = secret_key or os.environ.get(ENV_SECRET)
    if not key:
        with sessions.begin() as s:
            key = users.signing_key(s, now=clock())
    server.secret_key = key
    server.session_interface = _Cookies()
    server.config.update(SESSION_COOKIE_NAME="tracker_session", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=os.environ.get(ENV_SECURE) == "1",
                         PERMANENT_SESSION_LIFETIME=absolute)

    @server.before_request
    def guard():
        path = request.path
        if path.startswith(("/api/", "/hooks/", displays.PATH)) or path in PUBLIC:  # the webhooks check signatures instead
            return None
        if not rule.required():
            g.user, g.role, g.open = None, OPEN_ROLE, True
            return None
        g.open = False
        token, user = cookie.get("sid"), None
        if token:
            with sessions.begin() as s:
                found = users.session_user(s, token, now=clock(), idle=idle, absolute=absolute)
                user = (found.username, found.role) if found else None
        if user is None:
            for stale in ("sid", "user"):  # "user": the cookie of earlier versions, signed but never trusted now
                cookie.pop(stale, None)
            screen = _display(path)
            if screen is True:
                return None
            if screen is not None:
                return screen
            if path.startswith(CALLBACKS) or path.startswith("/download/"):
                return plain("Your session has ended; log in again.", 401, {ENDED: "session"})
            return redirect("/login?" + urlencode({"next": safe_next(path)}))
        g.user, g.role = user
        return None

    def _display(path: str):
        """With a live display link's cookie (no login): True to go on with viewer rights on the wall, or the answer
        (elsewhere: to the wall; a removed link's callbacks: 401); None without one (the login rules apply)."""
        token = cookie.get("display")
        if not token:
            return None
        with sessions.begin() as s:
            link = displays.check(s, token, now=clock())
            name = link.name if link else None
        if name is None:
            cookie.pop("display", None)
            if path.startswith(CALLBACKS):
                return plain("This display link was removed; log in to see the wall.", 401, {ENDED: "display"})
            return None
        if not path.startswith(WALL):
            return redirect(WALL)  # a display link opens the wall and nothing else
        g.user, g.role, g.display = None, DISPLAY_ROLE, name
        return True

    @server.get(displays.PATH + "<token>")
    def display_link(token: str):
        with sessions.begin() as s:
            link = displays.check(s, token, now=clock())
            if link is None:
                return plain("This display link is unknown or was removed; make a new one with "
                             "tracker display add NAME.", 404)
        cookie.clear()
        cookie.permanent = True  # renewed by every refresh of the wall, so a screen left on keeps it
        cookie["display"] = token
        return redirect(WALL)

    @server.get("/healthz")
    def healthz():
        return {"ok": True}

    @server.route("/login", methods=["GET", "POST"])
    def login():
        target = safe_next(request.values.get("next"))
        if request.method == "GET":
            return escaped_html(_page(target))
        if not _csrf_ok():
            return escaped_html(_page(target, "The form expired; please try again."), 400)
        result = users.authenticate(sessions, request.form.get("username", ""), request.form.get("password", ""),
                                    remote=request.remote_addr or "unknown", now=clock())
        if result.retry_after:
            wait = result.retry_after
            words = f"{wait} second{'s' * (wait != 1)}" if wait < 120 else f"{-(-wait // 60)} minutes"
            response = escaped_html(_page(target, f"Too many failed logins for this user name from your address. "
                                                  f"Try again in {words}."), 429)
            response.headers["Retry-After"] = str(wait)
            return response
        if result.user is None:
            return escaped_html(_page(target, "Wrong user name or password."), 401)
        with sessions.begin() as s:
            token = users.start_session(s, result.user, now=clock())
        cookie.clear()  # a new session, a new form token: nothing from before the login carries over
        cookie.permanent = True
        cookie["sid"] = token
        # made now, with the session, not when the page first asks: the page's requests run side by side,
        # and one sent with this cookie and answered later would write back a cookie without the token
        cookie["csrf"] = secrets.token_urlsafe(24)
        return redirect(target)

    @server.route("/account/password", methods=["GET", "POST"])
    def change_password():
        name = username()
        if not name:  # running open: there are no logins to change
            return plain("No users are set up, so there is no password to change (tracker user add NAME --role admin).",
                         404)
        if request.method == "GET":
            return escaped_html(_password_page(name))
        if not _csrf_ok():
            return escaped_html(_password_page(name, "The form expired; please try again."), 400)
        current, new = request.form.get("current", ""), request.form.get("new", "")
        if new != request.form.get("confirm", ""):
            return escaped_html(_password_page(name, "The new password and its repetition differ."), 400)
        if len(new) < users.MIN_PASSWORD:
            return escaped_html(_password_page(
                name, f"The new password must be at least {users.MIN_PASSWORD} characters long."), 400)
        result = users.authenticate(sessions, name, current, remote=request.remote_addr or "unknown", now=clock())
        if result.retry_after:
            response = escaped_html(_password_page(name, f"Too many wrong passwords for this user name from your "
                                                         f"address. Try again in {result.retry_after} seconds."), 429)
            response.headers["Retry-After"] = str(result.retry_after)
            return response
        if result.user is None:
            return escaped_html(_password_page(name, "The current password is wrong."), 401)
        with sessions.begin() as s:
            ended = users.set_password(s, name, new, now=clock())  # every session of the user, this one too
            token = users.start_session(s, queries.get_user(s, name), now=clock())
        cookie.clear()
        cookie.permanent = True
        cookie["sid"] = token
        cookie["csrf"] = secrets.token_urlsafe(24)
        others = max(0, ended - 1)
        return escaped_html(_password_page(name, done=f"Your password was changed. {others} other session"
                                                      f"{'s' * (others != 1)} of {name} ended; this one continues."))

    @server.post("/logout")
    def logout():
        if not _csrf_ok():
            return plain("The logout form expired; reload the page and log out again.", 400)
        with sessions.begin() as s:
            users.end_session(s, cookie.get("sid"), now=clock())
        cookie.clear()
        return redirect("/login")


FIELD_STYLE = "display:block;width:100%;font-size:18px;padding:8px;margin:4px 0 14px;box-sizing:border-box"


def _frame(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width,initial-scale=1"><title>{html.escape(title)}: Campaign tracker</title></head>'
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:18px;background:#f5f6f8">'
        '<main style="max-width:360px;margin:12vh auto;background:#fff;padding:28px;border-radius:8px;'
        f'box-shadow:0 1px 4px rgba(0,0,0,.15)">{body}</main></body></html>'
    )


def _password_page(name: str, error: str | None = None, done: str | None = None) -> str:
    """The "change my password" form (every value escaped), with an error, or the confirmation."""
    e = html.escape
    back = '<p><a href="/" id="back-to-dashboard">Back to the dashboard</a></p>'
    head = f'<h1 style="font-size:26px;margin:0 0 18px">Change the password of {e(name)}</h1>'
    if done:
        return _frame("Password changed", f'{head}<p role="status" id="password-done">{e(done)}</p>{back}')
    message = f'<p role="alert" id="password-error" style="color:#b00020">{e(error)}</p>' if error else ""
    fields = "".join(
        f'<label for="{key}">{label}</label><input id="{key}" name="{key}" type="password" '
        f'autocomplete="{auto}" required style="{FIELD_STYLE}"'
        + (f' minlength="{users.MIN_PASSWORD}"' if key != "current" else "") + ">"
        for key, label, auto in (("current", "Current password", "current-password"),
                                 ("new", f"New password (at least {users.MIN_PASSWORD} characters)", "new-password"),
                                 ("confirm", "New password again", "new-password")))
    return _frame("Change password", (
        f'{head}{message}<form method="post" action="/account/password">'
        f'<input type="hidden" name="csrf" value="{e(csrf_token())}">{fields}'
        '<button type="submit" id="change-password-submit" style="font-size:18px;padding:8px 20px;background:#0072B2;'
        f'color:#fff;border:0;border-radius:4px">Change password</button></form>{back}'))


def _page(target: str, error: str | None = None) -> str:
    token = csrf_token()
    e = html.escape
    message = f'<p role="alert" id="login-error" style="color:#b00020">{e(error)}</p>' if error else ""
    field = "display:block;width:100%;font-size:18px;padding:8px;margin:4px 0 14px;box-sizing:border-box"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        'content="width=device-width,initial-scale=1"><title>Log in: Campaign tracker</title></head>'
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:18px;background:#f5f6f8">'
        '<main style="max-width:360px;margin:12vh auto;background:#fff;padding:28px;border-radius:8px;'
        'box-shadow:0 1px 4px rgba(0,0,0,.15)"><h1 style="font-size:26px;margin:0 0 18px">Campaign tracker</h1>'
        f'{message}<form method="post" action="/login"><input type="hidden" name="csrf" value="{e(token)}">'
        f'<input type="hidden" name="next" value="{e(target)}">'
        f'<label for="username">User name</label><input id="username" name="username" autocomplete="username" '
        f'required autofocus style="{field}"><label for="password">Password</label><input id="password" '
        f'name="password" type="password" autocomplete="current-password" required style="{field}">'
        '<button type="submit" style="font-size:18px;padding:8px 20px;background:#0072B2;color:#fff;border:0;'
        'border-radius:4px">Log in</button></form></main></body></html>'
    )
