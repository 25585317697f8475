"""Where a campaign stands, computed in the database, on SQLite and PostgreSQL."""

import json
from datetime import date, datetime, timedelta

import pytest

from conftest import campaign_totals, utc, write_csv
from tracker import campaign as cm, queries, service
from tracker.dates import zone
from tracker.ingest import ImportRequest, RowRules, run_import

LA = zone("America/Los_Angeles")


def load(sessions, tmp_path, body: str, source="generic"):
    path = write_csv(tmp_path / "gifts.csv", "donation_id,amount,donated_at,email,status,refunded_amount\n" + body)
    summary = run_import(
        sessions, ImportRequest(path=path, format="generic", source=source), RowRules(source=source, timezone=LA),
        clock=lambda: utc(2027, 1, 2),
    )
    assert summary.rejected == 0, summary.errors


def status_at(sessions, as_of, slug="dec-2026"):
    with sessions.begin() as session:
        c = queries.get_campaign(session, slug)
        return cm.status(c, campaign_totals(session, c, as_of), as_of=as_of)


def test_gift_one_second_before_local_midnight_counts_and_one_at_midnight_does_not(sessions, make_campaign, tmp_path):
    make_campaign()
    load(sessions, tmp_path, """\
before-open,1,2026-11-30T23:59:59-08:00,a@x.org,,
at-open,2,2026-12-01T00:00:00-08:00,b@x.org,,
last-second,4,2026-12-31T23:59:59-08:00,c@x.org,,
at-close,8,2027-01-01T00:00:00-08:00,d@x.org,,
utc-inside,16,2027-01-01T07:59:59Z,e@x.org,,
utc-outside,32,2027-01-01T08:00:00Z,f@x.org,,
""")
    st = status_at(sessions, utc(2027, 1, 2))
    assert st.raised_cents == 2200  # 2 + 4 + 16 dollars
    assert st.donations == 3


def test_raised_is_amount_minus_refunds_of_counted_statuses_only(sessions, make_campaign, tmp_path):
    make_campaign()
    load(sessions, tmp_path, """\
ok,100,2026-12-02T10:00:00-08:00,a@x.org,succeeded,
part,100,2026-12-02T11:00:00-08:00,b@x.org,partially_refunded,30
gone,100,2026-12-02T12:00:00-08:00,c@x.org,refunded,
wait,100,2026-12-02T13:00:00-08:00,d@x.org,pending,
no,100,2026-12-02T14:00:00-08:00,e@x.org,failed,
""")
    st = status_at(sessions, utc(2026, 12, 10))
    assert st.raised_cents == 170_00
    assert (st.donations, st.donors) == (2, 2)  # the fully refunded gift nets zero and is not counted


def test_as_of_sees_only_gifts_donated_by_then(sessions, make_campaign, tmp_path):
    make_campaign()
    load(sessions, tmp_path, "".join(
        f"g{d},{d},2026-12-{d:02d}T12:00:00-08:00,donor{d}@x.org,,\n" for d in range(1, 32)
    ))
    for day in (1, 10, 20, 31):
        as_of = datetime(2026, 12, day, 12, tzinfo=LA)
        st = status_at(sessions, as_of)
        assert st.raised_cents == sum(range(1, day + 1)) * 100
        assert status_at(sessions, as_of - timedelta(microseconds=1)).raised_cents == sum(range(1, day)) * 100


