"""The rejects file: every row an import could not take, with its line, the reason in words, and its original values."""

from __future__ import annotations

import csv
from pathlib import Path


class RejectsFile:
    """The rejects CSV: the line in the input, the reason in words, then the row's original values."""

    def __init__(self, path: Path, header: list[str]):
        self.path, self.header, self._fh, self._writer = path, header, None, None

    def write(self, line: int, reason: str, values: list[str]) -> None:
        if self._fh is None:
            self._fh = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._fh)
            self._writer.writerow(["line", "reason", *self.header])
        self._writer.writerow([line, reason, *values])

    def close(self) -> bool:
        """Close; True when anything was written."""
        if self._fh is None:
            return False
        self._fh.close()
        return True


def default_rejects_path(path: Path) -> Path:
    """Beside the input: donations.csv -> donations.rejects.csv."""
    return path.with_name(f"{path.stem}.rejects.csv")
