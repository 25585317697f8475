"""Donors page: new, retained and reactivated donors, the donor goals, LYBUNT, gift sizes, recurring
vs one-time. Aggregates only: every role may see it, and no name, e-mail or donor id is sent.

`show` is the page's callback as a plain function; its data comes from tracker.service.donors_view."""

from __future__ import annotations

from datetime import datetime

import dash_mantine_components as dmc
from dash import dcc, html
from sqlalchemy.orm import Session

from dashboards import figures
from tracker import queries, service
from tracker.live import Live
from tracker.money import format_money
from tracker.service import DonorsView

CONTENT = "donors-content"
TAB = "donors"
GOAL_NAMES = {"new_donors": "New donors", "donors": "Donors"}


def band_label(low: int, high: int | None, currency: str) -> str:
    lo = format_money(low, currency, whole=True)
    return f"{lo}+" if high is None else f"{lo}–{format_money(high - 100, currency, whole=True)}"


def show(session: Session, slug: str, at: datetime, live: Live | None = None) -> html.Div:
    """The page for campaign `slug` at `at` (`live`: the figures the dashboard keeps between reads)."""
    return content(service.donors_view(session, queries.get_campaign(session, slug), as_of=at, live=live))


def content(view: DonorsView) -> html.Div:
    st, sizes = view.status, view.sizes
    money = lambda cents: format_money(cents, st.currency)  # noqa: E731
    seg = st.segments
    rows = [("New (first gift ever)", seg.new), ("Retained (gave in the 12 months before)", seg.retained),
            ("Reactivated (came back after a gap)", seg.reactivated)]
    segment_table = dmc.Table(data={"head": ["Donors this campaign", "Donors", "Raised"],
                                    "body": [[label, f"{s.donors:,}", money(s.cents)] for label, s in rows]},
                              id="donors-segments", striped=True, fz="lg")
    goals = [dmc.Paper([
        dmc.Text(f"{GOAL_NAMES.get(g.name, g.name)} goal", size="lg", c="dimmed"),
        dmc.Text(f"{g.count:,} of {g.goal:,} ({g.percent}%)", fw=700, className="kpi-value"),
        dmc.Progress(value=min(100.0, float(g.percent)), size=20, color="#009E73", mt="xs"),
        dmc.Text("reached" if g.gap == 0 else (f"{g.gap:,} to go" + (
            f", {g.needed_per_day:,} a day" if g.needed_per_day else "")), size="md", c="dimmed", mt="xs"),
    ], p="md", withBorder=True, radius="md", id=f"goal-{g.name}") for g in st.goals]
    lybunt = dmc.Paper([
        dmc.Text(f"Gave in {seg.lybunt_campaign}, not yet this time (LYBUNT)", size="lg", c="dimmed"),
        dmc.Text(f"{seg.lybunt.donors:,} donors", fw=700, className="kpi-value"),
        dmc.Text(f"who gave {money(seg.lybunt.cents)} last time", size="md", c="dimmed"),
    ], p="md", withBorder=True, radius="md", id="donors-lybunt") if seg.lybunt_campaign else None
    recurring = dmc.Table(data={"head": ["Gifts", "Count", "Raised"], "body": [
        ["Recurring installments", f"{seg.recurring.donors:,}", money(seg.recurring.cents)],
        ["One-time gifts", f"{seg.one_time.donors:,}", money(seg.one_time.cents)]]},
        id="donors-recurring", striped=True, fz="lg")
    bands = [(band_label(low, sizes[i + 1][0] if i + 1 < len(sizes) else None, st.currency), n, cents)
             for i, (low, n, cents) in enumerate(sizes)]
    return html.Div([
        dmc.SimpleGrid([*goals, *([lybunt] if lybunt else [])], cols={"base": 1, "sm": 2, "lg": 3}, mt="md"),
        dmc.SimpleGrid([html.Div(segment_table, className="table-scroll"), html.Div(recurring, className="table-scroll")], cols={"base": 1, "lg": 2}, mt="lg"),
        dcc.Graph(id="gift-sizes-graph", figure=figures.gift_sizes_figure(bands, f"{st.name}: gifts by size"),
                  config={"displaylogo": False}, style={"height": "420px"}),
    ])
