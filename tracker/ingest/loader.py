"""Write gifts to the database: insert new ones, move changed ones forward, never count one twice.

A gift is identified by (source, external id). Its payment only moves forward (pending ->
succeeded, refunds never shrink, failed is final) and its dispute too (open -> won or lost), so an
older file or a late webhook delivery can never undo a refund or reopen a dispute
(tracker.ingest.states); its other details are the newest's. What counts (`status`,
`refunded_cents`) is worked out from those and stored beside them. Work is done in chunks; the
caller owns the transaction.

The hot path (staging a chunk, then merging it with set-based SQL) talks to the DB-API connection
of the session's transaction directly: multi-row INSERTs on SQLite, COPY on PostgreSQL. Through
SQLAlchemy the same work was several times slower (see bench/ingest.py).
The values written are exactly what the models' column types write (naive UTC timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections import Counter
from datetime import datetime
from operator import itemgetter
from typing import NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tracker import rollups
from tracker.dates import UTC
from tracker.errors import RowError
from tracker.ingest import details, history
from tracker.ingest.history import Cause
from tracker.ingest.records import NormalizedDonation
from tracker.ingest.states import Effective, effective, merge_dispute, merge_payment
from tracker.models import COUNTED_STATUSES, Donation
from tracker.sqlbatch import values_batches

COLUMNS = (
    "donor_id", "amount_cents", "refunded_cents", "fee_cents", "currency", "donated_at",
    "status", "channel", "appeal_variant", "recurring",
    "payment_status", "refund_cents", "dispute_status", "dispute_cents", "processor", "processor_id",
)
DETAILS = ("donor_id", "amount_cents", "fee_cents", "currency", "donated_at", "channel", "appeal_variant", "recurring")
COUNTED_IN = "(" + ", ".join(f"'{s}'" for s in COUNTED_STATUSES) + ")"
IN_LIMIT = 5000  # ids per IN (...) list: well under SQLite's limit on bound parameters


@dataclass
class ImportSummary:
    """What an import did with the rows of one file. Every row read is counted exactly once:
    rows_read = inserted + updated + unchanged + skipped + rejected + superseded."""

    path: str
    format: str
    source: str
    import_id: int | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    superseded: int = 0
    refunds_new: int = 0
    refunds_waiting: int = 0
    errors: list[RowError] = field(default_factory=list)
    skip_kinds: Counter = field(default_factory=Counter)
    rejects_path: str | None = None
    strict_failed: bool = False
    first_load: bool = False  # loaded as a first load (tracker.ingest.firstload)
    older: int = 0  # rows older than the gift stored (from a file imported after theirs): their details were kept
    recognized: int = 0  # rows of a gift stored under another source, recognized by its processor id or an alias
    file_cents: int = 0  # what the file's gifts count as the file says them (amount less refunds, counted statuses)
    stored_cents: int = 0  # what the same gifts count as stored after the import
    duplicates_found: int = 0  # likely duplicates of gifts from other sources, listed for a decision
    notes: list[str] = field(default_factory=list)  # what to say once about how the file was read (its conventions)

    @property
    def duplicates(self) -> int:
        return self.unchanged


def withdrawn(gift) -> str | None:
    """Why a gift counts nothing whatever its payment says: merged into another ("duplicate") or taken back by
    hand or by an undone import ("voided"); None for a gift that counts by its payment. `gift`: a dict or a row."""
    get = gift.get if isinstance(gift, dict) else (lambda k: getattr(gift, k, None))
    if get("duplicate_of"):
        return "duplicate"
    return "voided" if get("voided_at") else None


def merge(old: dict, new: dict, *, newer: bool = True) -> dict | None:
    """The values to store when `new` arrives for a gift stored as `old`; None when nothing changes.

    Two rules, one for each kind of value:
    - the payment and the dispute only move forward, whichever row is newer (tracker.ingest.states):
      a refund seen once stays, a closed dispute never reopens;
    - the details (amount, fee, time, donor, channel, ...) are the newer row's: `newer` says
      whether `new` is at least as new as what is stored (see `is_newer`). An older file can
      therefore never undo a correction.
    The effective status and refunded amount are then worked out again from the parts.
    """
    if old["payment_status"] == "failed":
        return None
    merged = {**old, **{c: (new if newer else old)[c] for c in DETAILS}}
    merged["payment_status"] = merge_payment(old["payment_status"], new["payment_status"]) or old["payment_status"]
    merged["refund_cents"] = min(merged["amount_cents"], max(old["refund_cents"], new["refund_cents"]))
    merged["dispute_status"], merged["dispute_cents"] = merge_dispute(
        (old["dispute_status"], old["dispute_cents"]), (new["dispute_status"], new["dispute_cents"]), newer)
    if not (old["processor"] and old["processor_id"]) and new["processor"] and new["processor_id"]:
        merged["processor"], merged["processor_id"] = new["processor"], new["processor_id"]
    else:
        merged["processor"], merged["processor_id"] = old["processor"], old["processor_id"]
    merged["status"], merged["refunded_cents"] = effective(
        merged["payment_status"], merged["amount_cents"], merged["refund_cents"], merged["dispute_status"],
        merged["dispute_cents"], withdrawn(old))
    if all(merged[c] == old[c] for c in COLUMNS):
        return None
    return merged


def is_newer(new_rank: int, new_updated: datetime | None, old_rank: int | None, old_updated: datetime | None) -> bool:
    """Whether a row is at least as new as the stored gift: by the source's own updated time when both have
    one, else by the age of the file it came from (`rank`: the first import of that file's content; a gift
    stored before ranks were kept has none and is older than any file)."""
    if new_updated is not None and old_updated is not None:
        return new_updated >= old_updated
    return old_rank is None or new_rank >= old_rank


def chunked(items: list, size: int = IN_LIMIT):
    """`items` in lists of at most `size` (for IN (...) lists)."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def raw_connection(session: Session):
    """(is PostgreSQL, the DB-API connection) of the session's transaction, for the hot paths."""
    conn = session.connection()
    return conn.dialect.name == "postgresql", conn.connection.driver_connection


