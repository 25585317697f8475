"""The chart builders (dashboards/figures.py) as the plain dicts they return: stable channel colours, earlier
years shown, and empty charts that say what to do instead of drawing misleading axes."""

from datetime import date

import pandas as pd
import pytest

from dashboards import figures

# Okabe & Ito's eight colours, and near-greys: the two a colour-blind reader could not tell apart before
OKABE_ITO = {"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}
DAYS = [date(2026, 12, d) for d in range(1, 8)]


def channels(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["day", "channel", "cents"])


def colours(fig) -> dict:
    return {t["name"]: t["marker"]["color"] for t in fig["data"]}


def test_a_channel_has_its_colour_by_name_whatever_its_rank_in_the_campaign():
    # 2025: email is the largest channel; 2026: website is. Each keeps its own colour.
    a = figures.channel_days_figure(channels([(DAYS[0], "email", 9000), (DAYS[0], "website", 100),
                                              (DAYS[1], "social", 50)]), "2025")
    b = figures.channel_days_figure(channels([(DAYS[0], "email", 100), (DAYS[0], "website", 9000),
                                              (DAYS[1], "events and galas", 70)]), "2026")
    assert [t["name"] for t in a["data"]][:2] == ["email", "website"]
    assert [t["name"] for t in b["data"]][:2] == ["website", "email"]  # ranks swapped ...
    assert colours(a)["email"] == colours(b)["email"] == figures.channel_color("email")  # ... colours did not
    assert colours(a)["website"] == colours(b)["website"] == figures.channel_color("website")
    assert colours(a)["email"] != colours(a)["website"]
    assert set(colours(a).values()) | set(colours(b).values()) <= OKABE_ITO


def test_channel_colour_is_a_pure_function_of_the_name():
    usual = ["website", "email", "direct mail", "social", "event", "phone"]
    assert len({figures.channel_color(c) for c in usual}) == len(usual)  # the usual channels all differ
    for name in [*usual, "a channel nobody planned", "", None]:
        assert figures.channel_color(name) in OKABE_ITO
        assert figures.channel_color(name) == figures.channel_color(name)
    assert figures.channel_color("Email ") == figures.channel_color("email")
    assert figures.channel_color(None) == figures.channel_color("")


def test_earlier_years_are_drawn_on_the_cumulative_chart_not_hidden_in_the_legend():
    fig = figures.cumulative_figure([(d, 100 * i) for i, d in enumerate(DAYS)], [(d, 1000 * i) for i, d in enumerate(DAYS)],
                                    6000, "t", earlier=[("dec-2024", [(DAYS[0], 50)]), ("dec-2025", [(DAYS[0], 80)])])
    before = [t for t in fig["data"] if "same campaign day" in t["name"]]
    assert [t["name"] for t in before] == ["dec-2025 on the same campaign day", "dec-2024 on the same campaign day"]
    assert all(t.get("visible", True) is True for t in before)
    assert all(t["line"]["width"] >= 2 for t in before)
    assert before[0]["line"]["color"] != before[1]["line"]["color"]
    assert "No gifts yet" not in str(fig["layout"]["annotations"])


def axis_problems(fig) -> list[str]:
    """Anything in a figure dict that would read as data on an empty chart."""
    problems = []
    for name in ("xaxis", "yaxis"):
        axis = fig["layout"].get(name) or {}
        rng = axis.get("range")
        if rng and all(isinstance(v, (int, float)) for v in rng) and min(rng) < 0:
            problems.append(f"{name} range {rng}")
        if axis.get("visible", True) and not fig["data"]:
            problems.append(f"{name} drawn with no data")
    if "$-" in str(fig):
        problems.append("a $- tick")
    return problems


def no_gifts_note(fig) -> bool:
    return any("No gifts yet" in a["text"] and "tracker ingest donations FILE" in a["text"]
               for a in fig["layout"].get("annotations", []))


@pytest.mark.parametrize("fig", [
    figures.channel_days_figure(channels([]), "Raised each day, by channel"),
    figures.channel_days_figure(channels([(DAYS[0], "email", 0)]), "Raised each day, by channel"),
    figures.gift_sizes_figure([("$1-$49", 0, 0), ("$50-$99", 0, 0)], "Gifts by size"),
    figures.gift_sizes_figure([], "Gifts by size"),
    figures.hourly_figure(["2026-12-01T00:00", "2026-12-01T01:00"], [0, 0], [], "The last 48 hours"),
    figures.hourly_figure([], [], [], "The last 48 hours"),
    figures.cumulative_figure([], [], 100_000, "Raised by day"),
], ids=["channels", "channels-zero", "sizes", "sizes-none", "hourly", "hourly-none", "cumulative-none"])
def test_a_chart_with_no_gifts_says_how_to_import_them_and_draws_no_axes(fig):
    assert no_gifts_note(fig)
    assert fig["data"] == []
    assert axis_problems(fig) == []
    assert fig["layout"]["title"]["text"]  # still says what the chart is


def test_a_new_campaign_keeps_its_goal_line_and_says_how_to_import_gifts():
    fig = figures.cumulative_figure([(DAYS[0], 0)], [(d, 1000 * i) for i, d in enumerate(DAYS)], 6000, "t")
    assert no_gifts_note(fig)
    assert fig["layout"]["yaxis"]["rangemode"] == "tozero"
    assert axis_problems(fig) == []


def test_few_gifts_have_whole_number_ticks():
    fig = figures.gift_sizes_figure([("$1-$49", 1, 2500), ("$50-$99", 0, 0)], "Gifts by size")
    assert fig["layout"]["yaxis"]["dtick"] == 1 and fig["layout"]["yaxis"]["tickformat"] == ",d"
    assert not no_gifts_note(fig)


def test_legends_sit_under_the_plot_and_titles_wrap_inside_it():
    for fig in [figures.cumulative_figure([(DAYS[0], 5)], [(DAYS[0], 0)], 10, "t"),
                figures.channel_days_figure(channels([(DAYS[0], "email", 5)]), "t"),
                figures.hourly_figure(["2026-12-01T00:00"], [5], [], "t")]:
        legend = fig["layout"]["legend"]
        assert legend["orientation"] == "h" and legend["y"] < 0 and legend["yanchor"] == "top"
        title = fig["layout"]["title"]
        assert title["yref"] == "container" and title["yanchor"] == "top" and fig["layout"]["margin"]["t"] >= 100
    fig = figures.channel_days_figure(channels([]), "Year-end 2026: raised each day, by channel")
    assert fig["layout"]["title"]["text"] == "Year-end 2026:<br>raised each day, by channel"
