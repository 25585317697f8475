"""Gifts entered by hand (a check in the mail, a donor-advised fund grant, stock) and gifts taken back.

A manual gift is a gift like any other: source `manual`, an id the tracker assigns (M-000001, ...),
checked by the same rules and messages as a CSV row (tracker.ingest.fields) and written by the same
loader, so the rollups, donors and first gifts follow. Who entered it, when, how it was paid and its
reference are its details (gift_details). Voiding keeps the gift, marked voided: it counts nothing
from then on, and its history says who voided it and why. The caller owns the transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tracker import rollups
from tracker.db import bump_revision
from tracker.dates import UTC
from tracker.errors import NotFound, UsageError
from tracker.ingest import conventions, fields, history, pledges
from tracker.ingest.history import Cause
from tracker.ingest.loader import COLUMNS, ImportSummary, lock_writes, withdrawn, write_chunk
from tracker.ingest.states import effective
from tracker.models import PLEDGE_KINDS, Campaign, Donation, GiftDetail, Pledge

SOURCE = "manual"
METHODS = ("check", "cash", "daf", "stock", "wire", "in_kind", "other")
PREFIX = "M-"
_NUMBERS = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})")


class GiftRefused(UsageError):
    """A manual gift's value is wrong: the same message a CSV row would get."""


@dataclass
class Added:
    gift_id: int
    external_id: str
    amount_cents: int
    currency: str
    donated_at: datetime
    warnings: list[str] = field(default_factory=list)
    fulfilled: int = 0  # pledges the gift (or an earlier one) fulfilled: tracker.ingest.pledges
    expected_at: date | None = None  # a pledge: the day its money is expected


def pledge(session: Session, *, amount: str, donated_at: str, email: str, name: str | None = None,
           kind: str, expected: str | None = None, reference: str | None = None, note: str | None = None,
           campaign_id: int | None = None, currency: str = "USD", timezone: ZoneInfo | None, actor: str,
           now: datetime, max_gift_cents: int = fields.DEFAULT_MAX_GIFT_CENTS) -> Added:
    """Enter a pledge by hand: money promised and not received yet (`tracker gift add --pledged`). Checked as a
    manual gift is (amount, date, e-mail, reference, note), with its kind and the day its money is expected
    (YYYY-MM-DD); stored in the pledges table, never counted in raised. A gift already stored that fulfils it (the
    rule of tracker.ingest.pledges) is linked at once."""
    kind = (kind or "").strip().lower()
    if kind not in PLEDGE_KINDS:
        raise GiftRefused(f"pledge kind {kind!r} is not one of {', '.join(PLEDGE_KINDS)}; give --kind")
    if not (email or "").strip():
        raise GiftRefused("the donor's e-mail is empty; give --donor-email so the pledge is the donor's")
    reference, note = _text("the reference", reference, REFERENCE_LIMIT), _text("the note", note, NOTE_LIMIT)
    expected_at = expected_day(expected)
    dayfirst = _one_date(donated_at or "")
    _one_amount(amount or "")
    lock_writes(session)
    external_id = pledges.next_id(session)
    data = {"donation_id": external_id, "amount": amount or "", "donated_at": donated_at or "", "email": email,
            "name": name or "", "currency": currency, "status": "succeeded"}
    rules = fields.RowRules(source=pledges.MANUAL_SOURCE, timezone=timezone, currency=currency,
                            max_gift_cents=max_gift_cents, dayfirst=dayfirst)
    made = fields.from_fields("the pledge", 0, data, rules)
    if not isinstance(made, fields.NormalizedDonation):
        raise GiftRefused(made.message.replace("donated_at", "the pledge's date (--donated-at)"))
    if made.amount_cents <= 0:
        raise GiftRefused("a pledge of nothing is no pledge; give the amount promised")
    if expected_at is not None and expected_at < made.donated_at.astimezone(timezone or UTC).date():
        raise GiftRefused(f"the money is expected on {expected_at}, before the pledge itself "
                          f"({made.donated_at:%Y-%m-%d}); check --expected and --donated-at")
    pledges.store(session, pledges.MANUAL_SOURCE, [pledges.NewPledge(
        external_id=external_id, donor_key=made.donor_key, email=made.email, name=made.name,
        amount_cents=made.amount_cents, currency=made.currency, pledged_at=made.donated_at, expected_at=expected_at,
        kind=kind, reference=reference, note=note, campaign_id=campaign_id)], actor=actor, now=now)
    pledge_id = session.scalar(select(Pledge.id).where(Pledge.source == pledges.MANUAL_SOURCE,
                                                       Pledge.external_id == external_id))
    added = Added(pledge_id, external_id, made.amount_cents, made.currency, made.donated_at, expected_at=expected_at)
    added.fulfilled = pledges.link_open(session, now=now)
    return added


