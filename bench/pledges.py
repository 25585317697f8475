"""Pledge-linking benchmark: the pass every import, webhook batch and manual gift runs, on SQLite and PostgreSQL.

    python -m bench.pledges [--rows 1000000] [--pg URL | --no-pg] [--keep DIR]

Builds the demo newsroom scaled to about --rows gifts (bench.status's four Decembers, through the importer's
write_chunk), its card gifts carrying a Stripe charge id (processor stripe, ch_...), a third of the others a
PayPal one, one gift in ten under a second source (crm) and one in a hundred with details (gift_details);
then 30 pledges fulfilled already and 20 open pledges with references: 4 are a counted gift's charge id, 4 a
counted gift's donation id, 1 a gift's reference (gift_details), 11 match nothing stored yet (the money has
not arrived: the usual case at each webhook delivery). Per database it prints the median of 7 runs (after a
warm-up; each in a transaction rolled back, so each starts from the same pledges) of
- tracker: `link_open` as it is (the gifts read through the indexes of donations);
- before: `link_open` as it was (joins on processor_id = reference and external_id = reference, neither
  column with an index of its own, and on the fulfilled pledges' gifts), kept here as the baseline;
and the plan of each of their queries that reads donations by a reference or by a pledge, or finds the
processors and sources stored (EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL). Exits 1 unless both
link the same pledges to the same gifts in the same way.
PostgreSQL gets a throwaway database (VACUUM ANALYZE after building; dropped at the end).
--keep DIR builds the SQLite file in DIR, keeps it and reuses it on the next run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, event, insert, select, text, update
from sqlalchemy.orm import Session

from bench.ingest import Databases
from bench.status import AS_OF, GIFTS_PER_SCALE
from tracker import db, demo
from tracker.ingest import pledges
from tracker.ingest.loader import ImportSummary, write_chunk
from tracker.manage import create_campaign
from tracker.db import bump_revision
from tracker.models import COUNTED_STATUSES, Donation, Donor, GiftDetail, ImportBatch, Pledge

RUNS, CHUNK = 7, 50_000
NOW = AS_OF + timedelta(days=3)


def build(url: str, scale: int) -> None:
    """The demo's four years at `scale` times its size with processors' ids and two sources, and the 20 pledges."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        s.add(batch := ImportBatch(filename="(bench)", sha256="-" * 64, format="demo", source="demo", started_at=AS_OF))
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
            by_source: dict[str, list] = {"demo": [], "crm": []}
            for g in gifts:
                if g.channel in ("website", "email", "social"):
                    g = g._replace(processor="stripe", processor_id="ch_" + g.external_id)
                elif g.line % 3 == 0:
                    g = g._replace(processor="paypal", processor_id="PP" + g.external_id)
                by_source["crm" if g.line % 10 == 0 else "demo"].append(g)
            for source, part in by_source.items():
                for i in range(0, len(part), CHUNK):
                    write_chunk(s, source, part[i:i + CHUNK], batch.id, summary)
        counted = (Donation.status.in_(COUNTED_STATUSES),)
        charges = list(s.scalars(select(Donation.processor_id).where(
            Donation.processor == "stripe", *counted).order_by(Donation.id).limit(4)))
        own_ids = list(s.scalars(select(Donation.external_id).where(
            Donation.source == "crm", Donation.processor.is_(None), *counted).order_by(Donation.id.desc()).limit(4)))
        free = list(s.scalars(select(Donation.id).where(
            Donation.source == "demo", Donation.processor.is_(None), *counted).order_by(Donation.id).limit(31)))
        s.execute(insert(GiftDetail), [{"donation_id": gift_id, "fund": "general"} for gift_id in s.scalars(
            select(Donation.id).where(Donation.id % 100 == 7, Donation.id.not_in(free)))])
        s.execute(insert(GiftDetail), [{"donation_id": free[0], "reference": "CHECK-0000", "method": "check"}])
        keys = list(s.scalars(text("SELECT key FROM donors ORDER BY id LIMIT 50")))
        references = charges + own_ids + [f"CHECK-{i:04d}" for i in range(12)]
        new = [pledges.NewPledge(
            external_id=f"BP-{i:02d}", donor_key=keys[i], email=None, name=None, amount_cents=1_234_567 + i,
            currency="USD", pledged_at=AS_OF - timedelta(days=20), expected_at=date(2027, 1, 15), kind="check",
            reference=ref) for i, ref in enumerate(references)]
        done = [replace(p, external_id=f"BD-{i:02d}", donor_key=keys[20 + i], reference=None)
                for i, p in enumerate(new + new[:10])]
        pledges.store(s, "bench", new + done, actor="bench", now=AS_OF)
        for pledge_id, gift_id in zip(s.scalars(select(Pledge.id).where(Pledge.external_id.like("BD-%"))
                                                .order_by(Pledge.id)), free[1:]):
            pledges.link(s, pledge_id, gift_id, now=AS_OF)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def link_open_before(session: Session, *, now: datetime) -> int:
    """tracker.ingest.pledges.link_open as it was (the pledge branch at 146c619), the baseline: the same rule, its
    reference matches joined on donations.processor_id and donations.external_id, which no index leads."""
    open_ = (Pledge.fulfilled_donation_id.is_(None), Pledge.cancelled_at.is_(None))
    # a pledge whose gift no longer counts (voided, merged as a duplicate, failed) is open again
    lost = list(session.scalars(select(Pledge.id).join(Donation, Donation.id == Pledge.fulfilled_donation_id)
                                .where(Donation.status.not_in(COUNTED_STATUSES))))
    if lost:
        session.execute(update(Pledge).where(Pledge.id.in_(lost)).values(
            fulfilled_donation_id=None, fulfilled_at=None, fulfilled_by=None))
    if session.scalar(select(Pledge.id).where(*open_).limit(1)) is None:
        if lost:
            bump_revision(session, now)
        return 0
    taken = select(Pledge.fulfilled_donation_id).where(Pledge.fulfilled_donation_id.is_not(None))
    counted = and_(Donation.status.in_(COUNTED_STATUSES), Donation.id.not_in(taken),
                   Donation.currency == Pledge.currency)
    columns = (Pledge.id, Pledge.expected_at, Donation.id, Donation.donated_at)
    by_reference = []
    for column in (Donation.processor_id, Donation.external_id):  # equality joins, one each (hashable, no OR)
        by_reference += session.execute(
            select(*columns).select_from(Pledge).join(Donation, column == Pledge.reference)
            .where(*open_, Pledge.reference.is_not(None), counted))
    by_reference += session.execute(
        select(*columns).select_from(Pledge)
        .join(GiftDetail, GiftDetail.reference == Pledge.reference)
        .join(Donation, Donation.id == GiftDetail.donation_id)
        .where(*open_, Pledge.reference.is_not(None), counted))
    by_donor = list(session.execute(
        select(*columns).select_from(Pledge)
        .join(Donor, Donor.key == Pledge.donor_key)
        .join(Donation, and_(Donation.donor_id == Donor.id, Donation.amount_cents == Pledge.amount_cents,
                             Donation.donated_at >= Pledge.pledged_at))
        .where(*open_, counted)))
    chosen: dict[int, tuple[int, str]] = {}  # pledge id -> (gift id, how)
    used: set[int] = set()
    for how, pairs in (("reference", by_reference), ("donor", by_donor)):
        ordered = sorted(set(pairs), key=lambda r: (r[1] is None, r[1] or date.min, r[0], r[3], r[2]))
        for pledge_id, _, gift_id, _ in ordered:
            if pledge_id not in chosen and gift_id not in used:
                chosen[pledge_id] = (gift_id, how)
                used.add(gift_id)
    for pledge_id, (gift_id, how) in sorted(chosen.items()):
        session.execute(update(Pledge).where(Pledge.id == pledge_id, *open_).values(
            fulfilled_donation_id=gift_id, fulfilled_at=now, fulfilled_by=how))
    if chosen or lost:
        bump_revision(session, now)
    return len(chosen)


