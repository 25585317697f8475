"""Refunds reported as rows of their own (PayPal), tied to their gifts by the gift's id in the same source.

A refund whose gift is not in the database yet waits (donation_id empty) and is tied when the
gift arrives; each refund is recorded once, by its own id. The caller owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from tracker import rollups
from tracker.ingest import history
from tracker.ingest.history import Cause
from tracker.ingest.loader import ImportSummary, bulk_insert, chunked, counted_cents, withdrawn
from tracker.ingest.records import RefundRow
from tracker.ingest.states import effective, settle
from tracker.models import Donation, Refund


def apply_refunds(session: Session, source: str, refunds: list[RefundRow], import_id: int | None,
                  summary: ImportSummary, cause: Cause | None = None) -> None:
    """Record refund rows (each once, by its own id), tie them to their gifts, and update those gifts.

    Refunds whose gift is not in the database yet wait, and are tied when the gift arrives. Each gift changed
    gets a history row (with `cause`, default import `import_id`) and its refund date (the latest refund's).
    """
    if refunds:
        by_id = {r.external_id: r for r in refunds}
        seen = set()
        for part in chunked(list(by_id)):
            seen.update(session.scalars(
                select(Refund.external_id).where(Refund.source == source, Refund.external_id.in_(part))
            ))
        new = [r for r in by_id.values() if r.external_id not in seen]
        summary.file_cents -= sum(r.amount_cents for r in by_id.values())
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
    for part in chunked(sorted({w.donation_external_id for w in waiting})):
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
    deltas, changed_donors, changes, dates = rollups.Deltas(), [], [], []
    for part in chunked(touched):
        totals, latest = {}, {}
        for gift_id, total, last in session.execute(
            select(Refund.donation_id, func.sum(Refund.amount_cents), func.max(Refund.refunded_at))
            .where(Refund.donation_id.in_(part)).group_by(Refund.donation_id)
        ):
            totals[gift_id], latest[gift_id] = total, last
        for gift in session.execute(
            select(Donation.id, Donation.donor_id, Donation.amount_cents, Donation.refunded_cents, Donation.fee_cents,
                   Donation.currency, Donation.donated_at, Donation.status, Donation.recurring, Donation.payment_status,
                   Donation.refund_cents, Donation.dispute_status, Donation.dispute_cents, Donation.duplicate_of,
                   Donation.voided_at)
            .where(Donation.id.in_(part))
        ):
            if gift.payment_status in ("failed", "pending"):
                continue
            refunds = min(gift.amount_cents, max(gift.refund_cents, int(totals.get(gift.id, 0))))
            payment = settle(gift.payment_status, gift.amount_cents, refunds)
            status, refunded = effective(payment, gift.amount_cents, refunds, gift.dispute_status, gift.dispute_cents,
                                         withdrawn(gift))
            if (refunds, payment) != (gift.refund_cents, gift.payment_status):
                summary.stored_cents += (counted_cents(status, gift.amount_cents, refunded)
                                         - counted_cents(gift.status, gift.amount_cents, gift.refunded_cents))
                session.execute(update(Donation).where(Donation.id == gift.id).values(
                    refund_cents=refunds, payment_status=payment, refunded_cents=refunded, status=status))
                old = gift._asdict()
                new = {**old, "refunded_cents": refunded, "status": status, "refund_cents": refunds,
                       "payment_status": payment}
                deltas.change(old, new)
                changes.append((gift.id, old, new))
                dates.append((gift.id, latest.get(gift.id)))
                changed_donors.append(gift.donor_id)
    history.record(session, changes, cause, import_id)
    history.refund_dates(session, dates)
    deltas.flush(session)
    rollups.refresh_first_gifts(session, changed_donors)
