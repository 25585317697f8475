"""Write gifts to the database: insert new ones, move changed ones forward, never count one twice.

A gift is identified by (source, external id). A gift's status only moves forward —
pending -> succeeded -> partially_refunded -> disputed -> refunded, and failed (only from pending)
is final — so an older file can never undo a refund; refunded amounts never shrink. Work is done
in chunks with bulk statements (COPY on PostgreSQL); the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections import Counter
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from tracker.dates import UTC
from tracker.errors import RowError
from tracker.ingest.records import NormalizedDonation, RefundRow
from tracker.models import Donation, Donor, Refund

RANK = {"pending": 0, "succeeded": 1, "partially_refunded": 2, "disputed": 3, "refunded": 4}
COLUMNS = (
    "donor_id", "amount_cents", "refunded_cents", "fee_cents", "currency", "donated_at",
    "status", "channel", "appeal_variant", "recurring",
)
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

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated

    @property
    def duplicates(self) -> int:
        return self.unchanged


def settle(status: str, amount: int, refunded: int) -> str:
    """The status that fits a refunded amount: all of it refunded -> refunded; part of a paid gift -> partially_refunded."""
    if status in ("succeeded", "partially_refunded", "disputed") and amount > 0 and refunded >= amount:
        return "refunded"
    if status == "succeeded" and refunded > 0:
        return "partially_refunded"
    return status


def merge(old: dict, new: dict) -> dict | None:
    """The values to store when `new` arrives for a gift stored as `old`; None when nothing changes.

    Status only moves forward; failed is final and only follows pending; the refunded amount
    never shrinks. A row that would move the gift backwards is old news and changes nothing.
    """
    if old["status"] == "failed":
        return None
    if new["status"] == "failed":
        if old["status"] != "pending":
            return None
        merged = dict(new)
    else:
        if RANK[new["status"]] < RANK[old["status"]]:
            return None
        merged = dict(new)
        merged["refunded_cents"] = min(merged["amount_cents"], max(old["refunded_cents"], new["refunded_cents"]))
        merged["status"] = settle(merged["status"], merged["amount_cents"], merged["refunded_cents"])
    if all(merged[c] == old[c] for c in COLUMNS):
        return None
    return merged


def _values(g: NormalizedDonation, donor_id: int) -> dict:
    return {
        "donor_id": donor_id, "amount_cents": g.amount_cents, "refunded_cents": g.refunded_cents,
        "fee_cents": g.fee_cents, "currency": g.currency, "donated_at": g.donated_at, "status": g.status,
        "channel": g.channel, "appeal_variant": g.appeal_variant, "recurring": g.recurring,
    }


def _chunks(items: list, size: int = IN_LIMIT):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def donor_ids(session: Session, gifts: list[NormalizedDonation]) -> dict[str, int]:
    """Donor ids for the gifts' donor keys, creating the donors that are new."""
    wanted: dict[str, NormalizedDonation] = {}
    for g in gifts:
        wanted.setdefault(g.donor_key, g)
    keys = list(wanted)
    known: dict[str, int] = {}
    for part in _chunks(keys):
        known.update(session.execute(select(Donor.key, Donor.id).where(Donor.key.in_(part))).all())
    missing = [{"key": k, "email": wanted[k].email, "name": wanted[k].name} for k in keys if k not in known]
    if missing:
        missing.sort(key=lambda d: d["key"])
        bulk_insert(session, Donor.__table__, missing)
        for part in _chunks([m["key"] for m in missing]):
            known.update(session.execute(select(Donor.key, Donor.id).where(Donor.key.in_(part))).all())
    return known