def expected_day(text: str | None) -> date | None:
    """The day a pledge's money is expected, written YYYY-MM-DD (no other order: a pledge's date is read by people
    across the organization); None when not given."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise GiftRefused(f"the expected date {text!r} is not a date written YYYY-MM-DD, e.g. 2027-01-25") from None


def _next_id(session: Session) -> str:
    last = session.scalar(select(func.max(Donation.external_id)).where(
        Donation.source == SOURCE, Donation.external_id.like(PREFIX + "%")))
    number = int(last[len(PREFIX):]) + 1 if last and last[len(PREFIX):].isdigit() else 1
    return f"{PREFIX}{number:06d}"


def add(session: Session, *, amount: str, donated_at: str, email: str, name: str | None = None,
        method: str = "check", reference: str | None = None, channel: str | None = None, note: str | None = None,
        currency: str = "USD", timezone: ZoneInfo | None, actor: str, now: datetime,
        max_gift_cents: int = fields.DEFAULT_MAX_GIFT_CENTS) -> Added:
    """Enter a gift by hand. Values are text as a person typed them (amount "250" or "1,250.00", a date or a
    date and time, read in `timezone` when it has no offset); GiftRefused says what is wrong, as for a CSV row."""
    method = (method or "check").strip().lower()
    if method not in METHODS:
        raise GiftRefused(f"method {method!r} is not one of {', '.join(METHODS)}")
    if not (email or "").strip():
        raise GiftRefused("the donor's e-mail is empty; give --donor-email so the gift is the donor's")
    reference, note = _text("the reference", reference, REFERENCE_LIMIT), _text("the note", note, NOTE_LIMIT)
    dayfirst = _one_date(donated_at or "")
    _one_amount(amount or "")
    lock_writes(session)
    external_id = _next_id(session)
    data = {"donation_id": external_id, "amount": amount or "", "donated_at": donated_at or "", "email": email,
            "name": name or "", "channel": channel or "", "currency": currency, "status": "succeeded"}
    rules = fields.RowRules(source=SOURCE, timezone=timezone, currency=currency, max_gift_cents=max_gift_cents,
                            dayfirst=dayfirst)
    made = fields.from_fields("the gift", 0, data, rules)
    if not isinstance(made, fields.NormalizedDonation):
        raise GiftRefused(made.message)
    summary = ImportSummary(path="entered by hand", format="manual", source=SOURCE)
    write_chunk(session, SOURCE, [made], None, summary, rank=0, recorded_at=now,
                cause=Cause(at=now, actor=actor))
    gift_id = session.scalar(select(Donation.id).where(Donation.source == SOURCE, Donation.external_id == external_id))
    history.set_details(session, [{"donation_id": gift_id, "method": method, "reference": reference,
                                   "note": note, "entered_by": actor, "entered_at": now}])
    bump_revision(session, now)
    added = Added(gift_id, external_id, made.amount_cents, made.currency, made.donated_at)
    added.fulfilled = pledges.link_open(session, now=now)  # the money of a pledge, arrived by hand
    windows = [(c.window.starts_at, c.window.end, c.slug) for c in session.scalars(select(Campaign))]
    if windows and not any(start <= made.donated_at < end for start, end, _ in windows):
        added.warnings.append(f"warning: the gift is dated {made.donated_at:%Y-%m-%d %H:%M} UTC, outside every "
                              "campaign; it is stored, but no campaign counts it (check the date)")
    if made.donated_at > now:
        added.warnings.append(f"warning: the gift is dated in the future ({made.donated_at:%Y-%m-%d %H:%M} UTC)")
    return added


REFERENCE_LIMIT = GiftDetail.__table__.c.reference.type.length
NOTE_LIMIT = 2000  # a note or a reason: a few sentences


def _text(what: str, value: str | None, limit: int) -> str | None:
    """Free text typed with a gift (a reference, a note, a reason), stripped; refused as a CSV row's field would be:
    a NUL character (no database column takes it) or more than `limit` characters. None when empty."""
    value = (value or "").strip()
    if "\x00" in value:
        raise GiftRefused(f"{what} holds a NUL character (\\x00), which no database column takes; remove it")
    if len(value) > limit:
        raise GiftRefused(f"{what} is {len(value):,} characters long, more than the {limit:,} it may have; shorten it")
    return value or None


def _one_date(text: str) -> bool:
    """Whether a date typed by hand is day first (19/02/2026); GiftRefused when it could be read both ways: one value
    says nothing about its order, so the tracker asks rather than guesses."""
    reading = conventions.date_reading(text.strip())
    if reading == "either":
        a, b, year = _NUMBERS.match(text.strip()).groups()
        raise GiftRefused(f"the date {text.strip()!r} could be {_month(int(a))} {int(b)} or {int(a)} {_month(int(b))}; "
                          f"write it as {year}-{int(a):02d}-{int(b):02d} or {year}-{int(b):02d}-{int(a):02d}")
    return reading == "dayfirst"


def _one_amount(text: str) -> None:
    """GiftRefused for an amount typed by hand whose marks could mean two amounts (1.000: one or a thousand) or
    that is written with a decimal comma (the tracker's amounts have a decimal point)."""
    reading = conventions.amount_reading(text.strip())
    if reading == "either" and "." in text:
        raise GiftRefused(f"the amount {text.strip()!r} could be read two ways (a decimal point or a thousands "
                          f"separator); write it without the mark or with two decimals, e.g. 1000 or 1.00")
    if reading == "comma":
        raise GiftRefused(f"the amount {text.strip()!r} is written with a decimal comma; write it with a decimal "
                          "point, e.g. 1234.56")


def _month(n: int) -> str:
    return ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
            "November", "December")[n - 1]


