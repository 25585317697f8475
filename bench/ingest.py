"""Import benchmark: the full `tracker ingest donations` against a raw floor, on SQLite and PostgreSQL.

    python -m bench.ingest [--rows 1000000] [--repeat 1] [--pg URL | --no-pg] [--layouts generic,stripe] [--measure M,...]

Generates N gifts in the generic layout and in Stripe's unified layout (ids in random order, as
real exports have them), then for each database measures, in separate processes on the same rows:

- floor: parse the CSV with pandas, then insert the ready tuples in file order into a table with
  the same unique key in one transaction (sqlite3 executemany on SQLite, COPY on PostgreSQL);
- schema: the least an importer of these rows into tracker's own tables must do when it keeps
  every index up to date as it goes (as a chunked import does). Parse with
  pandas as the floor does (amounts to cents and times to UTC vectorized, no checks), insert each
  distinct donor, then every gift with its donor's id into `donations` with its indexes and
  CHECKs (and foreign keys on PostgreSQL; on SQLite, as in tracker's writer, they are not
  checked), in key order, in one transaction (executemany / COPY), on an empty, migrated
  database, with the SQLite settings tracker's engine uses (WAL, 128 MB page cache). No
  validation, duplicates, rollups, first gifts or import record;
- least: the schema baseline with what a first load sets aside set aside the same way (the indexes
  of donations and donors that are not unique, and on PostgreSQL the foreign keys of donations),
  built again before the one commit: about the least work that fills tracker's tables, and so
  about the fastest any importer of them could go (its ratio to the floor bounds the import's);
- checks: what the import does to every row before any database sees it, alone in a process:
  read the file, check and normalize each row (as tracker does, in Python, so that each bad row
  gets its line and reason) and make the staging rows, with no database;
- tracker: `tracker ingest donations FILE --quiet` on an empty, migrated database (validation,
  donors and de-duplication included). A file this large into a database with no gift goes in as
  a first load: one transaction, the secondary indexes and foreign keys built once at the end;
- chunked: the same with `--first-load no`, committed every 200,000 gifts with every index kept
  up to date, as an import into a database that already holds gifts is written.

It prints rows per second and peak memory (max RSS of the process) of each, the median of
--repeat runs, and the ratios tracker / floor (the issue's targets: >= 1.0 on SQLite, >= 0.5 on
PostgreSQL) and each other measurement's time against the floor's (schema / floor: how far below
the floor writing tracker's tables, indexes kept, already is; least / floor: the same with the
indexes built after; checks / floor: the rows' checks alone). `--measure` chooses which run; `--baseline DIR` adds the import
and the chunked import run with another version of tracker (a checkout of main), on the same rows, in
the same run. `--stages` also runs the import
with each stage timed (conventions, read, check, gift rows, staging, donors, gifts, first gifts, rollups,
indexes) and prints each one's seconds and the floor's time over it: the stage to work on next is the one
with the lowest ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

STRIPE_HEADER = ("id,Created date (UTC),Amount,Amount Refunded,Currency,Captured,Converted Amount,"
                 "Converted Amount Refunded,Converted Currency,Decline Reason,Description,Fee,Refunded date (UTC),"
                 "Status,Customer ID,Customer Email,Invoice ID\n")


def generate(path: Path, rows: int, layout: str, seed: int = 2026) -> None:
    """N gifts over December with ~rows/3 donors, ids shuffled."""
    rng = random.Random(seed)
    order = list(range(rows))
    rng.shuffle(order)
    donors = max(1, rows // 3)
    with path.open("w", encoding="utf-8", newline="") as fh:
        if layout == "generic":
            fh.write("donation_id,amount,donated_at,email,channel,recurring\n")
        else:
            fh.write(STRIPE_HEADER)
        for i in order:
            cents = rng.choice((1000, 2500, 5000, 10000, 25000)) + rng.randrange(100)
            amount = f"{cents // 100}.{cents % 100:02d}"
            day, sec = 1 + rng.randrange(31), rng.randrange(86400)
            when = f"2026-12-{day:02d} {sec // 3600:02d}:{sec % 3600 // 60:02d}:{sec % 60:02d}"
            donor = rng.randrange(donors)
            if layout == "generic":
                fh.write(f"web-{i:09d},{amount},{when.replace(' ', 'T')}Z,reader{donor}@example.org,website,false\n")
            else:
                fh.write(f"ch_{uuid.UUID(int=rng.getrandbits(128)).hex[:24]}{i:08d},{when},{amount},0.00,usd,true,"
                         f"{amount},0.00,usd,,Year-end gift,{cents * 29 // 1000 + 30:d},,Paid,cus_{donor:08d},"
                         f"reader{donor}@example.org,\n")


FLOOR = r"""
import sys, time, resource
import pandas as pd
path, url, layout = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
idcol, amt, when = ("donation_id", "amount", "donated_at") if layout == "generic" else ("id", "Amount", "Created date (UTC)")
df = pd.read_csv(path, dtype=str, keep_default_na=False)
rows = list(zip(["bench"] * len(df), df[idcol], df[amt], df[when]))
if url.startswith("sqlite"):
    import sqlite3
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    con.execute("CREATE TABLE floor (source TEXT, external_id TEXT, amount TEXT, donated_at TEXT, UNIQUE (source, external_id))")
    with con:
        con.executemany("INSERT INTO floor VALUES (?, ?, ?, ?)", rows)
    con.close()