def bulk_insert(session: Session, table, rows: list[dict]) -> None:
    """Insert many rows: COPY on PostgreSQL, one executemany elsewhere. Rows must all have the same keys."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        cols = list(rows[0])
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table.name} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([_plain(row[c]) for c in cols])
        return
    session.execute(insert(table), rows)


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)  # stored as naive UTC, as UTCDateTime does
    return value


def write_chunk(
    session: Session, source: str, gifts: list[NormalizedDonation], import_id: int, summary: ImportSummary
) -> None:
    """Insert the gifts that are new, move changed ones forward, count the rest as unchanged.

    `gifts` must have distinct external ids.
    """
    donors = donor_ids(session, gifts)
    existing = {}
    cols = [getattr(Donation, c) for c in COLUMNS]
    for part in _chunks([g.external_id for g in gifts]):
        for row in session.execute(
            select(Donation.id, Donation.external_id, *cols).where(
                Donation.source == source, Donation.external_id.in_(part)
            )
        ):
            existing[row.external_id] = row._asdict()
    inserts, updates = [], []
    for g in gifts:
        values = _values(g, donors[g.donor_key])
        old = existing.get(g.external_id)
        if old is None:
            values["refunded_cents"] = min(values["refunded_cents"], values["amount_cents"])
            inserts.append({"source": source, "external_id": g.external_id, "import_id": import_id, **values})
            continue
        merged = merge(old, values)
        if merged is None:
            summary.unchanged += 1
        else:
            updates.append({"b_id": old["id"], "import_id": import_id, **merged})
    if inserts:
        inserts.sort(key=lambda r: r["external_id"])  # neighbouring keys: the unique index is touched in order
        bulk_insert(session, Donation.__table__, inserts)
        summary.inserted += len(inserts)
    if updates:
        stmt = update(Donation.__table__).where(Donation.__table__.c.id == bindparam("b_id"))
        session.execute(stmt, updates)
        summary.updated += len(updates)


def apply_refunds(session: Session, source: str, refunds: list[RefundRow], import_id: int, summary: ImportSummary) -> None:
    """Record refund rows (each once, by its own id), tie them to their gifts, and update those gifts.

    Refunds whose gift is not in the database yet wait, and are tied when the gift arrives.
    """
    if refunds:
        by_id = {r.external_id: r for r in refunds}
        seen = set()
        for part in _chunks(list(by_id)):
            seen.update(session.scalars(
                select(Refund.external_id).where(Refund.source == source, Refund.external_id.in_(part))
            ))
        new = [r for r in by_id.values() if r.external_id not in seen]
        summary.unchanged += len(refunds) - len(new)
        summary.updated += len(new)
        summary.refunds_new += len(new)
        bulk_insert(session, Refund.__table__, [
            {"source": source, "external_id": r.external_id, "donation_external_id": r.donation_external_id,
             "donation_id": None, "amount_cents": r.amount_cents, "refunded_at": r.refunded_at, "import_id": import_id}
            for r in new
        ])
    # tie every waiting refund of this source whose gift is now known, then settle those gifts
    waiting = session.execute(
        select(Refund.id, Refund.donation_external_id).where(Refund.source == source, Refund.donation_id.is_(None))
    ).all()
    gift_ids = {}
    for part in _chunks(sorted({w.donation_external_id for w in waiting})):
        gift_ids.update(session.execute(
            select(Donation.external_id, Donation.id).where(Donation.source == source, Donation.external_id.in_(part))
        ).all())
    links = [{"r_id": w.id, "d_id": gift_ids[w.donation_external_id]} for w in waiting if w.donation_external_id in gift_ids]
    if links:
        session.execute(
            update(Refund.__table__).where(Refund.__table__.c.id == bindparam("r_id")).values(donation_id=bindparam("d_id")),
            links,
        )
    summary.refunds_waiting = len(waiting) - len(links)
    touched = sorted({link["d_id"] for link in links})
    for part in _chunks(touched):
        totals = dict(session.execute(
            select(Refund.donation_id, func.sum(Refund.amount_cents)).where(Refund.donation_id.in_(part))
            .group_by(Refund.donation_id)
        ).all())
        for gift in session.execute(
            select(Donation.id, Donation.amount_cents, Donation.refunded_cents, Donation.status).where(Donation.id.in_(part))
        ):
            if gift.status in ("failed", "pending"):
                continue
            refunded = min(gift.amount_cents, max(gift.refunded_cents, int(totals.get(gift.id, 0))))
            status = settle(gift.status, gift.amount_cents, refunded)
            if (refunded, status) != (gift.refunded_cents, gift.status):
                session.execute(
                    update(Donation).where(Donation.id == gift.id).values(refunded_cents=refunded, status=status)
                )
