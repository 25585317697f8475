"""The last 48 hours: the hourly series (from the quarter-hour rollups, exact to the gift) against the same campaign
hours of earlier years, the last hour, the latest and largest gifts, first-time donors today, new recurring donors,
the retention rate beside LYBUNT, and the Overview's part of them (names only for finance and admin)."""

from datetime import date, datetime, timedelta

from conftest import utc, write_csv
from test_pages import text
from dashboards.pages import overview
from tracker import campaign as cm, queries, service
from tracker.dates import zone
from tracker.ingest import ImportRequest, RowRules, run_import

LA = zone("America/Los_Angeles")
AT = datetime(2026, 12, 30, 10, 20, tzinfo=LA)  # 10:20 on Dec 30: the hour 10:00-11:00 is unfinished

HEADER = "donation_id,amount,donated_at,email,name,channel,recurring,status,refunded_amount\n"


def load(sessions, tmp_path, body: str, name="gifts.csv"):
    path = write_csv(tmp_path / name, HEADER + body)
    summary = run_import(sessions, ImportRequest(path=path, format="generic", source="generic"),
                         RowRules(source="generic", timezone=LA), clock=lambda: utc(2027, 1, 2))
    assert summary.rejected == 0, summary.errors


def two_years(sessions, make_campaign, tmp_path):
    make_campaign("dec-2025", start=date(2025, 12, 1), end=date(2025, 12, 31))
    make_campaign("dec-2026")
    load(sessions, tmp_path, """\
old-a,100,2025-12-30T10:05:00-08:00,a@x.org,Ada Lovelace,email,,,
old-b,40,2025-12-30T10:50:00-08:00,b@x.org,Bo Diddley,web,,,
old-c,7,2025-12-29T09:59:59-08:00,c@x.org,Cy Twombly,web,,,
old-r,25,2025-11-15T10:00:00-08:00,r@x.org,Rae Sremmurd,web,true,,
new-a,30,2026-12-30T10:00:00-08:00,a@x.org,Ada Lovelace,email,,,
new-b,12.34,2026-12-30T10:20:00-08:00,d@x.org,Dee Snider,web,true,,
new-late,500,2026-12-30T10:20:01-08:00,e@x.org,Eve Later,web,,,
new-c,50,2026-12-30T09:10:00-08:00,c@x.org,Cy Twombly,,,,
new-d,8,2026-12-29T09:44:59-08:00,f@x.org,Fay Wray,web,,,
new-r,25,2026-12-02T12:00:00-08:00,r@x.org,Rae Sremmurd,web,true,,
new-r2,30,2026-12-29T12:00:00-08:00,g@x.org,Gus Grissom,web,true,,
new-r3,35,2026-12-30T08:00:00-08:00,g@x.org,Gus Grissom,web,true,,
gone,900,2026-12-30T10:01:00-08:00,h@x.org,Hal Refunded,web,,refunded,
old-first,60,2024-06-01T10:00:00-08:00,f@x.org,Fay Wray,web,,,
""")


def test_the_hourly_series_counts_each_hour_to_the_gift_against_the_same_campaign_hours_a_year_before(
        sessions, make_campaign, tmp_path):
    two_years(sessions, make_campaign, tmp_path)
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        h = service.hourly(session, c, as_of=AT)
    assert len(h.hours) == 48 and h.hours[-1] == datetime(2026, 12, 30, 10, tzinfo=LA)
    assert h.hours[0] == datetime(2026, 12, 28, 11, tzinfo=LA)
    by = dict(zip(h.hours, zip(h.cents, h.gifts)))
    assert by[datetime(2026, 12, 30, 10, tzinfo=LA)] == (42_34, 2)  # the gift at as-of counts, a second later not
    assert by[datetime(2026, 12, 30, 9, tzinfo=LA)] == (50_00, 1)
    assert by[datetime(2026, 12, 29, 9, tzinfo=LA)] == (8_00, 1)
    assert by[datetime(2026, 12, 29, 12, tzinfo=LA)] == (30_00, 1)
    assert sum(h.cents) == 42_34 + 50_00 + 8_00 + 30_00 + 35_00  # the refunded gift is not there
    (slug, then), = h.earlier
    assert slug == "dec-2025"
    same = dict(zip(h.hours, then))
    assert same[datetime(2026, 12, 30, 10, tzinfo=LA)] == 140_00  # the whole hour a year before
    assert same[datetime(2026, 12, 29, 9, tzinfo=LA)] == 7_00
    assert sum(then) == 147_00


def test_the_last_hours_follow_the_deadline_and_stop_at_the_window(sessions):
    starts, ends = datetime(2026, 12, 1, tzinfo=LA), datetime(2027, 1, 1, tzinfo=LA)
    on_the_hour = datetime(2026, 12, 30, 10, tzinfo=LA)
    assert cm.last_hours(starts, ends, on_the_hour)[-1] == on_the_hour  # its gift opens the new hour
    assert cm.last_hours(starts, ends, on_the_hour - timedelta(microseconds=1))[-1] == on_the_hour - timedelta(hours=1)
    assert cm.last_hours(starts, ends, datetime(2027, 1, 5, tzinfo=LA))[-1] == datetime(2026, 12, 31, 23, tzinfo=LA)
    assert len(cm.last_hours(starts, ends, datetime(2026, 12, 1, 5, 30, tzinfo=LA))) == 6  # 00:00 to 05:00
    assert cm.last_hours(starts, ends, starts - timedelta(seconds=1)) == []
    # a zone half an hour off UTC: the hours are its own local hours
    adelaide = zone("Australia/Adelaide")
    hours = cm.last_hours(datetime(2026, 12, 1, tzinfo=adelaide), datetime(2027, 1, 1, tzinfo=adelaide),
                          datetime(2026, 12, 20, 15, 40, tzinfo=adelaide))
    assert hours[-1] == datetime(2026, 12, 20, 15, tzinfo=adelaide) and hours[-1].astimezone(adelaide).minute == 0


