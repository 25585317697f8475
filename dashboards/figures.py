"""Pure builders: data in (lists from the campaign math, DataFrames from tracker.queries), plotly figure
(as a plain dict) out. No database, no clock.

Money arrives as integer cents; it becomes float dollars only here, on chart axes.
"""

from __future__ import annotations

from datetime import date

# Okabe-Ito palette: distinguishable with the common forms of color blindness.
BLUE, ORANGE, GREY, GREEN = "#0072B2", "#E69F00", "#7f7f7f", "#009E73"


def _dollars(cents: int) -> float:
    return cents / 100


def cumulative_figure(
    cumulative: list[tuple[date, int]], goal_line: list[tuple[date, int]], goal_cents: int, title: str,
    typical_line: list[tuple[date, int]] = (), earlier: list[tuple[str, list[tuple[date, int]]]] = (),
) -> dict:
    """Raised so far by day (solid) against the straight line to the goal (dashed), the typical curve of
    earlier years towards the goal (dotted) and each earlier campaign by the same campaign day (thin grey,
    hidden until clicked in the legend), with the goal marked."""
    days = [d.isoformat() for d, _ in goal_line]
    shades = ["#555555", "#888888", "#aaaaaa", "#cccccc"]
    before = [{
        "type": "scatter", "mode": "lines", "name": f"{slug} on the same campaign day", "visible": "legendonly",
        "x": [d.isoformat() for d, _ in line], "y": [_dollars(v) for _, v in line],
        "line": {"color": shades[min(i, len(shades) - 1)], "width": 1.5},
        "hovertemplate": "%{x|%b %d}: %{y:$,.0f}<extra>" + slug + "</extra>",
    } for i, (slug, line) in enumerate(reversed(list(earlier)))]
    typical = [{
        "type": "scatter", "mode": "lines", "name": "Typical curve to the goal (earlier years)",
        "x": [d.isoformat() for d, _ in typical_line], "y": [_dollars(v) for _, v in typical_line],
        "line": {"color": GREEN, "dash": "dot", "width": 3},
        "hovertemplate": "%{x|%b %d}: %{y:$,.0f}<extra>typical curve</extra>",
    }] if typical_line else []
    return {
        "data": before + typical + [
            {
                "type": "scatter", "mode": "lines", "name": "Straight line to the goal",
                "x": days, "y": [_dollars(v) for _, v in goal_line],
                "line": {"color": GREY, "dash": "dash", "width": 2},
                "hovertemplate": "%{x|%b %d}: %{y:$,.0f}<extra>straight line</extra>",
            },
            {
                "type": "scatter", "mode": "lines+markers", "name": "Raised so far",
                "x": [d.isoformat() for d, _ in cumulative], "y": [_dollars(v) for _, v in cumulative],
                "line": {"color": BLUE, "width": 4}, "marker": {"size": 7},
                "hovertemplate": "%{x|%b %d}: %{y:$,.2f}<extra>raised</extra>",
            },
        ],
        "layout": {
            "title": {"text": title},
            "xaxis": {"title": {"text": "Day of the campaign (campaign time zone)"}, "tickformat": "%b %d",
                      "range": [days[0], days[-1]] if days else None},
            "yaxis": {"title": {"text": "Raised (cumulative)"}, "tickprefix": "$", "tickformat": ",.0f", "automargin": True,
                      "rangemode": "tozero"},
            "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": _dollars(goal_cents),
                        "y1": _dollars(goal_cents), "line": {"color": ORANGE, "width": 2}}],
            "annotations": [{"xref": "paper", "x": 0, "y": _dollars(goal_cents), "yanchor": "bottom",
                             "xanchor": "left", "showarrow": False, "text": "Goal",
                             "font": {"color": ORANGE, "size": 16}}],
            "legend": {"orientation": "h", "y": -0.2},
            "font": {"size": 16},
            "margin": {"l": 20, "r": 20, "t": 60, "b": 40},
            "hovermode": "x unified",
            "template": "plotly_white",
        },
    }


