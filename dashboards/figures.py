"""Pure builders: data in (lists from the campaign math, DataFrames from tracker.queries), plotly figure
(as a plain dict) out. No database, no clock.

Money arrives as integer cents; it becomes float dollars only here, on chart axes.
"""

from __future__ import annotations

import zlib
from datetime import date

# Okabe-Ito palette: distinguishable with the common forms of color blindness.
BLUE, ORANGE, GREY, GREEN = "#0072B2", "#E69F00", "#7f7f7f", "#009E73"
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
NO_GIFTS = "No gifts yet — import gifts with <b>tracker ingest donations FILE</b>"


def _dollars(cents: int) -> float:
    return cents / 100


def cumulative_figure(
    cumulative: list[tuple[date, int]], goal_line: list[tuple[date, int]], goal_cents: int, title: str,
    typical_line: list[tuple[date, int]] = (), earlier: list[tuple[str, list[tuple[date, int]]]] = (),
) -> dict:
    """Raised so far by day (solid) against the straight line to the goal (dashed), the typical curve of
    earlier years towards the goal (dotted) and each earlier campaign by the same campaign day (dash-dotted grey,
    the latest darkest; a click in the legend hides one), with the goal marked. No gifts yet: a note says how to
    import them; no days at all: the note alone, without axes."""
    days = [d.isoformat() for d, _ in goal_line]
    shades = ["#444444", "#777777", "#999999", "#aaaaaa"]
    before = [{
        "type": "scatter", "mode": "lines", "name": f"{slug} on the same campaign day",
        "x": [d.isoformat() for d, _ in line], "y": [_dollars(v) for _, v in line],
        "line": {"color": shades[min(i, len(shades) - 1)], "width": 2.5, "dash": "dashdot"}, "opacity": 0.9,
        "hovertemplate": "%{x|%b %d}: %{y:$,.0f}<extra>" + slug + "</extra>",
    } for i, (slug, line) in enumerate(reversed(list(earlier)))]
    typical = [{
        "type": "scatter", "mode": "lines", "name": "Typical curve to the goal (earlier years)",
        "x": [d.isoformat() for d, _ in typical_line], "y": [_dollars(v) for _, v in typical_line],
        "line": {"color": GREEN, "dash": "dot", "width": 3},
        "hovertemplate": "%{x|%b %d}: %{y:$,.0f}<extra>typical curve</extra>",
    }] if typical_line else []
    if not days and not cumulative:
        return empty_figure(title)
    note = [] if any(v for _, v in cumulative) else [
        {"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False, "text": NO_GIFTS,
         "font": {"size": 18, "color": "#444444"}, "bgcolor": "rgba(255,255,255,0.85)"}]
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
            "title": _title(title, "Days of the campaign, in its time zone"),
            "xaxis": {"tickformat": "%b %d", "tickangle": 0, "nticks": 8, "automargin": True,
                      "range": [days[0], days[-1]] if days else None},
            "yaxis": {"title": {"text": "Raised (cumulative)"}, "tickprefix": "$", "tickformat": ",.0f", "automargin": True,
                      "rangemode": "tozero"},
            "shapes": [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": _dollars(goal_cents),
                        "y1": _dollars(goal_cents), "line": {"color": ORANGE, "width": 2}}],
            "annotations": [{"xref": "paper", "x": 0, "y": _dollars(goal_cents), "yanchor": "bottom",
                             "xanchor": "left", "showarrow": False, "text": "Goal",
                             "font": {"color": ORANGE, "size": 16}}, *note],
            **_frame(),
            "hovermode": "x unified",
            "template": "plotly_white",
        },
    }


def _frame() -> dict:
    """Title, legend and margins that fit a phone as well as a wall screen: the title on short lines above the
    plot (automargin), the legend under the x axis' tick labels (no axis title there to cover)."""
    return {
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.26, "yanchor": "top", "yref": "paper"},
        "font": {"size": 16},
        "margin": {"l": 20, "r": 20, "t": 120, "b": 40, "autoexpand": True},
    }


def _title(text: str, subtitle: str = "") -> dict:
    """The title on two short lines ("Year-end 2026:" / "raised by day ..."): plotly does not wrap titles, and one
    long line is cut off on a phone. The subtitle says what the x axis is (an axis title would sit where the
    legend goes)."""
    return {"text": text.replace(": ", ":<br>", 1), "x": 0, "xanchor": "left", "xref": "paper",
            "y": 1, "yanchor": "top", "yref": "container", "pad": {"t": 30}, "automargin": False,
            "font": {"size": 18}, **({"subtitle": {"text": subtitle, "font": {"size": 14}}} if subtitle else {})}


