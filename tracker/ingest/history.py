"""A gift's history: every change it goes through after it is created, with what caused it.

The writers (tracker.ingest.loader, refunds, duplicates, manual, undo) call `record` with the gift's
fields before and after, in the same transaction as the change itself, so the history can never
disagree with the gift. A creation is not a history row: the gift itself says when it was recorded,
and by which import, webhook event or person (`created_by`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tracker.dates import UTC, ensure_utc

# the fields a change is recorded by (what counts, what names the gift, whether it is withdrawn)
TRACKED = ("source", "external_id", "donor_id", "amount_cents", "refunded_cents", "fee_cents", "currency",
           "donated_at", "status", "channel", "appeal_variant", "recurring", "payment_status", "refund_cents",
           "dispute_status", "dispute_cents", "processor", "processor_id", "duplicate_of", "voided_at")


@dataclass(frozen=True)
class Cause:
    """What made a change: an import, a webhook event or a person, at a moment (UTC)."""

    at: datetime | None = None  # None: when import `import_id` started
    import_id: int | None = None
    event_id: int | None = None  # webhook_events.id
    actor: str | None = None
    note: str | None = None
    kind: str | None = None  # what to call the change, when not what the fields say (an undo: "undone")


def _value(v):
    if isinstance(v, datetime):
        return ensure_utc(v).isoformat()
    return v


def moment(text: str) -> datetime:
    """A time kept in a history row, back as an aware UTC datetime."""
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def snapshot(values: dict) -> dict:
    """The tracked fields of a gift (a dict of its columns), JSON-ready."""
    return {k: _value(values[k]) for k in TRACKED if k in values}


def kind_of(before: dict, after: dict) -> str:
    """What a change was, in one word a person reads: refunded, disputed, dispute_won, voided, ..."""
    def changed(key: str) -> bool:
        return before.get(key) != after.get(key)

    if changed("voided_at"):
        return "voided" if after.get("voided_at") else "restored"
    if changed("duplicate_of"):
        return "duplicate" if after.get("duplicate_of") else "restored"
    if changed("dispute_status"):
        return {"open": "disputed", "won": "dispute_won", "lost": "dispute_lost"}.get(after.get("dispute_status"),
                                                                                      "dispute_cleared")
    if changed("refund_cents"):
        return "refunded" if (after.get("refund_cents") or 0) > (before.get("refund_cents") or 0) else "refund_undone"
    if changed("payment_status"):
        return {"succeeded": "settled", "failed": "failed"}.get(after.get("payment_status"), "payment_changed")
    if changed("source") or changed("external_id"):
        return "renamed"
    return "updated"


def rows(changes: list[tuple[int, dict, dict]], cause: Cause, at: datetime) -> list[dict]:
    """History rows for (gift id, fields before, fields after) changes, each with only the fields that changed."""
    out = []
    for gift_id, old, new in changes:
        before, after = snapshot(old), snapshot(new)
        keys = [k for k in TRACKED if before.get(k) != after.get(k)]
        if not keys:
            continue
        out.append({"donation_id": gift_id, "at": at, "kind": cause.kind or kind_of(before, after), "import_id": cause.import_id,
                    "webhook_event_id": cause.event_id, "actor": cause.actor, "note": cause.note,
                    "before": json.dumps({k: before.get(k) for k in keys}, sort_keys=True),
                    "after": json.dumps({k: after.get(k) for k in keys}, sort_keys=True)})
    return out


def record(session: Session, changes: list[tuple[int, dict, dict]], cause: Cause | None,
           import_id: int | None = None) -> int:
    """Write the history of `changes` (see `rows`); `cause` None: import `import_id`. How many rows."""
    from tracker.models import GiftHistory, ImportBatch

    if not changes:
        return 0
    cause = cause or Cause(import_id=import_id)
    if cause.import_id is None and import_id is not None:
        cause = replace(cause, import_id=import_id)
    at = cause.at
    if at is None and cause.import_id is not None:
        at = session.scalar(select(ImportBatch.started_at).where(ImportBatch.id == cause.import_id))
    if at is None:
        raise ValueError("a change needs the moment it was made: give Cause(at=...) or an import")
    made = rows(changes, cause, at)
    if made:
        session.execute(insert(GiftHistory.__table__), made)
    if cause.event_id is not None:  # a webhook's refund is dated by its event; a file dates its own (details.py)
        refund_dates(session, [(gift_id, at) for gift_id, old, new in changes
                               if (new.get("refund_cents") or 0) > (old.get("refund_cents") or 0)])
    return len(made)


def set_details(session: Session, rows: list[dict]) -> None:
    """Store details of gifts (gift_details: each dict has donation_id and the columns to set), keeping the
    other columns of a gift that has a row already."""
    from tracker.models import GiftDetail

    if not rows:
        return
    table = GiftDetail.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    by_columns: dict[tuple, list[dict]] = {}
    for row in rows:
        by_columns.setdefault(tuple(sorted(row)), []).append(row)
    for columns, group in by_columns.items():
        stmt = upsert(table)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["donation_id"],
            set_={c: stmt.excluded[c] for c in columns if c != "donation_id"}), group)


def refund_dates(session: Session, dates: list[tuple[int, datetime | None]]) -> None:
    """Record when gifts were (last) refunded: (gift id, when); a None date is left out."""
    latest: dict[int, datetime] = {}
    for gift_id, at in dates:
        if at is not None:
            latest[gift_id] = max(latest.get(gift_id, at), at)
    set_details(session, [{"donation_id": k, "refunded_at": v} for k, v in sorted(latest.items())])


def parse(text: str) -> dict:
    """A history row's before/after JSON back as a dict (times stay ISO 8601 text)."""
    return json.loads(text) if text else {}
