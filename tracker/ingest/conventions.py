"""A file's conventions, decided once from all its values before a row is loaded: the date order and the decimal mark.

Nothing is guessed row by row. A date such as 19/02/2026 can only be day first, 02/19/2026 only
month first, and 03/12/2026 either; an amount such as 1.234,56 or 25,50 is written with a decimal
comma, 1,234.56 or 25.50 with a decimal point, and 1.000 or 1,000 either way. So:

- a file whose dates (or amounts) include one that reads only one way follows that way;
- a file with values that read only one way *and* values that read only the other way is refused,
  naming both (it mixes conventions: say which with a flag, and the rows of the other are rejected);
- a file whose every such value reads either way is refused, naming the two readings, the flag that
  chooses each, and two of its rows read both ways;
- what the importer was told (--dayfirst/--monthfirst, --decimal-comma/--decimal-point, or the
  mapping's `dayfirst`/`decimal_comma`) is never second-guessed.

The survey reads only the date and amount columns of the format, with pyarrow's CSV reader (a
million rows in about half a second here), and finds the lines of the rows it quotes with the csv
module, as the import reads them. It also counts times written without a UTC offset, which are
read in the organization's zone, so the import can say so once. JSON Lines: dates as for CSV;
amounts are JSON numbers or text with a decimal point (JSON's own convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tracker.errors import InputFileError
from tracker.ingest.csvfile import ENCODING, CsvFile, CsvProblem, snake

# a numeric date, its first two parts: 03/12/2026, 3.12.26, 03-12-2026 (not ISO 2026-12-03: four digits first)
NUMERIC_DATE = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:\D|$)"
_NUMERIC_DATE = re.compile(NUMERIC_DATE)
# a time that says its offset: Z, +01:00, -0800, or a UTC/GMT name at the end
WITH_OFFSET = r"(?i)(?:[zZ]|[+-]\d{2}(?::?\d{2})?|\b(?:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)\s*$"
_WITH_OFFSET = re.compile(WITH_OFFSET)

# amounts, after everything but digits and the two marks is taken out ("$1,234.56" -> "1,234.56"): the shapes
# an amount can have with a decimal point (commas grouping thousands) and with a decimal comma (points grouping)
AMOUNT_NOISE = r"[^0-9.,]"
POINT_SHAPE = r"^(?:[1-9]\d{0,2}(?:,\d{3})+|\d+)(?:\.\d+)?$"
COMMA_SHAPE = r"^(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d+)?$"
_POINT = re.compile(POINT_SHAPE)
_COMMA = re.compile(COMMA_SHAPE)
_NOISE = re.compile(AMOUNT_NOISE)

EXAMPLES = 2  # rows quoted when a file cannot tell


def date_reading(text: str) -> str | None:
    """How a date can be read: "dayfirst" (19/02/2026), "monthfirst" (02/19/2026), "either" (03/12/2026),
    None when the order does not matter (ISO 2026-12-03, 05/05/2026, Dec 3 2026, or not a date)."""
    m = _NUMERIC_DATE.match(text)
    if not m:
        return None
    a, b = int(m.group(1)), int(m.group(2))
    if a > 12 >= b:
        return "dayfirst"
    if b > 12 >= a:
        return "monthfirst"
    if a <= 12 and b <= 12 and a != b:
        return "either"
    return None


def amount_reading(text: str) -> str | None:
    """How an amount's marks can be read: "point" (25.50, 1,234.56: only with a decimal point), "comma" (25,50,
    1.234,56), "either" (1.000, 12,500: a thousands group, or three decimals), None when it has no mark or reads
    no way as money (12,34,5)."""
    s = _NOISE.sub("", text)
    if "." not in s and "," not in s:
        return None
    point, comma = bool(_POINT.match(s)), bool(_COMMA.match(s))
    return "either" if point and comma else "point" if point else "comma" if comma else None


def has_offset(text: str) -> bool:
    return bool(_WITH_OFFSET.search(text))


@dataclass
class Example:
    """A value quoted in a message: the column it is in, as written, and (once found) its line."""

    column: str
    value: str
    line: int | None = None


@dataclass
class Evidence:
    """What a file's values say: for each reading, the first value that shows it."""

    dates: dict[str, Example] = field(default_factory=dict)  # dayfirst / monthfirst -> first example
    either_dates: list[Example] = field(default_factory=list)
    amounts: dict[str, Example] = field(default_factory=dict)  # point / comma -> first example
    either_amounts: list[Example] = field(default_factory=list)
    naive: int = 0  # times without a UTC offset
    naive_example: Example | None = None

    def see_date(self, column: str, text: str) -> None:
        reading = date_reading(text)
        if reading == "either":
            if len(self.either_dates) < EXAMPLES and text.strip() not in {e.value for e in self.either_dates}:
                self.either_dates.append(Example(column, text.strip()))
        elif reading and reading not in self.dates:
            self.dates[reading] = Example(column, text.strip())

    def see_amount(self, column: str, text: str) -> None:
        reading = amount_reading(text)
        if reading == "either":
            if len(self.either_amounts) < EXAMPLES and text.strip() not in {e.value for e in self.either_amounts}:
                self.either_amounts.append(Example(column, text.strip()))
        elif reading and reading not in self.amounts:
            self.amounts[reading] = Example(column, text.strip())

    def examples(self) -> list[Example]:
        out = [*self.dates.values(), *self.either_dates, *self.amounts.values(), *self.either_amounts]
        return out + ([self.naive_example] if self.naive_example else [])