def void(session: Session, gift_id: int, *, reason: str, actor: str, now: datetime) -> Donation:
    """Take gift `gift_id` back: kept and marked voided, counting nothing from now on (the rollups follow)."""
    if not (reason or "").strip():
        raise UsageError("say why with --reason (it is kept in the gift's history)")
    reason = _text("the reason", reason, NOTE_LIMIT)
    lock_writes(session)
    gift = session.get(Donation, gift_id)
    if gift is None:
        raise NotFound(f"no gift {gift_id} (the tracker's id, as tracker gift show and the exports print it)")
    if gift.voided_at is not None:
        detail = session.get(GiftDetail, gift_id)
        by = f" by {detail.voided_by}" if detail and detail.voided_by else ""
        raise UsageError(f"gift {gift_id} was voided already, on {gift.voided_at:%Y-%m-%d %H:%M} UTC{by}")
    set_voided(session, gift, now, Cause(at=now, actor=actor, note=reason))
    history.set_details(session, [{"donation_id": gift_id, "void_reason": reason, "voided_by": actor}])
    pledges.link_open(session, now=now)  # a pledge this gift fulfilled is open again
    bump_revision(session, now)
    return gift


def set_voided(session: Session, gift: Donation, voided_at: datetime | None, cause: Cause) -> None:
    """Void `gift` (or restore it, with None), keeping its status, the rollups, its donor's first gift and its
    history true."""
    old = {c: getattr(gift, c) for c in COLUMNS}
    old["duplicate_of"], old["voided_at"] = gift.duplicate_of, gift.voided_at
    new = {**old, "voided_at": voided_at}
    new["status"], new["refunded_cents"] = effective(
        gift.payment_status, gift.amount_cents, gift.refund_cents, gift.dispute_status, gift.dispute_cents,
        withdrawn(new))
    session.execute(update(Donation).where(Donation.id == gift.id).values(
        voided_at=voided_at, status=new["status"], refunded_cents=new["refunded_cents"]))
    session.expire(gift)
    deltas = rollups.Deltas()
    deltas.change(old, new)
    deltas.flush(session)
    rollups.refresh_first_gifts(session, [old["donor_id"]])
    history.record(session, [(gift.id, old, new)], cause)
