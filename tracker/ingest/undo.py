"""`tracker imports undo N`: take back what one import did, by its history.

- Gifts the import created are removed when nothing else touched them (no change by another import, event or
  person, no refund of another import, no decided duplicate pair), else voided (kept, counting nothing).
- Changes it made to gifts stored before (a refund, a dispute, new details, a rename) are rolled back to what the
  gift's history says they were before, unless a later import, event or person changed that gift again: then
  nothing is changed and the conflict is named (undo the later one first, or correct the gift by hand).
- Its refund rows, the other names it gave gifts (aliases) and the undecided duplicate pairs it found go.
Undoing twice is a no-op. Everything happens in the caller's transaction; the rollups are kept by the same deltas
as an import, so they stay equal to a rebuild.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from tracker import rollups
from tracker.dates import ensure_utc
from tracker.db import bump_revision
from tracker.errors import NotFound, UsageError
from tracker.ingest import history, pledges
from tracker.ingest.history import Cause
from tracker.ingest.loader import COLUMNS, lock_writes, withdrawn
from tracker.ingest.states import effective
from tracker.ingest.manual import set_voided
from tracker.models import (Pledge, Donation, Donor, DuplicatePair, GiftAlias, GiftDetail, GiftHistory, ImportBatch,
                            Refund)

TIMES = ("donated_at", "voided_at")
DERIVED = ("status", "refunded_cents")  # worked out from the rest, not restored
UNDONE = "import {} undone"  # the void reason of a gift an undone import created: a later import brings it back


class UndoConflict(UsageError):
    """A later import, event or person changed a gift this import changed: nothing was undone."""


@dataclass
class Undone:
    import_id: int
    already: datetime | None = None  # undone before, at this time: nothing was done now
    removed: int = 0
    voided: int = 0
    restored: int = 0
    refunds: int = 0
    aliases: int = 0
    pairs: int = 0
    notes: list[str] = field(default_factory=list)


def _cause_of(h: GiftHistory) -> str:
    if h.import_id is not None:
        return f"import {h.import_id}"
    if h.webhook_event_id is not None:
        return f"webhook event {h.webhook_event_id}"
    return h.actor or "someone"


def _values(gift: Donation) -> dict:
    values = {c: getattr(gift, c) for c in COLUMNS}
    values.update(duplicate_of=gift.duplicate_of, voided_at=gift.voided_at, source=gift.source,
                  external_id=gift.external_id)
    return values


def undo(session: Session, import_id: int, *, actor: str, now: datetime) -> Undone:
    """Take back import `import_id` (see the module's docstring); UndoConflict when a later change is in the way."""
    lock_writes(session)
    batch = session.get(ImportBatch, import_id)
    if batch is None:
        raise NotFound(f"no import {import_id} (see: tracker imports list)")
    done = Undone(import_id)
    if batch.undone_at is not None:
        done.already = batch.undone_at
        return done
    if batch.status == "running":
        raise UsageError(f"import {import_id} is still running (or was killed while running); wait for it to end, "
                         "or see tracker imports list")
    created = set(session.scalars(select(Donation.id).where(Donation.recorded_at == batch.started_at)))
    own = session.scalars(select(GiftHistory).where(GiftHistory.import_id == import_id)
                          .order_by(GiftHistory.id)).all()
    # imports undone before: their changes and the undoing of them no longer stand in the way
    undone = set(session.scalars(select(ImportBatch.id).where(ImportBatch.undone_at.is_not(None))))
    changed = sorted({h.donation_id for h in own} - created)
    # what others did to these gifts after (or, for created gifts, at all)
    others = defaultdict(list)
    watched = sorted(created | set(changed))
    for part in _chunks(watched):
        for h in session.scalars(select(GiftHistory).where(GiftHistory.donation_id.in_(part),
                                                           or_(GiftHistory.import_id.is_(None),
                                                               GiftHistory.import_id != import_id))
                                 .order_by(GiftHistory.id)):
            if h.import_id not in undone:
                others[h.donation_id].append(h)
    first_own = {}
    for h in own:
        first_own.setdefault(h.donation_id, h)
    conflicts = []
    for gift_id in changed:
        later = [h for h in others.get(gift_id, ()) if h.id > first_own[gift_id].id]
        if later:
            h = later[-1]
            conflicts.append(f"gift {gift_id} was changed again ({h.kind}) by {_cause_of(h)} on {h.at:%Y-%m-%d %H:%M} UTC")
    # refunds of this import tied to gifts by another import's run (the gift arrived later)
    own_refunds = session.scalars(select(Refund).where(Refund.import_id == import_id)).all()
    for r in own_refunds:
        if r.donation_id is not None and r.donation_id not in created and r.donation_id not in changed:
            conflicts.append(f"its refund {r.external_id} was applied to gift {r.donation_id} later, when that gift "
                             "arrived")
    if conflicts:
        more = f" (and {len(conflicts) - 3} more)" if len(conflicts) > 3 else ""
        raise UndoConflict(f"import {import_id} cannot be undone: " + "; ".join(conflicts[:3]) + more
                           + "; undo the later change first, or correct the gift by hand (tracker gift void)")
    cause = Cause(at=now, actor=actor, import_id=import_id, note=f"import {import_id} undone", kind="undone")
    deltas, donors = rollups.Deltas(), set()
    # its refund rows, aliases and undecided pairs go first (they refer to the gifts)
    done.refunds = session.execute(delete(Refund).where(Refund.import_id == import_id)).rowcount or 0
    done.aliases = session.execute(delete(GiftAlias).where(GiftAlias.import_id == import_id)).rowcount or 0
    # changes to gifts stored before, rolled back to what they were
    for gift_id in changed:
        gift = session.get(Donation, gift_id)
        old = _values(gift)
        new = dict(old)
        for h in reversed([h for h in own if h.donation_id == gift_id]):
            for key, value in history.parse(h.before).items():
                if key not in DERIVED:
                    new[key] = history.moment(value) if key in TIMES and value else value
        # what counts follows from the parts restored, and from what happened since (a void, a merge)
        new["status"], new["refunded_cents"] = effective(new["payment_status"], new["amount_cents"],
                                                         new["refund_cents"], new["dispute_status"],
                                                         new["dispute_cents"], withdrawn(new))
        different = {k: new[k] for k in new if new[k] != old[k]}
        if not different:
            continue
        session.execute(update(Donation).where(Donation.id == gift_id).values(**different))
        deltas.change(old, new)
        donors.update((old["donor_id"], new["donor_id"]))
        history.record(session, [(gift_id, old, new)], cause)
        done.restored += 1
    # gifts it created: removed, or voided when something else refers to them
    for part in _chunks(sorted(created)):
        touched = set(part) & others.keys()  # changed by another import, event or person
        touched |= set(session.scalars(select(Refund.donation_id).where(Refund.donation_id.in_(part))))
        touched |= set(session.scalars(select(GiftAlias.donation_id).where(GiftAlias.donation_id.in_(part))))
        touched |= set(session.scalars(select(Donation.duplicate_of).where(Donation.duplicate_of.in_(part))))
        for column in (DuplicatePair.a_id, DuplicatePair.b_id):
            touched |= set(session.scalars(select(column).where(column.in_(part),
                                                                DuplicatePair.status != "undecided")))
        for gift in session.scalars(select(Donation).where(Donation.id.in_(part))).all():
            if gift.id in touched:
                if gift.voided_at is None:
                    set_voided(session, gift, now, cause)
                    history.set_details(session, [{"donation_id": gift.id, "void_reason": UNDONE.format(import_id),
                                                   "voided_by": actor}])
                    done.voided += 1
                continue
            old = _values(gift)
            deltas.change(old, {**old, "status": "removed"})
            donors.add(gift.donor_id)
            done.removed += 1
        removable = [g for g in part if g not in touched]
        if removable:
            done.pairs += session.execute(delete(DuplicatePair).where(
                or_(DuplicatePair.a_id.in_(removable), DuplicatePair.b_id.in_(removable)))).rowcount or 0
            session.execute(delete(GiftHistory).where(GiftHistory.donation_id.in_(removable)))
            session.execute(delete(GiftDetail).where(GiftDetail.donation_id.in_(removable)))
            # a pledge these gifts fulfilled is open again (the linking pass below may find it another gift)
            session.execute(update(Pledge).where(Pledge.fulfilled_donation_id.in_(removable)).values(
                fulfilled_donation_id=None, fulfilled_at=None, fulfilled_by=None))
            session.execute(delete(Donation).where(Donation.id.in_(removable)))
    deltas.flush(session)
    rollups.refresh_first_gifts(session, sorted(donors))
    # donors the import brought who have no gift left
    for part in _chunks(sorted(donors)):
        session.execute(delete(Donor).where(Donor.id.in_(part), ~select(Donation.id).where(
            Donation.donor_id == Donor.id).exists()))
    # the pledges a file of pledges brought go with it
    session.execute(delete(Pledge).where(Pledge.import_id == import_id))
    pledges.link_open(session, now=now)
    batch.undone_at, batch.undone_by = now, actor
    bump_revision(session, now)
    return done


def _chunks(items: list, size: int = 5000):
    for i in range(0, len(items), size):
        yield items[i:i + size]