def gift_sizes_figure(bands: list[tuple[str, int, int]], title: str) -> dict:
    """Gifts by size band: the number of gifts (bars) and what each band raised (in the hover)."""
    return {
        "data": [{
            "type": "bar", "name": "Gifts", "x": [label for label, _, _ in bands], "y": [n for _, n, _ in bands],
            "customdata": [_dollars(c) for _, _, c in bands], "marker": {"color": BLUE},
            "hovertemplate": "%{x}: %{y:,} gifts, %{customdata:$,.2f}<extra></extra>",
        }],
        "layout": {
            "title": {"text": title}, "font": {"size": 16}, "margin": {"l": 20, "r": 20, "t": 60, "b": 40},
            "xaxis": {"title": {"text": "Gift size (after refunds)"}},
            "yaxis": {"title": {"text": "Gifts"}, "tickformat": ",d", "automargin": True, "rangemode": "tozero"},
        },
    }


CHANNEL_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#7f7f7f"]


def channel_days_figure(frame, title: str) -> dict:
    """Raised each local day, stacked by channel (largest channel at the bottom), from a DataFrame with
    columns day, channel and cents (tracker.queries.channel_days)."""
    order = frame.groupby("channel")["cents"].sum().sort_values(ascending=False, kind="stable").index \
        if len(frame) else []
    data = []
    for i, ch in enumerate(order):
        points = frame[frame["channel"] == ch].sort_values("day")
        data.append({
            "type": "bar", "name": ch or "(no channel)", "x": [d.isoformat() for d in points["day"]],
            "y": [_dollars(int(v)) for v in points["cents"]], "marker": {"color": CHANNEL_COLORS[i % len(CHANNEL_COLORS)]},
            "hovertemplate": "%{x|%b %d}: %{y:$,.2f}<extra>" + (ch or "(no channel)") + "</extra>",
        })
    return {
        "data": data,
        "layout": {
            "title": {"text": title}, "barmode": "stack", "font": {"size": 16},
            "xaxis": {"title": {"text": "Day (campaign time zone)"}, "tickformat": "%b %d"},
            "yaxis": {"title": {"text": "Raised that day"}, "tickprefix": "$", "tickformat": ",.0f", "automargin": True},
            "legend": {"orientation": "h", "y": -0.25}, "margin": {"l": 20, "r": 20, "t": 60, "b": 40},
        },
    }


EARLIER_SHADES = ["#cccccc", "#aaaaaa", "#888888", "#555555"]  # oldest lightest


def hourly_figure(hours: list[str], cents: list[int], earlier: list[tuple[str, list[int]]], title: str) -> dict:
    """Raised each hour of the last 48 (bars; the unfinished last hour lighter) against the same campaign hours of
    each earlier campaign (lines, the latest darkest). `hours`: each hour's start as local ISO text."""
    shades = EARLIER_SHADES[-len(earlier):] if earlier else []
    lines = [{
        "type": "scatter", "mode": "lines", "name": f"{slug}, same campaign hours", "x": hours,
        "y": [_dollars(v) for v in values], "line": {"color": shades[i] if i < len(shades) else GREY, "width": 2},
        "hovertemplate": "%{x|%a %H:%M}: %{y:$,.0f}<extra>" + slug + "</extra>",
    } for i, (slug, values) in enumerate(earlier)]
    colors = [BLUE] * len(cents)
    if colors:
        colors[-1] = "#56B4E9"  # the hour as-of is in: not over yet
    return {
        "data": [{
            "type": "bar", "name": "This campaign (last hour so far)", "x": hours, "y": [_dollars(v) for v in cents],
            "marker": {"color": colors}, "hovertemplate": "%{x|%a %H:%M}: %{y:$,.2f}<extra>raised</extra>",
        }, *lines],
        "layout": {
            "title": {"text": title}, "font": {"size": 16}, "bargap": 0.1,
            "xaxis": {"title": {"text": "Hour (campaign time zone)"}, "tickformat": "%a %H:%M"},
            "yaxis": {"title": {"text": "Raised in the hour"}, "tickprefix": "$", "tickformat": ",.0f",
                      "automargin": True, "rangemode": "tozero"},
            "legend": {"orientation": "h", "y": -0.25}, "margin": {"l": 20, "r": 20, "t": 60, "b": 40},
            "hovermode": "x unified", "template": "plotly_white",
        },
    }