else:
    import psycopg
    with psycopg.connect(url) as con:
        con.execute("CREATE TABLE floor (source TEXT, external_id TEXT, amount TEXT, donated_at TEXT, UNIQUE (source, external_id))")
        with con.cursor().copy("COPY floor FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
elapsed = time.perf_counter() - t0
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _timed(script: str, *args: str) -> tuple[float, float]:
    """Run a script in a fresh interpreter; it prints its own seconds and peak RSS (KB)."""
    out = subprocess.run([sys.executable, "-c", script, *args], check=True, capture_output=True, text=True)
    seconds, rss_kb = out.stdout.split()
    return float(seconds), int(rss_kb) / 1024


def run_floor(path: Path, url: str, layout: str) -> tuple[float, float]:
    return _timed(FLOOR, str(path), url, layout)


SCHEMA = r"""
import sys, time, resource
import pandas as pd
path, url, layout = sys.argv[1], sys.argv[2], sys.argv[3]
indexes_after = len(sys.argv) > 4 and sys.argv[4] == "indexes-after"
t0 = time.perf_counter()
cols = (("donation_id", "amount", "donated_at", "email") if layout == "generic"
        else ("id", "Amount", "Created date (UTC)", "Customer Email"))
df = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=list(cols))[list(cols)]
df.columns = ["external_id", "amount", "donated_at", "email"]
df = df.sort_values("external_id")
cents = df["amount"].str.replace(".", "", regex=False).astype("int64")  # the generated amounts have two decimals
when = pd.to_datetime(df["donated_at"], utc=True).dt.tz_localize(None)
keys = "email:" + df["email"].str.lower()
donors = sorted(set(keys))
pg = not url.startswith("sqlite")
if pg:
    import psycopg
    con = psycopg.connect(url)
else:
    import sqlite3
    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    con.execute("PRAGMA synchronous=NORMAL")  # what tracker's engine sets (WAL is already on: migrations set it)
    con.execute("PRAGMA cache_size=-131072")
restore = []
if indexes_after:  # set aside what is not a unique key, in this transaction; built again before it commits
    if pg:
        con.execute("LOCK TABLE donations, donors IN ACCESS EXCLUSIVE MODE")
        for name, sql in con.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                     "WHERE conrelid = 'donations'::regclass AND contype = 'f'").fetchall():
            con.execute(f'ALTER TABLE donations DROP CONSTRAINT "{name}"')
            restore.append(f'ALTER TABLE donations ADD CONSTRAINT "{name}" {sql}')
        found = ("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                 "WHERE i.indrelid IN ('donations'::regclass, 'donors'::regclass) AND NOT i.indisunique")
    else:
        con.execute("BEGIN IMMEDIATE")
        found = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('donations', 'donors') "
                 "AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%'")
    for name, sql in con.execute(found).fetchall():
        con.execute(f"DROP INDEX {name}")
        restore.insert(0, sql)
if pg:
    with con.cursor().copy("COPY donors (key) FROM STDIN") as copy:
        for k in donors:
            copy.write_row((k,))
else:
    con.executemany("INSERT INTO donors (key) VALUES (?)", [(k,) for k in donors])
ids = dict(con.execute("SELECT key, id FROM donors").fetchall())
stamps = list(when) if pg else list(when.dt.strftime("%Y-%m-%d %H:%M:%S.000000"))
rows = zip(df["external_id"], [ids[k] for k in keys], cents.tolist(), stamps)
sql = ("donations (source, external_id, donor_id, amount_cents, donated_at, refunded_cents, currency, status, recurring)")
if pg:
    with con.cursor().copy(f"COPY {sql} FROM STDIN") as copy:
        for r in rows:
            copy.write_row(("bench", *r, 0, "USD", "succeeded", False))
else:
    con.executemany(f"INSERT INTO {sql} VALUES ('bench', ?, ?, ?, ?, 0, 'USD', 'succeeded', 0)", rows)
if restore and not pg:
    con.execute("PRAGMA cache_size=-16384")  # as tracker builds them (a smaller page cache sorts faster here)
for statement in restore:
    con.execute(statement)
con.commit()
con.close()
elapsed = time.perf_counter() - t0
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run_schema(path: Path, url: str, layout: str, indexes_after: bool = False) -> tuple[float, float]:
    _migrate(url)
    return _timed(SCHEMA, str(path), url, layout, *(["indexes-after"] if indexes_after else []))


def _migrate(url: str, code: str | None = None) -> None:
    """Migrate the database at `url` with this tracker, or with the one in folder `code` (its own schema)."""
    env = {**os.environ, "TRACKER_DATABASE_URL": url, **({"PYTHONPATH": code} if code else {})}
    subprocess.run([sys.executable, "-m", "tracker", "db", "upgrade"], env=env, check=True, capture_output=True,
                   cwd=code)


TRACKER = r"""
import sys, time, resource
from tracker.cli import run
t0 = time.perf_counter()
code = run(sys.argv[1:])
print(f"BENCH {time.perf_counter() - t0} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
sys.exit(code)
"""


def run_tracker(path: Path, url: str, first_load: str = "auto", code: str | None = None) -> tuple[float, float]:
    """Time `tracker ingest donations` in a process of its own (the interpreter's start-up not counted);
    `code`: a folder holding another version of tracker (a checkout of main) to run instead."""
    env = {**os.environ, "TRACKER_DATABASE_URL": url, **({"PYTHONPATH": code} if code else {})}
    _migrate(url, code)
    # run from the other checkout's folder: `python -c` looks in the working folder before PYTHONPATH
    proc = subprocess.run([sys.executable, "-c", TRACKER, "ingest", "donations", str(path), "--quiet",
                           "--timezone", "UTC", "--first-load", first_load], env=env, capture_output=True, text=True,
                          cwd=code)
    if proc.returncode != 0:
        raise SystemExit(f"tracker ingest failed: {proc.stderr.strip()}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")][-1]
    _, seconds, rss_kb = line.split()
    return float(seconds), int(rss_kb) / 1024


CHECKS = r"""
import sys, time, resource
from pathlib import Path
from zoneinfo import ZoneInfo
from tracker.ingest.fields import RowRules
from tracker.ingest.loader import prepare
from tracker.ingest.records import NormalizedDonation
from tracker.ingest.run import HANDOFF_ROWS, ImportRequest, Reader
path, pg = Path(sys.argv[1]), sys.argv[2] == "postgresql"
t0 = time.perf_counter()
from tracker.ingest.csvfile import scan
reader = Reader(ImportRequest(path=path), RowRules(source="", timezone=ZoneInfo("UTC")))
by_columns = reader.columnar(scan(path, quotes=True).plain)  # as the import reads it
gifts = (g for batch in by_columns.batches() for g in batch.gifts) if by_columns else (
    outcome for line, values, outcome in reader.records() if isinstance(outcome, NormalizedDonation))
chunk = {}
for outcome in gifts:
    chunk[outcome.external_id] = outcome
    if len(chunk) >= HANDOFF_ROWS:
        prepare(list(chunk.values()), pg, "generic", 1, None, 1)
        chunk = {}
prepare(list(chunk.values()), pg, "generic", 1, None, 1)
reader.close()
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


STAGES = r"""
import sys, time, json, collections
import pyarrow.csv as pacsv
from tracker import rollups
from tracker.ingest import columnar, loader, writer, run as runmod
T = collections.defaultdict(float)
reading = [False]

def timed(owner, name, label, only_reading=False):
    f = getattr(owner, name)
    def g(*a, **k):
        if only_reading and not reading[0]:
            return f(*a, **k)
        t = time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            T[label] += time.perf_counter() - t
    setattr(owner, name, g)

def timed_gen(owner, name, label):
    f = getattr(owner, name)
    def g(*a, **k):
        it = f(*a, **k)
        while True:
            t = time.perf_counter()
            reading[0] = True
            try:
                item = next(it)
            except StopIteration:
                return
            finally:
                reading[0] = False
                T[label] += time.perf_counter() - t
            yield item
    setattr(owner, name, g)

KINDS = (("INTO donors", "donors"), ("INTO donations", "gifts"), ("COPY donations", "gifts"),
         ("UPDATE donors", "first gifts"), ("ANALYZE import_stage", "gifts"), ("import_stage", "stage"),
         ("FROM donors", "donors"))

def kind(sql):
    for words, label in KINDS:
        if words in sql:
            return label
    return "other SQL"

class Timer:
    def __init__(self, inner, label):
        self.inner, self.label = inner, label
    def __enter__(self):
        self.t = time.perf_counter()
        return self.inner.__enter__()
    def __exit__(self, *exc):
        try:
            return self.inner.__exit__(*exc)
        finally:
            T[self.label] += time.perf_counter() - self.t

class Cur:
    def __init__(self, cur):
        self._cur = cur
    def execute(self, sql, *args):
        t = time.perf_counter()
        try:
            return self._cur.execute(sql, *args)
        finally:
            T[kind(sql)] += time.perf_counter() - t
    def copy(self, sql, *args):
        return Timer(self._cur.copy(sql, *args), kind(sql))
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self._cur.__exit__(*exc)
    def __getattr__(self, name):
        return getattr(self._cur, name)

class Raw:
    def __init__(self, raw):
        self._raw = raw
    def cursor(self, *args):
        return Cur(self._raw.cursor(*args))
    def __getattr__(self, name):
        return getattr(self._raw, name)

real_raw = loader.raw_connection
loader.raw_connection = lambda session: (lambda pg, raw: (pg, Raw(raw)))(*real_raw(session))
timed_gen(columnar.ColumnarReader, "batches", "read+check")
timed_gen(runmod.Reader, "records", "read+check")
timed(pacsv, "read_csv", "read (pyarrow)", only_reading=True)
timed(writer, "prepare", "gift rows")
timed(rollups.Deltas, "flush", "rollups")
timed(writer, "restore_indexes", "indexes")
timed(runmod, "settle_conventions", "conventions")
from tracker.cli import run
t0 = time.perf_counter()
code = run(sys.argv[1:])
T["total"] = time.perf_counter() - t0
print("STAGES " + json.dumps(T))
sys.exit(code)
"""
STAGE_ORDER = ("conventions", "read (pyarrow)", "read+check", "gift rows", "stage", "donors", "gifts",
               "first gifts", "rollups", "indexes", "other SQL")


def run_stages(path: Path, url: str, first_load: str) -> dict[str, float]:
    """`tracker ingest donations` with each stage timed (its seconds, summed over the chunks; the reader's
    stages and the writer's overlap, on two threads)."""
    import json

    env = {**os.environ, "TRACKER_DATABASE_URL": url}
    _migrate(url)
    proc = subprocess.run([sys.executable, "-c", STAGES, "ingest", "donations", str(path), "--quiet",
                           "--timezone", "UTC", "--first-load", first_load], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"tracker ingest failed: {proc.stderr.strip()}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("STAGES ")][-1]
    return json.loads(line.removeprefix("STAGES "))


def run_checks(path: Path, kind: str) -> tuple[float, float]:
    """Time what the import's reader does with no database: read, check and normalize every row,
    and make the batches' staging rows, as the import does on its reading thread."""
    return _timed(CHECKS, str(path), kind)


class Databases:
    """Fresh, throwaway databases: SQLite files in a temp folder, PostgreSQL databases dropped at the end."""

    def __init__(self, folder: Path, pg_admin: str | None):
        self.folder, self.pg_admin, self.pg_made = folder, pg_admin, []

    def sqlite(self) -> str:
        return f"sqlite:///{self.folder / (uuid.uuid4().hex + '.sqlite3')}"

    def postgres(self) -> str:
        import psycopg

        name = f"bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.pg_admin, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        self.pg_made.append(name)
        return self.pg_admin.rsplit("/", 1)[0] + "/" + name

    def drop(self) -> None:
        if not self.pg_made:
            return
        import psycopg

        with psycopg.connect(self.pg_admin, autocommit=True) as con:
            for name in self.pg_made:
                con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


MEASURES = ("schema", "least", "checks", "tracker", "chunked")  # each next to the floor, measured in every run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the median is printed")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="PostgreSQL admin URL")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--layouts", default="generic,stripe")
    ap.add_argument("--baseline", metavar="DIR",
                    help="also run tracker and chunked with the tracker package in DIR (e.g. a checkout of main), "
                         "interleaved with this one's on the same rows: tracker@base, chunked@base")
    ap.add_argument("--stages", action="store_true",
                    help="also time each stage of the import (first load and chunked), as seconds and against the floor")
    ap.add_argument("--measure", default=",".join(MEASURES),
                    help=f"what to measure beside the floor (default: all of {','.join(MEASURES)})")
    args = ap.parse_args()
    measures = [m for m in args.measure.split(",") if m]
    if args.baseline:
        measures += [m + "@base" for m in ("tracker", "chunked") if m in measures]
    unknown = set(measures) - set(MEASURES) - {"tracker@base", "chunked@base"}
    if unknown:
        ap.error(f"unknown measure(s) {', '.join(sorted(unknown))}; choose from {', '.join(MEASURES)}")
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        dbs = Databases(folder, None if args.no_pg else args.pg)
        print(f"rows: {args.rows:,}; runs per figure: {args.repeat}; cores: {os.cpu_count()}")
        print(f"{'layout':<8} {'database':<10} {'floor rows/s':>13} "
              + " ".join(f"{m + ' rows/s':>15}" for m in measures) + " "
              + " ".join(f"{m + '/floor':>14}" for m in measures)
              + f" {'floor MB':>9} " + " ".join(f"{m + ' MB':>11}" for m in measures))
        try:
            for layout in args.layouts.split(","):
                path = folder / f"{layout}.csv"
                generate(path, args.rows, layout)
                for kind in (["sqlite"] + ([] if args.no_pg else ["postgresql"])):
                    make = dbs.sqlite if kind == "sqlite" else dbs.postgres
                    run = {
                        "schema": lambda: run_schema(path, make(), layout),
                        "least": lambda: run_schema(path, make(), layout, indexes_after=True),
                        "checks": lambda: run_checks(path, kind),
                        "tracker": lambda: run_tracker(path, make()),
                        "chunked": lambda: run_tracker(path, make(), first_load="no"),
                        "tracker@base": lambda: run_tracker(path, make(), code=args.baseline),
                        "chunked@base": lambda: run_tracker(path, make(), first_load="no", code=args.baseline),
                    }
                    runs = {m: [] for m in ["floor", *measures]}
                    for _ in range(args.repeat):  # interleaved, so that a slow spell of the machine hits them all
                        runs["floor"].append(run_floor(path, make(), layout))
                        for m in measures:
                            runs[m].append(run[m]())
                    secs = {m: statistics.median(s for s, _ in r) for m, r in runs.items()}
                    peak = {m: max(mb for _, mb in r) for m, r in runs.items()}
                    print(f"{layout:<8} {kind:<10} {args.rows / secs['floor']:>13,.0f} "
                          + " ".join(f"{args.rows / secs[m]:>15,.0f}" for m in measures) + " "
                          + " ".join(f"{secs['floor'] / secs[m]:>14.2f}" for m in measures)
                          + f" {peak['floor']:>9,.0f} " + " ".join(f"{peak[m]:>11,.0f}" for m in measures), flush=True)
                    if args.stages:
                        for mode, first_load in (("first load", "auto"), ("chunked", "no")):
                            t = run_stages(path, make(), first_load)
                            print(f"  stages, {mode} ({t['total']:.1f} s; floor {secs['floor']:.1f} s), "
                                  "seconds and floor / stage: " + ", ".join(
                                      f"{name} {t[name]:.2f} ({secs['floor'] / t[name]:.2f})"
                                      for name in STAGE_ORDER if t.get(name, 0) >= 0.005), flush=True)
        finally:
            dbs.drop()


if __name__ == "__main__":
    main()
