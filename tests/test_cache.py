"""The dashboard keeps page results until the data changes: every write path moves tracker's data
revision, and a page served from the cache shows a new import at once, over real HTTP."""

from datetime import date, datetime
from pathlib import Path

import requests

from conftest import serving, write_csv
from test_ingest import do_import
from tracker import demo, queries
from tracker.appeals import parse_variants
from tracker.dates import UTC, zone
from tracker.ingest.appeals import import_exposures
from tracker.manage import create_campaign, load_appeals
from tracker.money import format_money

LA = zone("America/Los_Angeles")
PINNED = datetime(2026, 12, 28, 12, tzinfo=LA)


def revision(sessions):
    with sessions.begin() as session:
        return queries.data_revision(session)


def test_every_write_path_moves_the_data_revision(sessions, tmp_path):
    seen = [revision(sessions)]
    with sessions.begin() as session:
        c = create_campaign(session, slug="dec-2026", name="Year-end 2026", goal_cents=400_000_00, currency="USD",
                            timezone="America/Los_Angeles", start=date(2026, 12, 1), end=date(2026, 12, 31),
                            now=datetime.now(UTC))
    seen.append(revision(sessions))
    do_import(sessions, write_csv(tmp_path / "gifts.csv", """
        donation_id,donated_at,amount,currency,email,name,status
        g-1,2026-12-02 10:00,50.00,USD,ana@example.org,Ana,succeeded
    """))
    seen.append(revision(sessions))
    with sessions.begin() as session:
        c = queries.get_campaign(session, "dec-2026")
        load_appeals(session, c, parse_variants(Path("data/appeals.toml")), now=c.starts_at)
    seen.append(revision(sessions))
    import_exposures(sessions, Path("data/samples/popup_daily.csv"), tz=LA, clock=lambda: datetime.now(UTC),
                     rejects=tmp_path / "rejects.csv")
    seen.append(revision(sessions))
    assert seen == sorted(set(seen)) and len(seen) == 5, seen  # each step moved it


def overview_raised(base):
    outputs = (("kpi-cards", "children"), ("goal-progress", "children"), ("cumulative-graph", "figure"),
               ("channels-graph", "figure"), ("as-of-text", "children"), ("notice", "children"),
               ("donor-segments-box", "children"))
    body = {"output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
            "outputs": [{"id": i, "property": p} for i, p in outputs],
            "inputs": [{"id": "campaign-select", "property": "value", "value": "dec-2026"},
                       {"id": "refresh-interval", "property": "n_intervals", "value": 1},
                       {"id": "as-of-picker", "property": "value", "value": None}],
            "changedPropIds": ["campaign-select.value"], "state": []}
    reply = requests.post(base + "/_dash-update-component", json=body)
    assert reply.status_code == 200, reply.text[:300]
    return reply.text


def test_a_cached_page_shows_a_new_import_at_once(engine, sessions, tmp_path):
    from dashboards.app import create_app

    with sessions.begin() as session:
        built = demo.build(session, now=PINNED)
    app = create_app(sessions, as_of=PINNED)
    cache = app.server.extensions["tracker_page_cache"]
    with serving(app.server) as base:
        first = overview_raised(base)
        assert overview_raised(base) == first and (cache.hits, cache.misses) == (1, 1)  # the second from the cache
        with sessions.begin() as session:
            before = queries.raised_between(session, "USD", queries.get_campaign(session, "dec-2026").starts_at,
                                            PINNED, "gross")[0]
        assert format_money(before) in first
        do_import(sessions, write_csv(tmp_path / "late.csv", """
            donation_id,donated_at,amount,currency,email,name,status
            big-1,2026-12-27 09:00,1234.56,USD,new.donor@example.org,New Donor,succeeded
        """))
        after = overview_raised(base)
        assert format_money(before + 1234_56) in after and cache.misses == 2
    assert built.campaigns == 4


