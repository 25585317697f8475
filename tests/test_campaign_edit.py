"""`tracker campaign edit` and `tracker campaign delete`: only the given fields change, each edit recorded with
who and when and shown by status, its JSON and the Overview; window changes only with --force, saying how many
gifts move; the figures after an edit equal those of the campaign created that way; delete refused while
anything refers to the campaign. On SQLite and PostgreSQL."""

import json
from datetime import date

from sqlalchemy import func, select

from conftest import utc, write_csv
from tracker import campaign as cm, queries, service
from tracker.cli.context import os_user
from tracker.dates import zone
from tracker.ingest import ImportRequest, RowRules, run_import
from tracker.manage import load_appeals
from tracker.appeals import parse_variants
from tracker.models import AppealCopyVersion, AppealVariant, CampaignChange, Donation, ReportRun

LA = zone("America/Los_Angeles")
SLUG = "dec-2026"


def load(sessions, tmp_path, body: str):
    path = write_csv(tmp_path / "gifts.csv", "donation_id,amount,donated_at,email,status,refunded_amount\n" + body)
    summary = run_import(sessions, ImportRequest(path=path, format="generic", source="generic"),
                         RowRules(source="generic", timezone=LA), clock=lambda: utc(2027, 1, 2))
    assert summary.rejected == 0, summary.errors


GIFTS = """\
nov-24,1,2026-11-24T12:00:00-08:00,a@x.org,,
nov-25,2,2026-11-25T00:00:00-08:00,b@x.org,,
nov-30,4,2026-11-30T23:59:59-08:00,c@x.org,,
dec-01,8,2026-12-01T00:00:00-08:00,d@x.org,,
dec-15,16,2026-12-15T10:00:00-08:00,a@x.org,,
dec-31-late,32,2026-12-31T23:30:00-08:00,e@x.org,,
jan-01,64,2027-01-01T10:00:00-08:00,f@x.org,,
jan-03,128,2027-01-03T01:00:00-08:00,g@x.org,,
failed,256,2026-11-26T10:00:00-08:00,h@x.org,failed,
"""


def test_a_stretch_goal_is_recorded_with_who_and_when_and_shown_by_status_and_its_json(tracker, make_campaign, sessions):
    make_campaign()
    with sessions.begin() as session:
        revision = queries.data_revision(session)
    done = tracker("campaign", "edit", SLUG, "--goal", "450,000", "--as-of", "2026-12-29T10:00")
    assert done.code == 0, done.err
    assert done.out == "dec-2026: goal raised to $450,000 on Dec 29\n"
    with sessions.begin() as session:
        c = queries.get_campaign(session, SLUG)
        assert (c.goal_cents, c.name, c.end_date, c.goal_new_donors) == (450_000_00, "Campaign dec-2026",
                                                                           date(2026, 12, 31), None)
        (row,) = session.scalars(select(CampaignChange)).all()
        assert (row.field, row.old_value, row.new_value, row.actor) == ("goal_cents", "40000000", "45000000", os_user())
        assert row.at == utc(2026, 12, 29, 18)  # 10:00 in Los Angeles
        assert queries.data_revision(session) > revision  # cached pages are recomputed
    assert tracker("campaign", "edit", SLUG, "--goal", "440000.50", "--as-of", "2026-12-30T09:00").out == \
        "dec-2026: goal lowered to $440,000.50 on Dec 30\n"
    text = tracker("status", "--as-of", "2026-12-30T12:00").out.splitlines()
    assert text[2] == "  Changed    goal raised to $450,000 on Dec 29; goal lowered to $440,000.50 on Dec 30"
    assert "of $440,000.50" in text[1]
    data = json.loads(tracker("status", "--json", "--as-of", "2026-12-30T12:00").out)
    assert data["goal"] == "440000.50"
    assert data["changes"] == [
        {"at": "2026-12-29T10:00:00-08:00", "by": os_user(), "field": "goal", "old": "400000.00", "new": "450000.00",
         "text": "goal raised to $450,000 on Dec 29"},
        {"at": "2026-12-30T09:00:00-08:00", "by": os_user(), "field": "goal", "old": "450000.00", "new": "440000.50",
         "text": "goal lowered to $440,000.50 on Dec 30"}]


