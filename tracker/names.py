"""Names people give things (a campaign, a match pool): checked once, the same way, wherever they are written."""

from __future__ import annotations

from tracker.errors import UsageError


def check_name(name: str, what: str, example: str, limit: int) -> str:
    """A name as stored (stripped): one line of printable text of 1 to `limit` characters, or UsageError saying so.
    A name goes into e-mail subjects, CSV cells and the dashboard; a line break or a control character in one
    would break a header or a row, and a longer one than its column fails on PostgreSQL."""
    name = name.strip()
    if not name or len(name) > limit:
        raise UsageError(f"{what} needs a name of 1 to {limit} characters, e.g. {example}")
    if not name.isprintable():
        raise UsageError(f"{what}'s name holds a line break or a control character; give it on one line, e.g. {example}")
    return name