@dataclass(frozen=True)
class Columns:
    """Which columns of a file hold its dates, its amounts, and times read in the organization's zone when
    they have no offset (index, name as written)."""

    dates: tuple[tuple[int, str], ...] = ()
    amounts: tuple[tuple[int, str], ...] = ()
    zoned: tuple[tuple[int, str], ...] = ()  # dates whose zone the file does not say (not Stripe's UTC, PayPal's TimeZone)

    def __bool__(self) -> bool:
        return bool(self.dates or self.amounts)


STRIPE_DATES = ("created date (utc)", "created (utc)")
STRIPE_AMOUNTS = ("amount", "amount refunded", "converted amount", "converted amount refunded", "fee", "disputed amount")
PAYPAL_DATES = ("date",)
PAYPAL_AMOUNTS = ("gross", "amount", "fee")
GENERIC_DATES = ("donated_at",)
GENERIC_AMOUNTS = ("amount", "refunded_amount", "fee", "dispute_amount")


def columns_for(fmt: str, header: list[str], mapping=None) -> Columns:
    """The date and amount columns of a file in format `fmt` (a mapping's columns for "mapping")."""
    def pick(names, key=str.lower) -> tuple[tuple[int, str], ...]:
        wanted = set(names)
        return tuple((i, h) for i, h in enumerate(header) if key(h) in wanted)

    if fmt == "stripe":
        return Columns(pick(STRIPE_DATES), pick(STRIPE_AMOUNTS))
    if fmt == "paypal":
        return Columns(pick(PAYPAL_DATES), pick(PAYPAL_AMOUNTS))
    if fmt in ("generic", "jsonl"):
        dates = pick(GENERIC_DATES, snake)
        return Columns(dates, () if fmt == "jsonl" else pick(GENERIC_AMOUNTS, snake), dates)
    if fmt == "mapping" and mapping is not None:
        def named(fields_: tuple[str, ...]) -> tuple[tuple[int, str], ...]:
            cols = {c.strip().lower() for f in fields_ for c in mapping.columns.get(f, ())}
            return pick(cols)
        dates = () if mapping.date_format else named(("donated_at",))
        return Columns(dates, named(("amount", "refunded_amount", "fee", "dispute_amount")), named(("donated_at",)))
    return Columns()


