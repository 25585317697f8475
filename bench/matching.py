"""Matching benchmark: what two match pools add to the status, on SQLite and PostgreSQL.

    python -m bench.matching [--rows 1000000] [--pg URL | --no-pg] [--keep DIR] [--pg-url URL] [--only DATABASE]

Builds the same database as bench/status.py (the demo newsroom scaled to about --rows gifts, four
Decembers and the months between). Per database, as of 2026-12-28 12:00 in the campaign's zone, it
times, without match pools (the baseline) and with two pools on dec-2026 (NewsMatch-like: 1:1, $1,000
a donor, $15,000 in all, November 1 to December 31, first recurring gifts x12; and an evening pool:
1:1, $5,000, December 1 18:00 to midnight), interleaved (the pools are added and removed in each
round, which bumps the data revision as an edit of a pool does), medians of 7 rounds after a warm-up:
- match_summary: the pools' match alone (tracker.service.match_summary);
- status: in-process what `tracker status --json` does (campaign_status, status_json);
- /api/progress: a request to the public endpoint (Flask's test client, the app pinned to as-of):
  the first after a change ("new data") and the same request again ("again");
- the whole `tracker status --json` process, median of 5.
Exits 1 unless the match equals the pools' full computation (every candidate gift of the pools'
windows read and matched by tracker.matching.match) pool by pool and gift by gift, and the status
and the endpoint carry it. PostgreSQL gets a throwaway database (dropped at the end).
--keep DIR builds the SQLite file in DIR (the name bench/status.py uses), keeps it and reuses it; --pg-url
measures a PostgreSQL database built before (bench.status.build) instead of a throwaway one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench.ingest import Databases
from bench.status import AS_OF, GIFTS_PER_SCALE, SLUG, build, timed
from tracker import db, match_pools, queries, service
from tracker.campaign import status_json
from tracker.dates import local_midnight
from tracker.matching import match, pool_of

RUNS, CLI_RUNS = 7, 5
TASKS = ("match_summary", "status", "/api/progress, new data", "/api/progress, again", "CLI process")


def add_pools(session, campaign) -> None:
    tz = campaign.tz
    evening = local_midnight(date(2026, 12, 1), tz) + timedelta(hours=18)
    match_pools.add_pool(session, campaign, name="NewsMatch", ratio="1", cap_cents=15_000_00,
                         per_donor_cap_cents=1_000_00, recurring_multiplier=12,
                         starts_at=local_midnight(date(2026, 11, 1), tz), ends_at=local_midnight(date(2027, 1, 1), tz),
                         actor="bench", now=AS_OF)
    match_pools.add_pool(session, campaign, name="Evening", ratio="1", cap_cents=5_000_00, starts_at=evening,
                         ends_at=local_midnight(date(2026, 12, 2), tz), actor="bench", now=AS_OF)


def remove_pools(session, campaign) -> None:
    for pool in queries.list_match_pools(session, campaign):
        match_pools.remove_pool(session, pool, now=AS_OF)


def full_match(session, campaign):
    """The pools' match from every candidate gift of their windows: the reference the figures must equal."""
    rows = queries.list_match_pools(session, campaign)
    changes = queries.match_changes(session, [r.id for r in rows])
    pools = [pool_of(r, changes[r.id]) for r in rows]
    end = min(max(p.ends_at for p in pools), AS_OF + timedelta(microseconds=1))
    gifts = queries.match_gifts(session, campaign, min(p.starts_at for p in pools), end)
    return match(pools, gifts, AS_OF), len(gifts)


