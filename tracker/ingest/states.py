"""A gift's state: what the processor says of the payment, its refunds and its dispute, and what counts.

Pure. Three parts are kept apart, each with rules that make any order of any number of
deliveries (files, webhook events) end in the state of the newest:
- the payment: pending -> succeeded, or pending -> failed (final); refunds move a paid gift to
  partially_refunded and refunded; it never moves back, and the refunded amount never shrinks;
- the dispute, beside the payment: none -> open -> won or lost. Open holds the gift back; won
  returns it; lost counts as refunded (its amount, else what was left). A closed dispute never
  reopens; won and lost are decided between by the source's own time, when both say one;
- from those, the gift's effective status and refunded amount, which everything that counts reads
  (`status` is "disputed" while a dispute is open, "duplicate" once merged into another gift).
"""

from __future__ import annotations

from typing import NamedTuple

PAYMENT_RANK = {"pending": 0, "succeeded": 1, "partially_refunded": 2, "refunded": 3}
DISPUTE_RANK = {None: 0, "open": 1, "won": 2, "lost": 2}
DISPUTES = ("open", "won", "lost")


class Effective(NamedTuple):
    status: str  # what counts: succeeded, partially_refunded, refunded, pending, failed, or disputed (held back)
    refunded_cents: int  # refunds and a lost dispute, never above the amount


def settle(status: str, amount: int, refunded: int) -> str:
    """The payment status that fits a refunded amount: all of it -> refunded; part of a paid gift -> partially_refunded."""
    if status in ("succeeded", "partially_refunded") and amount > 0 and refunded >= amount:
        return "refunded"
    if status == "succeeded" and refunded > 0:
        return "partially_refunded"
    return status


def effective(payment: str, amount: int, refunds: int, dispute: str | None, dispute_cents: int,
              withdrawn: str | None = None) -> Effective:
    """What counts of a gift, from its payment status, refunds and dispute; `withdrawn` ("duplicate": merged
    into another gift) makes it count nothing whatever the payment says."""
    refunds = min(max(refunds, 0), amount)
    if withdrawn:
        return Effective(withdrawn, refunds)
    if payment in ("pending", "failed"):
        return Effective(payment, refunds)
    if dispute == "open":
        return Effective("disputed", refunds)
    if dispute == "lost":
        lost = dispute_cents if dispute_cents > 0 else amount - refunds
        refunded = min(amount, refunds + lost)
        return Effective(settle("succeeded", amount, refunded) if refunded else payment, refunded)
    return Effective(settle(payment, amount, refunds), refunds)


def merge_payment(old: str, new: str) -> str | None:
    """The payment status after `new` arrives for a gift at `old`; None when `new` changes nothing."""
    if old == "failed":
        return None
    if new == "failed":
        return "failed" if old == "pending" else None
    return new if PAYMENT_RANK[new] > PAYMENT_RANK[old] else None


def merge_dispute(old: tuple[str | None, int], new: tuple[str | None, int], newer: bool) -> tuple[str | None, int]:
    """(dispute status, amount) after `new` arrives: forward only (none, open, then won or lost); between won and
    lost the newer says (`newer`: the new row is at least as new as the stored one)."""
    (old_state, old_cents), (new_state, new_cents) = old, new
    if DISPUTE_RANK[new_state] > DISPUTE_RANK[old_state]:
        return new_state, new_cents or old_cents
    if new_state == old_state or DISPUTE_RANK[new_state] < DISPUTE_RANK[old_state]:
        return old_state, max(old_cents, new_cents) if new_state == old_state else old_cents
    return (new_state, new_cents or old_cents) if newer else old