def survey(path: Path, fmt: str, header: list[str], cols: Columns, *, header_line: int = 1, delimiter: str = ",",
           encoding: str = ENCODING) -> Evidence:
    """Read the date and amount columns of the whole file and say what they show (lines not filled in)."""
    if fmt == "jsonl":
        return _survey_rows(_jsonl_rows(path, encoding, header), cols)
    try:
        return _survey_arrow(path, header, cols, header_line, delimiter, encoding)
    except Exception:  # noqa: BLE001 - pyarrow could not read it as the csv module does: read it as the import will
        return _survey_rows(_csv_rows(path, header_line, encoding), cols)


def _csv_rows(path: Path, header_line: int, encoding: str) -> Iterator[tuple[int, list[str]]]:
    source = CsvFile(path, header_line=header_line, encoding=encoding)
    try:
        for line, values in source.rows():
            if not isinstance(values, CsvProblem):
                yield line, values
    finally:
        source.close()


def _jsonl_rows(path: Path, encoding: str, header: list[str]) -> Iterator[tuple[int, list[str]]]:
    import json

    from tracker.ingest.csvfile import open_text

    with open_text(path, encoding) as fh:
        for line, text in enumerate(fh, start=1):
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError):
                continue  # the import rejects it with its reason
            if isinstance(obj, dict):
                data = {snake(str(k)): v for k, v in obj.items()}
                yield line, [v if isinstance(v := data.get(name), str) else "" for name in header]


def _survey_rows(rows: Iterator[tuple[int, list[str]]], cols: Columns) -> Evidence:
    ev = Evidence()
    zoned = set(i for i, _ in cols.zoned)
    for _, values in rows:
        n = len(values)
        for i, name in cols.dates:
            if i < n and values[i]:
                ev.see_date(name, values[i])
                if i in zoned and not has_offset(values[i]):
                    ev.naive += 1
                    ev.naive_example = ev.naive_example or Example(name, values[i].strip())
        for i, name in cols.amounts:
            if i < n and values[i]:
                ev.see_amount(name, values[i])
    return ev


