"""`tracker serve` (the dashboard under waitress) and `tracker demo` (the demo newsroom, then the dashboard)."""

from __future__ import annotations

import ipaddress
import os
import threading
from datetime import datetime, timedelta

import click

from tracker import db, queries
from tracker.cli.context import Context, organization_currency, pass_ctx, read_as_of
from tracker.dates import isoformat_local, utc_now, zone
from tracker.errors import UsageError


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_bind(host: str, user_count: int) -> None:
    if not _is_loopback(host) and user_count == 0:
        raise UsageError(
            f"refusing to serve on {host} without users: the dashboard shows donor data; add a login first "
            "(tracker user add NAME --role admin), or use --host 127.0.0.1"
        )


def _duration(variable: str, default: timedelta, unit: timedelta) -> timedelta:
    """A positive whole number of `unit`s from the environment, else `default`; UsageError naming the variable."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) == 0:
        raise UsageError(f"{variable}={text!r}: give a whole number above 0")
    return int(text) * unit


def _serve(ctx: Context, host: str, port: int, as_of: str | None, threads: int, refresh_seconds: int = 60,
           allowed_hosts: tuple[str, ...] = (), trusted_proxies: tuple[str, ...] = (), *,
           pinned: datetime | None = None, pinned_label: str | None = None, demo_notice: bool = True) -> None:
    """Serve the dashboard; `pinned` (with `pinned_label`, shown on every page) pins it as --as-of does;
    without either, a demo database gets one line saying the moment the demo was built for."""
    from waitress.server import create_server

    from dashboards import security
    from dashboards.app import create_app
    from tracker import demo, users as users_lib

    from tracker.config import Webhooks

    names = security.allowed_names(allowed_hosts) | security.allowed_names(
        security.split_list(os.environ.get("TRACKER_ALLOWED_HOSTS")), "TRACKER_ALLOWED_HOSTS")
    proxies = security.trusted_networks(trusted_proxies) + security.trusted_networks(
        security.split_list(os.environ.get("TRACKER_TRUSTED_PROXIES")), "TRACKER_TRUSTED_PROXIES")
    idle = _duration("TRACKER_SESSION_IDLE_MINUTES", users_lib.IDLE, timedelta(minutes=1))
    absolute = _duration("TRACKER_SESSION_MAX_HOURS", users_lib.ABSOLUTE, timedelta(hours=1))
    with db.transaction(ctx.sessions()) as session:
        zones = queries.campaign_timezones(session)
        users = queries.user_count(session)
        currency = organization_currency(session)
        notice = demo.notice(session, "serve") if demo_notice and not as_of and pinned is None else None
    _check_bind(host, users)
    fixed = pinned or (read_as_of(as_of, zones.pop() if len(zones) == 1 else "UTC") if as_of else None)
    origins = tuple(o.strip() for o in os.environ.get("TRACKER_CORS_ORIGINS", "").split(",") if o.strip())
    loopback = _is_loopback(host)
    if not loopback and host not in ("0.0.0.0", "::", ""):
        names |= security.allowed_names([f"[{host}]" if ":" in host else host])  # the address it was told to serve on
    webhooks = Webhooks.from_env(ctx.config.webhooks)
    if webhooks.paypal_cert and not webhooks.paypal_cert.is_file():
        raise UsageError(f"the PayPal certificate {webhooks.paypal_cert} is not a file; download it once and point "
                         "TRACKER_PAYPAL_CERT at it")
    wake, stop = threading.Event(), threading.Event()
    app = create_app(ctx.sessions(), as_of=fixed, pinned_label=pinned_label, cors_origins=origins, require_login=None if loopback else True,
                     refresh_seconds=refresh_seconds, allowed_hosts=names, trusted_proxies=proxies,
                     session_idle=idle, session_max=absolute, webhooks=webhooks, wake=wake)
    if webhooks.configured:  # the serving process applies what it receives; `tracker webhooks process` can too
        from tracker.webhooks.worker import Worker

        worker = Worker(ctx.sessions(), currency=currency, clock=utc_now)
        threading.Thread(target=worker.serve, args=(stop, wake), kwargs={"log": lambda line: click.echo(line, err=True)},
                         name="webhook-worker", daemon=True).start()
    try:
        # waitress would drop every X-Forwarded-* header; the app itself keeps them from trusted proxies only
        # and drops the rest (dashboards/security.py), so that it behaves the same under any WSGI server
        server = create_server(app.server, host=host, port=port, threads=threads, clear_untrusted_proxy_headers=False)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another --port") from None
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"dashboard at http://{shown}:{server.effective_port}/  (Ctrl-C stops it)")
    if users == 0:
        click.echo("no users are set up: the dashboard is open to anyone on this computer "
                   "(tracker user add NAME --role admin turns login on)")
    else:
        if not os.environ.get("TRACKER_SECRET_KEY"):
            click.echo("TRACKER_SECRET_KEY is not set: cookies are signed with a key generated once and kept in the database")
        shown_names = ", ".join(f"[{n}]" if ":" in n else n for n in sorted(security.LOOPBACK_NAMES | names))
        click.echo(f"answering to the host names {shown_names} (more with --allowed-host NAME)")
    if fixed:
        click.echo(f"showing the campaigns as of {fixed.isoformat()}" + (f" ({pinned_label})" if pinned_label else ""))
    if notice:
        click.echo(notice)
    if webhooks.configured:
        click.echo(f"receiving webhooks from {' and '.join(webhooks.configured)} at /hooks/"
                   f"{'|'.join(webhooks.configured)} (gifts in {currency})")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        wake.set()
        server.close()
        click.echo("dashboard stopped")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8050, show_default=True, type=int, help="Port to listen on.")
@click.option("--as-of", "as_of", help="Show the campaigns as they stood at this moment instead of now.")
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads of the WSGI server.")
@click.option("--refresh", "refresh_seconds", default=60, show_default=True, type=click.IntRange(5, 3600),
              help="Seconds between the pages' automatic refreshes (each page can pause them).")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A host name the dashboard answers to besides localhost, 127.0.0.1 and [::1] (repeatable; "
                   "also TRACKER_ALLOWED_HOSTS, comma-separated). Others get 400. Only once logins exist.")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="ADDRESS",
              help="The address (or network) of a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are "
                   "believed (repeatable; also TRACKER_TRUSTED_PROXIES). From anyone else they are ignored.")
@pass_ctx
def serve_cmd(ctx: Context, host: str, port: int, as_of: str | None, threads: int, refresh_seconds: int,
              allowed_hosts: tuple[str, ...], trusted_proxies: tuple[str, ...]) -> None:
    """Serve the staff dashboard with a production WSGI server (waitress).

    Behind a TLS reverse proxy on the same machine: --trusted-proxy 127.0.0.1 and --allowed-host with
    the public name (see the README's Security section).

    Example: tracker serve --port 8050 --allowed-host tracker.example.org --trusted-proxy 127.0.0.1
    """
    _serve(ctx, host, port, as_of, threads, refresh_seconds, allowed_hosts, trusted_proxies)


@click.command("demo")
@click.option("--as-of", "as_of", metavar="T|now",
              help="Build and show the demo as of this moment (naive = the demo's zone), or `now` for the clock; "
                   "default: the demo's own moment, Dec 28, 12:00 of the current campaign (in full swing).")
@click.option("--no-serve", is_flag=True, help="Only build the demo database; do not serve the dashboard.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8050, show_default=True, type=int, help="Port to listen on.")
@pass_ctx
def demo_cmd(ctx: Context, as_of: str | None, no_serve: bool, host: str, port: int) -> None:
    """Build the demo newsroom (three earlier Decembers and the current one) and serve the dashboard.

    The demo has its own moment, whatever today is: Dec 28, 12:00 of the current campaign in the
    demo's zone, and the dashboard is pinned to it ("demo as of Dec 28, 12:00" on every page);
    --as-of T builds and pins another moment, --as-of now follows the clock. The data is the same
    every time for the same moment. Running it again rebuilds the demo; it refuses to touch a
    database that holds campaigns of your own.

    Example: tracker demo --as-of 2026-12-28T12:00 --no-serve
    """
    from tracker import demo

    db.upgrade(ctx.engine)
    moment, live = demo.resolve_moment(as_of, utc_now())
    with db.transaction(ctx.sessions()) as session:
        built = demo.build(session, now=moment)
    click.echo(
        f"demo built in {db.safe_url(ctx.url)}: {built.campaigns} campaigns, {built.donations:,} gifts "
        f"from {built.donors:,} donors, as of {isoformat_local(moment, zone(demo.TIMEZONE))}"
    )
    if built.hint:
        click.echo(built.hint)
    if no_serve:
        if not live:
            click.echo(f"to see it as built: tracker serve --as-of {demo.as_of_text(moment)}")
    elif live:
        _serve(ctx, host, port, None, threads=8, demo_notice=False)
    else:
        _serve(ctx, host, port, None, threads=8, pinned=moment, pinned_label=demo.label(moment))
