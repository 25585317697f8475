"""The dashboard's callbacks as plain functions, without a browser: each page's data for a session,
its inputs and a moment. (tests/test_dashboard.py drives the same pages in Chromium.)"""

import json
from datetime import date, datetime

import pytest

from conftest import demo_database, utc, write_csv
from test_appeals import TWO
from dashboards.pages import appeals, donors, finance, imports, overview, reports, users
from tracker import queries, service
from tracker.dates import zone
from tracker.ingest import ImportRequest, RowRules, run_import
from tracker.manage import create_campaign, load_appeals
from tracker.money import format_money

LA = zone("America/Los_Angeles")
MID = datetime(2026, 12, 28, 12, tzinfo=LA)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    with demo_database(tmp_path_factory.mktemp("pages"), MID) as sessions:
        yield sessions


def text(component) -> str:
    """Every string a component tree shows, joined (what a reader of the page would see)."""
    if component is None:
        return ""
    if isinstance(component, (str, int, float)):
        return str(component)
    if isinstance(component, (list, tuple)):
        return " ".join(text(c) for c in component)
    if isinstance(component, dict):
        return " ".join(text(v) for v in component.values())
    parts = [text(getattr(component, "children", None))]
    for prop in ("data", "label", "title", "href"):
        value = getattr(component, prop, None)
        if value is not None and not callable(value):
            parts.append(text(value) if not isinstance(value, str) else value)
    return " ".join(p for p in parts if p)


def status_at(sessions, slug="dec-2026", at=MID):
    with sessions.begin() as session:
        return service.campaign_status(session, queries.get_campaign(session, slug), as_of=at)


def test_the_overview_shows_the_status_figures_and_says_how_the_moment_was_chosen(demo):
    st = status_at(demo)
    with demo.begin() as session:
        cards, bar, graph, channels, label, notice, segments = overview.show(session, "dec-2026", MID, " (pinned)")
    shown = text(cards)
    assert format_money(st.raised_cents) in shown and format_money(st.gap_cents) in shown and "3 days 12 hours" in shown
    assert label == "As of Monday Dec 28, 2026 12:00 PST (pinned)" and notice is None
    assert f"{st.percent}%" in text(bar)
    assert [t["name"] for t in graph["data"]][-1] == "Raised so far"
    # the channel bars add up to raised, to the cent (floats only on the axis: compare in cents)
    assert round(sum(sum(t["y"]) for t in channels["data"]) * 100) == st.raised_cents
    assert f"{st.segments.new.donors:,}" in text(segments)


def test_the_overview_of_an_earlier_moment_shows_less(demo):
    earlier = datetime(2026, 12, 10, 12, tzinfo=LA)
    with demo.begin() as session:
        cards = overview.show(session, "dec-2026", earlier)[0]
    assert format_money(status_at(demo, at=earlier).raised_cents) in text(cards)
    assert format_money(status_at(demo).raised_cents) not in text(cards)


def test_the_donors_page_shows_segments_and_every_gift_size_band(demo):
    st = status_at(demo)
    with demo.begin() as session:
        page = text(donors.show(session, "dec-2026", MID))
    assert f"{st.segments.retained.donors:,}" in page and format_money(st.segments.new.cents) in page
    assert "LYBUNT" in page and "@" not in page  # aggregates only: no e-mail address


def test_the_appeals_page_shows_each_variant_its_live_copy_and_the_verdict(demo):
    with demo.begin() as session:
        page = appeals.show(session, "dec-2026", MID)
        report = service.appeal_report(session, queries.get_campaign(session, "dec-2026"), as_of=MID)
    shown = text(page)
    assert report.verdict.label.capitalize() in shown
    for v in report.variants:
        assert v.name in shown and format_money(v.metrics.revenue_cents) in shown
    assert "{" not in shown  # every placeholder filled
    assert "days left to reach our goal" in shown


def test_the_appeals_page_of_a_campaign_without_variants_says_how_to_load_them(demo):
    with demo.begin() as session:
        page = appeals.show(session, "dec-2025", MID)
    assert "tracker appeals load FILE.toml --campaign dec-2025" in text(page)


def test_the_finance_page_offers_a_viewer_only_aggregate_exports_and_ties(demo):
    with demo.begin() as session:
        links, summary = finance.show(session, "dec-2026", "donations", ["2026-12-01", "2026-12-10"], True, MID,
                                      donor_level=False, chosen=False)
        links_finance, _ = finance.show(session, "dec-2026", "donations", None, True, MID, donor_level=True,
                                        chosen=True)
    hrefs = text(links)
    assert "/download/export/daily?" in hrefs and "personal" not in hrefs and "from=2026-12-01&to=2026-12-10" in hrefs
    assert "they tie to the cent" in text(summary)
    finance_hrefs = text(links_finance)
    assert "/download/export/donations?" in finance_hrefs and "personal=1" in finance_hrefs
    assert "as_of=2026-12-28T12%3A00%3A00" in finance_hrefs