WRITES_LOCK = 7_265_004_012  # PostgreSQL advisory lock key: one transaction writes gifts at a time


def lock_writes(session: Session) -> None:
    """Take, for the rest of the session's transaction, the right to write gifts, waiting for whoever has it.

    Every writer of gifts takes it first (an import's chunk, its refunds, a webhook's event), so two
    writers never interleave their statements: on PostgreSQL an advisory transaction lock (two
    imports of overlapping files deadlocked on the donors and buckets they share without it); on
    SQLite the write lock itself, taken at BEGIN (a transaction that reads first and writes later
    is refused at once, not queued, when another writer got in between)."""
    pg, raw = raw_connection(session)
    cur = raw.cursor()
    try:
        if pg:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [WRITES_LOCK])
        elif not raw.in_transaction:
            cur.execute("BEGIN IMMEDIATE")
    finally:
        cur.close()


def db_value(value, pg: bool):
    """A Python value as the column types store it: timestamps as naive UTC, booleans as 0/1 on SQLite."""
    if isinstance(value, datetime):
        plain = value.astimezone(UTC).replace(tzinfo=None)
        return plain if pg else plain.isoformat(" ", "microseconds")  # SQLAlchemy's SQLite DATETIME format
    if isinstance(value, bool) and not pg:
        return int(value)
    return value


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def bulk_insert(session: Session, table, rows: list[dict]) -> None:
    """Insert many rows: COPY on PostgreSQL, one executemany on SQLite. Rows must all have the same keys."""
    if not rows:
        return
    pg, raw = raw_connection(session)
    cols = list(rows[0])
    if pg:
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([db_value(row[c], True) for c in cols])
        return
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    raw.executemany(sql, [tuple(db_value(row[c], False) for c in cols) for row in rows])


INSERT_COLUMNS = ("source", "external_id", "import_id", "recorded_at", "file_rank", "source_updated_at", "donor_id",
                  *COLUMNS[1:])  # a new gift's row in donations, as `prepare` makes it
STAGE_COLUMNS = ("external_id", "donor_key", "email", "name", *COLUMNS[1:], "updated_at")
_STAGE_DDL = """CREATE TEMP TABLE IF NOT EXISTS import_stage (
    external_id VARCHAR(200), donor_key VARCHAR(400), email VARCHAR(320), name VARCHAR(300), amount_cents BIGINT,
    refunded_cents BIGINT, fee_cents BIGINT, currency VARCHAR(3), donated_at TIMESTAMP, status VARCHAR(24),
    channel VARCHAR(80), appeal_variant VARCHAR(80), recurring BOOLEAN, payment_status VARCHAR(24),
    refund_cents BIGINT, dispute_status VARCHAR(8), dispute_cents BIGINT, processor VARCHAR(16),
    processor_id VARCHAR(200), updated_at TIMESTAMP)"""


class Prepared(NamedTuple):
    """What `write_chunk` needs of a batch of gifts, whatever is stored: made by `prepare`."""

    rows: list[tuple]  # `direct`: the gifts as rows of donations (INSERT_COLUMNS) in id order, each with its donor's
    # key as donor_id; else the staging table's rows (STAGE_COLUMNS)
    donors: list[tuple]  # `direct`: (key, e-mail, name, earliest counted gift) of each donor of the gifts, in key
    # order; else (key, earliest counted gift) of those with one, in key order
    deltas: rollups.Deltas  # what the gifts add to gift_buckets
    cents: int | None  # `direct`: what they count, as they arrive (counted_cents)
    direct: bool  # made to be written straight into donations (PostgreSQL)