def run(factory, link_open) -> tuple[float, list, list]:
    """One pass of `link_open`, rolled back: (seconds, the links it made, its statements)."""
    statements: list = []
    with factory() as session:
        conn = session.connection()

        def record(_conn, _cursor, statement, parameters, _context, _many):
            statements.append((statement, parameters))

        event.listen(conn, "before_cursor_execute", record)
        t0 = time.perf_counter()
        link_open(session, now=NOW)
        seconds = time.perf_counter() - t0
        event.remove(conn, "before_cursor_execute", record)
        links = sorted(session.execute(select(Pledge.external_id, Pledge.fulfilled_donation_id,
                                              Pledge.fulfilled_by)))
        session.rollback()
    return seconds, links, statements


def plans(engine, statements: list) -> list[str]:
    """The plan of each statement that reads donations by a pledge's reference or finds the processors, sources."""
    pg = engine.dialect.name == "postgresql"
    out = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            flat = " ".join(statement.split())
            if not flat.startswith("SELECT") or not any(k in flat for k in (
                    "donations.processor", "donations.source", "donations.external_id", "donations.id IN",
                    "donations.id = pledges.fulfilled", "gift_details")):
                continue
            where = flat[flat.index("FROM"):][:150]
            rows = conn.exec_driver_sql(("EXPLAIN " if pg else "EXPLAIN QUERY PLAN ") + statement, parameters).all()
            out.append(f"    {where}...")
            out += [f"      {line[:160]}{'...' if len(line) > 160 else ''}"
                    for line in (r[0] if pg else r[-1] for r in rows)]
    return out