def test_scripts_are_sent_compressed_with_a_long_cache_lifetime(sessions):
    import gzip
    import re

    from dashboards.app import create_app

    with serving(create_app(sessions, as_of=PINNED).server) as base:
        page = requests.get(base + "/").text
        [renderer] = [u for u in re.findall(r'<script src="([^"]+)"', page) if "dash_renderer" in u]
        for _ in range(2):  # the second from the compressed-once cache, byte for byte the same
            packed = requests.get(base + renderer, headers={"Accept-Encoding": "gzip"}, stream=True)
            wire = packed.raw.read(decode_content=False)
            assert packed.headers["Content-Encoding"] == "gzip" and "max-age=31536000" in packed.headers["Cache-Control"]
            plain = requests.get(base + renderer, headers={"Accept-Encoding": "identity"}).content
            assert gzip.decompress(wire) == plain and len(wire) < len(plain) / 3


def test_the_overview_charts_tie_to_the_daily_totals_and_earlier_finals(sessions):
    from datetime import timedelta

    from tracker import service

    with sessions.begin() as session:
        demo.build(session, now=PINNED)
        c = queries.get_campaign(session, "dec-2026")
        end = PINNED + timedelta(microseconds=1)
        by_channel = queries.channel_days(session, c, c.window_at(PINNED))
        days = queries.day_breakdown(session, c, c.start_date, c.end_date, end)
        assert {"website", "email", "direct mail"} <= set(by_channel["channel"])
        per_day = {}
        for d, _, cents in by_channel.itertuples(index=False):
            per_day[d] = per_day.get(d, 0) + cents
        assert per_day == {row.day: row.raised_cents for row in days}  # the stacked bars add up to each day
        curves = service.earlier_curves(session, c, as_of=PINNED)
        assert [cv.slug for cv in curves] == ["dec-2023", "dec-2024", "dec-2025"]
        for cv in curves:
            earlier = queries.get_campaign(session, cv.slug)
            final = queries.raised_between(session, "USD", earlier.starts_at, earlier.ends_at, "gross")[0]
            line = cv.by_day()
            assert len(line) == 31 and line[-1][1] == final  # day 31 holds the final, to the cent
            assert all(a[1] <= b[1] for a, b in zip(line, line[1:]))


def test_while_an_import_runs_each_page_is_served_as_last_computed_and_recomputed_every_so_often(sessions):
    import socket
    import time as time_

    from dashboards.cache import PageCache
    from tracker.db import bump_revision, process_name
    from tracker.models import ImportBatch

    now = [datetime(2026, 12, 28, 20, 0, tzinfo=UTC)]
    computed = []

    def compute():
        computed.append(len(computed) + 1)
        return computed[-1]

    def batch(owner):
        with sessions.begin() as session:
            session.add(b := ImportBatch(filename="big.csv", sha256="0" * 64, format="generic", source="generic",
                                         started_at=now[0], status="running", owner=owner))
            bump_revision(session, datetime.now(UTC))
            session.flush()
            return b.id

    cache = PageCache(sessions, clock=lambda: now[0])
    assert cache.lookup(("page", "12:00"), compute, family="page") == (1, None)
    # an import whose process is gone (killed) does not count as running, nor one without an owner
    batch(f"{socket.gethostname()}:{2 ** 22 + 12345}")
    batch(None)
    assert cache.lookup(("page", "12:00"), compute, family="page") == (2, None)
    running = batch(process_name())
    # the same page at the next minute, the data changed: the figures as last computed, and since when
    now[0] = datetime(2026, 12, 28, 20, 1, tzinfo=UTC)
    assert cache.lookup(("page", "12:01"), compute, family="page") == (2, datetime(2026, 12, 28, 20, 0, tzinfo=UTC))
    assert computed == [1, 2]
    cache._import_every = 0.01  # past the interval: still served as it was, and computed again in the background
    time_.sleep(0.02)
    assert cache.lookup(("page", "12:01"), compute, family="page") == (2, datetime(2026, 12, 28, 20, 0, tzinfo=UTC))
    for _ in range(100):
        if len(computed) == 3 and "page" not in cache._running:
            break
        time_.sleep(0.05)
    cache._import_every = 30
    assert cache.lookup(("page", "12:01"), compute, family="page") == (3, datetime(2026, 12, 28, 20, 1, tzinfo=UTC))
    now[0] = datetime(2026, 12, 28, 20, 2, tzinfo=UTC)
    assert cache.lookup(("page", "12:02"), compute, family="page") == (3, datetime(2026, 12, 28, 20, 1, tzinfo=UTC))
    now[0] = datetime(2026, 12, 29, 3, 0, tzinfo=UTC)  # marked running for more than 6 hours: interrupted
    assert cache.lookup(("page", "19:00"), compute, family="page") == (4, None)
    now[0] = datetime(2026, 12, 28, 20, 2, tzinfo=UTC)
    with sessions.begin() as session:
        session.get(ImportBatch, running).status = "completed"
        session.get(ImportBatch, running).finished_at = datetime.now(UTC)
        bump_revision(session, datetime.now(UTC))
    assert cache.lookup(("page", "12:01"), compute, family="page") == (5, None)  # the import ended: complete figures
    assert cache.lookup(("page", "12:01"), compute, family="page") == (5, None)