def prepare(gifts: list[NormalizedDonation], pg: bool, source: str, import_id: int | None, recorded_at,
            rank: int | None) -> Prepared:
    """On PostgreSQL the donations rows of these gifts as new (`recorded_at` as the database stores it), their
    donors and what they count; on SQLite their staging rows and each donor's earliest counted gift among them;
    and their sums per quarter hour. An import makes these on the reader's thread, where they overlap the
    writer's statements; on the writer's they took it about 9 s per million gifts, holding the interpreter
    while the reader waited (generic layout, SQLite). The writer redoes the last two only for a batch that
    holds gifts already stored.

    Why the two differ (bench/ingest.py, same rows, same run): on PostgreSQL writing a batch of new gifts by
    COPY straight into donations took a third less time than staging it and merging with SQL. On SQLite the
    same direct write halved the import's speed: its multi-row statements are bound in the interpreter, and
    grouping donors and sorting gifts here put on the reader's thread work the staged merge leaves to
    SQLite's own C code, on the other core."""
    plain = _PLAIN_STATE  # what counts of a gift succeeded with nothing refunded or disputed, made once
    states = [plain if g.status == "succeeded" and not g.refunded_cents and g.dispute_status is None
              else counted_state(g) for g in gifts]
    if pg:
        return _new_rows(gifts, states, (source, import_id, recorded_at, rank))
    rows = _stage_rows(gifts, states, pg)
    return Prepared(rows, _earliest(gifts, states, rows), _sums(gifts, states), None, False)


_PLAIN_STATE = effective("succeeded", 1, 0, None, 0)


