"""Write normalized gifts to the database: insert new ones, update changed ones, never count one twice.

A gift is identified by (source, external id). Work goes in chunks with bulk statements; the
caller owns the session and the transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tracker.errors import RowError
from tracker.ingest import generic
from tracker.ingest.records import NormalizedDonation
from tracker.models import Donation, Donor, ImportBatch

CHUNK_ROWS = 2000


@dataclass
class ImportSummary:
    """What an import did with the rows of one file."""

    path: str
    format: str
    source: str
    import_id: int | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        return self.inserted + self.updated


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_donations(
    session: Session,
    path: Path,
    *,
    rules: generic.RowRules,
    clock: Callable[[], datetime],
    chunk_rows: int = CHUNK_ROWS,
) -> ImportSummary:
    """Import a generic donations CSV. Bad rows are collected as RowErrors; good rows load.

    Raises InputFileError when the file as a whole cannot be read (then nothing is written).
    """
    path = Path(path)
    rows = generic.read_rows(path)
    first = next(rows, None)  # reads the header: a file-level problem is raised before anything is written
    summary = ImportSummary(path=str(path), format="generic", source=rules.source)
    batch = ImportBatch(
        filename=str(path), sha256=file_sha256(path), format="generic", source=rules.source, started_at=clock()
    )
    session.add(batch)
    session.flush()
    summary.import_id = batch.id

    chunk: dict[str, NormalizedDonation] = {}
    all_rows = rows if first is None else _chain(first, rows)
    for line, row in all_rows:
        summary.rows_read += 1
        result = generic.normalize(path, line, row, rules)
        if isinstance(result, RowError):
            summary.rejected += 1
            summary.errors.append(result)
            continue
        earlier = chunk.get(result.external_id)
        if earlier is not None:
            if earlier.content() == result.content():
                summary.duplicates += 1
                continue
            summary.updated += 1  # same id, different content in one file: the later row wins
        chunk[result.external_id] = result
        if len(chunk) >= chunk_rows:
            write_chunk(session, rules.source, list(chunk.values()), batch.id, summary)
            chunk.clear()
    if chunk:
        write_chunk(session, rules.source, list(chunk.values()), batch.id, summary)

    batch.rows_read = summary.rows_read
    batch.inserted = summary.inserted
    batch.updated = summary.updated
    batch.unchanged = summary.duplicates
    batch.rejected = summary.rejected
    batch.finished_at = clock()
    session.flush()
    return summary


def _chain(first, rest):
    yield first
    yield from rest


def _donor_ids(session: Session, gifts: Iterable[NormalizedDonation]) -> dict[str, int]:
    """Donor ids for the gifts' donor keys, creating donors that are new."""
    wanted: dict[str, NormalizedDonation] = {}
    for g in gifts:
        wanted.setdefault(g.donor_key, g)
    known = dict(session.execute(select(Donor.key, Donor.id).where(Donor.key.in_(list(wanted)))).all())
    missing = [
        {"key": key, "email": g.email, "name": g.name} for key, g in wanted.items() if key not in known
    ]
    if missing:
        session.execute(insert(Donor.__table__), missing)
        known.update(
            session.execute(select(Donor.key, Donor.id).where(Donor.key.in_([m["key"] for m in missing]))).all()
        )
    return known


def _row_values(g: NormalizedDonation, donor_id: int) -> dict:
    return {
        "donor_id": donor_id,
        "amount_cents": g.amount_cents,
        "refunded_cents": g.refunded_cents,
        "fee_cents": g.fee_cents,
        "currency": g.currency,
        "donated_at": g.donated_at,
        "status": g.status,
        "channel": g.channel,
        "appeal_variant": g.appeal_variant,
        "recurring": g.recurring,
    }


_COMPARED = (
    "donor_id", "amount_cents", "refunded_cents", "fee_cents", "currency", "donated_at",
    "status", "channel", "appeal_variant", "recurring",
)


def write_chunk(
    session: Session, source: str, gifts: list[NormalizedDonation], import_id: int, summary: ImportSummary
) -> None:
    """Insert the gifts that are new, update the ones that changed, count the identical ones as duplicates.

    `gifts` must have distinct external ids. Creates donors that are new.
    """
    donors = _donor_ids(session, gifts)
    existing = {
        row.external_id: row
        for row in session.execute(
            select(Donation.id, Donation.external_id, *[getattr(Donation, c) for c in _COMPARED]).where(
                Donation.source == source, Donation.external_id.in_([g.external_id for g in gifts])
            )
        )
    }
    inserts, updates = [], []
    for g in gifts:
        values = _row_values(g, donors[g.donor_key])
        old = existing.get(g.external_id)
        if old is None:
            inserts.append({"source": source, "external_id": g.external_id, "import_id": import_id, **values})
        elif all(getattr(old, c) == values[c] for c in _COMPARED):
            summary.duplicates += 1
        else:
            updates.append({"id": old.id, "import_id": import_id, **values})
    if inserts:
        session.execute(insert(Donation.__table__), inserts)
        summary.inserted += len(inserts)
    if updates:
        session.execute(update(Donation), updates)
        summary.updated += len(updates)
