"""What importers produce: a gift to store, a refund of an earlier gift, or a row skipped on purpose.

Rows that are wrong become tracker.errors.RowError instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from tracker.errors import RowError


class NormalizedDonation(NamedTuple):
    """One valid gift, ready to store: cents, UTC, a donor key. `line` is its line in the input file.

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

    def content(self) -> tuple:
        """What makes two rows with the same id the same gift (everything but the line)."""
        return (
            self.amount_cents, self.donated_at, self.donor_key, self.currency, self.status,
            self.refunded_cents, self.fee_cents, self.channel, self.appeal_variant, self.recurring,
        )


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
