"""Reading input files: the whole-file checks made before anything is written (encoding, an unclosed
quote, the SHA-256 recorded with the import), then CSV rows with their line numbers. Streams;
never loads a whole file.

The delimiter (comma, semicolon, tab, pipe) is detected by the csv module's Sniffer on the
header line; the quote character is always the double quote (a header written in single quotes
must not make `'` the quote character). A UTF-8 BOM is ignored. Repeated header names get a
suffix (Reserved, Reserved_2, ...) so no column silently hides another. A row the csv module
cannot read, or one with more values than the header has columns (an unquoted "1,234.56" split
in two), is a bad row with its line, never a silent change.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from pathlib import Path
from typing import Iterator, NamedTuple, TextIO

from tracker.errors import InputFileError

FIELD_LIMIT = 16 << 20  # characters in one field; beyond it the row is rejected (csv's own default: 131,072)
ENCODING = "utf-8"
SCAN_BLOCK = 1 << 20


class CsvProblem(NamedTuple):
    """A row that could not be read as CSV values: why, in words that say what to check, and what was read."""

    message: str
    values: tuple[str, ...] = ()


class Scan(NamedTuple):
    """What the whole-file pass found: the file's SHA-256 (hex) and how many lines it has."""

    sha256: str
    lines: int
    plain: bool = False  # no double quote and no carriage return outside CRLF: each line is exactly one row


def scan(path: Path, *, encoding: str = ENCODING, quotes: bool = False) -> Scan:
    """Read the whole file once before anything is written: its SHA-256, and InputFileError for a byte
    that is not text in `encoding` (naming its line), or, with `quotes`, a quote that is opened and
    never closed (naming the line it opens on: every row after it would be read as one value)."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise InputFileError(f"{path}: unknown encoding {encoding!r}; use e.g. utf-8, cp1252 or latin-1") from None
    digest, lines, quote_count, lone_cr = hashlib.sha256(), 0, 0, False
    with _open_binary(path) as fh:
        for block in iter(lambda: fh.read(SCAN_BLOCK), b""):
            digest.update(block)
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                line = lines + block.count(b"\n", 0, exc.start) + 1
                raise InputFileError(
                    f"{path}:{line}: is not {encoding} text (byte {block[exc.start]:#04x}); nothing was imported. "
                    f"Save the file as CSV UTF-8, or name its encoding with --encoding (e.g. --encoding cp1252)"
                ) from None
            lines += block.count(b"\n")
            quote_count += block.count(b'"')
            lone_cr = lone_cr or block.count(b"\r") != block.count(b"\r\n")  # (a CRLF split by a block counts too)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputFileError(f"{path}:{lines + 1}: ends in the middle of a character; the file is cut off "
                                 "or not " + encoding) from None
    if quotes and quote_count % 2:
        _find_unclosed_quote(path, encoding)
    return Scan(digest.hexdigest(), lines, plain=not quote_count and not lone_cr)


def _find_unclosed_quote(path: Path, encoding: str) -> None:
    """Raise InputFileError naming the line where a quoted value opens and never closes (if one does:
    an odd count of quotes can also be a stray quote inside an unquoted value, which csv reads as text)."""
    with open_text(path, encoding) as fh:
        first = fh.readline()
        reader = csv.reader(fh, delimiter=_delimiter(first), strict=True)
        start = 2
        while True:
            try:
                next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise InputFileError(
                        f"{path}:{start}: a quote opens on this line and is never closed, so every row after it "
                        "would be read as one value; nothing was imported. Close the quote (or remove it) and "
                        "import the file again"
                    ) from None
            start = reader.line_num + 2


def _unquoted(name: str) -> str:
    """A header name stripped, and out of single quotes if a file writes its names 'like this'."""
    name = name.strip()
    return name[1:-1].strip() if len(name) >= 2 and name[0] == name[-1] == "'" else name


def _delimiter(header: str) -> str:
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


class CsvFile:
    """An open CSV file: `header` (names as written, stripped) and `rows()` yielding (line, values)."""

    def __init__(self, path: Path, header_line: int = 1, encoding: str = ENCODING):
        self.path = Path(path)
        self._handle = open_text(self.path, encoding)
        try:
            for _ in range(header_line - 1):  # instruction lines above the header (NPSP templates have four)
                self._handle.readline()
            first = self._handle.readline()
        except UnicodeDecodeError:
            self._handle.close()
            raise InputFileError(f"{self.path}: is not {encoding} text; save it as CSV UTF-8, or name its "
                                 "encoding with --encoding") from None
        if not first.strip():
            self._handle.close()
            raise InputFileError(f"{self.path}: is empty or starts with a blank line; the first line must be the header")
        self.delimiter = _delimiter(first)
        self.header = dedupe([_unquoted(h) for h in next(csv.reader([first], delimiter=self.delimiter))])
        self._base = header_line

    def rows(self) -> Iterator[tuple[int, list[str] | CsvProblem]]:
        """(line the row starts on, its values) for each non-blank data row; the header is line 1.

        A row that cannot be read, or has more (non-empty) values than the header has columns,
        comes as (line, CsvProblem) instead, and reading goes on with the next row. Fewer values
        than columns are allowed (exports leave trailing empty columns out); they read as empty."""
        try:
            yield from read_rows(self._handle, len(self.header), self.delimiter, self._base, self.path)
        finally:
            self._handle.close()

    def close(self) -> None:
        self._handle.close()


def read_rows(lines, width: int, delimiter: str, base: int, path) -> Iterator[tuple[int, list[str] | CsvProblem]]:
    """CsvFile.rows for any iterable of lines: `base` lines come before the first (the header's)."""
    csv.field_size_limit(FIELD_LIMIT)
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True)
    start = base + 1
    while True:
        line = start
        try:
            values = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise InputFileError(f"{path}:{start}: is not text in the file's encoding; save it as CSV UTF-8, "
                                 "or name its encoding with --encoding") from None
        except csv.Error as exc:
            start = base + reader.line_num + 1
            reason = ("a value is longer than 16 MB" if "field limit" in str(exc)
                      else f"broken CSV ({exc})")
            yield line, CsvProblem(f"{reason}; check the quotes and the delimiters on this line")
            continue
        start = base + reader.line_num + 1
        joined = "".join(values)
        if not joined.strip():
            continue
        if "\x00" in joined:
            yield line, CsvProblem("the row holds a NUL character (\\x00), which no database column takes; "
                                   "remove it from the file", tuple(v.replace("\x00", "") for v in values))
            continue
        if len(values) > width and any(v.strip() for v in values[width:]):
            yield line, CsvProblem(
                f"the row has {len(values)} values but the header has {width} columns; a value that holds "
                f"the delimiter {delimiter!r} must be in double quotes (e.g. \"1,234.56\")", tuple(values))
            continue
        yield line, values


def _open_binary(path: Path):
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot be read ({exc.strerror})") from None


def open_text(path: Path, encoding: str = ENCODING) -> TextIO:
    """Open a text file (a UTF-8 BOM ignored), turning the usual failures into one-line InputFileErrors."""
    try:
        return path.open("r", encoding="utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8")
                         else encoding, newline="")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder, not a file") from None
    except LookupError:
        raise InputFileError(f"{path}: unknown encoding {encoding!r}; use e.g. utf-8, cp1252 or latin-1") from None
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
    return scan(path, encoding="latin-1").sha256  # every byte is latin-1: only the digest is wanted