def test_only_the_given_fields_change_and_nonsense_is_refused_saying_why(tracker, make_campaign, sessions):
    make_campaign()
    out = tracker("campaign", "edit", SLUG, "--name", "Year-end 2026", "--goal-new-donors", "1,500", "--end",
                  "2027-01-02", "--as-of", "2026-12-20T08:00")
    assert out.code == 0, out.err
    assert out.out.splitlines()[:3] == [
        "dec-2026: renamed from 'Campaign dec-2026' on Dec 20",
        "dec-2026: new-donor goal of 1,500 set on Dec 20",
        "dec-2026: last day moved to Jan 2, 2027 (was Dec 31) on Dec 20"]
    assert "0 gifts ($0.00) moved into it, 0 ($0.00) out of it" in out.out
    assert tracker("campaign", "edit", SLUG, "--goal-new-donors", "none", "--as-of", "2026-12-21").out == \
        "dec-2026: new-donor goal of 1,500 removed on Dec 21\n"
    assert tracker("campaign", "edit", SLUG, "--name", "Year-end 2026").out == \
        "dec-2026 already has those values: nothing changed\n"
    refused = {
        ("--goal", "lots"): "--goal: 'lots' is not an amount",
        ("--goal", "0"): "the goal must be more than zero",
        ("--goal", "-5"): "the goal must be more than zero",
        ("--end", "2026-11-30"): "the end date 2026-11-30 is before the start date 2026-12-01",
        ("--end", "2026-02-30"): "--end: '2026-02-30' is not a date; write it as YYYY-MM-DD",
        ("--name", "  "): "the campaign needs a name",
        ("--goal-new-donors", "0"): "--goal-new-donors '0': give a whole number of donors above 0",
        ("--goal-donors", "many"): "--goal-donors 'many': give a whole number of donors above 0",
        ("--start", "2026-11-25"): "changing the start date of a campaign re-counts its gifts from its first day; "
                                   "add --force",
        ("--timezone", "America/New_York"): "changing the time zone of a campaign re-counts its gifts",
        ("--timezone", "Mars/Olympus", "--force"): "unknown time zone 'Mars/Olympus'",
        ("--start", "2027-01-05", "--force"): "the end date 2027-01-02 is before the start date 2027-01-05",
        (): "nothing to change: give --goal, --name",
    }
    for args, message in refused.items():
        result = tracker("campaign", "edit", SLUG, *args)
        assert result.code == 2 and message in result.err and "Traceback" not in result.err, (args, result)
    assert "no campaign 'nope'" in tracker("campaign", "edit", "nope", "--goal", "5").err
    with sessions.begin() as session:
        c = queries.get_campaign(session, SLUG)
        assert (c.name, c.goal_cents, c.start_date, c.end_date, c.timezone, c.goal_new_donors, c.goal_donors) == (
            "Year-end 2026", 400_000_00, date(2026, 12, 1), date(2027, 1, 2), "America/Los_Angeles", None, None)
        assert session.scalar(select(func.count()).select_from(CampaignChange)) == 4


def status_json(sessions, slug, as_of):
    with sessions.begin() as session:
        data = cm.status_json(service.campaign_status(session, queries.get_campaign(session, slug), as_of=as_of))
    for key in ("campaign", "name", "changes"):
        data.pop(key)
    return data