def measure(kind: str, url: str) -> tuple[bool, list[str]]:
    from dashboards.app import create_app

    engine = db.make_engine(db.normalize_url(url))
    factory = db.session_factory(engine)
    client = create_app(factory, as_of=AS_OF).server.test_client()
    with factory.begin() as s:
        rows = s.scalar(text("SELECT count(*) FROM donations"))
        remove_pools(s, queries.get_campaign(s, SLUG))  # a run stopped half way may have left them
    cli = [sys.executable, "-m", "tracker", "--db", url, "status", "--campaign", SLUG, "--as-of", "2026-12-28T12:00",
           "--json"]

    def summary():
        with factory.begin() as session:
            return service.match_summary(session, queries.get_campaign(session, SLUG), as_of=AS_OF)

    def status():
        with factory.begin() as session:
            return status_json(service.campaign_status(session, queries.get_campaign(session, SLUG), as_of=AS_OF))

    def api():
        got = client.get(f"/api/progress?campaign={SLUG}")
        if got.status_code != 200:
            raise SystemExit(f"/api/progress answered {got.status_code}: {got.get_data(as_text=True)[:300]}")
        return got.get_json()

    def cli_run():
        done = subprocess.run(cli, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"tracker status failed: {done.stderr[:300]}")
        return done.stdout

    tasks = {"match_summary": summary, "status": status, "/api/progress, new data": api,
             "/api/progress, again": api}
    times = {state: {name: [] for name in TASKS} for state in ("without", "with")}
    results = {}
    for rep in range(RUNS + 1):  # the first round warms up and is not counted
        for state in ("without", "with"):
            with factory.begin() as s:
                (add_pools if state == "with" else remove_pools)(s, queries.get_campaign(s, SLUG))
            for name, fn in tasks.items():
                seconds, results[state, name] = timed(fn)
                times[state][name] += [seconds] if rep else []
            if 1 <= rep <= CLI_RUNS:  # after the warm-up, as the rest
                seconds, results[state, "CLI"] = timed(cli_run)
                times[state]["CLI process"].append(seconds)
    with factory.begin() as s:  # the pools are still there: the reference
        reference, candidates = full_match(s, queries.get_campaign(s, SLUG))
        remove_pools(s, queries.get_campaign(s, SLUG))
    engine.dispose()
    got = results["with", "match_summary"].pools
    same = [(r.earned_cents, r.gifts, r.donors, r.remaining_cents, r.per_gift)
            == (g.earned_cents, g.gifts, g.donors, g.remaining_cents, g.per_gift) for r, g in zip(reference, got)]
    st, progress = results["with", "status"], results["with", "/api/progress, again"]
    carried = (len(same) == len(reference) == 2 and st["match_earned"] == progress["match_earned"]
               and int(round(float(st["match_earned"]) * 100)) == sum(r.earned_cents for r in reference))
    ok = all(same) and carried and results["without", "status"]["raised"] == st["raised"]
    med = {state: {name: statistics.median(ts) for name, ts in times[state].items()} for state in times}
    lines = [f"{kind:<10} {rows:>10,}  candidates in the pools' windows: {candidates:,}"]
    for name in TASKS:
        a, b = med["without"][name], med["with"][name]
        lines.append(f"{'':<10} {name:<26} {a:>9.3f} {b:>9.3f} {1000 * (b - a):>+10.0f}")
    lines.append(f"{'':<10} " + "; ".join(
        f"{r.pool.name}: earned {r.earned_cents / 100:,.2f} of {r.cap_cents / 100:,.2f}, {r.gifts:,} gifts, "
        f"{r.donors:,} donors" for r in got))
    lines.append(f"{'':<10} the match equals the full computation gift by gift: {'yes' if all(same) else 'NO'}; "
                 f"status and /api/progress carry it: {'yes' if carried else 'NO'}")
    return ok, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="about this many gifts (30,000 per demo scale step)")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="PostgreSQL admin URL")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="build the SQLite database in DIR and keep it (reused when present)")
    ap.add_argument("--pg-url", metavar="URL", help="measure this already built PostgreSQL database (kept as it is)")
    ap.add_argument("--only", choices=("sqlite", "postgresql"), help="measure one database only")
    args = ap.parse_args()
    scale = max(1, round(args.rows / GIFTS_PER_SCALE))
    kept = Path(args.keep).resolve() / f"status-scale{scale}.sqlite3" if args.keep else None
    table = [f"{'database':<10} {'gifts':>10} {'':<26} {'without s':>9} {'with s':>9} {'added ms':>10}"]
    print(f"machine: {os.cpu_count()} cores, shared and noisy: compare within a run\n"
          f"demo scale {scale} (about {scale * GIFTS_PER_SCALE:,} gifts), as of {AS_OF:%Y-%m-%d %H:%MZ}; "
          f"medians of {RUNS} rounds after 1 warm-up, the CLI process of {CLI_RUNS}", flush=True)
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-matching-") as tmp:
        dbs = Databases(Path(tmp), None if args.no_pg else args.pg)
        try:
            for kind in ["sqlite"] + ([] if args.no_pg else ["postgresql"]):
                if args.only and kind != args.only:
                    continue
                fresh = True
                if kind == "sqlite" and kept:
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    url, fresh = f"sqlite:///{kept}", not kept.exists()
                elif kind == "postgresql" and args.pg_url:
                    url, fresh = args.pg_url, False
                else:
                    url = dbs.sqlite() if kind == "sqlite" else dbs.postgres()
                if fresh:  # a kept file is built under another name, so a failed build is never reused
                    to = kept.with_suffix(".building") if kind == "sqlite" and kept else None
                    seconds, _ = timed(lambda: build(db.normalize_url(f"sqlite:///{to}" if to else url), scale))
                    print(f"built {kind} in {seconds:.0f} s", flush=True)
                    if to:
                        to.replace(kept)
                good, lines = measure(kind, url)
                ok, table = ok and good, table + lines
        finally:
            dbs.drop()
    print("\n" + "\n".join(table))
    if not ok:
        raise SystemExit("the match differs from the full computation (or the status or endpoint does not carry it)")


if __name__ == "__main__":
    main()
