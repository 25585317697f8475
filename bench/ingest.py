"""Import benchmark: the full `tracker ingest donations` against a raw floor, on SQLite and PostgreSQL.

    python -m bench.ingest [--rows 1000000] [--repeat 1] [--pg URL | --no-pg]

Generates N gifts in the generic layout and in Stripe's unified layout (ids in random order, as
real exports have them), then for each database measures, in separate processes on the same rows:

- floor: parse the CSV with pandas, then insert the ready tuples in file order into a table with
  the same unique key in one transaction (sqlite3 executemany on SQLite, COPY on PostgreSQL);
- schema: the least any importer of these rows into tracker's own tables must do. Parse with
  pandas as the floor does (amounts to cents and times to UTC vectorized, no checks), insert each
  distinct donor, then every gift with its donor's id into `donations` with its indexes and
  CHECKs (and foreign keys on PostgreSQL; on SQLite, as in tracker's writer, they are not
  checked), in key order, in one transaction (executemany / COPY), on an empty, migrated
  database, with the SQLite settings tracker's engine uses (WAL, 128 MB page cache). No
  validation, duplicates, rollups, first gifts or import record;
- least: the schema baseline with what a first load sets aside set aside the same way (the indexes
  of donations and donors that are not unique, and on PostgreSQL the foreign keys of donations),
  built again before the one commit: the least work that fills tracker's tables, and so the
  fastest any importer of them could go (its ratio to the floor bounds the import's);
- tracker: `tracker ingest donations FILE --quiet` on an empty, migrated database (validation,
  donors and de-duplication included). A file this large into a database with no gift goes in as
  a first load: one transaction, the secondary indexes and foreign keys built once at the end;
- chunked: the same with `--first-load no`, committed every 200,000 gifts with every index kept
  up to date, as an import into a database that already holds gifts is written.

It prints rows per second and peak memory (max RSS of the process) of each, the median of
--repeat runs, and the ratios tracker / floor (the issue's targets: >= 1.0 on SQLite, >= 0.5 on
PostgreSQL), chunked / floor, schema / floor (how far below the floor writing tracker's tables,
indexes kept, already is) and least / floor (the same with the indexes built after).
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


def run_floor(path: Path, url: str, layout: str, script: str = FLOOR) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", script, str(path), url, layout], check=True, capture_output=True, text=True)
    seconds, rss_kb = out.stdout.split()
    return float(seconds), int(rss_kb) / 1024


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
    out = subprocess.run([sys.executable, "-c", SCHEMA, str(path), url, layout] + (["indexes-after"] if indexes_after else []),
                         check=True, capture_output=True, text=True)
    seconds, rss_kb = out.stdout.split()
    return float(seconds), int(rss_kb) / 1024


def _migrate(url: str) -> None:
    env = {**os.environ, "TRACKER_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "tracker", "db", "upgrade"], env=env, check=True, capture_output=True)


TRACKER = r"""
import sys, time, resource
from tracker.cli import run
t0 = time.perf_counter()
code = run(sys.argv[1:])
print(f"BENCH {time.perf_counter() - t0} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}")
sys.exit(code)
"""


def run_tracker(path: Path, url: str, first_load: str = "auto") -> tuple[float, float]:
    """Time `tracker ingest donations` in a process of its own (the interpreter's start-up not counted)."""
    env = {**os.environ, "TRACKER_DATABASE_URL": url}
    _migrate(url)
    proc = subprocess.run([sys.executable, "-c", TRACKER, "ingest", "donations", str(path), "--quiet",
                           "--timezone", "UTC", "--first-load", first_load], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"tracker ingest failed: {proc.stderr.strip()}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")][-1]
    _, seconds, rss_kb = line.split()
    return float(seconds), int(rss_kb) / 1024


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each measurement; the median is printed")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="PostgreSQL admin URL")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--layouts", default="generic,stripe")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        dbs = Databases(folder, None if args.no_pg else args.pg)
        print(f"rows: {args.rows:,}; runs per figure: {args.repeat}; cores: {os.cpu_count()}")
        print(f"{'layout':<8} {'database':<10} {'floor rows/s':>13} {'schema rows/s':>14} {'least rows/s':>13} "
              f"{'tracker rows/s':>15} {'chunked rows/s':>15} {'ratio':>6} {'chunked':>8} {'schema':>7} {'least':>6} "
              f"{'floor MB':>9} {'tracker MB':>11} {'chunked MB':>11}")
        try:
            for layout in args.layouts.split(","):
                path = folder / f"{layout}.csv"
                generate(path, args.rows, layout)
                for kind in (["sqlite"] + ([] if args.no_pg else ["postgresql"])):
                    make = dbs.sqlite if kind == "sqlite" else dbs.postgres
                    floors, schemas, leasts, ours, chunked = [], [], [], [], []
                    for _ in range(args.repeat):  # interleaved, so that a slow spell of the machine hits all five
                        floors.append(run_floor(path, make(), layout))
                        schemas.append(run_schema(path, make(), layout))
                        leasts.append(run_schema(path, make(), layout, indexes_after=True))
                        ours.append(run_tracker(path, make()))
                        chunked.append(run_tracker(path, make(), first_load="no"))
                    f_s, s_s, l_s, o_s, c_s = (statistics.median(s for s, _ in runs)
                                               for runs in (floors, schemas, leasts, ours, chunked))
                    print(f"{layout:<8} {kind:<10} {args.rows / f_s:>13,.0f} {args.rows / s_s:>14,.0f} "
                          f"{args.rows / l_s:>13,.0f} {args.rows / o_s:>15,.0f} {args.rows / c_s:>15,.0f} "
                          f"{f_s / o_s:>6.2f} {f_s / c_s:>8.2f} {f_s / s_s:>7.2f} {f_s / l_s:>6.2f} "
                          f"{max(m for _, m in floors):>9,.0f} {max(m for _, m in ours):>11,.0f} "
                          f"{max(m for _, m in chunked):>11,.0f}", flush=True)
        finally:
            dbs.drop()


if __name__ == "__main__":
    main()