def measure(kind: str, url: str) -> tuple[bool, list[str], list[str]]:
    engine = db.make_engine(db.normalize_url(url))
    factory = db.session_factory(engine)
    with factory() as s:
        rows = s.scalar(text("SELECT count(*) FROM donations"))
    shapes = {"tracker": pledges.link_open, "before": link_open_before}
    times, links, statements = {name: [] for name in shapes}, {}, {}
    for rep in range(RUNS + 1):  # interleaved; the first run warms up and is not counted
        for name, shape in shapes.items():
            seconds, links[name], statements[name] = run(factory, shape)
            times[name] += [seconds] if rep else []
    med = {name: statistics.median(ts) for name, ts in times.items()}
    same = links["tracker"] == links["before"]
    linked = sum(1 for pid, gift, _ in links["tracker"] if gift and pid.startswith("BP-"))
    explained = []
    for name in shapes:
        explained += [f"  {kind}, {name}:"] + plans(engine, statements[name])
    engine.dispose()
    return same, [
        f"{kind:<10} {rows:>10,} {med['tracker'] * 1000:>10.1f} {med['before'] * 1000:>10.1f} "
        f"{med['before'] / med['tracker']:>8.1f}   {linked} of 20 linked, "
        f"{'the same' if same else 'DIFFERENT'} in both"], explained


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="about this many gifts (30,000 per demo scale step)")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres", help="PostgreSQL admin URL")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--keep", metavar="DIR", help="build the SQLite database in DIR and keep it (reused when present)")
    args = ap.parse_args()
    scale = max(1, round(args.rows / GIFTS_PER_SCALE))
    kept = Path(args.keep).resolve() / f"pledges-v2-scale{scale}.sqlite3" if args.keep else None
    ok, table, explained = True, [f"{'database':<10} {'gifts':>10} {'tracker ms':>10} {'before ms':>10} "
                                  f"{'before/tr':>8}"], []
    print(f"machine: {os.cpu_count()} cores, shared and noisy: compare ratios, not seconds\n"
          f"demo scale {scale} (about {scale * GIFTS_PER_SCALE:,} gifts), 20 open pledges with references and "
          "30 fulfilled; "
          f"link_open, medians of {RUNS} runs after 1 warm-up, interleaved", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-pledges-") as tmp:
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
                    t0 = time.perf_counter()
                    build(db.normalize_url(f"sqlite:///{to}" if to else url), scale)
                    print(f"built {kind} in {time.perf_counter() - t0:.0f} s", flush=True)
                    if to:
                        to.replace(kept)
                good, lines, plan = measure(kind, url)
                ok, table, explained = ok and good, table + lines, explained + plan
                print("\n".join(lines), flush=True)
        finally:
            dbs.drop()
    print("\n" + "\n".join(table))
    print("\nplans of the queries that read donations by a reference or for the pledges:\n" + "\n".join(explained))
    if not ok:
        raise SystemExit("the pass links differently from the baseline")


if __name__ == "__main__":
    main()
