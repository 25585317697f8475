"""The import-time rollups that let the campaign numbers answer in well under a second at a million gifts.

Two things are kept up to date by the loader, in the same transaction as the gifts themselves:

- `gift_buckets`: counted gifts summed per quarter hour (UTC) and currency. Every IANA zone's
  offset is a whole number of quarter hours, so any local day or hour is a union of buckets, and
  a window whose ends are not on the quarter hour is completed from the raw rows (queries.py).
- `donors.first_gift_at`: each donor's first counted gift with a positive net, so "new donor"
  is a range count on an index instead of a grouped scan of every gift.

Inserted gifts add to both; a gift that changes (a refund, a status moving forward, a later
correction) takes its old contribution out and puts its new one in, and its donors' first gifts
are recomputed. `rebuild` recomputes everything from the raw rows; a test checks that the kept
rollups always equal a rebuild.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, delete, text, update
from sqlalchemy.orm import Session

from tracker.models import COUNTED_STATUSES, Donor, GiftBucket
from tracker.sqlbatch import values_batches

BUCKET_SECONDS = 900
FIELDS = ("amount_cents", "refunded_cents", "fee_cents", "gifts", "recurring_cents", "recurring_gifts")
_COUNTED_SQL = "status IN (" + ", ".join(f"'{s}'" for s in COUNTED_STATUSES) + ")"


def bucket_of(moment: datetime) -> int:
    """The quarter hour (epoch seconds, UTC) that holds `moment` (an aware datetime)."""
    return int(moment.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS


def contribution(status: str, amount: int, refunded: int, fee: int | None, recurring: bool) -> tuple[int, ...] | None:
    """What one gift adds to its bucket, in the order of FIELDS; None when its status does not count."""
    if status not in COUNTED_STATUSES:
        return None
    net = amount - refunded
    positive = 1 if net > 0 else 0
    return (amount, refunded, (fee or 0) * positive, positive, net if recurring else 0, positive if recurring else 0)


class Deltas:
    """Changes to gift_buckets collected over a chunk, written at once by `flush`."""

    def __init__(self) -> None:
        self.sums: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * len(FIELDS))

    def add(self, currency: str, donated_at: datetime, values: tuple[int, ...] | None, sign: int = 1) -> None:
        if values is None:
            return
        acc = self.sums[(currency, bucket_of(donated_at))]
        for i, v in enumerate(values):
            acc[i] += sign * v

    def change(self, old: dict, new: dict) -> None:
        """A stored gift (`old`, its column values) becomes `new`."""
        for values, sign in ((old, -1), (new, 1)):
            self.add(values["currency"], values["donated_at"], contribution(
                values["status"], values["amount_cents"], values["refunded_cents"], values["fee_cents"],
                values["recurring"],
            ), sign)

    def flush(self, session: Session) -> None:
        """Add the collected changes to gift_buckets, in the session's transaction.

        On the DB-API cursor, in multi-row statements on SQLite: a chunk of an import touches a few
        thousand buckets, and one step per bucket (through SQLAlchemy or executemany) made the
        import's writer wait for the interpreter after each (4.8 s of a million gifts' import)."""
        rows = [(cur, b, *acc) for (cur, b), acc in sorted(self.sums.items()) if any(acc)]
        self.sums.clear()
        if not rows:
            return
        conn = session.connection()
        cols = ("currency", "bucket", *FIELDS)
        insert = f"INSERT INTO gift_buckets ({', '.join(cols)}) VALUES "
        upsert = " ON CONFLICT (currency, bucket) DO UPDATE SET " + ", ".join(
            f"{c} = gift_buckets.{c} + excluded.{c}" for c in FIELDS)
        cur = conn.connection.driver_connection.cursor()
        try:
            if conn.dialect.name == "postgresql":  # psycopg sends these as one pipeline
                cur.executemany(f"{insert}({', '.join(['%s'] * len(cols))}){upsert}", rows)
                return
            for part, sql in values_batches(rows, len(cols), insert + "{}" + upsert):
                cur.execute(sql, part)
        finally:
            cur.close()


def refresh_first_gifts(session: Session, donor_ids) -> None:
    """Recompute the first counted gift of these donors from their gifts (after a gift changed)."""
    ids = sorted(set(donor_ids))
    if not ids:
        return
    stmt = text(
        "UPDATE donors SET first_gift_at = (SELECT min(d.donated_at) FROM donations d WHERE d.donor_id = donors.id "
        f"AND d.{_COUNTED_SQL} AND d.amount_cents > d.refunded_cents) WHERE id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    for i in range(0, len(ids), 5000):
        session.execute(stmt, {"ids": ids[i:i + 5000]})


def bucket_sql(dialect: str, column: str = "donated_at") -> str:
    """SQL for the quarter hour of a naive-UTC timestamp column, as epoch seconds."""
    if dialect == "postgresql":
        return f"(floor(extract(epoch from {column}) / {BUCKET_SECONDS}) * {BUCKET_SECONDS})::bigint"
    return f"(CAST(strftime('%s', {column}) AS INTEGER) / {BUCKET_SECONDS} * {BUCKET_SECONDS})"


def rebuild(session: Session) -> None:
    """Recompute both rollups from the raw gifts (for repairs and for the test that checks the kept ones)."""
    dialect = session.connection().dialect.name
    session.execute(delete(GiftBucket))
    session.execute(text(
        f"INSERT INTO gift_buckets (currency, bucket, {', '.join(FIELDS)}) "
        f"SELECT currency, {bucket_sql(dialect)}, sum(amount_cents), sum(refunded_cents), "
        "sum(CASE WHEN amount_cents > refunded_cents THEN coalesce(fee_cents, 0) ELSE 0 END), "
        "sum(CASE WHEN amount_cents > refunded_cents THEN 1 ELSE 0 END), "
        "sum(CASE WHEN recurring THEN amount_cents - refunded_cents ELSE 0 END), "
        "sum(CASE WHEN recurring AND amount_cents > refunded_cents THEN 1 ELSE 0 END) "
        f"FROM donations WHERE {_COUNTED_SQL} GROUP BY 1, 2"
    ))
    session.execute(update(Donor).values(first_gift_at=None))
    session.execute(text(
        "UPDATE donors SET first_gift_at = f.first FROM (SELECT donor_id, min(donated_at) AS first FROM donations "
        f"WHERE {_COUNTED_SQL} AND amount_cents > refunded_cents GROUP BY donor_id) f WHERE donors.id = f.donor_id"
    ))
