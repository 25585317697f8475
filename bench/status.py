"""Status benchmark: `tracker status` against plain SQL over the raw gifts, on SQLite and PostgreSQL.

    python -m bench.status [--rows 1000000] [--pg URL | --no-pg] [--keep DIR]

Builds the demo newsroom scaled to about --rows gifts (four Decembers, dec-2023..dec-2026, and the
months between) through the importer's write_chunk, which keeps the rollups. Per database, as of
2026-12-28 12:00 in the campaign's zone, it prints medians of 5 runs (after a warm-up) of
- tracker: in-process what `tracker status --json` does (session, get_campaign, campaign_status,
  status_json); and the whole CLI process, median of 3 (the target: "answers in under a second");
- plain SQL on the `donations` rows, no rollups, the sum of (a) raised, gifts, donors of the window,
  (b) its daily totals by local day, (c) new donors by a grouped first-gift scan, (d) the three
  earlier campaigns' daily totals, (e) donors and new donors per day (self-join for first gifts).
On SQLite it also times whole processes, interleaved, medians of 7 after a warm-up: `python -c pass`
(the interpreter alone), `python -c "import sqlalchemy.orm"` (the least any command that reads the
database imports), `tracker --version` and `tracker status --json` (the target: under 0.3 s on the demo).
Exits 1 unless raised in the status equals the plain SQL's to the cent. PostgreSQL gets a throwaway
database (VACUUM ANALYZE after building, as autovacuum would; dropped at the end).
--keep DIR builds the SQLite file in DIR, keeps it and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.orm import Session

from bench.ingest import Databases
from tracker import db, demo, queries, service
from tracker.campaign import status_json
from tracker.dates import UTC, ensure_utc, local_midnight
from tracker.ingest.loader import ImportSummary, write_chunk
from tracker.manage import create_campaign
from tracker.models import ImportBatch

AS_OF = datetime(2026, 12, 28, 20, 0, tzinfo=UTC)  # 2026-12-28T12:00 in America/Los_Angeles
SLUG, RUNS, CLI_RUNS, GIFTS_PER_SCALE = "dec-2026", 5, 3, 30_000
COUNTED = "status IN ('succeeded', 'partially_refunded', 'refunded')"


def build(url: str, scale: int) -> None:
    """The demo's four years at `scale` times its size, through write_chunk in chunks of 50,000."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    pg = engine.dialect.name == "postgresql"
    with Session(engine) as s, s.begin():
        s.add(batch := ImportBatch(filename="(bench)", sha256="-" * 64, format="demo", source="demo", started_at=AS_OF,
                                   status="completed", finished_at=AS_OF))
        s.flush()
        summary = ImportSummary(path="(bench)", format="demo", source="demo", import_id=batch.id)
        gen = demo._Generator(2023)
        for offset in sorted(demo.GOALS):
            year, (goal, target) = 2026 + offset, demo.GOALS[offset]
            create_campaign(s, slug=f"dec-{year}", name=f"Year-end {year}", goal_cents=goal * 100 * scale,
                            currency="USD", timezone=demo.TIMEZONE, start=date(year, 12, 1), end=date(year, 12, 31),
                            now=AS_OF, demo=True)
            gifts = sorted((g for g in gen.year(year, target * scale) if g.donated_at <= AS_OF),
                           key=lambda g: g.donated_at)
            for i in range(0, len(gifts), 50_000):
                write_chunk(s, "demo", gifts[i:i + 50_000], batch.id, summary)
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def sql(conn, statement: str, **params) -> list:
    """Run `statement` with bound parameters; datetimes are bound as the columns store them (naive UTC)."""
    types = [bindparam(k, type_=DateTime()) for k, v in params.items() if isinstance(v, datetime)]
    return conn.execute(text(statement).bindparams(*types), params).all()


def window(c, as_of: datetime) -> dict:
    """Bound parameters of a campaign's window up to `as_of`: start, end (exclusive) and the local midnights."""
    days, naive = (c.end_date - c.start_date).days + 1, lambda m: ensure_utc(m).replace(tzinfo=None)
    bounds = {f"b{i}": naive(local_midnight(c.start_date + timedelta(days=i + 1), c.tz)) for i in range(days)}
    end = min(c.ends_at, ensure_utc(as_of) + timedelta(microseconds=1))
    return {"cur": c.currency, "start": naive(c.starts_at), "end": naive(end), **bounds}


