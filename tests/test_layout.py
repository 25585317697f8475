"""The dashboard at a phone's, a laptop's, a desktop's and a wall screen's size, in Chromium: nothing wider than
the screen, the Overview's raised, gap and time left on a phone's first screen, charts' legends clear of their
axis titles, and the as-of box answering what was typed."""

import pytest

from conftest import serving
from test_dashboard import MID_CAMPAIGN, demo_sessions, page  # noqa: F401 (fixtures)

SIZES = [(390, 844), (1366, 768), (1920, 1080), (3840, 2160)]
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"
OVERLAPS = """() => [...document.querySelectorAll('.js-plotly-plot')].filter(p => p.offsetParent).flatMap(p => {
  const box = s => { const e = p.querySelector(s); return e && e.getBoundingClientRect(); };
  const legend = box('.legend'), title = box('.g-xtitle') || box('.xtitle'), ticks = box('.xaxislayer-above');
  const hit = (a, b) => a && b && a.width && b.width && a.left < b.right && b.left < a.right
                          && a.top < b.bottom && b.top < a.bottom;
  const main = box('.gtitle');
  return [hit(legend, title) && p.parentElement.id + ': legend over the x axis title',
          hit(legend, ticks) && p.parentElement.id + ': legend over the x axis labels',
          main && main.right > p.getBoundingClientRect().right + 1 && p.parentElement.id + ': title cut off'];
}).filter(Boolean)"""


def wait_for_overview(page):
    from playwright.sync_api import expect

    expect(page.locator("#kpi-raised")).to_have_text(__import__("re").compile(r"\$"), timeout=20_000)
    for graph in ("#cumulative-graph", "#channels-graph", "#hourly-graph"):
        expect(page.locator(f"{graph} .main-svg").first).to_be_visible(timeout=20_000)
    page.wait_for_timeout(500)  # plotly's resize to the container


@pytest.mark.browser
@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_nothing_is_wider_than_the_screen_and_the_key_numbers_come_first(demo_sessions, page, width, height):  # noqa: F811
    from playwright.sync_api import expect

    from dashboards.app import create_app

    page.set_viewport_size({"width": width, "height": height})
    with serving(create_app(demo_sessions, as_of=MID_CAMPAIGN).server) as base:
        page.goto(base + "/")
        wait_for_overview(page)
        assert page.evaluate(OVERFLOW) <= 0, "the overview is wider than the screen"
        assert page.evaluate(OVERLAPS) == []
        if width < 500:
            for kpi in ("#kpi-raised", "#kpi-gap", "#kpi-time-left"):
                box = page.locator(kpi).bounding_box()
                assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (kpi, box)
        else:  # the key numbers grow with the screen
            size = float(page.locator("#kpi-raised").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
            assert size >= (26 if width < 2000 else 60), size
        for tab, marker in (("donors", "#donors-segments"), ("finance", "#download-csv"),
                            ("imports", "#imports-table"), ("appeals", "#appeals-verdict"),
                            ("reports", "#tab-reports")):
            page.locator(f"#tab-{tab}").click()
            expect(page.locator(marker).first).to_be_visible(timeout=20_000)
            page.wait_for_timeout(300)
            assert page.evaluate(OVERFLOW) <= 0, f"the {tab} tab is wider than the screen"
        assert page.errors == []


@pytest.mark.browser
def test_the_as_of_box_says_when_it_cannot_read_a_moment_or_it_is_in_the_future(demo_sessions, page):  # noqa: F811
    from playwright.sync_api import expect

    from dashboards.app import create_app

    with serving(create_app(demo_sessions, as_of=MID_CAMPAIGN).server) as base:
        page.goto(base + "/")
        wait_for_overview(page)
        box = page.locator("#as-of-picker")
        box.fill("next tuesday")
        box.press("Enter")
        expect(page.locator("#as-of-message")).to_contain_text("Not a moment I can read — showing now",
                                                               timeout=10_000)
        box.fill("2027-01-15 09:00")
        box.press("Enter")
        expect(page.locator("#as-of-message")).to_have_text("that's in the future — showing now", timeout=10_000)
        expect(page.locator("#as-of-text")).to_contain_text("Dec 28, 2026 12:00 PST")
        box.fill("2026-12-27 12:00")
        box.press("Enter")
        expect(page.locator("#as-of-message")).to_have_text("", timeout=10_000)
        expect(page.locator("#as-of-text")).to_contain_text("Dec 27, 2026 12:00 PST", timeout=10_000)
        assert page.errors == []


@pytest.mark.browser
def test_a_campaign_without_gifts_says_how_to_import_them_instead_of_drawing_empty_axes(
        sessions, make_campaign, page):  # noqa: F811
    from datetime import datetime

    from playwright.sync_api import expect

    from dashboards.app import create_app
    from tracker.dates import zone

    make_campaign()
    page.set_viewport_size({"width": 390, "height": 844})
    with serving(create_app(sessions, as_of=datetime(2026, 12, 10, 12, tzinfo=zone("America/Los_Angeles"))).server) as base:
        page.goto(base + "/")
        expect(page.locator("#kpi-raised")).to_have_text("$0.00", timeout=20_000)
        for graph in ("#cumulative-graph", "#channels-graph", "#hourly-graph"):
            expect(page.locator(graph)).to_contain_text("No gifts yet — import gifts with tracker ingest donations FILE",
                                                        timeout=20_000)
            shown = page.locator(graph).inner_text()
            assert "$-1" not in shown and "−1" not in shown and "-1" not in shown, (graph, shown)
        assert page.evaluate(OVERFLOW) <= 0
        assert page.errors == []
