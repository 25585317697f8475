"""Reading a plain CSV file column-wise: whole columns checked at once, the per-row code only for the rest.

A file is read this way when its rows cannot span lines (no double quote anywhere, no carriage
return outside CRLF: csvfile.scan says so), it is UTF-8, and its format has a columnar builder
(the generic layout; Stripe's export measured slower this way, so it is read row by row). It is read in blocks of whole lines (BLOCK_BYTES, so memory stays flat);
pyarrow splits each block into string columns, and the builder checks them with pyarrow.compute
for the common row only, exactly as fields.fast_builder would take it: printable ASCII values with
nothing to strip, a plain amount, no status other than succeeded, nothing refunded or disputed,
no finance details. Every other row (and every row of a block pyarrow cannot split into the
header's columns, or one holding a NUL) goes to the format's own per-row normalizer with its line,
so a bad row gets the same file:line reason as before. Since no row spans lines, a row's line is
the block's first line plus its place in the block.

Why pyarrow and not polars: pyarrow is a dependency already (conventions.py reads with it), and on
this machine splitting 1M generic rows into string columns took about 0.5 s with either; the time
that is left is in building the gifts, which both leave to Python.
"""

from __future__ import annotations

import io
from itertools import repeat
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from tracker.dates import iso_instant
from tracker.ingest.csvfile import CsvProblem, read_rows
from tracker.ingest.fields import RowRules
from tracker.ingest.records import LIMITS, NormalizedDonation, Outcome
from tracker.errors import RowError

BLOCK_BYTES = 4 << 20  # about 60,000 generic rows: what one block holds in memory as gifts
_PLAIN = r"^(?:[!-~](?:[ -~]*[!-~])?)?$"  # empty, or printable ASCII with no space at either end (strip() keeps it)
_AMOUNT = r"^[0-9]{1,12}(?:\.[0-9]{1,2})?$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_TRUE = ("true", "yes", "y", "1", "t")
_FALSE = ("false", "no", "n", "0", "f", "")


class Batch(NamedTuple):
    """What a block of rows gave: `rows` read (blank rows not counted, as csvfile leaves them out), the gifts in
    file order with their places among those rows, and the other outcomes (line, values, outcome) in order."""

    rows: int
    gifts: list[NormalizedDonation]
    places: list[int] | None  # None: the gifts are the rows, in order
    others: list[tuple[int, int, list[str], Outcome]]  # (place, line, values, outcome)


