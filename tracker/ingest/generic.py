"""The tracker's own CSV layout ("generic"): columns matched by header name, in any order.

Required: donation_id, amount, donated_at. Optional: email, donor_id, name, currency, channel,
appeal_variant, recurring, status, refunded_amount, fee. Other columns are ignored.
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
    "recurring", "status", "refunded_amount", "fee",
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
    index = {name: i for i, name in reversed(list(enumerate(names)))}  # the first column of a name wins
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
