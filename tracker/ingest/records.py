"""What importers produce: a gift to store, a refund of an earlier gift, or a row skipped on purpose.

Rows that are wrong become tracker.errors.RowError instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from tracker.errors import RowError
from tracker.models import Donation, Donor, GiftDetail

# The longest value each text field may hold, from the columns that store it: the same limit on
# SQLite (which would store any length) and PostgreSQL (which would refuse the row).
LIMITS = {
    "donation_id": Donation.__table__.c.external_id.type.length,
    "email": Donor.__table__.c.email.type.length,
    "name": Donor.__table__.c.name.type.length,
    "channel": Donation.__table__.c.channel.type.length,
    "appeal_variant": Donation.__table__.c.appeal_variant.type.length,
    "donor_id": Donor.__table__.c.key.type.length - len("id:"),  # stored as the donor key "id:<donor_id>"
    "processor": Donation.__table__.c.processor.type.length,
    "processor_id": Donation.__table__.c.processor_id.type.length,
    "payout_id": GiftDetail.__table__.c.payout_id.type.length,
    "fund": GiftDetail.__table__.c.fund.type.length,
    "gl_code": GiftDetail.__table__.c.gl_code.type.length,
}


class GiftDetails(NamedTuple):
    """What finance needs of a gift beyond what counts, as a file says it (stored in gift_details by
    tracker.ingest.details; an empty field leaves what is stored)."""

    payout_id: str | None = None  # the processor's payout or deposit (Stripe's Transfer column)
    fund: str | None = None  # the fund or designation
    gl_code: str | None = None  # the general-ledger code
    refunded_at: datetime | None = None  # when the (last) refund was made (UTC)
    # a gift given in another currency (its amounts are converted to the organization's: tracker.currency)
    original_cents: int | None = None  # the amount in the currency given
    original_currency: str | None = None
    rate: str | None = None  # the organization's currency per unit given, decimal text
    rate_date: date | None = None  # the day of the rate's fixing
    rate_source: str | None = None  # ecb, ecb-imported, or the processor's (stripe)


class NormalizedDonation(NamedTuple):
    """One valid gift, ready to store: cents, UTC, a donor key. `line` is its line in the input file.

    `status` and `refunded_cents` are the payment's as the source says (pending, succeeded,
    partially_refunded, refunded, failed); a dispute is beside them.

    A named tuple rather than a dataclass: one is made per imported row, and tuples are made fastest.
    """

    line: int
    external_id: str
    amount_cents: int
    donated_at: datetime  # aware, UTC
    donor_key: str
    email: str | None
    name: str | None
    currency: str
    status: str
    refunded_cents: int
    fee_cents: int | None
    channel: str | None
    appeal_variant: str | None
    recurring: bool
    updated_at: datetime | None = None  # when the source last changed the gift, where it says (UTC)
    dispute_status: str | None = None  # open, won or lost: a dispute beside the payment (tracker.ingest.states)
    dispute_cents: int = 0  # the amount disputed (0: not said)
    processor: str | None = None  # the payment processor whose id this gift also carries (stripe, paypal)
    processor_id: str | None = None  # that processor's id of the payment (a Stripe charge ch_...)
    details: GiftDetails | None = None  # payout, fund, GL code, refund time, where the file says any

    def content(self) -> tuple:
        """What makes two rows with the same id the same gift (everything but the line)."""
        return (
            self.amount_cents, self.donated_at, self.donor_key, self.currency, self.status,
            self.refunded_cents, self.fee_cents, self.channel, self.appeal_variant, self.recurring,
            self.updated_at, self.dispute_status, self.dispute_cents, self.processor, self.processor_id, self.details,
        )

    @property
    def payment(self) -> tuple[str, str] | None:
        """(processor, its id): what names the payment whatever file it is in; None when not known."""
        return (self.processor, self.processor_id) if self.processor and self.processor_id else None


@dataclass(frozen=True, slots=True)
class RefundRow:
    """A refund reported on its own row, for the gift `donation_external_id` of the same source."""

    line: int
    external_id: str
    donation_external_id: str
    amount_cents: int
    refunded_at: datetime


@dataclass(frozen=True, slots=True)
class Skipped:
    """A row that is not a gift on purpose (a test-mode charge, a failed payment intent, a withdrawal...)."""

    line: int
    reason: str
    kind: str = ""  # a short label to group skipped rows by in the summary; defaults to the reason

    @property
    def label(self) -> str:
        return self.kind or self.reason


Outcome = NormalizedDonation | RefundRow | Skipped | RowError