def by_day(col: str, w: dict) -> str:
    """The day of the window (0, 1, ...) that holds `col`: a CASE over the local midnights."""
    return "CASE " + " ".join(f"WHEN {col} < :b{i} THEN {i}" for i in range(len(w) - 3)) + " END"


def daily(conn, w: dict) -> list:
    return sql(conn, f"SELECT {by_day('donated_at', w)} AS day, sum(amount_cents - refunded_cents) FROM donations "
                     f"WHERE {COUNTED} AND currency = :cur AND donated_at >= :start AND donated_at < :end "
                     "GROUP BY 1 ORDER BY 1", **w)


def plain_parts(w: dict, earlier: list[dict]) -> dict:
    """The plain-SQL parts, each a function of a connection."""
    new_by_day = (
        f"SELECT {by_day('d.donated_at', w)} AS day, count(DISTINCT d.donor_id) FROM donations d "
        f"LEFT JOIN donations p ON p.donor_id = d.donor_id AND p.donated_at < d.donated_at AND p.{COUNTED} "
        "AND p.amount_cents > p.refunded_cents "
        f"WHERE d.{COUNTED} AND d.amount_cents > d.refunded_cents AND d.currency = :cur "
        "AND d.donated_at >= :start AND d.donated_at < :end AND p.id IS NULL GROUP BY 1 ORDER BY 1")
    donors_by_day = (
        f"SELECT {by_day('donated_at', w)} AS day, count(DISTINCT donor_id) FROM donations WHERE {COUNTED} "
        "AND amount_cents > refunded_cents AND currency = :cur AND donated_at >= :start AND donated_at < :end "
        "GROUP BY 1 ORDER BY 1")
    return {
        "(a) window totals": lambda conn: sql(
            conn, "SELECT coalesce(sum(amount_cents - refunded_cents), 0), "
                  "count(CASE WHEN amount_cents > refunded_cents THEN 1 END), "
                  "count(DISTINCT CASE WHEN amount_cents > refunded_cents THEN donor_id END) FROM donations "
                  f"WHERE {COUNTED} AND currency = :cur AND donated_at >= :start AND donated_at < :end",
            cur=w["cur"], start=w["start"], end=w["end"]),
        "(b) daily totals": lambda conn: daily(conn, w),
        "(c) new donors": lambda conn: sql(
            conn, "SELECT count(*) FROM (SELECT donor_id, min(donated_at) AS first FROM donations "
                  f"WHERE {COUNTED} AND amount_cents > refunded_cents AND donated_at < :end GROUP BY donor_id) f "
                  "WHERE f.first >= :start", start=w["start"], end=w["end"]),
        "(d) earlier daily totals": lambda conn: [daily(conn, e) for e in earlier],
        "(e) new vs returning by day": lambda conn: (sql(conn, donors_by_day, **w), sql(conn, new_by_day, **w)),
    }


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def measure(kind: str, url: str) -> tuple[bool, list[str]]:
    """Time tracker status and the plain SQL on one built database; (raised matches, lines of the table)."""
    engine = db.make_engine(db.normalize_url(url))
    factory = db.session_factory(engine)
    with factory() as s:
        rows = s.scalar(text("SELECT count(*) FROM donations"))
        current = queries.get_campaign(s, SLUG)
        parts = plain_parts(window(current, AS_OF),
                            [window(c, c.ends_at) for c in queries.earlier_campaigns(s, current, AS_OF)])

    def status() -> dict:  # what `tracker status --json` does
        with factory.begin() as session:
            return status_json(service.campaign_status(session, queries.get_campaign(session, SLUG), as_of=AS_OF))

    def plain(fn):
        with engine.connect() as conn:
            return fn(conn)

    tasks = {"tracker": status, **{name: (lambda f=f: plain(f)) for name, f in parts.items()}}
    times, results = {name: [] for name in tasks}, {}
    for rep in range(RUNS + 1):  # the first run warms up and is not counted
        for name, fn in tasks.items():
            seconds, results[name] = timed(fn)
            times[name] += [seconds] if rep else []
    engine.dispose()
    med = {name: statistics.median(ts) for name, ts in times.items()}
    cli = [sys.executable, "-m", "tracker", "--db", url, "status", "--campaign", SLUG, "--as-of", "2026-12-28T12:00",
           "--json"]
    cli_runs = [timed(lambda: subprocess.run(cli, capture_output=True, text=True)) for _ in range(CLI_RUNS)]
    st, (raised, gifts, donors) = results["tracker"], results["(a) window totals"][0]
    new = results["(c) new donors"][0][0]
    same = int(Decimal(st["raised"]) * 100) == raised
    cli_ok = all(p.returncode == 0 and json.loads(p.stdout)["raised"] == st["raised"] for _, p in cli_runs)
    total = sum(med[name] for name in parts)
    return same and cli_ok, [
        f"{kind:<10} {rows:>10,} {med['tracker']:>10.3f} {total:>11.3f} {total / med['tracker']:>8.1f} "
        f"{statistics.median(s for s, _ in cli_runs):>10.2f}",
        *(f"{'':<10} {'':>10} {'':>10} {med[name]:>11.3f}   {name}" for name in parts),
        f"{'':<10} raised: status {st['raised']}, plain SQL {Decimal(raised) / 100:.2f}: "
        f"{'equal' if same else 'DIFFERENT'}; the CLI process's: {'the same' if cli_ok else 'FAILED or different'}",
        f"{'':<10} status / plain SQL: gifts {st['donations']:,} / {gifts:,}, donors {st['donors']:,} / {donors:,}, "
        f"new donors {st['new_donors']:,} / {new:,}",
    ]


