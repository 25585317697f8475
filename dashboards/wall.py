"""The wall: one screen for a lobby or a newsroom TV, at /wall/. No controls; type sized to the viewport
(the raised figure is readable at 5 metres on a 55" 4K screen); aggregates only, never a donor's name.

It is a Dash app of its own on the dashboard's Flask server (its callbacks under /wall/_dash-*), so
it has its own small layout while sharing the login guard, the security headers and the page cache.
It shows: raised (whole units), the goal bar counting past 100%, the gap, the time left (hours and
minutes in the last 48 hours), last year at this moment, the last hour's gifts, and the money raised
in each of the last 48 hours. A display link (tracker.displays) opens it on a screen with no login.
`show` is its callback as a plain function.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

import dash_mantine_components as dmc
from dash import ClientsideFunction, Dash, Input, Output, dcc, html
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from dashboards.cache import PageCache
from tracker import campaign as campaign_math, queries
from tracker.errors import TrackerError
from tracker.live import Live
from tracker.money import format_money
from tracker.wall import HOURS, WallView, time_left_text, wall_view

PREFIX = "/wall/"
LOCATION = "wall-location"
REFRESH = "wall-refresh"
TITLE = "wall-title"
RAISED = "wall-raised"
BAR = "wall-bar"
TILES = "wall-tiles"
CHART = "wall-chart"
CHART_TITLE = "wall-chart-title"
CHART_DATA = "wall-chart-data"  # the figure as the server makes it; assets/wall.js sizes its type to the screen
AS_OF = "wall-as-of"
IMPORT_NOTE = "wall-import-note"
BLUE, GREEN, GREY = "#0072B2", "#009E73", "#7f7f7f"


def pick(session: Session, search: str | None, now: datetime):
    """The campaign named by ?campaign=SLUG, else the one a person most likely wants at `now`; None without any."""
    slug = (parse_qs((search or "").lstrip("?")).get("campaign") or [None])[0]
    if slug:
        return queries.get_campaign(session, slug)
    return campaign_math.default_campaign(queries.list_campaigns(session), now)


def bar(st: campaign_math.Status) -> html.Div:
    """The goal bar: up to 100% the goal's part; past it the goal's part, then what is over it (widths only are float)."""
    pct = float(st.percent)
    if pct <= 100:
        parts = [html.Div(className="wall-bar-part", style={"width": f"{pct:.3f}%", "background": BLUE})]
        label = f"{st.percent}% of the {format_money(st.goal_cents, st.currency, whole=True)} goal"
    else:
        goal_part = 100 * 100 / pct
        parts = [html.Div(className="wall-bar-part", style={"width": f"{goal_part:.3f}%", "background": BLUE}),
                 html.Div(className="wall-bar-part", style={"width": f"{100 - goal_part:.3f}%", "background": GREEN})]
        label = (f"Goal of {format_money(st.goal_cents, st.currency, whole=True)} reached: {st.percent}% "
                 f"(+{st.percent - 100}% over)")
    counting = campaign_math.GOAL_COUNTS_TEXT.get(st.goal_counts, "")
    if counting:  # the bar counts the match: it says so
        label += f", {counting}"
    return html.Div([html.Div(parts, className="wall-bar-track"),
                     html.Div(label, className="wall-bar-label", id="wall-bar-label")])


def unit_parts(text: str) -> list[str]:
    """"3 days 12 hours" as ["3 days", "12 hours"]: the places a time may wrap (between its units, never inside one)."""
    words = text.split()
    if len(words) < 2 or not words[0].isdigit():
        return [text]
    return [" ".join(words[i:i + 2]) for i in range(0, len(words), 2)]


def _tile(label: str, value: str, detail: str, key: str, parts: bool = False) -> html.Div:
    shown = value
    if parts:  # each unit kept whole ("3 days" / "12 hours" at worst), the long ones in a smaller size
        pieces = unit_parts(value)
        shown = [x for i, p in enumerate(pieces) for x in ([" "] if i else []) + [html.Span(p, className="wall-nowrap")]]
    long = " wall-tile-value-long" if parts and len(value) > 10 else ""
    return html.Div([html.Div(label, className="wall-tile-label"),
                     html.Div(shown, className="wall-tile-value" + long, id=f"wall-{key}"),
                     html.Div(detail, className="wall-tile-detail")], className="wall-tile")


def tiles(view: WallView) -> list:
    st, cur = view.status, view.status.currency
    pace = st.pace_needed
    needed = "campaign closed" if pace is None else \
        f"{format_money(pace[0], cur, whole=True)} a{'n' if pace[1] == 'hour' else ''} {pace[1]} needed"
    deadline = st.deadline.astimezone(st.tz)
    if view.last_year is None:
        then, then_detail = "-", "no earlier campaign"
    else:
        c = view.last_year
        ahead = "ahead" if c.difference_cents >= 0 else "behind"
        then = format_money(c.cents_then, cur, whole=True)
        then_detail = f"{c.slug}; now {format_money(abs(c.difference_cents), cur, whole=True)} {ahead}"
    n = view.last_hour_gifts
    return [
        _tile("Gap", format_money(st.gap_cents, cur, whole=True), needed, "gap"),
        _tile("Time left", time_left_text(st.seconds_left), f"ends {deadline:%b %d, %H:%M %Z}", "time-left",
              parts=True),
        _tile("Last year at this moment", then, then_detail, "last-year"),
        _tile("Last hour", f"{n:,} gift{'s' * (n != 1)}", format_money(view.last_hour_cents, cur, whole=True),
              "last-hour"),
    ]


def chart(view: WallView) -> dict:
    """Money raised in each of the last 48 hours (campaign time), the unfinished hour last."""
    tz, cur = view.status.tz, view.status.currency
    x = [h.astimezone(tz).replace(tzinfo=None).isoformat() for h, _, _ in view.hours]
    return {
        "data": [{"type": "bar", "x": x, "y": [c / 100 for _, c, _ in view.hours], "marker": {"color": BLUE},
                  "customdata": [n for _, _, n in view.hours],
                  "hovertemplate": "%{x|%b %d %H:00}: %{y:,.0f} " + cur + ", %{customdata} gifts<extra></extra>"}],
        "layout": {
            "font": {"size": 18}, "margin": {"l": 70, "r": 20, "t": 16, "b": 50},
            "xaxis": {"tickformat": "%H:00\n%b %d", "type": "date"},
            "yaxis": {"tickprefix": "$" if cur == "USD" else "", "tickformat": ",.0f", "rangemode": "tozero",
                      "automargin": True, **({} if any(c for _, c, _ in view.hours) else {"range": [0, 100]})},
            "bargap": 0.15, "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def show(session: Session, search: str | None, at: datetime, how: str = "", live: Live | None = None) -> tuple:
    """(title, raised, bar, tiles, chart, as-of line) for the campaign of `search` at `at` (the chart's hours are
    the campaign's, named in the as-of line's zone; `live`: the figures kept between reads, tracker.live)."""
    c = pick(session, search, at)
    if c is None:
        empty = {"data": [], "layout": {}}
        return "No campaign yet", "-", None, [], empty, "Create one with tracker campaign create."
    view = wall_view(session, c, as_of=at, live=live)
    st = view.status
    return (st.name, format_money(st.raised_cents, st.currency, whole=True), bar(st), tiles(view), chart(view),
            f"As of {at.astimezone(st.tz):%b %d %H:%M %Z}{how}")


def import_note(tz, since: datetime) -> str:
    """While an import runs: the figures shown are those computed at `since` (campaign time)."""
    return f"Import in progress — figures as of {since.astimezone(tz):%H:%M}"


def show_with_zone(session: Session, search: str | None, at: datetime, how: str = "",
                   live: Live | None = None) -> tuple:
    """(`show`'s parts, the campaign's zone or None without a campaign)."""
    c = pick(session, search, at)
    return show(session, search, at, how, live), (c.tz if c is not None else None)


def layout(refresh_ms: int, pinned: bool, pinned_label: str | None = None) -> html.Div:
    """The wall's frame; `pinned_label` ("demo as of Dec 28, 12:00") is shown beside the title, as on every page."""
    return dmc.MantineProvider(html.Main([
        dcc.Location(id=LOCATION),
        html.Div([html.H1(id=TITLE, className="wall-title"),
                  *([html.Div(pinned_label, id="pinned-label", className="wall-pinned")] if pinned_label else [])],
                 className="wall-head"),
        html.Div(id=RAISED, className="wall-raised"),
        html.Div(id=BAR, className="wall-bar"),
        html.Div(id=TILES, className="wall-tiles"),
        html.H2(f"Raised each hour, the last {HOURS} hours", id=CHART_TITLE, className="wall-chart-title"),
        dcc.Graph(id=CHART, className="wall-chart", config={"displayModeBar": False, "responsive": True},
                  style={"height": "27vh", "width": "100%"}),
        html.Div(id=AS_OF, className="wall-as-of"),
        dcc.Store(id=CHART_DATA),
        dcc.Interval(id=REFRESH, interval=refresh_ms, disabled=pinned),
    ], className="wall"))


