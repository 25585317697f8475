"""Writes of pledges: money promised and not received yet, kept in its own table (never a gift, so never in raised).

A pledge is entered by hand (`tracker gift add --pledged`, tracker.ingest.manual) or comes from a file whose
mapping says its rows are pledges (`pledged = true`); (source, external id) is unique, so a file imported again
is the same pledges. When the money arrives (by a file, a webhook or by hand) the linking pass (`link_open`)
marks the pledge fulfilled by that gift: it leaves "committed", and the gift counts once, in raised. The rule:

1. an open pledge with a reference is fulfilled by a counted gift whose processor id, donation id or reference
   (gift_details) equals it;
2. else by a counted gift of the same donor (donor key) of the same amount and currency, donated at or after
   the pledge;

each gift fulfils at most one pledge; pledges are taken by expected date (unknown last), then id, and each takes
the earliest free gift (donated_at, then id). A pledge whose gift stops counting (voided, merged as a duplicate)
is open again, and the pass may find it another gift. The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.orm import Session

from tracker.db import bump_revision
from tracker.dates import UTC
from tracker.errors import NotFound, RowError, UsageError
from tracker.ingest.records import NormalizedDonation, Skipped
from tracker.models import COUNTED_STATUSES, PLEDGE_KINDS, Donation, Donor, GiftDetail, Pledge

MANUAL_SOURCE = "manual"
PREFIX = "P-"
REFERENCE_LIMIT = Pledge.__table__.c.reference.type.length


@dataclass(frozen=True)
class NewPledge:
    """One pledge to store: cents, UTC, a donor key, as a checked gift row has them."""

    external_id: str
    donor_key: str
    email: str | None
    name: str | None
    amount_cents: int
    currency: str
    pledged_at: datetime
    expected_at: date | None
    kind: str
    reference: str | None = None
    note: str | None = None
    campaign_id: int | None = None


def next_id(session: Session) -> str:
    """The next id of a pledge entered by hand: P-000001, ..."""
    last = session.scalar(select(func.max(Pledge.external_id)).where(
        Pledge.source == MANUAL_SOURCE, Pledge.external_id.like(PREFIX + "%")))
    number = int(last[len(PREFIX):]) + 1 if last and last[len(PREFIX):].isdigit() else 1
    return f"{PREFIX}{number:06d}"


def store(session: Session, source: str, pledges: list[NewPledge], *, actor: str, now: datetime,
          import_id: int | None = None) -> tuple[int, int, int]:
    """Store pledges of `source`, idempotently by (source, external id): a new one is inserted; one stored already
    gets the file's amount, dates, kind and reference while it is still open, and is left as it is once fulfilled
    or cancelled. Returns (inserted, updated, unchanged)."""
    for p in pledges:
        if p.kind not in PLEDGE_KINDS:
            raise UsageError(f"pledge kind {p.kind!r} is not one of {', '.join(PLEDGE_KINDS)}")
    stored = {}
    ids = [p.external_id for p in pledges]
    for i in range(0, len(ids), 500):
        stored.update({row.external_id: row for row in session.execute(
            select(Pledge.id, Pledge.external_id, Pledge.amount_cents, Pledge.currency, Pledge.pledged_at,
                   Pledge.expected_at, Pledge.kind, Pledge.reference, Pledge.donor_key, Pledge.fulfilled_donation_id,
                   Pledge.cancelled_at)
            .where(Pledge.source == source, Pledge.external_id.in_(ids[i:i + 500])))})
    inserted, updated, unchanged = [], 0, 0
    for p in pledges:
        row = stored.get(p.external_id)
        values = {"amount_cents": p.amount_cents, "currency": p.currency, "pledged_at": p.pledged_at,
                  "expected_at": p.expected_at, "kind": p.kind, "reference": p.reference, "donor_key": p.donor_key}
        if row is None:
            inserted.append({**values, "source": source, "external_id": p.external_id, "email": p.email,
                             "name": p.name, "note": p.note, "campaign_id": p.campaign_id, "created_by": actor,
                             "created_at": now, "import_id": import_id})
            stored[p.external_id] = p  # an id twice in one file: the first row is the pledge
        elif not isinstance(row, NewPledge) and row.fulfilled_donation_id is None and row.cancelled_at is None and \
                any(getattr(row, k) != v for k, v in values.items()):
            session.execute(update(Pledge).where(Pledge.id == row.id).values(**values))
            updated += 1
        else:
            unchanged += 1
    if inserted:
        session.execute(insert(Pledge), inserted)
    if inserted or updated:
        bump_revision(session, now)
    return len(inserted), updated, unchanged


def cancel(session: Session, pledge_id: int, *, reason: str, now: datetime) -> Pledge:
    """Cancel an open pledge (the donor withdrew it, it was entered by mistake): it leaves "committed"."""
    pledge = _open(session, pledge_id)
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("say why with --reason (it is kept with the pledge)")
    pledge.cancelled_at, pledge.cancel_reason = now, reason[:2000]
    bump_revision(session, now)
    return pledge


def link(session: Session, pledge_id: int, gift_id: int, *, now: datetime) -> Pledge:
    """Mark pledge `pledge_id` fulfilled by gift `gift_id`, by hand (when the rule cannot tell)."""
    pledge = _open(session, pledge_id)
    gift = session.get(Donation, gift_id)
    if gift is None:
        raise NotFound(f"no gift {gift_id} (the tracker's id, as tracker gift show and the exports print it)")
    if gift.status not in COUNTED_STATUSES:
        raise UsageError(f"gift {gift_id} does not count (its status is {gift.status}); link a gift that counts")
    other = session.scalar(select(Pledge.id).where(Pledge.fulfilled_donation_id == gift_id))
    if other is not None:
        raise UsageError(f"gift {gift_id} fulfils pledge {other} already; a gift fulfils one pledge")
    pledge.fulfilled_donation_id, pledge.fulfilled_at, pledge.fulfilled_by = gift_id, now, "hand"
    bump_revision(session, now)
    return pledge


def _open(session: Session, pledge_id: int) -> Pledge:
    pledge = session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound(f"no pledge {pledge_id} (the id tracker pledge list prints)")
    if pledge.fulfilled_donation_id is not None:
        raise UsageError(f"pledge {pledge_id} was fulfilled already, by gift {pledge.fulfilled_donation_id}")
    if pledge.cancelled_at is not None:
        raise UsageError(f"pledge {pledge_id} was cancelled on {pledge.cancelled_at:%Y-%m-%d %H:%M} UTC")
    return pledge


def link_open(session: Session, *, now: datetime) -> int:
    """The linking pass (the rule in the module's docstring): every open pledge whose money has arrived as a gift
    is marked fulfilled by it. A few queries for the pledges, one for each kind of match, each reading the gifts
    through an index of donations (on a million gifts the pass after a webhook delivery reads index entries, never
    the whole table: bench/pledges.py), one update per pledge linked. Returns how many were linked; bumps the data
    revision when any was."""
    open_ = (Pledge.fulfilled_donation_id.is_(None), Pledge.cancelled_at.is_(None))
    # a pledge whose gift no longer counts (voided, merged as a duplicate, failed) is open again
    # (the fulfilled pledges first, then their gifts by id: never a scan of the gifts for the few that are pledged)
    fulfilled = {gift_id: pledge_id for gift_id, pledge_id in session.execute(
        select(Pledge.fulfilled_donation_id, Pledge.id).where(Pledge.fulfilled_donation_id.is_not(None)))}
    lost = sorted(fulfilled[gift_id] for gift_id, in _chunked(
        session, select(Donation.id).where(Donation.status.not_in(COUNTED_STATUSES)), Donation.id, sorted(fulfilled)))
    for i in range(0, len(lost), CHUNK):
        session.execute(update(Pledge).where(Pledge.id.in_(lost[i:i + CHUNK])).values(
            fulfilled_donation_id=None, fulfilled_at=None, fulfilled_by=None))
    if session.scalar(select(Pledge.id).where(*open_).limit(1)) is None:
        if lost:
            bump_revision(session, now)
        return 0
    taken = select(Pledge.fulfilled_donation_id).where(Pledge.fulfilled_donation_id.is_not(None))
    counted = and_(Donation.status.in_(COUNTED_STATUSES), Donation.id.not_in(taken),
                   Donation.currency == Pledge.currency)
    columns = (Pledge.id, Pledge.expected_at, Donation.id, Donation.donated_at)
    by_reference = _by_reference(session, open_, taken)
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


CHUNK = 500  # values per IN list (bound parameters stay far below SQLite's limit)


def _by_reference(session: Session, open_, taken) -> list[tuple]:
    """(pledge id, expected date, gift id, donated at) of each open pledge whose reference is a counted, free gift's
    processor id, donation id or reference (gift_details), in the same currency. Neither of the first two columns
    has an index of its own (every index of donations slows the imports), so each is looked up through the index
    it leads: (processor, processor_id), for the processors stored, and (source, external_id), for the sources
    stored, each list found by one index seek per value; on a million gifts the pass reads a few index entries,
    not the table. A processor id is always stored with its processor (the importer and the webhooks write them
    together), so none is missed. gift_details holds only the gifts that have details: it is read for the
    references, then its gifts by id."""
    pledges: dict[str, list[tuple]] = {}
    for pledge_id, expected, reference, currency in session.execute(
            select(Pledge.id, Pledge.expected_at, Pledge.reference, Pledge.currency)
            .where(*open_, Pledge.reference.is_not(None))):
        pledges.setdefault(reference, []).append((pledge_id, expected, currency))
    if not pledges:
        return []
    references = sorted(pledges)
    counted = (Donation.status.in_(COUNTED_STATUSES), Donation.id.not_in(taken))
    gifts: list[tuple] = []  # (gift id, donated at, currency, the reference it carries)
    for key, value in ((Donation.processor, Donation.processor_id), (Donation.source, Donation.external_id)):
        leading = _distinct(session, key)
        if leading:
            gifts += _chunked(session, select(Donation.id, Donation.donated_at, Donation.currency, value)
                              .where(key.in_(leading), *counted), value, references)
    detail = dict(_chunked(session, select(GiftDetail.donation_id, GiftDetail.reference), GiftDetail.reference,
                           references))
    gifts += [(gift_id, donated_at, currency, detail[gift_id]) for gift_id, donated_at, currency in _chunked(
        session, select(Donation.id, Donation.donated_at, Donation.currency).where(*counted), Donation.id,
        sorted(detail))]
    return [(pledge_id, expected, gift_id, donated_at) for gift_id, donated_at, currency, reference in gifts
            for pledge_id, expected, want in pledges.get(reference, ()) if want == currency]


def _chunked(session: Session, statement, column, values: list) -> list[tuple]:
    """The rows of `statement` whose `column` is one of `values`, CHUNK values a query."""
    return [tuple(row) for i in range(0, len(values), CHUNK)
            for row in session.execute(statement.where(column.in_(values[i:i + CHUNK])))]


def _distinct(session: Session, column) -> list[str]:
    """The values of `column` stored in donations, where an index of donations starts with it: one seek of that
    index per value (the next one above the last), however many gifts there are."""
    values: list[str] = []
    while True:
        after = (column > values[-1],) if values else ()
        value = session.scalar(select(column).where(column.is_not(None), *after).order_by(column).limit(1))
        if value is None:
            return values
        values.append(value)


def row_reader(where: str, header: list[str], mapping, tz: ZoneInfo | None
               ) -> Callable[[int, list[str], NormalizedDonation], NewPledge | RowError | Skipped]:
    """For a file whose mapping says pledged = true: one row, already checked as a gift row is (amount, date, donor),
    made into a pledge with the mapping's pledge columns (expected_at, kind, reference) and options (pledge_kind,
    expected_after_days). The pledge's date is the row's donated_at; its reference defaults to the row's processor
    id, so that the payment arriving with that id fulfils it."""
    found: dict[str, int] = {}
    for i, h in enumerate(header):
        found.setdefault(h.strip().lower(), i)
    index = {f: [found[c.strip().lower()] for c in mapping.columns[f]]
             for f in ("expected_at", "kind", "reference") if f in mapping.columns}
    zone = tz or UTC

    def read(line: int, values: list[str], gift: NormalizedDonation) -> NewPledge | RowError | Skipped:
        n = len(values)

        def cell(field: str) -> str:
            return " ".join(v for v in (values[i].strip() if i < n else "" for i in index.get(field, ())) if v)

        if gift.status == "failed" or gift.status == "refunded":
            return Skipped(line, f"status {gift.status}: not a pledge", f"status {gift.status}")
        if gift.amount_cents <= 0:
            return RowError(where, line, "amount is 0; a pledge is of the amount promised")
        kind = (cell("kind") or mapping.pledge_kind or "").strip().lower().replace(" ", "_").replace("-", "_")
        if kind not in PLEDGE_KINDS:
            return RowError(where, line, f"kind {cell('kind')!r} is not one of {', '.join(PLEDGE_KINDS)}; "
                                         "write one of them, or leave it empty for the mapping's pledge_kind")
        expected = None
        text = cell("expected_at")
        if text:
            try:
                expected = date.fromisoformat(text[:10])
            except ValueError:
                return RowError(where, line, f"expected_at {text!r} is not a date written YYYY-MM-DD, e.g. 2027-01-25")
        elif mapping.expected_after_days is not None:
            expected = gift.donated_at.astimezone(zone).date() + timedelta(days=mapping.expected_after_days)
        reference = cell("reference") or gift.processor_id
        if reference and len(reference) > REFERENCE_LIMIT:
            return RowError(where, line, f"reference is {len(reference):,} characters long, more than the "
                                         f"{REFERENCE_LIMIT} it may have; shorten it")
        return NewPledge(external_id=gift.external_id, donor_key=gift.donor_key, email=gift.email, name=gift.name,
                         amount_cents=gift.amount_cents, currency=gift.currency, pledged_at=gift.donated_at,
                         expected_at=expected, kind=kind, reference=reference or None)

    return read
