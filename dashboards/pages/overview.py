"""Overview page: raised of goal, gap, time left, and the cumulative curve against the goal line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import dash_mantine_components as dmc
from dash import dcc, html
from sqlalchemy.orm import Session

from dashboards import figures
from tracker import campaign as campaign_math, queries
from tracker.money import format_money

# component ids
CAMPAIGN = "campaign-select"
REFRESH = "refresh-interval"
CARDS = "kpi-cards"
PROGRESS = "goal-progress"
GRAPH = "cumulative-graph"
AS_OF = "as-of-text"
NOTICE = "notice"


@dataclass(frozen=True)
class Overview:
    """What the overview page shows for one campaign at one moment."""

    status: campaign_math.Status
    cumulative: list[tuple[date, int]]
    goal_line: list[tuple[date, int]]


def campaign_options(session: Session, now: datetime) -> tuple[list[dict], str | None]:
    """Dropdown options (newest first) and the campaign to show by default at `now`."""
    campaigns = queries.list_campaigns(session)
    chosen = campaign_math.default_campaign(campaigns, now)
    return [{"value": c.slug, "label": c.name} for c in campaigns], (chosen.slug if chosen else None)


def load(session: Session, slug: str, as_of: datetime) -> Overview:
    c = queries.get_campaign(session, slug)
    totals = queries.campaign_totals(session, c, as_of)
    daily = queries.daily_totals(session, c, as_of)
    return Overview(
        status=campaign_math.status(c, totals, as_of=as_of),
        cumulative=campaign_math.cumulative_by_day(c, daily, as_of=as_of),
        goal_line=campaign_math.goal_line(c),
    )


def _card(label: str, value: str, detail: str, testid: str) -> dmc.Paper:
    return dmc.Paper(
        [
            dmc.Text(label, size="lg", c="dimmed"),
            dmc.Text(value, fz=34, fw=700, id=f"kpi-{testid}"),
            dmc.Text(detail, size="md", c="dimmed"),
        ],
        p="md", withBorder=True, radius="md",
    )


def cards(view: Overview) -> list:
    st = view.status
    local_deadline = st.deadline.astimezone(st.tz)
    needed = (
        "campaign closed" if st.needed_per_day_cents is None
        else f"{format_money(st.needed_per_day_cents, st.currency, whole=True)} a day needed"
    )
    return [
        _card("Raised", format_money(st.raised_cents, st.currency),
              f"of {format_money(st.goal_cents, st.currency, whole=True)} goal", "raised"),
        _card("Of goal", f"{st.percent}%", f"{st.donations:,} gifts from {st.donors:,} donors", "percent"),
        _card("Gap", format_money(st.gap_cents, st.currency), needed, "gap"),
        _card("Time left", campaign_math.time_left_text(st.seconds_left),
              f"deadline {local_deadline:%b %d, %H:%M:%S %Z}", "time-left"),
    ]


def figure(view: Overview) -> dict:
    st = view.status
    return figures.cumulative_figure(
        view.cumulative, view.goal_line, st.goal_cents, f"{st.name}: raised by day against the goal"
    )


def layout(refresh_ms: int) -> dmc.Container:
    return dmc.Container(
        [
            dmc.Group(
                [
                    dmc.Title("Year-end campaign", order=1),
                    dmc.Select(id=CAMPAIGN, data=[], value=None, w=260, size="lg", allowDeselect=False,
                               label="Campaign", comboboxProps={"withinPortal": True}),
                ],
                justify="space-between", align="flex-end",
            ),
            dmc.Text(id=AS_OF, c="dimmed", size="md", mt="xs"),
            html.Div(id=NOTICE),
            dcc.Loading(
                [
                    dmc.SimpleGrid(id=CARDS, cols={"base": 1, "sm": 2, "lg": 4}, spacing="md", mt="md"),
                    dmc.Progress(id=PROGRESS, value=0, size=28, radius="md", mt="lg", color="#0072B2"),
                    dcc.Graph(id=GRAPH, config={"displaylogo": False}, style={"height": "520px"}),
                ],
                type="dot", delay_show=300,
            ),
            dcc.Interval(id=REFRESH, interval=refresh_ms),
        ],
        size="xl", py="lg",
    )