def register(server: Flask, sessions: sessionmaker[Session], now: Callable[[], datetime], cache: PageCache, *,
             refresh_seconds: int, pinned: bool, live: Live | None = None, pinned_label: str | None = None) -> Dash:
    """The wall's Dash app on `server`, at PREFIX; its callback reads the moment from `now()`; `pinned_label`
    names a pinned moment beside the title (the demo's "demo as of ...")."""
    app = Dash("dashboards.wall", server=server, url_base_pathname=PREFIX, title="Wall: Campaign tracker",
               update_title=None, serve_locally=True, compress=False)
    app.layout = layout(refresh_seconds * 1000, pinned, pinned_label)
    how = " (pinned)" if pinned else f", refreshing every {refresh_seconds} s"

    @server.get(PREFIX.rstrip("/"))
    def wall_without_slash():
        from flask import redirect, request
        return redirect(PREFIX + (f"?{request.query_string.decode()}" if request.query_string else ""))

    @app.callback(Output(TITLE, "children"), Output(RAISED, "children"), Output(BAR, "children"),
                  Output(TILES, "children"), Output(CHART_DATA, "data"), Output(AS_OF, "children"),
                  Input(LOCATION, "search"), Input(REFRESH, "n_intervals"))
    def refresh(search, _n):
        at = now()
        try:
            (shown, tz), since = cache.lookup(("wall", search or "", at),
                                              lambda: _read(sessions, show_with_zone, search, at, how, live),
                                              family=("wall", search or ""))
            if since is not None and tz is not None:
                shown = (*shown[:5], html.Span([shown[5], html.Br(), html.Span(import_note(tz, since),
                                                                               id=IMPORT_NOTE)]))
            return shown
        except TrackerError as exc:
            return "Cannot show the wall", "-", None, [html.Div(str(exc), className="wall-error")], \
                {"data": [], "layout": {}}, ""

    app.clientside_callback(ClientsideFunction("wall", "sized"), Output(CHART, "figure"), Input(CHART_DATA, "data"))
    return app


def _read(sessions, fn, *args):
    with sessions.begin() as session:
        return fn(session, *args)
