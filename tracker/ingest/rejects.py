"""The rejects file: every row an import could not take, with its line, the reason in words, and its original values.

It is a CSV that people open in a spreadsheet to fix the rows, so it follows the exports' rule:
a cell that a spreadsheet would run as a formula (=, +, -, @, a tab or a carriage return first)
gets a leading apostrophe (tracker.export.neutralize), whatever the input held. A NUL character
is dropped and a cell longer than a spreadsheet cell can hold is cut, saying so.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tracker.export import neutralize

CELL_LIMIT = 32_000  # characters; Excel and LibreOffice hold at most 32,767 in a cell


def inert(value: object) -> str:
    """One cell of the rejects file: text a spreadsheet shows and never runs."""
    text = str(value).replace("\x00", "")
    if len(text) > CELL_LIMIT:
        text = f"{text[:CELL_LIMIT]}... (cut: {len(text):,} characters in the file)"
    return neutralize(text)


class RejectsFile:
    """The rejects CSV: the line in the input, the reason in words, then the row's original values."""

    def __init__(self, path: Path, header: list[str]):
        self.path, self.header, self._fh, self._writer = path, header, None, None

    def write(self, line: int, reason: str, values: list[str]) -> None:
        """Add one rejected row (the file is created at the first one)."""
        if self._fh is None:
            self._fh = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._fh)
            self._writer.writerow(["line", "reason", *(inert(h) for h in self.header)])
        self._writer.writerow([line, inert(reason), *(inert(v) for v in values)])

    def close(self) -> bool:
        """Close; True when anything was written."""
        if self._fh is None:
            return False
        self._fh.close()
        return True


def default_rejects_path(path: Path) -> Path:
    """Beside the input: donations.csv -> donations.rejects.csv."""
    return path.with_name(f"{path.stem}.rejects.csv")
