"""Overview page: raised of goal, gap, time left, pace, the projection with its track record, donor
segments, and the cumulative curve against the straight line and the typical curve of earlier years.

`show` is the page's callback as a plain function: (session, campaign slug, moment) in, the
page's parts out; its data comes from tracker.service.overview."""

from __future__ import annotations

from datetime import datetime

import dash_mantine_components as dmc
from dash import dcc, html
from sqlalchemy.orm import Session

from dashboards import figures
from dashboards.cache import IMPORT_EVERY
from tracker import campaign as campaign_math, pledges as pledge_reads, queries, service
from tracker.live import Live
from tracker.money import format_money
from tracker.wording import count, verb
from tracker.service import Overview

TAB = "overview"
CARDS = "kpi-cards"
PROGRESS = "goal-progress"
GRAPH = "cumulative-graph"
SEGMENTS = "donor-segments"
SEGMENTS_BOX = "donor-segments-box"
NOTES = "campaign-notes"
CHANNELS = "channels-graph"
LAST48 = "last-48-hours"
HOURLY = "hourly-graph"
TICKER = "recent-gifts"
LARGEST = "largest-gifts"
RECENT_FACTS = "recent-facts"
IMPORT_NOTE = "import-note"
IMPORT_SECONDS = int(IMPORT_EVERY)


def campaign_options(session: Session, now: datetime) -> tuple[list[dict], str | None]:
    """Dropdown options (newest first) and the campaign to show by default at `now`."""
    campaigns = queries.list_campaigns(session)
    chosen = campaign_math.default_campaign(campaigns, now)
    return [{"value": c.slug, "label": c.name} for c in campaigns], (chosen.slug if chosen else None)


def show(session: Session, slug: str, at: datetime, how: str = "", live: Live | None = None) -> tuple:
    """The page for campaign `slug` at `at`: (cards, goal bar, cumulative figure, channels figure,
    the as-of line, a notice (none), the segments table). `how` ends the as-of line: how the moment was chosen;
    `live`: the figures the dashboard keeps between reads (tracker.live)."""
    view = service.overview(session, queries.get_campaign(session, slug), as_of=at, live=live)
    st = view.status
    label = f"As of {at.astimezone(st.tz):%A %b %d, %Y %H:%M %Z}{how}"
    return cards(view), [progress(st), *goal_changes(st), *books(st)], figure(view), channels_figure(view), label, None, \
        segments_table(view)


def show_with_zone(session: Session, slug: str, at: datetime, how: str = "", live: Live | None = None) -> tuple:
    """(`show`'s parts, the campaign's zone): the zone tells the time of the figures while an import runs."""
    return show(session, slug, at, how, live), queries.get_campaign(session, slug).tz


def import_note(tz, since: datetime) -> str:
    """What the as-of line adds while an import runs: the figures shown are those computed at `since`."""
    return (f"Import in progress — figures as of {since.astimezone(tz):%H:%M}, brought up to date every "
            f"{IMPORT_SECONDS} s until it ends")