def test_quarter_hours_are_exact_at_both_ends_of_any_range(sessions, make_campaign, tmp_path):
    two_years(sessions, make_campaign, tmp_path)
    with sessions.begin() as session:
        rows = queries.quarter_hours(session, "USD", datetime(2026, 12, 30, 9, 5, tzinfo=LA),
                                     datetime(2026, 12, 30, 10, 20, 0, 1, tzinfo=LA))
        inside = queries.quarter_hours(session, "USD", datetime(2026, 12, 30, 10, 1, tzinfo=LA),
                                       datetime(2026, 12, 30, 10, 2, tzinfo=LA))
    at = {datetime.fromtimestamp(e, LA): (cents, n) for e, cents, n in rows}
    assert at == {datetime(2026, 12, 30, 9, tzinfo=LA): (50_00, 1), datetime(2026, 12, 30, 10, tzinfo=LA): (30_00, 1),
                  datetime(2026, 12, 30, 10, 15, tzinfo=LA): (12_34, 1)}
    assert inside == []  # only the refunded gift is there


def test_the_last_hour_the_latest_gifts_and_first_time_donors_today(sessions, make_campaign, tmp_path):
    two_years(sessions, make_campaign, tmp_path)
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        r = service.recent(session, c, as_of=AT)
        named = service.recent(session, c, as_of=AT, personal=True, limit=3)
    # 09:20:00.000001 to 10:20:00 inclusive: 30 + 12.34 (09:10 is more than an hour before)
    assert (r.last_hour_cents, r.last_hour_gifts, r.last_hour_donors) == (42_34, 2, 2)
    assert [cents for _, cents, _ in r.recent[:3]] == [12_34, 30_00, 50_00]
    assert all(len(row) == 3 for row in r.recent) and r.largest is None  # no names without personal
    assert r.recent[0] == (datetime(2026, 12, 30, 18, 20, tzinfo=LA.__class__("UTC")), 12_34, "web")
    assert [row[3] for row in named.recent] == ["Dee Snider", "Ada Lovelace", "Cy Twombly"]
    assert [(cents, name) for _, cents, _, name in named.largest] == [
        (50_00, "Cy Twombly"), (35_00, "Gus Grissom"), (30_00, "Ada Lovelace")]
    # today (Dec 30, Los Angeles): Dee's first gift ever (Ada, Cy and Gus gave before; Eve gives after as-of)
    assert r.first_time_today == 1
    # recurring: Dee (first installment today) and Gus (Dec 29, latest $35); Rae gave a recurring gift in November
    assert (r.new_recurring_donors, r.new_recurring_monthly_cents) == (2, 12_34 + 35_00)
    assert r.versus.slug == "dec-2025"


def test_retention_is_last_campaigns_donors_who_gave_again(sessions, make_campaign, tmp_path):
    two_years(sessions, make_campaign, tmp_path)
    with sessions.begin() as session:
        st = service.campaign_status(session, queries.get_campaign(session, "dec-2026"), as_of=AT)
    seg = st.segments
    # dec-2025: Ada, Bo, Cy; back this time: Ada and Cy
    assert (seg.lybunt_of, seg.lybunt.donors, str(seg.retention)) == (3, 1, "66.67")
    assert cm.status_json(st)["segments"]["lybunt"]["retention"] == 66.67
    v = cm.versus_last_year(st)
    assert v.cents_then == 107_00 and v.difference_cents == st.raised_cents - 107_00  # 10:05 yes, 10:50 not yet
    assert v.text("USD").endswith("vs dec-2025 at this hour")


def test_the_overviews_last_48_hours_names_donors_for_finance_only(sessions, make_campaign, tmp_path):
    two_years(sessions, make_campaign, tmp_path)
    with sessions.begin() as session:
        viewer = overview.last_48_hours(session, "dec-2026", AT, False)
        finance = overview.last_48_hours(session, "dec-2026", AT, True)
        cards = overview.show(session, "dec-2026", AT)[0]
    seen = text(viewer[1:])
    assert "Last hour: $42.34 from 2 gifts by 2 donors." in seen and "First-time donors today: 1." in seen
    assert "New recurring donors this campaign: 2, adding $47.34 a month." in seen
    assert "Wed 10:20 $12.34 web" in seen and "Largest gifts" not in seen
    for name in ("Dee", "Ada", "Cy Twombly", "Gus", "@"):
        assert name not in seen
    named = text(finance[1:])
    assert "Dee Snider" in named and "Largest gifts of the campaign" in named and "Dec 30 09:10 $50.00" in named
    bars = viewer[0].figure["data"]
    assert bars[0]["x"][-1] == "2026-12-30T10:00" and bars[0]["y"][-1] == 42.34
    assert bars[1]["name"].startswith("dec-2025") and bars[1]["y"][-1] == 140.0
    assert "Vs last year at this hour" in text(cards) and "dec-2025 had $107 at this hour" in text(cards)


def test_vs_last_year_without_the_status_agrees_with_the_status(sessions, make_campaign, tmp_path):
    two_years(sessions, make_campaign, tmp_path)
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        for at in (AT, datetime(2026, 12, 30, 10, 50, tzinfo=LA), datetime(2026, 11, 30, tzinfo=LA),
                   datetime(2027, 1, 3, tzinfo=LA)):
            st = service.campaign_status(session, c, as_of=at)
            assert service.versus_last_year(session, c, at) == cm.versus_last_year(st), at