def test_a_window_change_says_what_moves_and_the_figures_equal_a_campaign_made_that_way(
        tracker, make_campaign, sessions, tmp_path):
    make_campaign()
    load(sessions, tmp_path, GIFTS)
    as_of = utc(2027, 1, 5)
    before = status_json(sessions, SLUG, as_of)
    assert before["raised"] == "56.00"  # dec-01 + dec-15 + dec-31-late
    moved = tracker("campaign", "edit", SLUG, "--start", "2026-11-25", "--end", "2027-01-01", "--force")
    assert moved.code == 0, moved.err
    assert moved.out.splitlines()[-1] == (
        "the window is now 2026-11-25 to 2027-01-01 (America/Los_Angeles), deadline 2027-01-02T00:00:00-08:00 "
        "exclusive: 3 gifts ($70.00) moved into it, 0 ($0.00) out of it")  # nov-25, nov-30, jan-01; not the failed one
    zoned = tracker("campaign", "edit", SLUG, "--timezone", "Asia/Tokyo", "--force")
    # in Tokyo the window opens 17 hours earlier and closes 17 hours earlier: nov-24 12:00 LA is nov-25 05:00
    # in Tokyo (in), jan-01 10:00 LA is jan-02 03:00 in Tokyo (out)
    assert zoned.out.splitlines()[-1].endswith("1 gift ($1.00) moved into it, 1 ($64.00) out of it"), zoned.out
    edited = status_json(sessions, SLUG, as_of)
    assert edited["raised"] == "63.00"  # 126.00 in LA less jan-01, plus nov-24 and edited["timezone"] == "Asia/Tokyo"
    # the same definition, made fresh: the campaign deleted and created again that way
    assert tracker("campaign", "delete", SLUG, "--force").code == 0
    assert tracker("campaign", "create", "--slug", SLUG, "--name", "Fresh", "--goal", "400000", "--start", "2026-11-25",
                   "--end", "2027-01-01", "--timezone", "Asia/Tokyo").code == 0
    assert status_json(sessions, SLUG, as_of) == edited
    text_after = tracker("status", "--as-of", "2027-01-05").out
    assert "Changed" not in text_after  # the new campaign has no edits


def test_delete_is_refused_while_anything_refers_to_the_campaign_and_with_force_leaves_the_gifts(
        tracker, make_campaign, sessions, tmp_path):
    make_campaign()
    make_campaign("empty", start=date(2027, 3, 1), end=date(2027, 3, 31))
    load(sessions, tmp_path, GIFTS)
    variants = write_csv(tmp_path / "variants.toml", '[[variant]]\nkey = "control"\nname = "C"\ncontrol = true\n'
                         'headline = "{days_left} days left"\nbody = "Raised {raised}."\nbutton = "Give"\n')
    with sessions.begin() as session:
        c = queries.get_campaign(session, SLUG)
        load_appeals(session, c, parse_variants(variants), now=utc(2026, 11, 28))
        session.add(ReportRun(job="report", campaign_id=c.id, slot="2026-12-10T16:00:00Z", kind="report", status="sent",
                              started_at=utc(2026, 12, 10, 16), owner="test"))
    assert tracker("campaign", "edit", SLUG, "--goal", "450000").code == 0
    refused = tracker("campaign", "delete", SLUG)
    assert refused.code == 2
    assert ("campaign 'dec-2026' is referred to by 3 counted gifts in its window; 1 report run (reports and alerts "
            "sent or tried); 1 popup variant: add --force") in refused.err
    config = tmp_path / "tracker.toml"
    config.write_text('[[reports]]\nname = "morning"\ncron = "0 8 * * *"\nto = ["a@x.org"]\ncampaign = "empty"\n')
    scheduled = tracker("--config", config, "campaign", "delete", "empty")
    assert scheduled.code == 2 and "the configuration's [[reports]] 'morning' reports on it" in scheduled.err
    forced = tracker("campaign", "delete", SLUG, "--force")
    assert forced.code == 0, forced.err
    assert forced.out == ("deleted campaign dec-2026 with 1 report runs, 1 popup variants, 1 edits and 0 match "
                          "pools; its 3 counted gifts stay\n")
    with sessions.begin() as session:
        for model in (ReportRun, AppealVariant, AppealCopyVersion, CampaignChange):
            assert session.scalar(select(func.count()).select_from(model)) == 0, model
        assert session.scalar(select(func.count()).select_from(Donation)) == 9
        assert [c.slug for c in queries.list_campaigns(session)] == ["empty"]
    assert tracker("campaign", "delete", "empty").out.startswith("deleted campaign empty")  # nothing refers to it
    assert "no campaign 'dec-2026'" in tracker("campaign", "delete", SLUG).err