def ago(seconds: float) -> str:
    """A time ago for people: 40 s, 12 min, 3 h, 2 days."""
    seconds = max(0, int(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h"
    return f"{seconds // 86_400} days"


PROVIDER_NAMES = {"stripe": "Stripe webhook", "paypal": "PayPal webhook"}


def freshness_line(session: Session, now: datetime) -> str:
    """Where the numbers come from: "last gift received 40 s ago (Stripe webhook) · last file import 3 h ago"."""
    found = service.freshness(session, as_of=now)
    parts = []
    if found.received:
        provider, at = max(found.received.items(), key=lambda kv: kv[1])
        parts.append(f"last gift received {ago((now - at).total_seconds())} ago ({PROVIDER_NAMES.get(provider, provider)})")
    parts.append("no file imported yet" if found.imported is None else
                 f"last file import {ago((now - found.imported).total_seconds())} ago")
    return " · ".join(parts)


def _card(label: str, value: str, detail: str, testid: str) -> dmc.Paper:
    return dmc.Paper(
        [
            dmc.Text(label, c="dimmed", className="kpi-label"),
            dmc.Text(value, fw=700, id=f"kpi-{testid}", className="kpi-value"),
            dmc.Text(detail, c="dimmed", className="kpi-detail"),
        ],
        withBorder=True, radius="md", className="kpi-card",
    )


def progress(st: campaign_math.Status) -> dmc.ProgressRoot:
    """Raised against the goal; past 100% the bar keeps counting: the goal's part, then what is over it.
    (Floats only for the widths of the bar's sections; the labels are the exact percentage.)"""
    pct = float(st.percent)

    def section(value: float, color: str, label: str) -> dmc.ProgressSection:
        return dmc.ProgressSection(dmc.ProgressLabel(label, fz="md") if value >= 8 else None, value=value, color=color)

    if pct <= 100:
        sections = [section(pct, "#0072B2", f"{st.percent}%")]
    else:
        goal_part = 100 * 100 / pct
        sections = [section(goal_part, "#0072B2", f"goal reached: {st.percent}%"),
                    section(100 - goal_part, "#009E73", f"+{st.percent - 100}% over")]
    return dmc.ProgressRoot(sections, size=32, radius="md", id="goal-progress-bar")


GOAL_CHANGES = "goal-changes"


def goal_changes(st: campaign_math.Status) -> list:
    """Under the goal bar, the campaign's edits: "Goal raised to $450,000 on Dec 29 · last day moved to ..."
    (none: nothing)."""
    if not st.changes:
        return []
    words = [campaign_math.change_text(c, st.tz, st.currency) for c in st.changes]
    text = " · ".join(words)
    return [dmc.Text(text[:1].upper() + text[1:] + ".", id=GOAL_CHANGES, size="md", c="dimmed", mt=6)]


BOOKS = "books-closed"


def books(st: campaign_math.Status) -> list:
    """Under the goal bar, when finance has closed the campaign's month: "Books closed on Jan 15 at $414,015.50;
    adjustments since: −$500.00" (raised stays the close's figure)."""
    if st.books is None:
        return []
    text = campaign_math.books_line(st.books, st.tz, st.currency)
    return [dmc.Text("Books " + text + ".", id=BOOKS, size="md", c="dimmed", mt=6)]


def cards(view: Overview) -> list:
    st = view.status
    cur = st.currency
    local_deadline = st.deadline.astimezone(st.tz)
    pace = st.pace_needed
    needed = "campaign closed" if pace is None else f"{format_money(pace[0], cur, whole=True)} a{'n' if pace[1] == 'hour' else ''} {pace[1]} needed"
    p = st.projection
    if p is None or p.expected_cents is None:
        projected, range_text, chance, chance_text = "-", p.basis if p else "", "-", "not enough to go on yet"
    else:
        projected = format_money(p.expected_cents, cur, whole=True)
        range_text = (f"80% range {format_money(p.low_cents, cur, whole=True)} to "
                      f"{format_money(p.high_cents, cur, whole=True)}, {p.basis}")
        chance, chance_text = f"{p.chance_of_goal:.0%}", "chance of reaching the goal"
    track, track_text = track_record(st)
    typical = {"behind": "behind the typical curve", "on": "on the typical curve",
               "ahead": "ahead of the typical curve"}.get(st.typical_position or "", "no typical curve yet")
    basis = "gross of fees, net of refunds" if st.raised_basis == "gross" else "net of fees and refunds"
    counting = campaign_math.GOAL_COUNTS_TEXT.get(st.goal_counts, "")
    of_goal = f"{st.donations:,} gifts from {st.donors:,} donors" + (f"; {counting}" if counting else "")
    return [
        _card("Raised", format_money(st.raised_cents, cur),
              f"of {format_money(st.goal_cents, cur, whole=True)} goal; {basis}", "raised"),
        _card("Gap", format_money(st.gap_cents, cur), needed, "gap"),
        _card("Time left", campaign_math.time_left_text(st.seconds_left),
              f"deadline {local_deadline:%b %d, %H:%M:%S %Z}", "time-left"),
        _card("Committed, not yet received", format_money(st.committed.cents, cur), committed_detail(st),
              "committed"),
        _card("Of goal", f"{st.percent}%", of_goal, "percent"),
        *match_cards(st),
        _card("Projected final", projected, range_text, "projected"),
        _card("Chance of goal", chance, chance_text, "chance"),
        _card("Last 24 hours", format_money(st.last_24_hours_cents, cur),
              f"{format_money(st.last_7_days_cents, cur, whole=True)} in 7 days; {typical}", "pace"),
        _card("Track record", track, track_text, "track-record"),
        _card("Vs last year at this hour", *versus(st), "versus"),
    ]


def committed_detail(st: campaign_math.Status) -> str:
    """Under the committed figure: how many pledges, when their money is expected, how many are overdue; never in
    raised."""
    c = st.committed
    if not c.pledges:
        return "no pledges awaiting their money; pledged money is never in raised"
    return campaign_math.committed_line(c, st.currency, amount=False) + "; not in raised"


COMMITTED = "committed-pledges"


def committed_table(rows, c, cur: str, donor_level: bool) -> html.Div:
    """The open pledges, soonest expected first: expected day, amount, kind, overdue; the donor's name only at
    `donor_level` (finance and admin)."""
    head = ["Expected", "Amount", "Kind", "State"] + (["Donor"] if donor_level else [])
    body = [[p.expected_at.isoformat() if p.expected_at else "no date", format_money(p.amount_cents, p.currency),
             campaign_math.KIND_NAMES.get(p.kind, p.kind), p.state, *([p.name or p.email or ""] if donor_level else [])]
            for p in rows]
    caption = "Committed, not yet received" + (f": {campaign_math.committed_line(c, cur)}" if c.pledges else "")
    return html.Div([dmc.Text(caption, fw=700, size="lg", mt="md"),
                     html.Div(dmc.Table(data={"head": head, "body": body}, id=COMMITTED, striped=True, fz="md"),
                              className="table-scroll")
                     if body else dmc.Text("No pledges awaiting their money.", c="dimmed", id=COMMITTED)])
def match_cards(st: campaign_math.Status) -> list:
    """With match pools: what their gifts earned (received, pending, raised with match) and what they can still
    match (each pool's part); none without pools."""
    if not st.match.pools:
        return []
    cur, m = st.currency, st.match
    pools = "; ".join(p.pool.name + (" exhausted" if p.remaining_cents == 0 else
                                     f" {format_money(p.remaining_cents, cur)} left") for p in m.pools)
    return [
        _card("Match earned", format_money(m.earned_cents, cur),
              f"{format_money(m.received_cents, cur)} received, {format_money(m.pending_cents, cur)} pending; raised "
              f"with match {format_money(st.raised_with_match_cents, cur)}", "match-earned"),
        _card("Match remaining", format_money(m.remaining_cents, cur), pools, "match-remaining"),
    ]


def versus(st: campaign_math.Status) -> tuple[str, str]:
    """The "vs last year at this hour" card: the difference in money and percent against the latest earlier
    campaign at the same campaign hour."""
    v = campaign_math.versus_last_year(st)
    if v is None:
        return "-", "no earlier campaign to compare with yet"
    sign = "+" if v.difference_cents >= 0 else "−"
    pct = "" if v.percent is None else f" ({sign}{abs(v.percent):.1f}%)"
    return (f"{sign}{format_money(abs(v.difference_cents), st.currency, whole=True)}{pct}",
            f"{v.slug} had {format_money(v.cents_then, st.currency, whole=True)} at this hour")


def track_record(st: campaign_math.Status) -> tuple[str, str]:
    """The track-record card: the backtest error of the projection as it is made today (this campaign day's
    weights), not an average over other days."""
    p = st.projection
    if p is None or p.track_error is None or p.day is None:
        return "-", "no earlier campaign to replay yet"
    n = p.track_campaigns
    return (f"{p.track_error:.1f}% error",
            f"how far the projection at the end of campaign day {p.day} was from the final, "
            f"replaying {n} earlier campaign{'s' if n != 1 else ''}")


def notes(view: Overview) -> list[str]:
    """One-line facts under the chart: the phase, donor goals, December's share of the year, late gifts,
    undecided duplicates."""
    st = view.status
    out = [f"Phase: {st.phase.replace('_', ' ')}."]
    for g in st.goals:
        need = "" if g.needed_per_day is None else f", {g.needed_per_day:,} a day needed"
        out.append(f"Goal of {g.goal:,} {g.name.replace('_', ' ')}: {g.count:,} so far ({g.percent}%){need}.")
    if st.fiscal and st.fiscal.share is not None:
        earlier = ", ".join(f"{slug} {share:.1%}" for slug, share in st.fiscal.earlier if share is not None)
        out.append(f"This campaign is {st.fiscal.share:.1%} of fiscal year {st.fiscal.year_starts:%Y-%m-%d} to "
                   f"{st.fiscal.year_ends:%Y-%m-%d} so far" + (f" (earlier: {earlier})." if earlier else "."))
    if st.phase == "closed":
        out.append(f"{format_money(st.late_cents, st.currency)} in {st.late_gifts:,} gifts was imported after the deadline "
                   "(donated in time, so it counts).")
    if st.duplicate_pairs:
        n = st.duplicate_pairs
        out.append(f"{count(n, 'likely duplicate pair')} {verb(n, 'awaits', 'await')} a decision (Imports tab): raised "
                   f"counts {format_money(st.duplicate_cents, st.currency)} twice if "
                   f"{verb(n, 'the pair is', 'each pair is')} one gift.")
    return out


def segments_table(view: Overview) -> dmc.Table:
    """Donor counts and amounts by segment: aggregates only, no names or e-mails."""
    st = view.status
    seg = st.segments
    rows = [
        ("New donors", seg.new.donors, seg.new.cents),
        ("Retained (gave in the 12 months before)", seg.retained.donors, seg.retained.cents),
        ("Reactivated (came back after a gap)", seg.reactivated.donors, seg.reactivated.cents),
    ]
    if seg.lybunt_campaign:
        rows.append((f"Gave in {seg.lybunt_campaign}, not yet this time (amount then)", seg.lybunt.donors,
                     seg.lybunt.cents))
    retention = [] if seg.retention is None else [dmc.Text(
        f"Retention: {seg.retention}% of {seg.lybunt_campaign}'s {seg.lybunt_of:,} donors gave again "
        f"({seg.lybunt_of - seg.lybunt.donors:,}); {seg.lybunt.donors:,} not yet (LYBUNT).",
        id="donor-retention", size="md", mt="xs")]
    return html.Div([
        html.Div(dmc.Table(
            data={"head": ["Donors", "Count", "Amount"],
                  "body": [[label, f"{n:,}", format_money(c, st.currency)] for label, n, c in rows]},
            id=SEGMENTS, striped=True, fz="md", mt="md",
        ), className="table-scroll"),
        *retention,
        html.Div([dmc.Text(line, size="md", c="dimmed") for line in notes(view)], id=NOTES, className="notes"),
    ])


def figure(view: Overview) -> dict:
    st = view.status
    return figures.cumulative_figure(
        view.cumulative, view.goal_line, st.goal_cents, f"{st.name}: raised by day against the goal",
        typical_line=view.typical_line, earlier=view.earlier,
    )


def channels_figure(view: Overview) -> dict:
    return figures.channel_days_figure(view.channel_days, f"{view.status.name}: raised each day, by channel")


def layout() -> list:
    """The page's frame; `show` fills it."""
    return [
        dmc.SimpleGrid(id=CARDS, cols={"base": 1, "sm": 2, "lg": 4}, spacing="md", mt="md", className="kpi-cards"),
        html.Div(id=PROGRESS, style={"marginTop": "20px"}),
        dcc.Graph(id=GRAPH, config={"displaylogo": False}, responsive=True, className="chart chart-tall"),
        html.Div(id=LAST48),
        dcc.Graph(id=CHANNELS, config={"displaylogo": False}, responsive=True, className="chart"),
        html.Div(id=SEGMENTS_BOX),
    ]


def last_48_hours(session: Session, slug: str, at: datetime, donor_level: bool = False,
                  live: Live | None = None) -> list:
    """The last 48 hours at `at`: the hourly chart against the same campaign hours of earlier years, the last
    hour's gifts and donors, first-time donors today, new recurring donors, the latest gifts (time, amount,
    channel; the donor's name only at `donor_level`: finance and admin) and, at `donor_level` only, the largest
    gifts of the campaign."""
    c = queries.get_campaign(session, slug)
    r = service.recent(session, c, as_of=at, personal=donor_level, live=live)
    tz, cur = c.tz, c.currency
    h = r.hourly
    hours = [x.astimezone(tz).replace(tzinfo=None).isoformat(timespec="minutes") for x in h.hours]
    graph = dcc.Graph(id=HOURLY, figure=figures.hourly_figure(hours, h.cents, h.earlier,
                                                              f"{c.name}: the last 48 hours, hour by hour"),
                      config={"displaylogo": False}, responsive=True, className="chart")
    facts = [
        f"Last hour: {format_money(r.last_hour_cents, cur)} from {count(r.last_hour_gifts, 'gift')} by "
        f"{count(r.last_hour_donors, 'donor')}.",
        f"First-time donors today: {r.first_time_today:,}.",
        f"New recurring donors this campaign: {r.new_recurring_donors:,}, adding "
        f"{format_money(r.new_recurring_monthly_cents, cur)} a month.",
    ]
    if r.versus is not None:
        facts.insert(0, r.versus.text(cur) + ".")

    def table(rows, testid: str, caption: str, when: str = "%a %H:%M") -> html.Div:
        head = ["Time", "Amount", "Channel"] + (["Donor"] if donor_level else [])
        body = [[at_.astimezone(tz).strftime(when), format_money(cents, cur), ch or "(none)", *rest]
                for at_, cents, ch, *rest in rows]
        return html.Div([dmc.Text(caption, fw=700, size="lg", mt="md"),
                         html.Div(dmc.Table(data={"head": head, "body": body}, id=testid, striped=True, fz="md"),
                                  className="table-scroll")
                         if body else dmc.Text("No gifts yet.", c="dimmed", id=testid)])

    parts = [graph, html.Div([dmc.Text(f, size="md") for f in facts], id=RECENT_FACTS),
             table(r.recent, TICKER, "Latest gifts")]
    if donor_level and r.largest is not None:
        parts.append(table(r.largest, LARGEST, "Largest gifts of the campaign", "%b %d %H:%M"))
    waiting = pledge_reads.list_pledges(session, as_of=at, campaign=c, state="open")
    parts.append(committed_table(waiting, pledge_reads.committed(session, c, at), cur, donor_level))
    return parts
