"""Counts in words that read right at one as at many: "1 pair awaits", "2 pairs await"."""

from __future__ import annotations


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 likely pair', '1,204 likely pairs': the number with the noun it takes."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


def verb(n: int, singular: str, plural: str) -> str:
    """The verb agreeing with a count: verb(1, 'awaits', 'await')."""
    return singular if n == 1 else plural
