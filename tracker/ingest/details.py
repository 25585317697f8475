"""Finance's details of imported gifts (payout, fund, GL code, refund time, a converted gift's original amount
and rate) into gift_details.

The readers carry them on each gift (records.GiftDetails); the loader calls `store` once the chunk's
gifts are written, so each has its id. A row only for gifts whose file says any detail (the table is
sparse). Upserted on the gift's id, on SQLite and PostgreSQL alike: a value the file gives replaces the
stored one, an empty one keeps it (a re-import, or a file without the column, loses nothing), and the
refund time only moves later (the last refund). Other details (method, who entered a gift, a void)
are written by the code that makes them, never touched here.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select, tuple_
from sqlalchemy.orm import Session

from tracker.ingest.records import NormalizedDonation
from tracker.models import Donation, GiftAlias, GiftDetail

IN_LIMIT = 2000  # ids per IN (...) list: well under SQLite's limit on bound parameters
TEXT_FIELDS = ("payout_id", "fund", "gl_code")
# a converted gift's original amount and rate: the newest file's (a file that says none keeps them)
CONVERSION_FIELDS = ("original_cents", "original_currency", "rate", "rate_date", "rate_source")


def store(session: Session, source: str, gifts: list[NormalizedDonation]) -> int:
    """Upsert the details of the `gifts` of `source` that have any (after they are written); the rows stored."""
    with_details = [g for g in gifts if g.details is not None]
    if not with_details:
        return 0
    ids = _gift_ids(session, source, with_details)
    rows = {}
    for g in with_details:
        gift_id = ids.get(g.external_id)
        if gift_id is None:  # not stored (cannot happen after write_chunk; never a reason to fail an import)
            continue
        d = g.details
        rows[gift_id] = {"donation_id": gift_id, "payout_id": d.payout_id, "fund": d.fund, "gl_code": d.gl_code,
                         "refunded_at": d.refunded_at, "original_cents": d.original_cents,
                         "original_currency": d.original_currency, "rate": d.rate, "rate_date": d.rate_date,
                         "rate_source": d.rate_source}
    if not rows:
        return 0
    table = GiftDetail.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    new = stmt.excluded
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.donation_id], set_={
        **{name: func.coalesce(new[name], table.c[name]) for name in TEXT_FIELDS + CONVERSION_FIELDS},
        "refunded_at": case((or_(table.c.refunded_at.is_(None), new.refunded_at > table.c.refunded_at),
                             new.refunded_at), else_=table.c.refunded_at),
    })
    values = list(rows.values())
    for i in range(0, len(values), IN_LIMIT):
        session.execute(stmt, values[i:i + IN_LIMIT])
    return len(values)


def _gift_ids(session: Session, source: str, gifts: list[NormalizedDonation]) -> dict[str, int]:
    """External id -> the stored gift's id: by its own (source, id), else another name it arrived under (an
    alias: the gift was stored from another source first), else its payment (processor and id)."""
    ids: dict[str, int] = {}
    wanted = [g.external_id for g in gifts]
    for i in range(0, len(wanted), IN_LIMIT):
        part = wanted[i:i + IN_LIMIT]
        ids.update(session.execute(select(Donation.external_id, Donation.id).where(
            Donation.source == source, Donation.external_id.in_(part))).all())
    missing = [e for e in wanted if e not in ids]
    for i in range(0, len(missing), IN_LIMIT):
        part = missing[i:i + IN_LIMIT]
        ids.update(session.execute(select(GiftAlias.external_id, GiftAlias.donation_id).where(
            GiftAlias.source == source, GiftAlias.external_id.in_(part))).all())
    by_payment = {g.payment: g.external_id for g in gifts if g.external_id not in ids and g.payment}
    payments = list(by_payment)
    for i in range(0, len(payments), IN_LIMIT):
        part = payments[i:i + IN_LIMIT]
        for processor, processor_id, gift_id in session.execute(
                select(Donation.processor, Donation.processor_id, Donation.id).where(
                    and_(Donation.processor.is_not(None),
                         tuple_(Donation.processor, Donation.processor_id).in_(part)))):
            ids[by_payment[(processor, processor_id)]] = gift_id
    return ids