def test_new_donors_gave_their_first_counted_gift_ever_inside_the_window(sessions, make_campaign, tmp_path):
    make_campaign("dec-2025", start=date(2025, 12, 1), end=date(2025, 12, 31))
    make_campaign()
    load(sessions, tmp_path, """\
old-a,10,2025-12-15T10:00:00-08:00,loyal@x.org,,
old-b,10,2026-06-15T10:00:00-08:00,summer@x.org,,
old-c,10,2025-06-15T10:00:00-08:00,failedonce@x.org,failed,
old-d,10,2025-06-15T10:00:00-08:00,refundedonce@x.org,refunded,
n1,10,2026-12-02T10:00:00-08:00,loyal@x.org,,
n2,10,2026-12-02T10:00:00-08:00,summer@x.org,,
n3,10,2026-12-02T10:00:00-08:00,failedonce@x.org,,
n4,10,2026-12-02T10:00:00-08:00,refundedonce@x.org,,
n5,10,2026-12-03T10:00:00-08:00,brandnew@x.org,,
n6,10,2026-12-04T10:00:00-08:00,brandnew@x.org,,
""")
    st = status_at(sessions, utc(2027, 1, 1, 12))
    assert (st.donors, st.new_donors, st.returning_donors, st.donations) == (5, 3, 2, 6)
    earlier = status_at(sessions, utc(2026, 1, 1), slug="dec-2025")
    assert (earlier.donors, earlier.new_donors) == (1, 1)


def test_daily_totals_fall_on_the_campaign_local_day(sessions, make_campaign, tmp_path):
    make_campaign("kolkata", tz="Asia/Kolkata")
    load(sessions, tmp_path, """\
a,1,2026-12-01T18:29:59Z,a@x.org,,
b,2,2026-12-01T18:30:00Z,b@x.org,,
c,4,2026-12-31T18:29:59Z,c@x.org,,
""")
    with sessions.begin() as session:
        c = queries.get_campaign(session, "kolkata")
        daily = queries.daily_totals(session, c, utc(2027, 1, 5))
    assert daily == {date(2026, 12, 1): 100, date(2026, 12, 2): 200, date(2026, 12, 31): 400}


def test_cli_json_text_and_dashboard_show_the_same_figures(tracker, sessions, make_campaign, tmp_path):
    from dashboards.pages import overview

    make_campaign()
    load(sessions, tmp_path, """\
a,"1,234.56",2026-12-02T10:00:00-08:00,a@x.org,,
b,0.07,2026-12-03T10:00:00-08:00,b@x.org,,
c,99.99,2026-12-04T10:00:00-08:00,c@x.org,partially_refunded,0.33
""")
    result = tracker("status", "--as-of", "2026-12-05", "--json")
    assert result.code == 0, result.err
    js = json.loads(result.out)
    assert js["raised"] == "1334.29" and js["gap"] == "398665.71"
    text = tracker("status", "--as-of", "2026-12-05")
    assert "$1,334.29 of $400,000.00 (0.33%)" in text.out and "$398,665.71" in text.out
    with sessions.begin() as session:
        view = service.overview(session, queries.get_campaign(session, "dec-2026"), as_of=datetime(2026, 12, 5, 23, 59, 59, tzinfo=LA))
    shown = {c.children[1].id: c.children[1].children for c in overview.cards(view)}  # by each card's id
    assert shown["kpi-raised"] == "$1,334.29" and shown["kpi-gap"] == "$398,665.71" and shown["kpi-percent"] == "0.33%"
    assert view.cumulative[-1] == (date(2026, 12, 5), 133429)


def test_several_campaigns_need_a_choice_and_an_unknown_slug_is_named(sessions, make_campaign):
    from tracker.errors import NotFound, UsageError

    make_campaign("dec-2025", start=date(2025, 12, 1), end=date(2025, 12, 31))
    make_campaign()
    with sessions.begin() as session:
        with pytest.raises(UsageError, match="there are 2 campaigns") as several:
            queries.get_campaign(session)
        with pytest.raises(NotFound, match="no campaign 'dec-2099'") as unknown:
            queries.get_campaign(session, "dec-2099")
    # the library names the input and the choices; each edge says how to give it in its own words
    assert (several.value.field, several.value.kind, set(several.value.choices)) == (
        "campaign", "missing", {"dec-2025", "dec-2026"})
    assert (unknown.value.field, unknown.value.kind) == ("campaign", "unknown")
    assert "--campaign" not in str(several.value) and "tracker campaign" not in str(unknown.value)
