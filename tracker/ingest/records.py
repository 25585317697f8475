"""The normalized form every importer produces."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class NormalizedDonation:
    """One valid gift, ready to store: cents, UTC, a donor key. `line` is its line in the input file."""

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
