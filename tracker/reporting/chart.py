"""The report's chart as a PNG image, rendered offline with matplotlib (no browser, nothing fetched).

E-mail clients such as Gmail and Outlook do not show inline SVG, so the e-mailed report carries
this image (as a related part, referenced by Content-ID); HTML written to a file keeps the SVG.
The Figure is made without pyplot, so schedulers rendering in threads share no global state.
"""

from __future__ import annotations

import io

from tracker.reporting.reports import ReportData

BLUE, ORANGE, GREEN = "#0072B2", "#E69F00", "#009E73"  # colour-blind safe (Okabe-Ito), as on the dashboard


def chart_png(data: ReportData, width: int = 560, height: int = 240, scale: int = 2) -> bytes:
    """Raised by local day against the goal and the typical curve; width x height CSS pixels, drawn `scale` times denser."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    st = data.status
    dpi = 100 * scale
    fig = Figure(figsize=(width / 100, height / 100), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    whole = lambda cents: cents // 100  # noqa: E731 - plotted in whole currency units; the labels carry the cents
    if data.typical:
        ax.plot([d for d, _ in data.typical], [whole(v) for _, v in data.typical], color=GREEN, linewidth=1.5,
                linestyle=(0, (4, 3)), label="Typical curve")
    if data.cumulative:
        ax.plot([d for d, _ in data.cumulative], [whole(v) for _, v in data.cumulative], color=BLUE, linewidth=2.5,
                label="Raised")
    ax.axhline(whole(st.goal_cents), color=ORANGE, linewidth=1.5, label="Goal")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: f"{y / 1000:,.0f}k"))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: ""))
    days = [d for d, _ in data.typical] or [d for d, _ in data.cumulative]
    if days:
        ax.set_xlim(days[0], days[-1])
        ax.set_xticks([days[0], days[len(days) // 2], days[-1]])
        ax.set_xticklabels([f"{d:%b %d}" for d in (days[0], days[len(days) // 2], days[-1])])
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    fig.tight_layout(pad=0.4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
