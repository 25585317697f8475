"""The tracker's own CSV layout ("generic"): columns matched by header name, in any order.

Required: donation_id, amount, donated_at. Optional: email, donor_id, name, currency, channel,
appeal_variant, recurring, status, refunded_amount, fee, dispute_status (open, won, lost),
dispute_amount, processor and processor_id (the payment processor's id of the same gift, e.g. stripe
and ch_...: a gift already stored from the processor's own export or webhook is recognized, not
added), and finance's details: payout_id (the payout or deposit), fund (or designation), gl_code and
refunded_at (when the refund was made). Other columns are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from tracker.errors import InputFileError
from tracker.ingest import fields
from tracker.ingest.csvfile import snake
from tracker.ingest.records import Outcome

NAME = "generic"
REQUIRED = ("donation_id", "amount", "donated_at")
OPTIONAL = (
    "email", "donor_id", "name", "currency", "channel", "appeal_variant",
    "recurring", "status", "refunded_amount", "fee", "dispute_status", "dispute_amount", "processor", "processor_id",
    "payout_id", "fund", "gl_code", "refunded_at",
)


def matches(header: list[str]) -> bool:
    names = {snake(h) for h in header}
    return all(c in names for c in REQUIRED)


def normalizer(path: Path, header: list[str], rules: fields.RowRules) -> Callable[[int, list[str]], Outcome]:
    """A function turning one row's values into a gift or a RowError. Raises InputFileError for a wrong header."""
    names = [snake(h) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputFileError(
            f"{path}: missing required column(s) {', '.join(missing)}; the header has: {', '.join(header)}"
        )
    # a name written twice comes suffixed (amount, amount_2: csvfile.dedupe)
    twice = sorted({n.rpartition("_")[0] for n in names if n.rpartition("_")[0] in REQUIRED + OPTIONAL
                    and n.rpartition("_")[2].isdigit() and n.rpartition("_")[0] in names})
    if twice:
        where = [str(i + 1) for i, n in enumerate(names) if n == twice[0] or n.startswith(twice[0] + "_")]
        raise InputFileError(f"{path}: the header names {twice[0]!r} more than once (columns {', '.join(where)}), so "
                             "it cannot tell which is meant; remove or rename the extra column")
    index = {name: i for i, name in enumerate(names)}
    wanted = [(name, index[name]) for name in REQUIRED + OPTIONAL if name in index]
    width = max(i for _, i in wanted) + 1
    where = str(path)
    fast = fields.fast_builder(dict(wanted), rules)

    def normalize(line: int, values: list[str]) -> Outcome:
        gift = fast(line, values)
        if gift is not None:
            return gift
        if len(values) < width:
            values = values + [""] * (width - len(values))
        return fields.from_fields(where, line, {name: values[i] for name, i in wanted}, rules)

    return normalize


def columns(header: list[str]) -> dict[str, int]:
    """The fields of a header `normalizer` accepted: field -> its column."""
    index = {name: i for i, name in enumerate(snake(h) for h in header)}
    return {name: index[name] for name in REQUIRED + OPTIONAL if name in index}