def test_the_imports_page_links_rejects_only_for_those_who_may_see_donors(sessions, make_campaign, tmp_path):
    make_campaign()
    path = write_csv(tmp_path / "gifts.csv", """
        donation_id,amount,donated_at,email
        a,25,2026-12-02T10:00:00-08:00,a@example.org
        b,lots,2026-12-02T11:00:00-08:00,b@example.org
    """)
    run_import(sessions, ImportRequest(path=path), RowRules(source="", timezone=LA), clock=lambda: utc(2026, 12, 3))
    with sessions.begin() as session:
        finance_view, viewer_view = imports.show(session, "dec-2026", True), imports.show(session, None, False)
    assert "1 (download)" in text(finance_view) and "/download/rejects/" in text(finance_view)
    assert "download" not in text(viewer_view).replace("may download", "") and "gifts.csv" in text(viewer_view)


def test_the_reports_page_lists_runs_up_to_the_moment(demo):
    with demo.begin() as session:
        page = text(reports.show(session, "dec-2026", MID))
    assert "No report or alert has been delivered" in page


def test_the_users_page_lets_only_an_admin_add_and_remove_and_never_oneself(sessions):
    now = utc(2026, 12, 1)
    with sessions.begin() as session:
        refused = users.manage(session, ("add",), "maria", "finance", "a long password", me="vic", admin=False, now=now)
    assert "Only an admin" in text(refused[1])
    with sessions.begin() as session:
        listed, message, cleared = users.manage(session, ("add",), "maria", "finance", "a long password", me="ada",
                                                admin=True, now=now)
    assert "Added maria (finance)" in text(message) and "maria" in text(listed) and cleared == ""
    with sessions.begin() as session:
        assert "cannot remove yourself" in text(users.manage(session, ("remove", "ada"), None, None, None, me="ada",
                                                              admin=True, now=now)[1])
        short = users.manage(session, ("add",), "lee", "viewer", "short", me="ada", admin=True, now=now)
    assert "at least 10 characters" in text(short[1])
    with sessions.begin() as session:
        listed, message, _ = users.manage(session, ("remove", "maria"), None, None, None, me="ada", admin=True, now=now)
    assert "Removed maria" in text(message) and "maria" not in text(listed)


# -- a campaign in euros -------------------------------------------------------------------------



@pytest.fixture
def euro_campaign(sessions, tmp_path):
    from tracker.appeals import parse_variants

    with sessions.begin() as session:
        c = create_campaign(session, slug="dez-2026", name="Jahresende 2026", goal_cents=50_000_00, currency="EUR",
                            timezone="Europe/Berlin", start=date(2026, 12, 1), end=date(2026, 12, 31),
                            now=utc(2026, 11, 1))
        (tmp_path / "v.toml").write_text(TWO)
        load_appeals(session, c, parse_variants(tmp_path / "v.toml"), now=utc(2026, 11, 28))
    rows = "\n".join(f"g{i},{25 + i},2026-12-{2 + i % 5:02d}T10:00:00+01:00,d{i}@example.org,{'control' if i % 2 else 'b'}"
                     for i in range(12))
    path = write_csv(tmp_path / "euro.csv", "donation_id,amount,donated_at,email,appeal_variant\n" + rows + "\n")
    run_import(sessions, ImportRequest(path=path), RowRules(source="", timezone=zone("Europe/Berlin"), currency="EUR"),
               clock=lambda: utc(2026, 12, 8))
    return "dez-2026"


def test_a_euro_campaign_shows_euros_in_the_appeals_table_page_and_report_email(tracker, sessions, euro_campaign,
                                                                                smtp_server):
    table = tracker("appeals", "report", "--as-of", "2026-12-10")
    assert table.code == 0, table.err
    assert "€" in table.out and "$" not in table.out
    with sessions.begin() as session:
        page = text(appeals.show(session, euro_campaign, utc(2026, 12, 10)))
    assert "€" in page and "$" not in page
    sent = tracker("report", "--as-of", "2026-12-10", "--email", "leitung@example.org")
    assert sent.code == 0, sent.err
    [mail] = smtp_server.messages()
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "€" in body and "$" not in body
    assert "€" in mail["Subject"]
    assert json.loads(tracker("appeals", "report", "--as-of", "2026-12-10", "--json").out)["currency"] == "EUR"


def test_the_as_of_box_answers_bad_input_and_a_future_moment(demo):
    from dashboards import shell
    from dashboards.app import Moments

    moments = Moments(demo, lambda: MID, pinned=None)
    assert moments.message(None, "dec-2026") == ("", "dimmed")
    assert moments.message("  ", "dec-2026") == ("", "dimmed")
    assert moments.message("2026-12-20 18:00", "dec-2026") == ("", "dimmed")  # before now: shown, nothing to say
    said, colour = moments.message("next tuesday", "dec-2026")
    assert said.startswith("Not a moment I can read — showing now.") and "2026-12-31T18:30" in said and colour == "red.8"
    said, _ = moments.message("2026-13-40", "dec-2026")
    assert "not a real date" in said
    # "2026-12-28 12:01" is a minute after now in the campaign's zone (Los Angeles)
    assert moments.message("2026-12-28 12:01", "dec-2026") == (shell.FUTURE, "orange.9")
    assert shell.FUTURE == "that's in the future — showing now"
    assert moments.message("2026-12-28 12:00", "dec-2026")[0] == ""
    # and the page shows now in both cases
    assert moments.of("2026-12-28 12:01", "dec-2026") == (MID, False)
    assert moments.of("next tuesday", "dec-2026") == (MID, False)