STARTUP_RUNS = 7


def startup(url: str) -> list[str]:
    """Whole-process seconds of the interpreter alone, SQLAlchemy's import, and two tracker commands."""
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import sqlalchemy.orm'": [sys.executable, "-c", "import sqlalchemy.orm"],
        "tracker --version": [sys.executable, "-m", "tracker", "--version"],
        "tracker status --json": [sys.executable, "-m", "tracker", "--db", url, "status", "--campaign", SLUG,
                                  "--as-of", "2026-12-28T12:00", "--json"],
    }
    times = {name: [] for name in commands}
    for rep in range(STARTUP_RUNS + 1):  # interleaved, so a slow moment of the machine hits all alike
        for name, argv in commands.items():
            seconds, done = timed(lambda: subprocess.run(argv, capture_output=True))
            if done.returncode:
                raise SystemExit(f"{name} failed: {done.stderr.decode()[:300]}")
            times[name] += [seconds] if rep else []
    floor = statistics.median(times["python -c pass"])
    return [f"{name:<36} {statistics.median(ts):>7.3f} s  ({statistics.median(ts) / floor:>5.1f} x python -c pass)"
            for name, ts in times.items()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="about this many gifts (30,000 per demo scale step)")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="PostgreSQL admin URL")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="build the SQLite database in DIR and keep it (reused when present)")
    args = ap.parse_args()
    scale = max(1, round(args.rows / GIFTS_PER_SCALE))
    kept = Path(args.keep).resolve() / f"status-scale{scale}.sqlite3" if args.keep else None
    ok, table = True, [f"{'database':<10} {'gifts':>10} {'tracker s':>10} {'plain SQL s':>11} {'plain/tr':>8} "
                       f"{'CLI proc s':>10}"]
    print(f"machine: {os.cpu_count()} cores, shared and noisy: compare ratios, not seconds\n"
          f"demo scale {scale} (about {scale * GIFTS_PER_SCALE:,} gifts), as of {AS_OF:%Y-%m-%d %H:%MZ}; "
          f"medians of {RUNS} runs after 1 warm-up; CLI process: median of {CLI_RUNS}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-status-") as tmp:
        dbs = Databases(Path(tmp), None if args.no_pg else args.pg)
        try:
            for kind in ["sqlite"] + ([] if args.no_pg else ["postgresql"]):
                if kind == "sqlite" and kept:
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    url, fresh = f"sqlite:///{kept}", not kept.exists()
                else:
                    url, fresh = (dbs.sqlite() if kind == "sqlite" else dbs.postgres()), True
                if fresh:  # a kept file is built under another name, so a failed build is never reused
                    to = kept.with_suffix(".building") if kind == "sqlite" and kept else None
                    seconds, _ = timed(lambda: build(db.normalize_url(f"sqlite:///{to}" if to else url), scale))
                    print(f"built {kind} in {seconds:.0f} s", flush=True)
                    if to:
                        to.replace(kept)
                good, lines = measure(kind, url)
                ok, table = ok and good, table + lines
                if kind == "sqlite":
                    starts = startup(url)
        finally:
            dbs.drop()
    print("\n" + "\n".join(table))
    print(f"\nwhole processes on SQLite, medians of {STARTUP_RUNS}:\n" + "\n".join(starts))
    if not ok:
        raise SystemExit("raised in the status differs from the plain SQL's (or the CLI process failed)")


if __name__ == "__main__":
    main()
