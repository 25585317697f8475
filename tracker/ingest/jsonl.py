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
from tracker.ingest.csvfile import ENCODING, open_text, snake
from tracker.ingest.generic import OPTIONAL, REQUIRED
from tracker.ingest.records import Outcome

NAME = "jsonl"
HEADER = list(REQUIRED + OPTIONAL)
FIELDS = set(HEADER)


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
    """A JSON value as the text a CSV cell would hold: numbers exact and without exponent (1e2 -> "100")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


class JsonlSource:
    """Rows of a JSON Lines file: (line, values in HEADER order, outcome)."""

    header = HEADER

    def __init__(self, path: Path, rules: fields.RowRules, encoding: str = ENCODING):
        self.path, self.rules = Path(path), rules
        self._handle = open_text(self.path, encoding)

    def records(self) -> Iterator[tuple[int, list[str], Outcome]]:
        where = str(self.path)
        with self._handle:
            for line, text in enumerate(self._handle, start=1):
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text, parse_float=Decimal, parse_int=Decimal)
                except json.JSONDecodeError as exc:
                    yield line, [text.rstrip("\n")], RowError(where, line, f"not valid JSON ({exc.msg} at column {exc.colno}); correct the line")
                    continue
                except RecursionError:
                    yield line, [text[:200]], RowError(where, line, "the JSON is nested too deeply to be a gift; "
                                                                     "write one flat object {...} per line")
                    continue
                if not isinstance(obj, dict):
                    yield line, [text.rstrip("\n")], RowError(where, line, "the line is not a JSON object; write one object {...} per line")
                    continue
                nested = sorted(str(k) for k, v in obj.items() if isinstance(v, (dict, list)) and snake(str(k)) in FIELDS)
                if nested:
                    yield line, [text[:200]], RowError(where, line, f"{nested[0]} is a JSON object or list; write it "
                                                                     "as text or a number")
                    continue
                data = {snake(str(k)): _text(v) for k, v in obj.items()}
                values = [data.get(name, "") for name in HEADER]
                yield line, values, fields.from_fields(where, line, data, self.rules)
