"""Many rows in one SQLite statement: multi-row VALUES lists in a few fixed sizes."""

from __future__ import annotations

from functools import lru_cache
from itertools import chain

VALUES_BATCH = 2048  # rows per statement at most
MAX_PARAMETERS = 32_766  # SQLite's default limit on a statement's bound parameters (some builds allow more)


def values_batches(rows: list[tuple], width: int, template: str, row: str | None = None):
    """(flat parameters, SQL) for each batch of rows, the SQL being `template` with a multi-row VALUES list.

    One statement per 2,048 rows instead of one step per row: fewer round trips through the
    interpreter, which an import's reader thread is using at the same time (sqlite3's executemany
    takes the GIL back for every row). The rest is sent in batches of 1,024, 512, ... rows, so
    at most twelve distinct statements are ever prepared: sqlite3 keeps each one in the
    connection's statement cache, and one per remainder length grew that cache by 100 MB.
    A statement never binds more than SQLite's default limit of parameters, whatever the build.
    `row`: one row's SQL (default: `width` parameters in parentheses).
    """
    i = 0
    size = VALUES_BATCH
    while size * width > MAX_PARAMETERS:
        size //= 2
    while i < len(rows):
        while size > len(rows) - i:
            size //= 2
        part = rows[i:i + size]
        yield list(chain.from_iterable(part)), values_sql(template, width, size, row)
        i += size


@lru_cache(maxsize=64)
def values_sql(template: str, width: int, rows: int, row: str | None = None) -> str:
    one = row or "(" + ", ".join("?" * width) + ")"
    return template.format(", ".join([one] * rows))
