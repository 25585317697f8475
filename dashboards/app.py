"""create_app(): the Dash app for development staff. `server` is the WSGI app for a production server.

This module builds the app and registers the pages' callbacks; nothing else. Each callback is a
plain function in its page module (dashboards/pages/), taking a session, the page's inputs and
the moment to show; here it is given one session, the moment (the clock is read here, or pinned
with as_of), the viewer's role, the page cache, and an inline alert for a TrackerError.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

import dash_mantine_components as dmc
from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from dashboards import api, auth, downloads, gifts, hooks, security, shell, wall
from dashboards.cache import CompressedAssets, PageCache, to_the_minute
from dashboards.pages import appeals, donors, finance, imports, overview, reports, users
from tracker import queries, users as users_lib
from tracker.config import Webhooks
from tracker.dates import parse_as_of, utc_now
from tracker.errors import TrackerError, ValueProblem
from tracker.live import Live


FRESHNESS = "data-freshness"


class Moments:
    """The moment a page shows: the clock to the minute (or the pinned --as-of), or the moment typed in
    the as-of box (read in the campaign's zone), never later than the clock's."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime], pinned: datetime | None):
        self.sessions, self.clock, self.pinned = sessions, clock, pinned

    def now(self) -> datetime:
        return self.pinned or to_the_minute(self.clock())

    def of(self, picked: str | None, slug: str) -> tuple[datetime, bool]:
        """(the moment, whether one was chosen in the box and is before now); the campaign's zone is looked up
        only when a moment was typed."""
        now = self.now()
        if not picked:
            return now, False
        with self.sessions.begin() as session:
            tz = queries.get_campaign(session, slug).tz
        try:
            at = min(now, parse_as_of(picked, tz))
        except ValueProblem:
            return now, False
        return at, at < now

    def message(self, picked: str | None, slug: str | None) -> tuple[str, str]:
        """What the as-of box says about `picked` for campaign `slug` (shell.as_of_message)."""
        if not slug or not (picked or "").strip():
            return "", "dimmed"
        with self.sessions.begin() as session:
            tz = queries.get_campaign(session, slug).tz
        return shell.as_of_message(picked, tz, self.now())


def create_app(
    sessions: sessionmaker[Session],
    *,
    as_of: datetime | None = None,
    pinned_label: str | None = None,
    clock: Callable[[], datetime] = utc_now,
    refresh_seconds: int = 60,
    cors_origins: tuple[str, ...] = (),
    require_login: bool | None = None,
    secret_key: str | None = None,
    allowed_hosts: Iterable[str] = (),
    trusted_proxies: Sequence = (),
    session_idle: timedelta = users_lib.IDLE,
    session_max: timedelta = users_lib.ABSOLUTE,
    webhooks: Webhooks | None = None,
    wake: threading.Event | None = None,
) -> Dash:
    """The dashboard app reading through `sessions`; `as_of` pins the moment shown (else the clock), and
    `pinned_label` names it in every page's header ("demo as of Dec 28, 12:00").

    The same server answers the public /api endpoints (dashboards/api.py); `cors_origins` are the
    web origins allowed to call them from a browser ("*" for any). Login (dashboards/auth.py) is
    required when users exist, or always with `require_login=True`; sessions end after
    `session_idle` without a request or `session_max` after the login. The server answers to
    loopback host names, and with logins also to `allowed_hosts` (normalized names, see
    security.allowed_names); X-Forwarded-For/-Proto are believed from `trusted_proxies` (networks) only. `webhooks` says how the
    processors' deliveries to /hooks/* are checked (dashboards/hooks.py); `wake` is set when one is stored.
    """
    server = Flask(__name__)
    # compressed with Flask-Compress (zstd, brotli or gzip, as the browser accepts); the component
    # files once per process, at a level that brings a first visit under 2 MB (bench/dashboard.py)
    server.config.update(COMPRESS_ZSTD_LEVEL=9, COMPRESS_BR_LEVEL=9, COMPRESS_LEVEL=9,
                         COMPRESS_CACHE_BACKEND=CompressedAssets, COMPRESS_CACHE_KEY=CompressedAssets.key)
    app = Dash(__name__, server=server, title="Campaign tracker", update_title=None, serve_locally=True,
               compress=True, suppress_callback_exceptions=True)  # the Users tab exists for admins only
    app.layout = lambda: dmc.MantineProvider(shell.layout(
        refresh_seconds * 1000, auth.username(), auth.role(), auth.open_mode(), pinned=as_of,
        pinned_label=pinned_label,
        donor_level=auth.can_see_donors(), csrf=auth.csrf_token() if auth.username() else ""))
    moments = Moments(sessions, clock, as_of)
    cache = PageCache(sessions, clock=clock)
    live = Live()  # the campaign figures kept between reads, brought up to date from what changed
    app.server.extensions["tracker_page_cache"] = cache
    rule = auth.LoginRule(sessions, require_login)
    security.install(app.server, open_mode=lambda: not rule.required(), allowed_hosts=allowed_hosts,
                     trusted_proxies=trusted_proxies)  # first: the Host is checked before anything else
    auth.install(app.server, sessions, clock, rule, secret_key=secret_key, idle=session_idle, absolute=session_max)
    api.register(app.server, sessions, moments.now, cors_origins, cache)
    downloads.register(app.server, sessions, moments.now, as_of is not None, clock)
    gifts.register(app.server, sessions, clock)
    hooks.register(app.server, sessions, clock, webhooks or Webhooks(), wake)
    page = [Input(shell.CAMPAIGN, "value"), Input(shell.REFRESH, "n_intervals"), Input(shell.AS_OF_PICKER, "value")]

    def read(fn, *args, **options):
        with sessions.begin() as session:
            return fn(session, *args, **options)

    def cached_page(name: str, fn, failed: Callable[[TrackerError], object], empty=None, every_minute=False):
        """A callback of (campaign, refresh, as-of box) showing `fn(session, slug, at)`, kept until the data
        changes (and, with `every_minute`, for the clock's minute: runs are not gift data)."""
        def callback(slug, _n, picked):
            if not slug:
                return empty
            try:
                at, chosen = moments.of(picked, slug)
                key = (name, slug, at) + ((to_the_minute(clock()),) if every_minute else ())
                return cache.get(key, lambda: read(fn, slug, at), family=(name, slug, at if chosen else None))
            except TrackerError as exc:
                return failed(exc)
        return callback

    def alert(title: str):
        return lambda exc: dmc.Alert(str(exc), title=title, color="red")

    @app.callback(Output(shell.CAMPAIGN, "data"), Output(shell.CAMPAIGN, "value"),
                  Input(shell.REFRESH, "n_intervals"), State(shell.CAMPAIGN, "value"))
    def fill_campaigns(_n, current):
        options, default = read(overview.campaign_options, moments.now())
        return options, (current if current in {o["value"] for o in options} else default)

    @app.callback(Output(shell.AS_OF_MESSAGE, "children"), Output(shell.AS_OF_MESSAGE, "c"),
                  Input(shell.AS_OF_PICKER, "value"), Input(shell.CAMPAIGN, "value"))
    def check_as_of(picked, slug):
        try:
            return moments.message(picked, slug)
        except TrackerError as exc:
            return str(exc), "red"

    @app.callback(Output(shell.REFRESH, "disabled"), Input(shell.AUTO_REFRESH, "checked"))
    def pause(checked):
        return as_of is not None or not checked

    @app.callback(
        Output(overview.CARDS, "children"), Output(overview.PROGRESS, "children"), Output(overview.GRAPH, "figure"),
        Output(overview.CHANNELS, "figure"), Output(shell.AS_OF, "children"), Output(shell.NOTICE, "children"),
        Output(overview.SEGMENTS_BOX, "children"), *page,
    )
    def show_overview(slug, _n, picked):
        if not slug:
            return ([], None, {"data": [], "layout": {}}, {"data": [], "layout": {}}, "",
                    dmc.Alert(shell.EMPTY_GUIDANCE, title="Nothing to show yet", color="blue"), None)
        try:
            at, chosen = moments.of(picked, slug)
            if chosen:
                how = " (chosen above; clear it to follow the clock)"
            elif as_of:
                how = " (pinned)" if pinned_label else " (pinned with --as-of)"
            else:
                how = f", refreshing every {refresh_seconds} s"
            (shown, tz), since = cache.lookup(("overview", slug, at, chosen),
                                              lambda: read(overview.show_with_zone, slug, at, how, live),
                                              family=("overview", slug, at if chosen else None, chosen))
            source = read(overview.freshness_line, clock())  # outside the cache: it moves every second
            note = [] if since is None else [html.Br(), html.Span(overview.import_note(tz, since),
                                                                  id=overview.IMPORT_NOTE)]
            return (*shown[:4], html.Span([shown[4], *note, html.Br(), html.Span(source, id=FRESHNESS)]), *shown[5:])
        except TrackerError as exc:
            return (no_update,) * 5 + (dmc.Alert(str(exc), title="Cannot show this campaign", color="red"), no_update)

    @app.callback(Output(overview.LAST48, "children"), *page)
    def show_last_48_hours(slug, _n, picked):
        if not slug:
            return None
        donor_level = auth.can_see_donors()  # names in the latest gifts, and the largest gifts: finance and admin
        try:
            at, chosen = moments.of(picked, slug)
            return cache.get(("last48", slug, at, donor_level),
                             lambda: read(overview.last_48_hours, slug, at, donor_level, live),
                             family=("last48", slug, at if chosen else None, donor_level))
        except TrackerError as exc:
            return dmc.Alert(str(exc), title="Cannot show the last 48 hours", color="red")

    app.callback(Output(donors.CONTENT, "children"), *page)(
        cached_page("donors", lambda session, slug, at: donors.show(session, slug, at, live),
                    alert("Cannot show the donors")))
    app.callback(Output(appeals.CONTENT, "children"), *page)(
        cached_page("appeals", appeals.show, alert("Cannot show the appeals")))
    app.callback(Output(reports.CONTENT, "children"), *page)(
        cached_page("reports", reports.show, alert("Cannot show the reports"), every_minute=True))

    @app.callback(
        Output(finance.LINKS, "children"), Output(finance.SUMMARY, "children"),
        Input(shell.CAMPAIGN, "value"), Input(finance.KIND, "value"), Input(finance.RANGE, "value"),
        Input(finance.PERSONAL, "checked"), Input(shell.AS_OF_PICKER, "value"),
    )
    def show_finance(slug, kind, days, personal, picked):
        if not slug:
            return None, None
        donor_level = auth.can_see_donors()
        try:
            at, _ = moments.of(picked, slug)
            key = ("finance", slug, kind, tuple(days or ()), bool(personal), at, donor_level, bool(picked))
            return cache.get(key, lambda: read(finance.show, slug, kind, days, personal, at,
                                               donor_level=donor_level, chosen=bool(picked)))
        except TrackerError as exc:
            return dmc.Alert(str(exc), title="Cannot export this", color="red"), None

    @app.callback(Output(imports.CONTENT, "children"), Input(shell.CAMPAIGN, "value"),
                  Input(shell.REFRESH, "n_intervals"))
    def show_imports(slug, _n):
        return read(imports.show, slug, auth.can_see_donors())

    @app.callback(
        Output(users.LIST, "children"), Output(users.MESSAGE, "children"), Output(users.PASSWORD, "value"),
        Input(users.ADD, "n_clicks"), Input({"type": users.REMOVE, "name": ALL}, "n_clicks"),
        State(users.NAME, "value"), State(users.ROLE, "value"), State(users.PASSWORD, "value"),
        prevent_initial_call=False,
    )
    def manage_users(added, _removes, name, role, password):
        trigger, action = ctx.triggered_id, None
        if trigger == users.ADD and added:
            action = ("add",)
        elif isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
            action = ("remove", trigger["name"])
        return read(users.manage, action, name, role, password, me=auth.username(),
                    admin=auth.role() == "admin" and not auth.open_mode(), now=clock())

    screen = wall.register(app.server, sessions, moments.now, cache, refresh_seconds=refresh_seconds,
                           pinned=as_of is not None, live=live, pinned_label=pinned_label)
    # Dash's inline start-up scripts (the dashboard's and the wall's), by their hashes
    security.allow_scripts(app.server, [*app.csp_hashes(), *screen.csp_hashes()])
    return app