def test_the_overview_shows_the_edits_under_the_goal(make_campaign, sessions, tracker):
    from dashboards.pages import overview

    make_campaign()
    assert tracker("campaign", "edit", SLUG, "--goal", "450000", "--as-of", "2026-12-29T10:00").code == 0
    assert tracker("campaign", "edit", SLUG, "--end", "2027-01-02", "--as-of", "2026-12-30T23:30").code == 0
    with sessions.begin() as session:
        parts = overview.show(session, SLUG, utc(2026, 12, 31))
    bar, changes = parts[1]
    assert changes.id == overview.GOAL_CHANGES
    assert changes.children == "Goal raised to $450,000 on Dec 29 · last day moved to Jan 2, 2027 (was Dec 31) on Dec 30."
    make_campaign("plain", start=date(2027, 3, 1), end=date(2027, 3, 31))
    with sessions.begin() as session:
        assert len(overview.show(session, "plain", utc(2027, 3, 5))[1]) == 1  # no edits: the bar alone


def test_change_wording_is_in_the_campaigns_zone_and_currency():
    at = utc(2026, 12, 30, 3)  # Dec 29 in Los Angeles, Dec 30 in Berlin
    goal = cm.Change(at, "x", "goal_cents", "40000000", "45000000")
    assert cm.change_text(goal, "America/Los_Angeles", "USD") == "goal raised to $450,000 on Dec 29"
    assert cm.change_text(goal, "Europe/Berlin", "EUR") == "goal raised to €450,000 on Dec 30"
    assert cm.change_text(cm.Change(at, "x", "goal_cents", "45000000", "39999950"), "UTC", "SEK") == \
        "goal lowered to 399,999.50 SEK on Dec 30"
    assert cm.change_text(cm.Change(at, "x", "goal_donors", "900", "1200"), "UTC", "USD") == \
        "donor goal raised to 1,200 on Dec 30"
    assert cm.change_text(cm.Change(at, "x", "timezone", "America/Los_Angeles", "America/New_York"), "UTC", "USD") == \
        "time zone changed to America/New_York (was America/Los_Angeles) on Dec 30"
    assert cm.change_text(cm.Change(at, "x", "start_date", "2026-12-01", "2026-11-25"), "UTC", "USD") == \
        "first day moved to Nov 25 (was Dec 1) on Dec 30"


def test_a_campaign_or_pool_name_on_two_lines_or_longer_than_its_column_is_refused_and_nothing_changes(
        tracker, make_campaign, sessions):
    make_campaign()
    pool = ("match", "add", "--campaign", SLUG, "--ratio", "1", "--cap", "1000", "--from", "2026-11-01",
            "--to", "2026-12-31", "--name")
    for args, words in (
            (("campaign", "edit", SLUG, "--name", "Year-end\nBcc: x@example.org"), "line break or a control character"),
            (("campaign", "edit", SLUG, "--name", "y" * 201), "a name of 1 to 200 characters"),
            (("campaign", "create", "--slug", "dec-2027", "--name", "z" * 140_000, "--goal", "1", "--start",
              "2027-12-01", "--end", "2027-12-31", "--timezone", "UTC"), "a name of 1 to 200 characters"),
            ((*pool, "NewsMatch\r\nBcc: x@example.org"), "line break or a control character"),
            ((*pool, "tab\there"), "line break or a control character")):
        done = tracker(*args)
        assert done.code == 2 and words in done.err and "Traceback" not in done.err, (args[:2], done.err)
    with sessions.begin() as session:
        assert [c.name for c in queries.list_campaigns(session)] == ["Campaign dec-2026"]
        assert queries.list_match_pools(session, queries.get_campaign(session, SLUG)) == []