def _survey_arrow(path: Path, header: list[str], cols: Columns, header_line: int, delimiter: str,
                  encoding: str) -> Evidence:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    names = [f"c{i}" for i in range(len(header))]
    wanted = sorted({i for i, _ in cols.dates + cols.amounts})
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=header_line, column_names=names, encoding=encoding,
                                       block_size=4 << 20),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True,
                                         newlines_in_values=True, invalid_row_handler=lambda row: "skip"),
        convert_options=pacsv.ConvertOptions(include_columns=[names[i] for i in wanted],
                                             column_types={names[i]: pa.string() for i in wanted},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False))
    ev = Evidence()
    zoned = {i for i, _ in cols.zoned}

    def first(values, mask, column: str, into: list | dict, key: str | None, limit: int = 1) -> None:
        picked = pc.unique(pc.utf8_trim_whitespace(pc.filter(values, mask)))  # in the order they first appear
        for v in picked.slice(0, limit + len(into)).to_pylist():
            if key is None:
                if len(into) < EXAMPLES and v not in {e.value for e in into}:
                    into.append(Example(column, v))
            elif key not in into:
                into[key] = Example(column, v)

    for batch in reader:
        for i, name in cols.dates:
            values = batch.column(names[i])
            numeric = pc.match_substring_regex(values, r"^\s*\d{1,2}[/.\-]\d{1,2}[/.\-]")
            if pc.any(numeric).as_py():  # the few numeric dates, each once, in the order they first appear
                found = pc.unique(pc.filter(values, numeric))
                parts = pc.extract_regex(found, r"^\s*(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{2}|\d{4})(?:\D|$)")
                a = pc.cast(pc.struct_field(parts, "a"), pa.int32())
                b = pc.cast(pc.struct_field(parts, "b"), pa.int32())
                day = pc.fill_null(pc.and_(pc.greater(a, 12), pc.less_equal(b, 12)), False)
                month = pc.fill_null(pc.and_(pc.greater(b, 12), pc.less_equal(a, 12)), False)
                either = pc.fill_null(pc.and_(pc.and_(pc.less_equal(a, 12), pc.less_equal(b, 12)),
                                              pc.not_equal(a, b)), False)
                if "dayfirst" not in ev.dates and pc.any(day).as_py():
                    first(found, day, name, ev.dates, "dayfirst")
                if "monthfirst" not in ev.dates and pc.any(month).as_py():
                    first(found, month, name, ev.dates, "monthfirst")
                if len(ev.either_dates) < EXAMPLES and pc.any(either).as_py():
                    first(found, either, name, ev.either_dates, None, EXAMPLES)
            if i in zoned:
                naive = pc.and_(pc.not_equal(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0),
                                pc.invert(pc.match_substring_regex(values, WITH_OFFSET.replace("(?i)", ""),
                                                                   ignore_case=True)))
                count = pc.sum(naive).as_py() or 0
                if count:
                    ev.naive += count
                    if ev.naive_example is None:
                        ev.naive_example = Example(name, pc.filter(values, naive)[0].as_py().strip())
        for i, name in cols.amounts:
            raw = pc.unique(batch.column(names[i]))  # amounts repeat: each distinct one once, in order
            values = pc.replace_substring_regex(raw, AMOUNT_NOISE, "")
            marked = pc.or_(pc.match_substring(values, "."), pc.match_substring(values, ","))
            if not pc.any(marked).as_py():
                continue
            as_point = pc.and_(marked, pc.match_substring_regex(values, POINT_SHAPE))
            as_comma = pc.and_(marked, pc.match_substring_regex(values, COMMA_SHAPE))
            point = pc.and_(as_point, pc.invert(as_comma))
            comma = pc.and_(as_comma, pc.invert(as_point))
            either = pc.and_(as_point, as_comma)
            if "point" not in ev.amounts and pc.any(point).as_py():
                first(raw, point, name, ev.amounts, "point")
            if "comma" not in ev.amounts and pc.any(comma).as_py():
                first(raw, comma, name, ev.amounts, "comma")
            if len(ev.either_amounts) < EXAMPLES and pc.any(either).as_py():
                first(raw, either, name, ev.either_amounts, None, EXAMPLES)
    return ev


def find_lines(path: Path, fmt: str, header: list[str], cols: Columns, examples: list[Example], *,
               header_line: int = 1, encoding: str = ENCODING) -> None:
    """Fill in the line of each example: the first row holding its value in its column (stops when all are found)."""
    todo: dict[tuple[str, str], list[Example]] = {}
    for e in examples:
        if e.line is None:
            todo.setdefault((e.column, e.value), []).append(e)
    if not todo:
        return
    index = {name: i for i, name in cols.dates + cols.amounts}
    rows = _jsonl_rows(path, encoding, header) if fmt == "jsonl" else _csv_rows(path, header_line, encoding)
    for line, values in rows:
        for (column, value), found in list(todo.items()):
            i = index[column]
            if i < len(values) and values[i].strip() == value:
                for e in found:
                    e.line = line
                del todo[(column, value)]
        if not todo:
            break


@dataclass(frozen=True)
class Decision:
    """The conventions a file is read with, and what to say about them once."""

    dayfirst: bool
    decimal_comma: bool
    notes: tuple[str, ...] = ()


