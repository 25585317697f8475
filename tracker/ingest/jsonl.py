"""JSON Lines: one JSON object per line with the generic fields (donation_id, amount, donated_at, ...).

Numbers are read as exact decimals, never floats. Blank lines are ignored.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from tracker.errors import RowError
from tracker.ingest import fields
from tracker.ingest.csvfile import open_text, snake
from tracker.ingest.generic import OPTIONAL, REQUIRED
from tracker.ingest.records import Outcome

NAME = "jsonl"
HEADER = list(REQUIRED + OPTIONAL)


def looks_like(path: Path) -> bool:
    """True for .jsonl / .ndjson files and files whose first character is '{'."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return True
    try:
        with path.open("r", encoding="utf-8-sig") as fh:
            return fh.read(64).lstrip().startswith("{")
    except (OSError, UnicodeDecodeError):
        return False


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class JsonlSource:
    """Rows of a JSON Lines file: (line, values in HEADER order, outcome)."""

    header = HEADER

    def __init__(self, path: Path, rules: fields.RowRules):
        self.path, self.rules = Path(path), rules
        self._handle = open_text(self.path)

    def records(self) -> Iterator[tuple[int, list[str], Outcome]]:
        where = str(self.path)
        with self._handle:
            for line, text in enumerate(self._handle, start=1):
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text, parse_float=Decimal)
                except json.JSONDecodeError as exc:
                    yield line, [text.rstrip("\n")], RowError(where, line, f"not valid JSON ({exc.msg} at column {exc.colno})")
                    continue
                if not isinstance(obj, dict):
                    yield line, [text.rstrip("\n")], RowError(where, line, "each line must be one JSON object {...}")
                    continue
                data = {snake(str(k)): _text(v) for k, v in obj.items()}
                values = [data.get(name, "") for name in HEADER]
                yield line, values, fields.from_fields(where, line, data, self.rules)
