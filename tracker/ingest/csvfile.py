"""Reading input files: CSV encoding, delimiter, header and line numbers, and each file's SHA-256.
Streams; never loads a whole file.

The delimiter (comma, semicolon, tab, pipe) is detected by the csv module's Sniffer on the
header line; a UTF-8 BOM is ignored. Repeated header names get a suffix (Reserved, Reserved_2, ...)
so no column silently hides another.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path
from typing import Iterator, TextIO

from tracker.errors import InputFileError


class CsvFile:
    """An open CSV file: `header` (names as written, stripped) and `rows()` yielding (line, values)."""

    def __init__(self, path: Path, header_line: int = 1):
        self.path = Path(path)
        self._handle = open_text(self.path)
        try:
            for _ in range(header_line - 1):  # instruction lines above the header (NPSP templates have four)
                self._handle.readline()
            first = self._handle.readline()
        except UnicodeDecodeError:
            self._handle.close()
            raise InputFileError(f"{self.path}: is not UTF-8 text; save it as CSV UTF-8 and try again") from None
        if not first.strip():
            self._handle.close()
            raise InputFileError(f"{self.path}: is empty or starts with a blank line; the first line must be the header")
        try:
            self.dialect = csv.Sniffer().sniff(first, delimiters=",;\t|")
        except csv.Error:
            self.dialect = csv.excel
        self.dialect.doublequote = True
        self.header = dedupe([h.strip() for h in next(csv.reader([first], self.dialect))])
        self._base = header_line

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line the row starts on, its values) for each non-blank data row; the header is line 1."""
        reader = csv.reader(self._handle, self.dialect)
        base = self._base  # lines consumed before the reader started (the header and any above it)
        start = base + 1
        try:
            for values in reader:
                line, start = start, base + reader.line_num + 1
                if not "".join(values).strip():
                    continue
                yield line, values
        except UnicodeDecodeError:
            raise InputFileError(f"{self.path}: is not UTF-8 text after line {start - 1}; save it as CSV UTF-8") from None
        except csv.Error as exc:
            raise InputFileError(f"{self.path}:{start}: broken CSV ({exc}); check the quotes on that line") from None
        finally:
            self._handle.close()

    def close(self) -> None:
        self._handle.close()

def open_text(path: Path) -> TextIO:
    """Open a UTF-8 text file (BOM ignored), turning the usual failures into one-line InputFileErrors."""
    try:
        return path.open("r", encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror})") from None


def dedupe(names: list[str]) -> list[str]:
    """Make repeated header names unique: a, b, a -> a, b, a_2."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0) + 1
        seen[name] = n
        out.append(name if n == 1 else f"{name}_{n}")
    return out


def snake(name: str) -> str:
    """Header name for matching: 'Donated At ' -> 'donated_at'."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def file_sha256(path: Path) -> str:
    """The file's SHA-256 (hex), recorded with its import."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
