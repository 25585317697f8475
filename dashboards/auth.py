"""Login for the dashboard: a signed session cookie, checked before every request but the public ones.

- Login is required whenever the database has users, and always when the dashboard is served on an
  address other than loopback (`require_login=True`). With no users, on loopback, it runs open
  and says so on every page.
- The session cookie is signed with TRACKER_SECRET_KEY (else a random key: sessions then end when
  the server restarts). HttpOnly, SameSite=Lax, Secure when TRACKER_COOKIE_SECURE=1 (behind HTTPS).
- Each request looks the user up again, so a removed user or a changed role takes effect at once.
- The role is kept on flask.g for the callbacks and download routes: `role()`, `can_see_donors()`.
- Public: /api/* (aggregates only), /hooks/* (the processors' webhooks, checked by signature), /login, /healthz.
"""

from __future__ import annotations

import html
import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask, g, has_request_context, redirect, request, session as cookie
from sqlalchemy.orm import Session, sessionmaker

from tracker import queries, users

ENV_SECRET = "TRACKER_SECRET_KEY"
ENV_SECURE = "TRACKER_COOKIE_SECURE"
PUBLIC = ("/login", "/healthz", "/favicon.ico")
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


def install(server: Flask, sessions: sessionmaker[Session], clock: Callable[[], datetime], *,
            require_login: bool | None = None, secret_key: str | None = None) -> None:
    """Guard every non-public request of `server`. require_login None: exactly when users exist."""
    server.secret_key = secret_key or os.environ.get(ENV_SECRET) or secrets.token_hex(32)
    server.config.update(SESSION_COOKIE_NAME="tracker_session", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=os.environ.get(ENV_SECURE) == "1",
                         PERMANENT_SESSION_LIFETIME=timedelta(hours=12))
    seen = {"users": None, "at": 0.0}

    def login_required() -> bool:
        if require_login is not None:
            return require_login
        if seen["users"] is None or time.monotonic() - seen["at"] > 5:  # a new first user counts within seconds
            with sessions.begin() as s:
                seen["users"], seen["at"] = queries.user_count(s) > 0, time.monotonic()
        return seen["users"]

    @server.before_request
    def guard():
        path = request.path
        if path.startswith(("/api/", "/hooks/")) or path in PUBLIC:  # the webhooks check signatures instead
            return None
        if not login_required():
            g.user, g.role, g.open = None, OPEN_ROLE, True
            return None
        g.open = False
        name = cookie.get("user")
        user = None
        if name:
            with sessions.begin() as s:
                found = queries.get_user(s, name)
                user = (found.username, found.role) if found else None
        if user is None:
            cookie.pop("user", None)
            if path.startswith("/_dash") or path.startswith("/download/"):
                return "Your session has ended; log in again.", 401
            return redirect(f"/login?next={path if path.startswith('/') and not path.startswith('//') else '/'}")
        g.user, g.role = user
        return None

    @server.get("/healthz")
    def healthz():
        return {"ok": True}

    @server.route("/login", methods=["GET", "POST"])
    def login():
        target = request.values.get("next", "/")
        if not target.startswith("/") or target.startswith("//"):
            target = "/"
        if request.method == "GET":
            return _page(target)
        if not secrets.compare_digest(request.form.get("csrf", ""), cookie.get("csrf", "")):
            return _page(target, "The form expired; please try again."), 400
        with sessions.begin() as s:
            result = users.authenticate(s, request.form.get("username", ""), request.form.get("password", ""),
                                        remote=request.remote_addr or "unknown", now=clock())
            name = result.user.username if result.user else None
        if result.retry_after:
            minutes = -(-result.retry_after // 60)
            return _page(target, f"Too many failed logins. Try again in {minutes} minute{'s' * (minutes != 1)}."), 429
        if name is None:
            return _page(target, "Wrong user name or password."), 401
        cookie.clear()
        cookie.permanent = True
        cookie["user"] = name
        return redirect(target)

    @server.post("/logout")
    def logout():
        cookie.clear()
        return redirect("/login")


def _page(target: str, error: str | None = None) -> str:
    token = cookie.get("csrf") or secrets.token_urlsafe(24)
    cookie["csrf"] = token
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
