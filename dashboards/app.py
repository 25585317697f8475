"""create_app(): the Dash app for development staff. `server` is the WSGI app for a production server.

Callbacks are thin: they read inputs, open one session, call tracker's functions and the page's
figure builder, and return. The clock is read here (or pinned with as_of), never below.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import dash_mantine_components as dmc
from dash import Dash, Input, Output, State, no_update
from sqlalchemy.orm import Session, sessionmaker

from dashboards import api, auth
from dashboards.pages import appeals, overview, reports
from tracker import queries, service
from tracker.appeals import live_values, render, report_json
from tracker.campaign import status_json
from tracker.dates import utc_now
from tracker.errors import TrackerError

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
    app = Dash(__name__, title="Campaign tracker", update_title=None, serve_locally=True)
    app.layout = lambda: dmc.MantineProvider(overview.layout(refresh_seconds * 1000, auth.username(), auth.role(),
                                                             auth.open_mode()))

    def moment() -> datetime:
        return as_of or clock()

    auth.install(app.server, sessions, clock, require_login=require_login, secret_key=secret_key)
    api.register(app.server, sessions, moment, cors_origins)

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

    @app.callback(
        Output(overview.CARDS, "children"),
        Output(overview.PROGRESS, "value"),
        Output(overview.GRAPH, "figure"),
        Output(overview.AS_OF, "children"),
        Output(overview.NOTICE, "children"),
        Output(overview.SEGMENTS_BOX, "children"),
        Input(overview.CAMPAIGN, "value"),
        Input(overview.REFRESH, "n_intervals"),
    )
    def show(slug, _n):
        if not slug:
            return [], 0, {"data": [], "layout": {}}, "", dmc.Alert(EMPTY_GUIDANCE, title="Nothing to show yet", color="blue"), None
        at = moment()
        try:
            with sessions.begin() as session:
                view = overview.load(session, slug, at)
        except TrackerError as exc:
            return (no_update, no_update, no_update, no_update,
                    dmc.Alert(str(exc), title="Cannot show this campaign", color="red"), no_update)
        st = view.status
        pinned = " (pinned with --as-of)" if as_of else f", refreshing every {refresh_seconds} s"
        when = f"As of {at.astimezone(st.tz):%A %b %d, %Y %H:%M %Z}{pinned}"
        return (overview.cards(view), min(100.0, float(st.percent)), overview.figure(view), when, None,
                overview.segments_table(view))

    @app.callback(
        Output(appeals.CONTENT, "children"),
        Input(overview.CAMPAIGN, "value"),
        Input(overview.REFRESH, "n_intervals"),
    )
    def show_appeals(slug, _n):
        if not slug:
            return None
        at = moment()
        try:
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
        except TrackerError as exc:
            return dmc.Alert(str(exc), title="Cannot show the appeals", color="red")
        return appeals.content(report, rendered)

    @app.callback(
        Output(reports.CONTENT, "children"),
        Input(overview.CAMPAIGN, "value"),
        Input(overview.REFRESH, "n_intervals"),
    )
    def show_reports(slug, _n):
        if not slug:
            return None
        try:
            with sessions.begin() as session:
                c = queries.get_campaign(session, slug)
                rows = queries.list_runs(session, 50, c, before=moment())
                session.expunge_all()
                return reports.content(rows, c.tz)
        except TrackerError as exc:
            return dmc.Alert(str(exc), title="Cannot show the reports", color="red")

    return app
