"""The dashboard server's HTTP hardening: security headers, the Host check, trusted proxies, safe error bodies.

- Headers on every response: a Content-Security-Policy (scripts from this server only, plus Dash's
  one inline start-up script by its hash, no eval; styles may be inline because React, Mantine and
  Plotly insert <style> elements as they run; images also from blob: for Plotly's "download as
  PNG"; no framing, no plugins, forms post only here), X-Content-Type-Options: nosniff,
  Referrer-Policy: no-referrer, X-Frame-Options: DENY, and Strict-Transport-Security on HTTPS.
  What the policy allows was measured in Chromium (tests/test_security.py), not guessed.
- Host: running open (no users, on loopback) the server answers only to loopback names
  (localhost, 127.0.0.1, [::1], any port), so a web page whose DNS name is rebound to 127.0.0.1 gets
  400, not the donors; with logins, also to the configured names (`tracker serve --allowed-host`,
  TRACKER_ALLOWED_HOSTS). /healthz answers any name (load balancers ask by address).
- Proxies: X-Forwarded-For and X-Forwarded-Proto are believed only from the configured trusted
  proxy addresses (Werkzeug's ProxyFix, one hop: the address nginx appended); from anyone else every
  X-Forwarded-* header is removed before the app sees the request.
- Errors: every error body is plain text (text/plain; charset=utf-8, with nosniff), or one line of
  JSON under /api/, Flask's and Werkzeug's own included; an HTML page with an error status only
  where it says its text is escaped (the login form).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker.errors import UsageError

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
ALWAYS_ANY_HOST = ("/healthz",)
FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT",
             "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")
HSTS = "max-age=31536000"
SCRIPT_HASHES = "TRACKER_CSP_SCRIPT_HASHES"  # server.config key: Dash's inline scripts, set by create_app


def content_security_policy(script_hashes: Sequence[str] = ()) -> str:
    """The dashboard's Content-Security-Policy, allowing the given inline scripts ('sha256-...') only."""
    return "; ".join((
        "default-src 'self'",
        " ".join(("script-src 'self'", *script_hashes)),
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def plain(message: str, status: int, headers: dict | None = None) -> Response:
    """An error (or any) answer as one paragraph of plain text: never read as HTML by a browser."""
    return Response(message.rstrip("\n") + "\n", status=status, headers=headers,
                    mimetype="text/plain")  # Werkzeug adds "; charset=utf-8"


def escaped_html(page: str, status: int = 200) -> Response:
    """An HTML page whose every piece of input was escaped with html.escape, allowed an error status."""
    response = Response(page, status=status, mimetype="text/html")
    response.escaped = True
    return response


def host_name(header: str | None) -> str | None:
    """The name in a Host header value, lower-cased, without port or IPv6 brackets; None when malformed."""
    header = (header or "").strip()
    if not header or any(c.isspace() or c in "/\\?#@" for c in header):
        return None
    try:
        parts = urlsplit("//" + header)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return None
    return parts.hostname or None


def allowed_names(values: Iterable[str], option: str = "--allowed-host") -> frozenset[str]:
    """Host names as configured (`tracker.example.org`, `[::1]`, `10.0.0.5:8050`): normalized as host_name
    does. UsageError naming `option` for one that is not a host name."""
    names = set()
    for value in values:
        name = host_name(value)
        if name is None:
            raise UsageError(f"{option} {value!r} is not a host name (e.g. tracker.example.org or 10.0.0.5)")
        names.add(name)
    return frozenset(names)


def trusted_networks(values: Iterable[str], option: str = "--trusted-proxy") -> tuple:
    """Proxy addresses or networks (`127.0.0.1`, `10.0.0.0/8`, `::1`); UsageError naming `option` for a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise UsageError(f"{option} {value!r} is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return tuple(networks)


def split_list(text: str | None) -> list[str]:
    """A comma- or space-separated environment variable as a list (empty entries dropped)."""
    return [part for part in (text or "").replace(",", " ").split() if part]


class TrustedProxies:
    """WSGI middleware: ProxyFix (X-Forwarded-For and -Proto, one hop) for requests whose peer address is
    a trusted proxy; for every other request the X-Forwarded-* headers are dropped."""

    def __init__(self, app, networks: Sequence):
        self.app, self.networks = app, tuple(networks)
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)

    def trusted(self, address: str | None) -> bool:
        try:
            ip = ipaddress.ip_address((address or "").split("%")[0])
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def __call__(self, environ, start_response):
        if self.networks and self.trusted(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        for key in FORWARDED:
            environ.pop(key, None)
        return self.app(environ, start_response)


def install(server: Flask, *, open_mode: Callable[[], bool], allowed_hosts: Iterable[str] = (),
            trusted_proxies: Sequence = ()) -> None:
    """Add the headers, the Host check, the proxy rule and plain error bodies to `server`. Call before
    the login guard is installed, so the Host is checked first. `open_mode()`: no login needed now."""
    configured = LOOPBACK_NAMES | frozenset(allowed_hosts)
    server.wsgi_app = TrustedProxies(server.wsgi_app, trusted_proxies)
    server.config.setdefault(SCRIPT_HASHES, ())

    @server.before_request
    def check_host():
        if request.path in ALWAYS_ANY_HOST:
            return None
        name = host_name(request.headers.get("Host"))
        if open_mode():
            if name in LOOPBACK_NAMES:
                return None
            return plain("Running open (no users), this dashboard answers only to localhost, 127.0.0.1 and [::1]. "
                         "To serve it under another name, add a login (tracker user add NAME --role admin) and "
                         "the name (tracker serve --allowed-host NAME).", 400)
        if name in configured:
            return None
        return plain("This dashboard does not answer to that host name; its administrator can add it with "
                     "tracker serve --allowed-host NAME (or TRACKER_ALLOWED_HOSTS).", 400)

    @server.errorhandler(HTTPException)
    def plain_error(exc: HTTPException):
        if exc.code is None:
            return exc
        if request.path.startswith("/api/"):
            response = jsonify({"error": exc.name.lower()})
            response.status_code = exc.code
            return response
        return plain(f"{exc.code} {exc.name}: {exc.description}", exc.code)

    @server.after_request
    def headers(response: Response) -> Response:
        h = response.headers
        h["Content-Security-Policy"] = content_security_policy(server.config[SCRIPT_HASHES])
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "no-referrer"
        h["X-Frame-Options"] = "DENY"
        if request.is_secure:
            h["Strict-Transport-Security"] = HSTS
        if response.status_code >= 400 and response.mimetype == "text/html" and not getattr(response, "escaped", False):
            response.mimetype = "text/plain"  # a body someone else wrote (Dash, a library): never run it as HTML
        return response


def allow_scripts(server: Flask, hashes: Sequence[str]) -> None:
    """Let the policy run these inline scripts ('sha256-...', from Dash.csp_hashes()) and no others."""
    server.config[SCRIPT_HASHES] = tuple(hashes)