def decide(path: Path, ev: Evidence, *, dayfirst: bool | None, decimal_comma: bool | None, zone: str | None,
           currency: str = "USD") -> Decision:
    """The file's date order and decimal mark from what its values show and what the importer asked for
    (None: not asked). Raises InputFileError, naming both readings and the flags, when the file cannot tell."""
    notes = []
    if dayfirst is None:
        shown = ev.dates
        if "dayfirst" in shown and "monthfirst" in shown:
            d, m = shown["dayfirst"], shown["monthfirst"]
            raise InputFileError(
                f"{path}: writes dates both ways: line {d.line} {d.column} {d.value!r} is day first, line {m.line} "
                f"{m.column} {m.value!r} month first; nothing was imported. Say which with --dayfirst or --monthfirst "
                "(the rows written the other way are then rejected), or correct the file")
        if shown:
            dayfirst = "dayfirst" in shown
            e = shown["dayfirst" if dayfirst else "monthfirst"]
            notes.append(f"dates read {'day' if dayfirst else 'month'} first, as line {e.line}'s {e.value} shows")
        elif ev.either_dates:
            raise InputFileError(_cannot_tell_dates(path, ev.either_dates))
        else:
            dayfirst = False
    if decimal_comma is None:
        shown = ev.amounts
        if "point" in shown and "comma" in shown:
            p, c = shown["point"], shown["comma"]
            raise InputFileError(
                f"{path}: writes amounts both ways: line {p.line} {p.column} {p.value!r} has a decimal point, line "
                f"{c.line} {c.column} {c.value!r} a decimal comma; nothing was imported. Say which with --decimal-point "
                "or --decimal-comma (the rows written the other way are then rejected), or correct the file")
        if shown:
            decimal_comma = "comma" in shown
            if decimal_comma:
                e = shown["comma"]
                notes.append(f"amounts read with a decimal comma, as line {e.line}'s {e.value} shows")
        elif ev.either_amounts:
            raise InputFileError(_cannot_tell_amounts(path, ev.either_amounts, currency))
        else:
            decimal_comma = False
    if ev.naive and zone:
        notes.append(f"times without an offset were read as {zone} ({ev.naive:,} of them, e.g. line "
                     f"{ev.naive_example.line}'s {ev.naive_example.value}); pass --timezone if they are in another zone")
    return Decision(bool(dayfirst), bool(decimal_comma), tuple(notes))


def _cannot_tell_dates(path: Path, examples: list[Example]) -> str:
    from datetime import date

    lines = []
    for e in examples:
        m = _NUMERIC_DATE.match(e.value)
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        y = y + 2000 if y < 100 else y

        def said(month: int, day: int) -> str:
            try:
                return date(y, month, day).strftime("%-d %B %Y")
            except ValueError:
                return "no date"
        lines.append(f"  line {e.line}: {e.column} {e.value} reads as {said(b, a)} with --dayfirst, "
                     f"{said(a, b)} with --monthfirst")
    return (f"{path}: cannot tell the date order: every date in it reads both day first and month first (no day is "
            f"above 12); nothing was imported.\n" + "\n".join(lines) +
            "\nRun it again with --dayfirst or --monthfirst (a mapping can say dayfirst = true or false).")


def _cannot_tell_amounts(path: Path, examples: list[Example], currency: str) -> str:
    from tracker.money import format_money, parse_cents

    lines = []
    for e in examples:
        s = _NOISE.sub("", e.value)  # one mark, three digits after it: "1.000" or "1,000"
        as_decimal, as_group = parse_cents(s.replace(",", ".")), parse_cents(s.replace(",", "").replace(".", ""))
        point, comma = (as_decimal, as_group) if "." in s else (as_group, as_decimal)
        lines.append(f"  line {e.line}: {e.column} {e.value} reads as {format_money(point, currency)} with "
                     f"--decimal-point, {format_money(comma, currency)} with --decimal-comma")
    return (f"{path}: cannot tell the decimal mark: every amount in it with a mark reads both ways (a thousands "
            "separator, or three decimals); nothing was imported.\n" + "\n".join(lines) +
            "\nRun it again with --decimal-point or --decimal-comma (a mapping can say decimal_comma = true or false).")
