"""create_app(): the Dash app for development staff. `server` is the WSGI app for a production server.

Callbacks are thin: they read inputs, open one session, call tracker's functions and the page's
figure builder, and return. The clock is read here (or pinned with as_of), never below.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

import dash_mantine_components as dmc
from flask import Flask
from dash import ALL, Dash, Input, Output, State, ctx, no_update
from sqlalchemy.orm import Session, sessionmaker

from dashboards import api, auth, downloads
from dashboards.cache import CompressedAssets, PageCache, to_the_minute
from dashboards.pages import appeals, donors, finance, imports, overview, reports, users as users_page
from tracker import finance as finance_lib, users as users_lib
from tracker import queries, service
from tracker.appeals import live_values, render, report_json
from tracker.campaign import status_json
from tracker.dates import parse_as_of, utc_now, zone
from tracker.errors import TrackerError, UsageError, ValueProblem
from tracker.finance import DONOR_LEVEL_KINDS, PERSONAL_KINDS

EMPTY_GUIDANCE = (
    "There are no campaigns yet. Create one with `tracker campaign create --help`, import gifts with "
    "`tracker ingest donations FILE`, or try the demo with `tracker demo`."
)


def create_app(
    sessions: sessionmaker[Session],
    *,
    as_of: datetime | None = None,
    clock: Callable[[], datetime] = utc_now,
    refresh_seconds: int = 60,
    cors_origins: tuple[str, ...] = (),
    require_login: bool | None = None,
    secret_key: str | None = None,
) -> Dash:
    """The dashboard app reading through `sessions`; `as_of` pins the moment shown (else the clock).

    The same server answers the public /api endpoints (dashboards/api.py); `cors_origins` are the
    web origins allowed to call them from a browser ("*" for any). Login (dashboards/auth.py) is
    required when users exist, or always with `require_login=True`.
    """
    server = Flask(__name__)
    # compressed with Flask-Compress (zstd, brotli or gzip, as the browser accepts); the component
    # files once per process, at a level that brings a first visit under 2 MB (bench/dashboard.py)
    server.config.update(COMPRESS_ZSTD_LEVEL=9, COMPRESS_BR_LEVEL=9, COMPRESS_LEVEL=9,
                         COMPRESS_CACHE_BACKEND=CompressedAssets, COMPRESS_CACHE_KEY=CompressedAssets.key)
    app = Dash(__name__, server=server, title="Campaign tracker", update_title=None, serve_locally=True,
               compress=True, suppress_callback_exceptions=True)  # the Users tab exists for admins only
    app.layout = lambda: dmc.MantineProvider(overview.layout(
        refresh_seconds * 1000, auth.username(), auth.role(), auth.open_mode(), pinned=as_of,
        donor_level=auth.can_see_donors()))

    def moment() -> datetime:
        return as_of or to_the_minute(clock())

    def when(picked: str | None, tz) -> datetime:
        """The moment to show: the as-of picker's (read in the campaign's zone), never past the app's moment."""
        if not picked:
            return moment()
        try:
            return min(moment(), parse_as_of(picked, tz))
        except ValueProblem:
            return moment()

    def when_for(picked: str | None, slug: str) -> datetime:
        """when() for a campaign; its zone is looked up only when a moment was typed."""
        if not picked:
            return moment()
        with sessions.begin() as session:
            return when(picked, queries.get_campaign(session, slug).tz)

    cache = PageCache(sessions)
    app.server.extensions["tracker_page_cache"] = cache
    auth.install(app.server, sessions, clock, require_login=require_login, secret_key=secret_key)
    api.register(app.server, sessions, moment, cors_origins)
    downloads.register(app.server, sessions, moment, as_of is not None, clock)
    page = [Input(overview.CAMPAIGN, "value"), Input(overview.REFRESH, "n_intervals"),
            Input(overview.AS_OF_PICKER, "value")]

    @app.callback(
        Output(overview.CAMPAIGN, "data"),
        Output(overview.CAMPAIGN, "value"),
        Input(overview.REFRESH, "n_intervals"),
        State(overview.CAMPAIGN, "value"),
    )
    def fill_campaigns(_n, current):
        with sessions.begin() as session:
            options, default = overview.campaign_options(session, moment())
        slugs = {o["value"] for o in options}
        return options, (current if current in slugs else default)

    @app.callback(Output(overview.REFRESH, "disabled"), Input(overview.AUTO_REFRESH, "checked"))
    def pause(checked):
        return as_of is not None or not checked

    @app.callback(
        Output(overview.CARDS, "children"),
        Output(overview.PROGRESS, "children"),
        Output(overview.GRAPH, "figure"),
        Output(overview.CHANNELS, "figure"),
        Output(overview.AS_OF, "children"),
        Output(overview.NOTICE, "children"),
        Output(overview.SEGMENTS_BOX, "children"),
        *page,
    )
    def show(slug, _n, picked):
        if not slug:
            return ([], None, {"data": [], "layout": {}}, {"data": [], "layout": {}}, "",
                    dmc.Alert(EMPTY_GUIDANCE, title="Nothing to show yet", color="blue"), None)
        try:
            at = when_for(picked, slug)
            chosen = bool(picked) and at < moment()
            return cache.get(("overview", slug, at, chosen), lambda: overview_page(slug, at, chosen))
        except TrackerError as exc:
            return (no_update, no_update, no_update, no_update, no_update,
                    dmc.Alert(str(exc), title="Cannot show this campaign", color="red"), no_update)

    def overview_page(slug: str, at: datetime, chosen: bool) -> tuple:
        with sessions.begin() as session:
            view = overview.load(session, slug, at)
        st = view.status
        if chosen:
            how = " (chosen above; clear it to follow the clock)"
        elif as_of:
            how = " (pinned with --as-of)"
        else:
            how = f", refreshing every {refresh_seconds} s"
        label = f"As of {at.astimezone(st.tz):%A %b %d, %Y %H:%M %Z}{how}"
        return (overview.cards(view), overview.progress(st), overview.figure(view),
                overview.channels_figure(view), label, None, overview.segments_table(view))

    @app.callback(Output(donors.CONTENT, "children"), *page)
    def show_donors(slug, _n, picked):
        if not slug:
            return None
        def page_for(at: datetime):
            with sessions.begin() as session:
                c = queries.get_campaign(session, slug)
                st = service.campaign_status(session, c, as_of=at)
                end = min(c.ends_at, at + timedelta(microseconds=1))
                sizes = queries.gift_sizes(session, c, c.starts_at, end) if end > c.starts_at else \
                    [(low, 0, 0) for low in queries.GIFT_SIZES]
            return donors.content(st, sizes)

        try:
            at = when_for(picked, slug)
            return cache.get(("donors", slug, at), lambda: page_for(at))
        except TrackerError as exc:
            return dmc.Alert(str(exc), title="Cannot show the donors", color="red")

    @app.callback(Output(appeals.CONTENT, "children"), *page)
    def show_appeals(slug, _n, picked):
        if not slug:
            return None
        def page_for(at: datetime):
            with sessions.begin() as session:
                c = queries.get_campaign(session, slug)
                variants = queries.list_variants(session, c)
                if not variants:
                    return dmc.Alert("This campaign has no popup variants yet. Load them with "
                                     "`tracker appeals load FILE.toml --campaign " + slug + "`.", color="blue", mt="md")
                st = service.campaign_status(session, c, as_of=at)
                report = report_json(service.appeal_report(session, c, as_of=at), c.slug, status_json(st)["as_of"])
                values = live_values(st)
                rendered = {v.key: {f: render(getattr(v, f), values) for f in ("headline", "body", "button")}
                            for v in variants}
            return appeals.content(report, rendered)

        try:
            at = when_for(picked, slug)
            return cache.get(("appeals", slug, at), lambda: page_for(at))
        except TrackerError as exc:
            return dmc.Alert(str(exc), title="Cannot show the appeals", color="red")

    @app.callback(
        Output(finance.LINKS, "children"),
        Output(finance.SUMMARY, "children"),
        Input(overview.CAMPAIGN, "value"),
        Input(finance.KIND, "value"),
        Input(finance.RANGE, "value"),
        Input(finance.PERSONAL, "checked"),
        Input(overview.AS_OF_PICKER, "value"),
    )
    def show_finance(slug, kind, days, personal, picked):
        if not slug:
            return None, None
        first, last = (list(days or []) + [None, None])[:2]
        donor_level = auth.can_see_donors()
        if kind in DONOR_LEVEL_KINDS and not donor_level:
            kind = "daily"
        personal = bool(personal) and donor_level and kind in PERSONAL_KINDS
        def summary_for(w):
            with sessions.begin() as session:
                c = queries.get_campaign(session, slug)
                return finance.summary(finance_lib.reconciliation(session, c, w), c.currency, w.first, w.last)

        try:
            with sessions.begin() as session:
                c = queries.get_campaign(session, slug)
                at = when(picked, c.tz)
                w = finance_lib.window(c, first, last, at)
            summary = cache.get(("reconciliation", slug, w), lambda: summary_for(w))
        except TrackerError as exc:
            return dmc.Alert(str(exc), title="Cannot export this", color="red"), None
        stamp = None if not picked else at.astimezone(c.tz).strftime("%Y-%m-%dT%H:%M:%S")
        urls = [downloads.export_url(slug, kind, first=str(w.first), last=str(w.last), fmt=fmt, personal=personal,
                                     as_of=stamp) for fmt in ("csv", "xlsx")]
        return finance.links(*urls), summary

    @app.callback(Output(imports.CONTENT, "children"), Input(overview.CAMPAIGN, "value"),
                  Input(overview.REFRESH, "n_intervals"))
    def show_imports(slug, _n):
        with sessions.begin() as session:
            batches = queries.list_imports(session, 50)
            session.expunge_all()
            zones = queries.campaign_timezones(session)
            c = queries.get_campaign(session, slug) if slug else None
        tz = c.tz if c else zone(zones.pop() if len(zones) == 1 else "UTC")
        return imports.content(batches, tz, auth.can_see_donors())

    @app.callback(Output(reports.CONTENT, "children"), *page)
    def show_reports(slug, _n, picked):
        if not slug:
            return None
        def page_for(at: datetime):
            with sessions.begin() as session:
                c = queries.get_campaign(session, slug)
                rows = queries.list_runs(session, 50, c, before=at)
                session.expunge_all()
                return reports.content(rows, c.tz)

        try:
            at = when_for(picked, slug)
            # runs are not gift data: kept for the minute on the clock, like a live page
            return cache.get(("reports", slug, at, to_the_minute(clock())), lambda: page_for(at))
        except TrackerError as exc:
            return dmc.Alert(str(exc), title="Cannot show the reports", color="red")

    @app.callback(
        Output(users_page.LIST, "children"),
        Output(users_page.MESSAGE, "children"),
        Output(users_page.PASSWORD, "value"),
        Input(users_page.ADD, "n_clicks"),
        Input({"type": users_page.REMOVE, "name": ALL}, "n_clicks"),
        State(users_page.NAME, "value"),
        State(users_page.ROLE, "value"),
        State(users_page.PASSWORD, "value"),
        prevent_initial_call=False,
    )
    def manage_users(_add, _removes, name, role, password):
        if auth.role() != "admin" or auth.open_mode():
            return None, dmc.Alert("Only an admin may manage users.", color="red"), ""
        message = None
        trigger = ctx.triggered_id
        try:
            with sessions.begin() as session:
                if trigger == users_page.ADD and _add:
                    users_lib.add(session, name or "", role or "viewer", password or "", now=clock())
                    message = dmc.Alert(f"Added {name} ({role}).", color="green")
                elif isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
                    if trigger["name"] == auth.username():
                        raise UsageError("you cannot remove yourself; ask another admin")
                    users_lib.remove(session, trigger["name"])
                    message = dmc.Alert(f"Removed {trigger['name']}.", color="green")
        except TrackerError as exc:
            message = dmc.Alert(str(exc), color="red")
        with sessions.begin() as session:
            listed = queries.list_users(session)
            session.expunge_all()
        return users_page.listing(listed, auth.username()), message, ""

    return app