def empty_figure(title: str, note: str = NO_GIFTS) -> dict:
    """A chart with nothing to draw: its title and what to do next, and no axes at all (an empty axis reads
    as data: "-1 to 6", "$-1")."""
    hidden = {"visible": False, "showgrid": False, "zeroline": False, "showticklabels": False, "range": [0, 1]}
    return {
        "data": [],
        "layout": {
            "title": _title(title), "font": {"size": 16}, "margin": {"l": 20, "r": 20, "t": 120, "b": 20},
            "xaxis": dict(hidden), "yaxis": dict(hidden), "template": "plotly_white",
            "annotations": [{"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "showarrow": False,
                             "text": note, "font": {"size": 18, "color": "#444444"}}],
        },
    }


def channel_color(channel: str | None) -> str:
    """The colour of a channel, the same in every campaign and chart: the usual channels have their own Okabe-Ito
    colour, any other name a stable one chosen from its name (not its rank)."""
    name = (channel or "").strip().lower()
    if name in FIXED_CHANNELS:
        return FIXED_CHANNELS[name]
    return OKABE_ITO[zlib.crc32(name.encode()) % len(OKABE_ITO)]


FIXED_CHANNELS = {"website": "#0072B2", "web": "#0072B2", "online": "#0072B2", "email": "#E69F00",
                  "e-mail": "#E69F00", "direct mail": "#009E73", "mail": "#009E73", "social": "#CC79A7",
                  "event": "#D55E00", "events": "#D55E00", "phone": "#56B4E9", "major gifts": "#F0E442",
                  "": "#000000"}


def gift_sizes_figure(bands: list[tuple[str, int, int]], title: str) -> dict:
    """Gifts by size band: the number of gifts (bars) and what each band raised (in the hover)."""
    if not any(n for _, n, _ in bands):
        return empty_figure(title)
    return {
        "data": [{
            "type": "bar", "name": "Gifts", "x": [label for label, _, _ in bands], "y": [n for _, n, _ in bands],
            "customdata": [_dollars(c) for _, _, c in bands], "marker": {"color": BLUE},
            "hovertemplate": "%{x}: %{y:,} gifts, %{customdata:$,.2f}<extra></extra>",
        }],
        "layout": {
            "title": _title(title), **_frame(),
            "xaxis": {"title": {"text": "Gift size (after refunds)"}},
            "yaxis": {"title": {"text": "Gifts"}, "tickformat": ",d", "automargin": True, "rangemode": "tozero",
                      **({"dtick": 1, "tick0": 0} if max(n for _, n, _ in bands) < 6 else {})},
        },
    }


def channel_days_figure(frame, title: str) -> dict:
    """Raised each local day, stacked by channel (largest channel at the bottom), from a DataFrame with
    columns day, channel and cents (tracker.queries.channel_days). Each channel keeps its colour (channel_color)."""
    if not len(frame) or not frame["cents"].astype(bool).any():
        return empty_figure(title)
    order = frame.groupby("channel")["cents"].sum().sort_values(ascending=False, kind="stable").index \
        if len(frame) else []
    data = []
    for ch in order:
        points = frame[frame["channel"] == ch].sort_values("day")
        data.append({
            "type": "bar", "name": ch or "(no channel)", "x": [d.isoformat() for d in points["day"]],
            "y": [_dollars(int(v)) for v in points["cents"]], "marker": {"color": channel_color(ch)},
            "hovertemplate": "%{x|%b %d}: %{y:$,.2f}<extra>" + (ch or "(no channel)") + "</extra>",
        })
    return {
        "data": data,
        "layout": {
            "title": _title(title, "Days in the campaign's time zone"), "barmode": "stack", **_frame(),
            "xaxis": {"tickformat": "%b %d", "tickangle": 0, "nticks": 8, "automargin": True},
            "yaxis": {"title": {"text": "Raised that day"}, "tickprefix": "$", "tickformat": ",.0f", "automargin": True,
                      "rangemode": "tozero"},
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
    if not any(cents) and not any(any(v) for _, v in earlier):
        return empty_figure(title)
    colors = [BLUE] * len(cents)
    if colors:
        colors[-1] = "#56B4E9"  # the hour as-of is in: not over yet
    return {
        "data": [{
            "type": "bar", "name": "This campaign (last hour so far)", "x": hours, "y": [_dollars(v) for v in cents],
            "marker": {"color": colors}, "hovertemplate": "%{x|%a %H:%M}: %{y:$,.2f}<extra>raised</extra>",
        }, *lines],
        "layout": {
            "title": _title(title, "Hours in the campaign's time zone"), **_frame(), "bargap": 0.1,
            "xaxis": {"tickformat": "%a<br>%H:%M", "tickangle": 0, "nticks": 8, "automargin": True},
            "yaxis": {"title": {"text": "Raised in the hour"}, "tickprefix": "$", "tickformat": ",.0f",
                      "automargin": True, "rangemode": "tozero"},
            "hovermode": "x unified", "template": "plotly_white",
        },
    }
