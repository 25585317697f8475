"""The progress report leaders read in thirty seconds, as text, Markdown, HTML (with a chart) or JSON.

Pure: the figures come from tracker.service (the same status as `tracker status`), the moment is
an argument. Money is formatted from integer cents; the JSON repeats `tracker status --json`.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass
from datetime import date, datetime

from tracker.campaign import GOAL_COUNTS_TEXT, Status, committed_line, match_line, status_json, time_left_text
from tracker.money import cents_to_decimal_str, format_money

FORMATS = ("text", "markdown", "html", "json")


@dataclass(frozen=True)
class ReportData:
    status: Status
    yesterday_cents: int  # raised on the local day before as-of
    best_channel: tuple[str, int] | None  # (channel, cents) raised most in the window so far
    leading_variant: tuple[str, str] | None  # (variant key, verdict label)
    cumulative: list[tuple[date, int]]  # raised so far by local day
    typical: list[tuple[date, int]]  # the goal's typical curve by local day
    milestones: tuple[str, ...] = ()  # crossed since the last report ("50% of the goal")
    since: datetime | None = None  # when the last report of this job was delivered; None: this is the first


def milestones_line(data: ReportData) -> tuple[str, str]:
    crossed = ", ".join(data.milestones) or "none"
    if data.since is None:
        return "Milestones reached", crossed
    return f"Milestones since {data.since.astimezone(data.status.tz):%b %d %H:%M}", crossed


def lines(data: ReportData) -> list[tuple[str, str]]:
    """(label, value) pairs, in reading order; shared by every format."""
    st, cur = data.status, data.status.currency
    money = lambda cents: format_money(cents, cur)  # noqa: E731
    pace = st.pace_needed
    p = st.projection
    counting = GOAL_COUNTS_TEXT.get(st.goal_counts, "")
    raised = f"{money(st.raised_cents)} of {money(st.goal_cents)} ({st.percent}%)" if not counting else \
        f"{money(st.raised_cents)}; {counting}: {money(st.progress)} of {money(st.goal_cents)} ({st.percent}%)"
    out = [("Raised", raised)]
    if st.committed.pledges:
        out.append(("Committed", committed_line(st.committed, cur) + ", not yet received (not in raised)"))
    if st.match.pools:
        out.append(("Match", f"{money(st.match.earned_cents)} earned ({money(st.match.received_cents)} received, "
                             f"{money(st.match.pending_cents)} pending), {money(st.match.remaining_cents)} "
                             f"remaining; raised with match {money(st.raised_with_match_cents)}"))
        out += [("Match pool", match_line(p, st)) for p in st.match.pools]
    out += [
        ("Gap", money(st.gap_cents)),
        ("Time left", time_left_text(st.seconds_left) + f" (deadline {st.deadline.astimezone(st.tz):%b %d, %H:%M %Z})"),
        ("Yesterday", money(data.yesterday_cents)),
        ("Last 24 hours", money(st.last_24_hours_cents)),
        ("Pace needed", "closed" if pace is None else f"{money(pace[0])} per {pace[1]}"),
    ]
    if p and p.expected_cents is not None:
        out.append(("Projected final", f"{money(p.expected_cents)} (80% range {money(p.low_cents)} to "
                                       f"{money(p.high_cents)}), {p.chance_of_goal:.0%} chance of the goal; {p.basis}"))
    out.append(("Donors", f"{st.donors:,} ({st.new_donors:,} new, {st.returning_donors:,} returning)"))
    out.append(milestones_line(data))
    if data.best_channel:
        out.append(("Best channel", f"{data.best_channel[0] or '(none)'} ({money(data.best_channel[1])})"))
    if data.leading_variant:
        out.append(("Popup", f"{data.leading_variant[0]}: {data.leading_variant[1]}"))
    return out


def title(data: ReportData) -> str:
    st = data.status
    return f"{st.name}: {format_money(st.progress, st.currency, whole=True)} of " \
           f"{format_money(st.goal_cents, st.currency, whole=True)} ({st.percent}%" \
           f"{', with match' if st.goal_counts != 'raised' else ''}), {time_left_text(st.seconds_left)} left"


def render_text(data: ReportData) -> str:
    width = max(len(label) for label, _ in lines(data))
    stamp = data.status.as_of.astimezone(data.status.tz)
    return "\n".join([title(data), f"as of {stamp:%Y-%m-%d %H:%M %Z}", ""]
                     + [f"{label:<{width}}  {value}" for label, value in lines(data)]) + "\n"


def render_markdown(data: ReportData) -> str:
    stamp = data.status.as_of.astimezone(data.status.tz)
    rows = "\n".join(f"| {label} | {value.replace('|', '/')} |" for label, value in lines(data))
    return f"# {title(data)}\n\n_as of {stamp:%Y-%m-%d %H:%M %Z}_\n\n| | |\n| --- | --- |\n{rows}\n"


def chart_svg(data: ReportData, width: int = 560, height: int = 240) -> str:
    """Raised by day against the goal and the typical curve, as inline SVG (no image files, nothing fetched)."""
    st = data.status
    days = [d for d, _ in data.typical] or [d for d, _ in data.cumulative]
    if not days:
        return ""
    top = max([st.goal_cents, *(v for _, v in data.cumulative), *(v for _, v in data.typical)]) or 1
    pad = 30

    def xy(i: int, v: int) -> str:
        x = pad + (width - 2 * pad) * i / max(1, len(days) - 1)
        y = height - pad - (height - 2 * pad) * v / top
        return f"{x:.1f},{y:.1f}"

    index = {d: i for i, d in enumerate(days)}
    raised = " ".join(xy(index[d], v) for d, v in data.cumulative if d in index)
    typical = " ".join(xy(index[d], v) for d, v in data.typical if d in index)
    goal_y = height - pad - (height - 2 * pad) * st.goal_cents / top
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Raised by day against the goal">'
        f'<line x1="{pad}" y1="{goal_y:.1f}" x2="{width - pad}" y2="{goal_y:.1f}" stroke="#E69F00" stroke-width="2"/>'
        f'<text x="{pad}" y="{goal_y - 4:.1f}" font-size="12" fill="#E69F00">Goal</text>'
        f'<polyline points="{typical}" fill="none" stroke="#009E73" stroke-width="2" stroke-dasharray="4 3"/>'
        f'<polyline points="{raised}" fill="none" stroke="#0072B2" stroke-width="3"/>'
        f'<text x="{pad}" y="{height - 8}" font-size="12" fill="#555">Raised so far (blue) and the typical curve of '
        f'earlier years (green)</text></svg>'
    )


def render_html(data: ReportData, chart_cid: str | None = None) -> str:
    """HTML for a browser (inline SVG chart) or, with `chart_cid`, for e-mail: the chart as an attached PNG."""
    e = html_lib.escape
    stamp = data.status.as_of.astimezone(data.status.tz)
    rows = "".join(f'<tr><td style="padding:4px 12px 4px 0;color:#555">{e(label)}</td>'
                   f'<td style="padding:4px 0"><b>{e(value)}</b></td></tr>' for label, value in lines(data))
    chart = chart_svg(data) if chart_cid is None else (
        f'<img src="cid:{e(chart_cid)}" width="560" height="240" style="display:block;border:0" '
        'alt="Raised by day against the goal and the typical curve of earlier years">')
    return (
        '<!DOCTYPE html><html><body style="font-family:Arial,Helvetica,sans-serif;font-size:16px;color:#222">'
        f'<h2 style="margin:0 0 4px">{e(title(data))}</h2><p style="margin:0 0 12px;color:#555">as of '
        f'{stamp:%Y-%m-%d %H:%M %Z}</p><table style="border-collapse:collapse">{rows}</table>'
        f'<div style="margin-top:12px">{chart}</div></body></html>'
    )


def render_json(data: ReportData) -> dict:
    """`tracker status --json` plus what only the report has."""
    return {
        **status_json(data.status),
        "yesterday": cents_to_decimal_str(data.yesterday_cents),
        "best_channel": None if not data.best_channel else
        {"channel": data.best_channel[0], "raised": cents_to_decimal_str(data.best_channel[1])},
        "leading_variant": None if not data.leading_variant else
        {"variant": data.leading_variant[0], "verdict": data.leading_variant[1]},
        "milestones": {"since_last_report": None if data.since is None else data.since.isoformat(),
                       "crossed": list(data.milestones)},
    }