def test_viewers_asking_for_a_page_being_computed_wait_for_that_computation(sessions):
    import threading
    import time as time_

    from dashboards.cache import PageCache

    cache, computed = PageCache(sessions), []

    def slow():
        computed.append(1)
        time_.sleep(0.3)
        return "page"

    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get(("overview", 1), slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == ["page"] * 8 and computed == [1]


def test_while_an_import_runs_the_overview_and_the_wall_say_so_with_the_figures_time(sessions):
    import json

    from dashboards.app import create_app
    from tracker.db import bump_revision, process_name
    from tracker.models import ImportBatch

    with sessions.begin() as session:
        demo.build(session, now=PINNED)
    clock = datetime(2026, 12, 28, 20, 5, tzinfo=UTC)  # 12:05 in Los Angeles
    app = create_app(sessions, as_of=PINNED, clock=lambda: clock)
    wall = {"output": "..wall-title.children...wall-raised.children...wall-bar.children...wall-tiles.children..."
                      "wall-chart-data.data...wall-as-of.children..",
            "outputs": [{"id": i, "property": p} for i, p in (
                ("wall-title", "children"), ("wall-raised", "children"), ("wall-bar", "children"),
                ("wall-tiles", "children"), ("wall-chart-data", "data"), ("wall-as-of", "children"))],
            "inputs": [{"id": "wall-location", "property": "search", "value": ""},
                       {"id": "wall-refresh", "property": "n_intervals", "value": 1}],
            "changedPropIds": ["wall-refresh.n_intervals"], "state": []}
    with serving(app.server) as base:
        assert "Import in progress" not in overview_raised(base)
        with sessions.begin() as session:
            session.add(batch := ImportBatch(filename="big.csv", sha256="0" * 64, format="generic",
                                             source="generic", started_at=clock, status="running",
                                             owner=process_name()))
            bump_revision(session, clock)
            session.flush()
            batch_id = batch.id
        page = json.dumps(json.loads(overview_raised(base)), ensure_ascii=False)
        assert "Import in progress — figures as of 12:05, brought up to date every 30 s until it ends" in page
        screen = requests.post(base + "/wall/_dash-update-component", json=wall)
        assert screen.status_code == 200
        assert "Import in progress — figures as of 12:05" in json.dumps(screen.json(), ensure_ascii=False)
        with sessions.begin() as session:
            session.get(ImportBatch, batch_id).status = "completed"
            bump_revision(session, clock)
        assert "Import in progress" not in overview_raised(base)
        assert "Import in progress" not in requests.post(base + "/wall/_dash-update-component", json=wall).text