def _new_rows(gifts: list[NormalizedDonation], states: list[Effective], constants: tuple) -> Prepared:
    """PostgreSQL's direct write: the donations rows (INSERT_COLUMNS) of these gifts, with their effective states,
    sorted by id (so the unique index takes them in order); (key, e-mail, name, earliest counted gift with
    something left after refunds) of each donor, in key order: e-mail and name the greatest given (as SQL's
    max); their sums per quarter hour (rollups.contribution, inlined) and what they count. Times naive UTC.
    One pass, each gift unpacked once (a third of the time of reading its fields by name).
    """
    source, import_id, recorded_at, rank = constants
    out = []
    add = out.append
    donors: dict[str, list] = {}
    seen, counted = donors.get, COUNTED_STATUSES
    deltas = rollups.Deltas()
    sums, step, cents = deltas.sums, rollups.BUCKET_SECONDS, 0
    for g, e in zip(gifts, states):
        (_, external_id, amount, when, key, email, name, currency, status, refunded, fee, channel, variant,
         recurring, updated, dispute, dispute_cents, processor, processor_id, _) = g
        if e.status in counted:
            acc = sums[(currency, int(when.timestamp()) // step * step)]
            net = amount - e.refunded_cents
            cents += net
            acc[0] += amount
            acc[1] += e.refunded_cents
            if net > 0:
                acc[2] += fee or 0
                acc[3] += 1
                if recurring:
                    acc[5] += 1
            if recurring:
                acc[4] += net
        when = when.replace(tzinfo=None)
        if updated is not None:
            updated = updated.replace(tzinfo=None)
        add((source, external_id, import_id, recorded_at, rank, updated, key, amount, e.refunded_cents, fee, currency,
             when, e.status, channel, variant, recurring, status, refunded if refunded < amount else amount, dispute,
             dispute_cents, processor, processor_id))
        first = when if e.status in counted and amount > e.refunded_cents else None
        donor = seen(key)
        if donor is None:
            donors[key] = [email, name, first]
            continue
        if email is not None and (donor[0] is None or email > donor[0]):
            donor[0] = email
        if name is not None and (donor[1] is None or name > donor[1]):
            donor[1] = name
        if first is not None and (donor[2] is None or first < donor[2]):
            donor[2] = first
    out.sort(key=_BY_ID)  # in key order, as the unique index takes them
    return Prepared(out, sorted((key, *v) for key, v in donors.items()), deltas, cents, True)


_BY_ID = itemgetter(1)  # a donations row's external id


def _stage_rows(gifts: list[NormalizedDonation], states: list[Effective], pg: bool) -> list[tuple]:
    """The staging table's rows (STAGE_COLUMNS) of these gifts, with their effective states: times naive UTC (on
    SQLite written as SQLAlchemy writes them), booleans 0/1 on SQLite. (Each gift unpacked once: a third of the
    time of reading its fields by name.)"""
    out = []
    add = out.append
    for g, e in zip(gifts, states):
        (_, external_id, amount, when, key, email, name, currency, status, refunded, fee, channel, variant,
         recurring, updated, dispute, dispute_cents, processor, processor_id, _) = g
        when = when.replace(tzinfo=None)
        if updated is not None:
            updated = updated.replace(tzinfo=None)
        if not pg:
            when = when.isoformat(" ", "microseconds")
            updated = updated and updated.isoformat(" ", "microseconds")
            recurring = int(recurring)
        add((external_id, key, email, name, amount, e.refunded_cents, fee, currency, when, e.status, channel, variant,
             recurring, status, refunded if refunded < amount else amount, dispute, dispute_cents, processor,
             processor_id, updated))
    return out


def _sums(gifts: list[NormalizedDonation], states: list[Effective]) -> rollups.Deltas:
    """What these gifts add to gift_buckets."""
    deltas = rollups.Deltas()
    add, contribution = deltas.add, rollups.contribution
    for g, e in zip(gifts, states):
        add(g.currency, g.donated_at, contribution(e.status, g.amount_cents, e.refunded_cents, g.fee_cents, g.recurring))
    return deltas


def _earliest(gifts: list[NormalizedDonation], states: list[Effective], rows: list[tuple]) -> list[tuple]:
    """(donor key, earliest counted gift with something left after refunds) per donor of these
    gifts, in key order, the time as SQLite stores it (`rows`: their staging rows, whose times,
    all written alike, sort as text)."""
    firsts: dict[str, str] = {}
    get, counted = firsts.get, COUNTED_STATUSES
    for g, e, row in zip(gifts, states, rows):
        if e.status in counted and g.amount_cents > e.refunded_cents:
            seen = get(g.donor_key)
            if seen is None or row[8] < seen:
                firsts[g.donor_key] = row[8]
    return sorted(firsts.items())


def _staging(prepared: Prepared) -> list[tuple]:
    """The staging table's rows (STAGE_COLUMNS) of prepared gifts."""
    if not prepared.direct:
        return prepared.rows
    who = {d[0]: d for d in prepared.donors}
    return [(r[1], r[6], who[r[6]][1], who[r[6]][2], *r[7:], r[5]) for r in prepared.rows]


def _firsts(prepared: Prepared) -> list[tuple]:
    """(key, earliest counted gift) of the donors of prepared gifts that have one, in key order."""
    if not prepared.direct:
        return prepared.donors
    return [(key, first) for key, _, _, first in prepared.donors if first is not None]


def counted_cents(status: str, amount: int, refunded: int) -> int:
    """What a gift adds to "raised" (gross of fees): its amount less refunds when its status counts, else 0."""
    return amount - refunded if status in COUNTED_STATUSES else 0


def counted_state(g: NormalizedDonation) -> Effective:
    """What counts of a gift as it arrives (its effective status and refunded amount)."""
    return effective(g.status, g.amount_cents, g.refunded_cents, g.dispute_status, g.dispute_cents)


def _stage(session: Session, rows: list[tuple]) -> None:
    """Put a chunk into the connection's temporary staging table (COPY / executemany: no indexes to update)."""
    pg, raw = raw_connection(session)
    cur = raw.cursor()
    try:
        cur.execute(_STAGE_DDL)
        cur.execute("TRUNCATE import_stage" if pg else "DELETE FROM import_stage")
        if pg:
            with cur.copy(f"COPY import_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            for part, sql in values_batches(rows, len(STAGE_COLUMNS), "INSERT INTO import_stage VALUES {}"):
                cur.execute(sql, part)
    finally:
        cur.close()


def write_chunk(
    session: Session, source: str, gifts: list[NormalizedDonation], import_id: int, summary: ImportSummary,
    prepared: Prepared | None = None, rank: int | None = None, recorded_at: datetime | None = None,
    cause: Cause | None = None, direct: bool = True,
) -> bool:
    """Insert the gifts that are new, move changed ones forward, count the rest as unchanged.

    `gifts` must have distinct external ids (`prepared`, if given, is `prepare(gifts, ...)` of them).
    With `direct`, on PostgreSQL, the chunk is first written as new (`_insert_new`: its donors, then
    its gifts straight into donations); True when that held. When any gift of it is stored already, that
    is undone and the chunk is staged, then merged by set-based SQL: new donors and new gifts are
    inserted by the database itself; only gifts already stored come back to Python, to apply the
    forward-only rules.
    `rank` is the age of the file the gifts come from (see `is_newer`; default: this import's id);
    `recorded_at` when the tracker first received them (default: when import `import_id` started).
    Every change to a stored gift is kept in its history (tracker.ingest.history) with `cause` (default:
    import `import_id`, at its start).
    """
    rank = import_id if rank is None else rank
    seen_payments, later = set(), []
    for g in gifts:  # one payment named twice in the chunk (two CRM rows of one charge): the second after
        if g.payment and g.payment in seen_payments:
            later.append(g)
        elif g.payment:
            seen_payments.add(g.payment)
    if later:
        again = {id(g) for g in later}
        first = [g for g in gifts if id(g) not in again]
        write_chunk(session, source, first, import_id, summary, None, rank, recorded_at, cause, direct)
        write_chunk(session, source, later, import_id, summary, None, rank, recorded_at, cause, direct)
        return False
    pg, raw = raw_connection(session)
    ph = "%s" if pg else "?"
    if prepared is None:
        recorded = _recorded(raw, import_id, recorded_at) if pg else None  # only PostgreSQL's rows carry it
        prepared = prepare(gifts, pg, source, import_id, recorded, rank)
    if direct and prepared.direct and _insert_new(raw, source, prepared):
        summary.inserted += len(gifts)
        summary.file_cents += prepared.cents
        summary.stored_cents += prepared.cents
        prepared.deltas.flush(session)
        details.store(session, source, gifts)
        return True
    staged = _staging(prepared)
    _stage(session, staged)
    cur = raw.cursor()
    try:
        if pg:
            # the staging table is temporary, so autovacuum never analyzes it: without this the
            # planner guesses its size from nothing (a few thousand rows for 50,000)
            cur.execute("ANALYZE import_stage")
            # each staged row looks up its donor and its stored gift through the indexes: OFFSET 0
            # keeps PostgreSQL from turning the lookups into joins, which it ran by hashing every
            # donor and every stored gift once per chunk (time growing with the tables)
            donor_known = "SELECT 1 FROM donors d WHERE d.key = s.donor_key OFFSET 0"
            donor_join = "CROSS JOIN LATERAL (SELECT id FROM donors WHERE key = s.donor_key OFFSET 0) dn"
        else:  # SQLite always looks these up through the indexes
            donor_known = "SELECT 1 FROM donors d WHERE d.key = s.donor_key"
            donor_join = "JOIN donors dn ON dn.key = s.donor_key"
        # a stored gift is found by its own (source, id), by another name it arrived under (an alias),
        # or by its payment (processor and id): each an index probe, in that order
        cur.execute(f"SELECT 1 FROM gift_aliases WHERE source = {ph} LIMIT 1", [source])
        aliased = cur.fetchone() is not None
        limit = "" if pg else " AND {t}.id <= ?"
        found = (
            "coalesce((SELECT x.id FROM donations x WHERE x.source = {ph} AND x.external_id = s.external_id{lx}), "
            "(SELECT a.donation_id FROM gift_aliases a WHERE a.source = {ph} AND a.external_id = s.external_id), "
            "(SELECT y.id FROM donations y WHERE y.processor = s.processor AND y.processor_id = s.processor_id{ly}))"
        ).format(ph=ph, lx=limit.format(t="x"), ly=limit.format(t="y"))
        stored_columns = (f"{', '.join('s.' + c for c in STAGE_COLUMNS[4:])}, {', '.join('d.' + c for c in COLUMNS)}, "
                          "d.file_rank, d.source_updated_at, d.duplicate_of, d.voided_at, d.source, d.external_id, s.external_id")
        # donors not seen before (e-mail and name from one of their rows), with their first counted gift
        cur.execute("SELECT coalesce(max(id), 0) FROM donors")
        old_donors = cur.fetchone()[0]  # donors above this id are new in this chunk
        cur.execute(
            "INSERT INTO donors (key, email, name, first_gift_at) SELECT donor_key, max(email), max(name), "
            f"min(CASE WHEN status IN {COUNTED_IN} AND amount_cents > refunded_cents THEN donated_at END) "
            f"FROM import_stage s WHERE NOT EXISTS ({donor_known}) GROUP BY donor_key ORDER BY donor_key"
            # another import may be adding the same donor: PostgreSQL waits for it, then leaves it be
            + (" ON CONFLICT (key) DO NOTHING" if pg else "")
        )
        # Gifts not stored yet go in first, skipping the stored ones in the same probe of the unique
        # index that inserts the rest (looking them up first probed it twice: on SQLite 11.2 s
        # against 9.4 s per million). Nearly always nothing is skipped, and nothing more is asked.
        recorded = f"(SELECT started_at FROM imports WHERE id = {ph})" if recorded_at is None else ph
        recorded_arg = import_id if recorded_at is None else db_value(recorded_at, pg)
        cols = ", ".join(("source", "external_id", "import_id", "recorded_at", "file_rank", "source_updated_at",
                          "donor_id", *COLUMNS[1:]))
        not_aliased = (f" WHERE NOT EXISTS (SELECT 1 FROM gift_aliases a WHERE a.source = {ph} "
                       "AND a.external_id = s.external_id)") if aliased else ""
        select_new = (
            f"SELECT {ph}, s.external_id, {ph}, {recorded}, {ph}, s.updated_at, "
            f"dn.id, {', '.join('s.' + c for c in COLUMNS[1:])} FROM import_stage s {donor_join}{not_aliased} "
            "ORDER BY s.external_id"
        )
        insert_args = [source, import_id, recorded_arg, rank] + ([source] if aliased else [])
        if pg:
            # a gift another import is writing meanwhile is waited for, then found stored below; any unique key
            # (the gift's own, or its payment's) makes a row a stored gift
            cur.execute(f"INSERT INTO donations ({cols}) {select_new} ON CONFLICT DO NOTHING RETURNING external_id",
                        insert_args)
            written = {row[0] for row in cur.fetchall()}
            inserted = len(written)
            skipped = [g.external_id for g in gifts if g.external_id not in written] if inserted < len(gifts) else []
            # the skipped ids joined (with = ANY(array), each row was tested against every element)
            with_stored = (f"unnest(%s::text[]) AS k(id) JOIN import_stage s ON s.external_id = k.id {donor_join} "
                           f"JOIN donations d ON d.id = {found}")
            stored_args = [skipped, source, source]
        else:
            cur.execute("SELECT coalesce(max(id), 0) FROM donations")
            before = cur.fetchone()[0]  # SQLite has one writer: the gifts inserted now are the ids above
            cur.execute(f"INSERT OR IGNORE INTO donations ({cols}) {select_new}", insert_args)
            inserted = cur.rowcount
            with_stored = f"import_stage s {donor_join} JOIN donations d ON d.id = {found}"
            stored_args = [source, before, source, before]
        # the skipped gifts, stored before: the forward-only rules decide
        stored = []
        if inserted < len(gifts):
            cur.execute(f"SELECT d.id, dn.id, {stored_columns} FROM {with_stored}", stored_args)
            stored = cur.fetchall()
        # Exactly the gifts not stored must have been written: a gift dropped for any other reason
        # (a constraint OR IGNORE skips, a donor not found) fails the chunk instead of vanishing.
        if inserted + len(stored) != len(gifts):
            missing = len(gifts) - len(stored) - inserted
            raise RuntimeError(f"{missing} of {len(gifts) - len(stored)} new gifts in this chunk were not written")
        known = {row[-1] for row in stored}
        for row in staged:
            cents = counted_cents(row[9], row[4], row[5])  # the staged row's effective status and refund
            summary.file_cents += cents
            if row[0] not in known:
                summary.stored_cents += cents
        firsts, deltas = _firsts(prepared), prepared.deltas
        if known:  # the gifts stored before count by the rules below instead
            fresh = prepare([g for g in gifts if g.external_id not in known], pg, source, None, None, None)
            firsts, deltas = _firsts(fresh), fresh.deltas
        _first_gifts(cur, pg, firsts, old_donors, known)
        summary.inserted += inserted
        cur.execute("TRUNCATE import_stage" if pg else "DELETE FROM import_stage")
    finally:
        cur.close()
    updates, moved_donors, aliases, changes = [], [], [], []
    width = len(STAGE_COLUMNS) - 4  # the staged values after the donor's: the gift's columns, then updated_at
    revive = _voided_by_undo(session, [row[0] for row in stored if row[2 + width + len(COLUMNS) + 3] is not None])

    for row in stored:
        gift_id, donor_id = row[0], row[1]
        new = dict(zip(COLUMNS[1:], row[2:2 + width - 1]))
        new["donor_id"] = donor_id
        old = dict(zip(COLUMNS, row[2 + width:2 + width + len(COLUMNS)]))
        new_updated = row[1 + width]
        (old_rank, old_updated, old["duplicate_of"], old["voided_at"], old_source, old_external,
         external) = row[2 + width + len(COLUMNS):]
        for values in (new, old):
            values["donated_at"], values["recurring"] = _utc(values["donated_at"]), bool(values["recurring"])
        if old["voided_at"] is not None:
            old["voided_at"] = _utc(old["voided_at"])
        new_updated, old_updated = (None if t is None else _utc(t) for t in (new_updated, old_updated))
        same = (old_source, old_external) == (source, external)
        # the processor's own row (its export, its webhook) speaks for the payment over another source's
        row_own, stored_own = new["processor"] == source, old["processor"] == old_source
        newer = row_own if row_own != stored_own and not same else is_newer(rank, new_updated, old_rank, old_updated)
        if not same:
            summary.recognized += 1
            if row_own and not stored_own:  # the gift takes the processor's name; the other becomes an alias
                aliases.append((old_source, old_external, gift_id))
            else:
                aliases.append((source, external, gift_id))
        if not newer and any(new[c] != old[c] for c in DETAILS):
            summary.older += 1
        revived = gift_id in revive  # voided only because the import that brought it was undone: it is back
        merged = merge({**old, "voided_at": None} if revived else old, new, newer=newer)
        if revived and merged is None:  # the same values: only what counts comes back
            merged = dict(old)
            merged["status"], merged["refunded_cents"] = effective(
                old["payment_status"], old["amount_cents"], old["refund_cents"], old["dispute_status"],
                old["dispute_cents"], withdrawn({**old, "voided_at": None}))
        renamed = not same and row_own and not stored_own
        final = merged or old
        summary.stored_cents += counted_cents(final["status"], final["amount_cents"], final["refunded_cents"])
        if merged is None and not renamed:
            summary.unchanged += 1
            continue
        if merged is None:
            merged = dict(old)
        merged.pop("duplicate_of", None)
        merged["voided_at"] = None if revived else old["voided_at"]
        merged["file_rank"], merged["source_updated_at"] = (rank, new_updated) if newer else (old_rank, old_updated)
        merged["source"], merged["external_id"] = (source, external) if renamed else (old_source, old_external)
        updates.append({"b_id": gift_id, "import_id": import_id, **merged})
        changes.append((gift_id, {**old, "source": old_source, "external_id": old_external},
                        {**merged, "duplicate_of": old["duplicate_of"]}))
        deltas.change(old, merged)
        moved_donors += (old["donor_id"], merged["donor_id"])
    if aliases:
        _add_aliases(session, pg, aliases, import_id)
    if updates:
        stmt = update(Donation.__table__).where(Donation.__table__.c.id == bindparam("b_id"))
        session.execute(stmt, updates)
        summary.updated += len(updates)
        history.record(session, changes, cause, import_id)
    # a stored gift arriving under a donor new in this chunk gave that donor its first gift at insert,
    # though the gift may stay with its old donor: recompute those donors from their own gifts
    moved_donors += [row[1] for row in stored if row[1] > old_donors]
    rollups.refresh_first_gifts(session, moved_donors)
    deltas.flush(session)
    details.store(session, source, gifts)  # finance's details of the gifts (payout, fund, GL code): gift_details
    return False


def _recorded(raw, import_id: int | None, recorded_at: datetime | None):
    """When the gifts were first received, as PostgreSQL stores it: `recorded_at`, else import `import_id`'s start."""
    if recorded_at is not None:
        return db_value(recorded_at, True)
    cur = raw.cursor()
    try:
        cur.execute("SELECT started_at FROM imports WHERE id = %s", [import_id])
        found = cur.fetchone()
        return found[0] if found else None
    finally:
        cur.close()


def _insert_new(raw, source: str, prepared: Prepared) -> bool:
    """Write prepared gifts (PostgreSQL) as new, straight into donations: their donors not stored yet first (with
    their first counted gift; a stored donor's moves earlier where a gift here came before it), then the gifts
    by COPY with their donors' ids. No staging table, no look-ups of stored gifts: the unique keys do that.
    False, with nothing written (back to a savepoint), when any of them is stored (by its id or its payment) or
    named by an alias of the source, so that the merge path decides; a row the database refuses (a CHECK)
    goes that way too and fails there with its reason. The caller holds the right to write gifts
    (`lock_writes`), so no other writer adds a donor meanwhile; one that did anyway is found again by its key."""
    import psycopg

    rows, donors = prepared.rows, prepared.donors
    if not rows:
        return True
    cur = raw.cursor()
    try:
        cur.execute("SELECT 1 FROM gift_aliases WHERE source = %s LIMIT 1", [source])
        if cur.fetchone() is not None:
            return False
        cur.execute("SAVEPOINT new_gifts")
        try:
            _insert_new_pg(cur, rows, donors)
        except psycopg.errors.IntegrityError:
            cur.execute("ROLLBACK TO SAVEPOINT new_gifts")
            cur.execute("RELEASE SAVEPOINT new_gifts")
            return False
        cur.execute("RELEASE SAVEPOINT new_gifts")
        return True
    finally:
        cur.close()


def _insert_new_pg(cur, rows: list[tuple], donors: list[tuple]) -> None:
    keys = [d[0] for d in donors]
    cur.execute("SELECT key, id FROM donors WHERE key = ANY(%s::text[])", [keys])
    ids = dict(cur.fetchall())
    stored = [(ids[key], first) for key, _, _, first in donors if key in ids and first is not None]
    new = [d for d in donors if d[0] not in ids]
    if new:
        cur.execute(
            "INSERT INTO donors (key, email, name, first_gift_at) SELECT * FROM "
            "unnest(%s::text[], %s::text[], %s::text[], %s::timestamp[]) ON CONFLICT (key) DO NOTHING RETURNING key, id",
            [list(column) for column in zip(*new)])
        ids.update(cur.fetchall())
        if len(ids) < len(donors):  # added by another writer meanwhile: stored donors, like the first ones
            late = {key for key, *_ in new if key not in ids}
            cur.execute("SELECT key, id FROM donors WHERE key = ANY(%s::text[])", [sorted(late)])
            ids.update(cur.fetchall())
            stored += [(ids[key], first) for key, _, _, first in new if key in late and first is not None]
    if stored:
        cur.execute(
            "UPDATE donors d SET first_gift_at = v.first FROM unnest(%s::bigint[], %s::timestamp[]) AS v(id, first) "
            "WHERE d.id = v.id AND (d.first_gift_at IS NULL OR d.first_gift_at > v.first)",
            [list(column) for column in zip(*stored)])
    with cur.copy(f"COPY donations ({', '.join(INSERT_COLUMNS)}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row((*r[:6], ids[r[6]], *r[7:]))


def _voided_by_undo(session: Session, gift_ids: list[int]) -> set[int]:
    """Those of `gift_ids` voided because the import that created them was undone (tracker.ingest.undo): a row
    for one of them brings it back. (A gift voided by a person stays voided.)"""
    from tracker.models import GiftDetail

    found = set()
    for part in chunked(gift_ids):
        found.update(session.scalars(select(GiftDetail.donation_id).where(
            GiftDetail.donation_id.in_(part), GiftDetail.void_reason.like("import % undone"))))
    return found


def _add_aliases(session: Session, pg: bool, aliases: list[tuple[str, str, int]], import_id: int | None) -> None:
    """Record other names gifts arrived under (source, id -> gift), each once."""
    from tracker.models import GiftAlias

    if pg:
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    rows = [{"source": s, "external_id": e, "donation_id": d, "import_id": import_id} for s, e, d in aliases]
    session.execute(insert(GiftAlias.__table__).on_conflict_do_nothing(index_elements=["source", "external_id"]), rows)


def _first_gifts(cur, pg: bool, firsts: list[tuple], old_donors: int, known: set[str]) -> None:
    """Move earlier the first counted gift of donors known before this chunk (ids up to `old_donors`)
    where a newly inserted gift came before it. (Donors new in the chunk got theirs when inserted.)

    PostgreSQL groups the staged rows itself (leaving out the `known` ones, already stored), for
    every donor of the chunk: another import may have added one of them meanwhile, with an id
    above `old_donors` (for a donor this chunk inserted, the update finds nothing earlier). On
    SQLite, which has one writer at a time, the earliest gift per donor is found in Python from
    the rows at hand (`firsts`, from `prepare`'s donors) and sent as multi-row VALUES, which measured
    faster than grouping the rows again in SQL. Either way one statement changes only the donors
    it moves.
    """
    if pg:
        cur.execute(
            "UPDATE donors d SET first_gift_at = f.first FROM (SELECT donor_key, min(donated_at) AS first "
            f"FROM import_stage WHERE status IN {COUNTED_IN} AND amount_cents > refunded_cents "
            "AND external_id NOT IN (SELECT unnest(%s::text[])) GROUP BY donor_key) f "
            "WHERE d.key = f.donor_key AND (d.first_gift_at IS NULL OR d.first_gift_at > f.first)",
            [sorted(known)],
        )
        return
    template = (
        "UPDATE donors SET first_gift_at = v.first FROM (SELECT column1 AS key, column2 AS first FROM (VALUES {})) v "
        "WHERE donors.key = v.key AND donors.id <= ? "
        "AND (donors.first_gift_at IS NULL OR donors.first_gift_at > v.first)"
    )
    for part, sql in values_batches(firsts, 2, template):
        cur.execute(sql, [*part, old_donors])


def apply_dispute(session: Session, source: str, external_id: str, state: str, cents: int, at: datetime | None,
                  import_id: int | None = None, cause: Cause | None = None) -> bool:
    """Move gift (source, external_id)'s dispute to `state` by the dispute's own rules (tracker.ingest.states),
    keeping the rollups and first gifts true; False when no such gift is stored yet (the caller waits for it)."""
    gift = session.execute(select(Donation).where(Donation.source == source, Donation.external_id == external_id)
                           ).scalar_one_or_none()
    if gift is None:
        return False
    old = {c: getattr(gift, c) for c in COLUMNS}
    old["duplicate_of"], old["voided_at"] = gift.duplicate_of, gift.voided_at
    newer = at is None or gift.source_updated_at is None or at >= gift.source_updated_at
    new = {**old, "dispute_status": state, "dispute_cents": cents}
    merged = merge(old, new, newer=newer)
    if merged is None:
        return True
    gift.dispute_status, gift.dispute_cents = merged["dispute_status"], merged["dispute_cents"]
    gift.status, gift.refunded_cents = merged["status"], merged["refunded_cents"]
    if import_id is not None:
        gift.import_id = import_id
    session.flush()
    history.record(session, [(gift.id, old, merged)], cause or Cause(at=at, import_id=import_id), import_id)
    deltas = rollups.Deltas()
    deltas.change(old, merged)
    deltas.flush(session)
    rollups.refresh_first_gifts(session, [gift.donor_id])
    return True