def blocks(path: Path, first_line: int, size: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(line of the block's first row, the block: whole lines) after the header line."""
    size = size or BLOCK_BYTES
    with path.open("rb") as fh:
        fh.readline()  # the header
        line, rest = first_line, b""
        while True:
            data = fh.read(size)
            if not data:
                if rest:
                    yield line, rest
                return
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            block, rest = data[:cut], data[cut:]
            yield line, block
            line += block.count(b"\n")


def generic_builder(index: dict[str, int], rules: RowRules) -> Callable | None:
    """Checks whole columns of the generic layout (`index`: field -> column) and builds the common rows' gifts;
    None when the rules leave no row to the quick path (fields.fast_builder's conditions)."""
    if rules.date_format or rules.decimal_comma or rules.statuses:
        return None
    import pyarrow.compute as pc

    def build(columns: list, first_line: int, row_lines: list[int] | None = None):
        ok = _all(pc.match_substring_regex(columns[i], _PLAIN) for i in sorted(set(index.values())))
        gifts, places, _ = _gifts({name: columns[i] for name, i in index.items()}, ok, first_line, rules, row_lines)
        return gifts, places

    return build


def _all(checks):
    import pyarrow.compute as pc

    ok = None
    for check in checks:
        ok = check if ok is None else pc.and_(ok, check)
    return ok


def _gifts(fields_: dict, ok, first_line: int, rules: RowRules, row_lines: list[int] | None = None):
    """The gifts of the rows that pass `ok` and every check fields.fast_builder makes, built as it builds them
    (`fields_`: the generic field -> its column, values that need no stripping): (the gifts, their places in the
    block, the rows of the columns they are), `row_lines`: the place in the block of each row of the columns
    (None: the same)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    tz, currency, max_gift, source = rules.timezone, rules.currency, rules.max_gift_cents, rules.source
    limits = {k: LIMITS[k] for k in ("donation_id", "email", "name", "donor_id", "channel", "appeal_variant",
                                     "processor", "processor_id")}
    col = fields_.get
    n = len(fields_["donation_id"])
    ident, amount, date = col("donation_id"), col("amount"), col("donated_at")
    ok = pc.and_(ok, pc.greater(pc.utf8_length(ident), 0))
    ok = pc.and_(ok, pc.less_equal(pc.utf8_length(ident), limits["donation_id"]))
    ok = pc.and_(ok, pc.match_substring_regex(amount, _AMOUNT))

    def must_be(name, allowed):
        nonlocal ok
        c = col(name)
        if c is not None:
            ok = pc.and_(ok, pc.is_in(c, value_set=pa.array(allowed, pa.string())))

    must_be("currency", ["", currency])
    must_be("status", ["", "succeeded"])
    for name in ("refunded_amount", "dispute_status", "dispute_amount", "payout_id", "fund", "gl_code",
                 "refunded_at"):
        must_be(name, [""])
    fee = col("fee")
    if fee is not None:
        ok = pc.and_(ok, pc.or_(pc.equal(fee, ""), pc.match_substring_regex(fee, _AMOUNT)))
    recurring = col("recurring")
    if recurring is not None:
        recurring = pc.utf8_lower(recurring)
        ok = pc.and_(ok, pc.is_in(recurring, value_set=pa.array(_TRUE + _FALSE)))
    email = col("email")
    if email is not None:
        email = pc.utf8_lower(email)
        ok = pc.and_(ok, pc.or_(pc.equal(email, ""), pc.match_substring_regex(email, _EMAIL)))
    for name in ("email", "name", "donor_id", "channel", "appeal_variant", "processor", "processor_id"):
        c = col(name)
        if c is not None:
            ok = pc.and_(ok, pc.less_equal(pc.utf8_length(c), limits[name]))
    proc, proc_id = col("processor"), col("processor_id")
    if proc is not None or proc_id is not None:
        has = [pc.not_equal(c, "") if c is not None else pa.array([False] * n) for c in (proc, proc_id)]
        ok = pc.and_(ok, pc.equal(*has))
    # the amount in cents, for the rows whose amount is plain (others are 0 here: they are not taken)
    cents = _cents(pc.if_else(ok, amount, "0"))
    ok = pc.and_(ok, pc.less_equal(cents, max_gift))
    ok = pc.fill_null(ok, False)

    taken = pc.indices_nonzero(ok)
    whens = [iso_instant(text, tz) for text in pc.take(date, taken).to_pylist()]
    if None in whens:  # a time iso_instant does not vouch for: the per-row code decides
        taken = pc.filter(taken, pa.array([w is not None for w in whens]))
        whens = [w for w in whens if w is not None]
    t = lambda c: pc.take(c, taken)  # noqa: E731
    ids = t(ident).to_pylist()
    places = taken if row_lines is None else pc.take(pa.array(row_lines, pa.int64()), taken)
    lines = pc.add(places, first_line).to_pylist()
    donor = col("donor_id")
    e = t(email) if email is not None else None
    keys = pc.binary_join_element_wise("anon:" + source + ":", t(ident), "")
    if e is not None:
        keys = pc.if_else(pc.equal(e, ""), keys, pc.binary_join_element_wise("email:", e, ""))
    if donor is not None:
        d = t(donor)
        keys = pc.if_else(pc.equal(d, ""), keys, pc.binary_join_element_wise("id:", d, ""))

    def optional(c, lower=False, taken_already=False):
        if c is None:
            return repeat(None)
        c = c if taken_already else t(c)
        if lower:
            c = pc.utf8_lower(c)
        return pc.if_else(pc.equal(c, ""), pa.scalar(None, pa.string()), c).to_pylist()

    if fee is not None:
        f = t(fee)
        fees = pc.if_else(pc.equal(f, ""), pa.scalar(None, pa.int64()),
                          _cents(pc.if_else(pc.equal(f, ""), "0", f))).to_pylist()
    else:
        fees = repeat(None)
    recurs = (pc.is_in(t(recurring), value_set=pa.array(_TRUE)).to_pylist() if recurring is not None
              else repeat(False))
    new = tuple.__new__
    gifts = [new(NormalizedDonation, row) for row in zip(
        lines, ids, t(cents).to_pylist(), whens, keys.to_pylist(), optional(e, taken_already=True), optional(col("name")),
        repeat(currency), repeat("succeeded"), repeat(0), fees, optional(col("channel"), lower=True),
        optional(col("appeal_variant")), recurs, repeat(None), repeat(None), repeat(0),
        optional(proc, lower=True), optional(proc_id), repeat(None))]
    return gifts, places.to_pylist(), taken


def _cents(texts):
    """Cents of plain amounts ("25", "25.5", "25.50"), as fields.amount_cents reads them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = pc.extract_regex(texts, r"^(?P<whole>[0-9]+)(?:\.(?P<frac>[0-9]*))?$")
    whole = pc.cast(pc.struct_field(parts, "whole"), pa.int64())
    frac = pc.cast(pc.utf8_rpad(pc.struct_field(parts, "frac"), 2, "0"), pa.int64())
    return pc.add(pc.multiply(whole, 100), frac)


class ColumnarReader:
    """The rows of a plain CSV file as batches (Batch), read column-wise by `build`, the rest by `normalize`."""

    def __init__(self, path: Path, header: list[str], delimiter: str, build: Callable,
                 normalize: Callable[[int, list[str]], Outcome]):
        self.path, self.header, self.delimiter, self.build, self.normalize = path, header, delimiter, build, normalize

    def batches(self) -> Iterator[Batch]:
        import pyarrow as pa
        from pyarrow import csv as pacsv

        width = len(self.header)
        names = [f"c{i}" for i in range(width)]
        read = pacsv.ReadOptions(column_names=names, use_threads=True, block_size=BLOCK_BYTES + (1 << 20))
        parse = pacsv.ParseOptions(delimiter=self.delimiter, quote_char=False, ignore_empty_lines=False)
        convert = pacsv.ConvertOptions(column_types={c: pa.string() for c in names}, strings_can_be_null=False,
                                       quoted_strings_can_be_null=False)
        def table_of(data: bytes):
            try:
                return pacsv.read_csv(io.BytesIO(data), read_options=read, parse_options=parse, convert_options=convert)
            except (pa.ArrowInvalid, pa.ArrowException):
                return None

        sep = self.delimiter.encode()
        for first_line, block in blocks(self.path, 2):
            lines = block.count(b"\n") + (not block.endswith(b"\n"))  # the last line may have no end
            if b"\x00" in block:
                yield self._by_rows(first_line, block)
                continue
            table, row_lines, parts = table_of(block), None, None
            if table is None or table.num_rows != lines:
                # blank lines, or rows with fewer or more values than the header: the others column-wise
                parts = block.split(b"\n")
                if block.endswith(b"\n"):
                    parts.pop()
                row_lines = [i for i, text in enumerate(parts) if text.count(sep) == width - 1 and text.strip(b"\r")]
                table = table_of(b"\n".join(parts[i] for i in row_lines) + b"\n") if row_lines else None
                if table is None or table.num_rows != len(row_lines):
                    yield self._by_rows(first_line, block)
                    continue
            columns = [table.column(i).combine_chunks() if table.column(i).num_chunks != 1 else table.column(i).chunk(0)
                       for i in range(width)]
            gifts, places = self.build(columns, first_line, row_lines)
            if len(gifts) == lines:
                yield Batch(lines, gifts, None, [])
                continue
            if parts is None:
                parts = block.split(b"\n")
            yield self._mixed(first_line, parts, gifts, places, lines)

    def _mixed(self, first_line: int, parts: list[bytes], gifts: list, places: list[int], lines: int) -> Batch:
        """The block's gifts from `build`, and the rows it did not take read and checked one by one, in order."""
        taken = set(places)
        out_gifts, out_places, others = [], [], []
        gi, skipped, normalize, width = 0, 0, self.normalize, len(self.header)
        for i in range(lines):
            if i in taken:
                continue
            while gi < len(places) and places[gi] < i:
                out_gifts.append(gifts[gi])
                out_places.append(places[gi] - skipped)
                gi += 1
            line = first_line + i
            read = list(read_rows([parts[i].decode("utf-8") + "\n"], width, self.delimiter, line - 1, self.path))
            if not read:  # a blank row: csvfile leaves it out
                skipped += 1
                continue
            (_, values), = read
            if isinstance(values, CsvProblem):
                others.append((i - skipped, line, list(values.values), RowError(str(self.path), line, values.message)))
                continue
            outcome = normalize(line, values)
            if isinstance(outcome, NormalizedDonation):
                out_gifts.append(outcome)
                out_places.append(i - skipped)
            else:
                others.append((i - skipped, line, values, outcome))
        for g, p in zip(gifts[gi:], places[gi:]):
            out_gifts.append(g)
            out_places.append(p - skipped)
        return Batch(lines - skipped, out_gifts, out_places, others)

    def _by_rows(self, first_line: int, block: bytes) -> Batch:
        """A block read row by row, exactly as csvfile reads (its lines: from `first_line`)."""
        gifts, places, others, n = [], [], [], 0
        text = block.decode("utf-8")
        for line, values in read_rows(io.StringIO(text, newline=""), len(self.header), self.delimiter,
                                      first_line - 1, self.path):
            if isinstance(values, CsvProblem):
                others.append((n, line, list(values.values), RowError(str(self.path), line, values.message)))
            else:
                outcome = self.normalize(line, values)
                if isinstance(outcome, NormalizedDonation):
                    gifts.append(outcome)
                    places.append(n)
                else:
                    others.append((n, line, values, outcome))
            n += 1
        return Batch(n, gifts, places, others)
