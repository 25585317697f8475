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

from dashboards.pages import overview
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
) -> Dash:
    """The dashboard app reading through `sessions`; `as_of` pins the moment shown (else the clock)."""
    app = Dash(__name__, title="Campaign tracker", update_title=None, serve_locally=True)
    app.layout = lambda: dmc.MantineProvider(overview.layout(refresh_seconds * 1000))

    def moment() -> datetime:
        return as_of or clock()

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

    return app
