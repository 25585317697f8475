"""Running an import: choose the format, stream the file in chunks, commit each chunk, write rejects.

This is a service function: it owns its transactions (one per chunk), because an import must
survive being killed at any moment. The database is then as it was before the import or after
a whole committed chunk, and running the same import again completes it exactly: rows already
loaded are recognized by (source, id) and count as unchanged. A first load (a large file into a
database with no gift yet) is one transaction instead, with the secondary indexes built at its
end (ChunkWriter): a kill leaves the database as it was before it.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tracker.errors import InputFileError, RowError, UsageError
from tracker.ingest import columnar, conventions, generic, jsonl, mapping as mapping_mod, paypal, pledges, stripe
from tracker.ingest.csvfile import ENCODING, CsvFile, CsvProblem, scan
from tracker.ingest.fields import RowRules
from tracker.ingest.loader import ImportSummary, lock_writes
from tracker.ingest.records import NormalizedDonation, Outcome, RefundRow, Skipped
from tracker.ingest.duplicates import find_pairs
from tracker.ingest.refunds import apply_refunds
from tracker.ingest.rejects import RejectsFile, default_rejects_path
from tracker.ingest.writer import ChunkWriter, store_counts
from tracker.currency import RateTable
from tracker.db import bump_revision, process_gone, process_name
from tracker.queries import exchange_rates
from tracker.models import Campaign, ImportBatch

FORMATS = ("generic", "stripe", "paypal", "mapping", "jsonl")
CSV_FORMATS = {"generic": generic, "stripe": stripe, "paypal": paypal}
CHUNK_ROWS = 200_000  # rows per committed chunk
HANDOFF_ROWS = 50_000  # rows per batch the reader hands to the writer (what is held in memory at once)
HANDOFF_SWITCH_SECONDS = 0.0002  # the interpreter's thread switch interval while an import runs
FIRST_LOAD_MIN_BYTES = 16 << 20  # a file this large into a database with no gift yet loads as a first load
FIRST_LOAD = ("auto", "yes", "no")


@dataclass(frozen=True)
class ImportRequest:
    """What to import and how. `source` defaults to the format's name (the mapping's source for mappings)."""

    path: Path
    format: str | None = None  # None: recognized from the header
    mapping: str | None = None  # a mapping file, or the name of a shipped one
    source: str | None = None
    strict: bool = False
    rejects: Path | None = None  # None: beside the input, <name>.rejects.csv
    chunk_rows: int = CHUNK_ROWS  # rows per committed chunk
    # a first load (one transaction, secondary indexes built at the end) when no gift is stored yet:
    # auto for a file of FIRST_LOAD_MIN_BYTES or more, yes whatever its size, no never
    first_load: str = "auto"
    encoding: str = ENCODING  # the file's text encoding (checked for the whole file before a row is written)
    # the file's conventions when the importer says them (None: decided from the file's own values before a row
    # is loaded, tracker.ingest.conventions; a RowRules with dayfirst or decimal_comma set also says them)
    dayfirst: bool | None = None
    decimal_comma: bool | None = None
    # source -> conventions said once for its files (the configuration's [imports.SOURCE]), used when neither the
    # request nor the mapping says them and the file cannot tell
    defaults: dict | None = None


def detect_format(path: Path, encoding: str = ENCODING) -> str:
    """Recognize a file's format from its header (or JSON Lines from its first character)."""
    if jsonl.looks_like(path):
        return "jsonl"
    source = CsvFile(path, encoding=encoding)
    source.close()
    for name, module in CSV_FORMATS.items():
        if module.matches(source.header):
            return name
    shown = ", ".join(source.header[:8]) + (", ..." if len(source.header) > 8 else "")
    raise InputFileError(
        f"{path}: cannot tell the format from its header ({shown}); pass --format generic|stripe|paypal|jsonl, "
        "or --mapping FILE for another layout"
    )


class Reader:
    """The rows of one input file in one format: its header, and (line, values, outcome) for each row."""

    def __init__(self, request: ImportRequest, rules: RowRules):
        path = Path(request.path)
        self.format = request.format or ("mapping" if request.mapping else detect_format(path, request.encoding))
        if self.format not in FORMATS:
            raise UsageError(f"unknown format {self.format!r}; use one of {', '.join(FORMATS)}")
        if request.mapping and self.format != "mapping":
            raise UsageError(f"--mapping goes with --format mapping, not --format {self.format}")
        self.mapping = None
        if self.format == "mapping":
            if not request.mapping:
                raise UsageError("--format mapping needs --mapping FILE (a TOML file saying which column is which)")
            self.mapping = mapping_mod.load(mapping_mod.resolve(request.mapping))
        self.source = request.source or (self.mapping.source if self.mapping and self.mapping.source else self.format)
        self.rules = replace(rules, source=self.source)
        # (currency given, rate source) -> rows converted: every such row takes the per-row code (the column-wise
        # reader hands it there), so counting there counts them all
        self.converted: Counter = Counter()
        if self.format == "jsonl":
            self._jsonl = jsonl.JsonlSource(path, self.rules, request.encoding)
            self.header, self.delimiter = self._jsonl.header, ","
            return
        self._csv = CsvFile(path, header_line=self.mapping.header_line if self.mapping else 1, encoding=request.encoding)
        try:
            if self.mapping:
                self._normalize = mapping_mod.normalizer(path, self._csv.header, self.rules, self.mapping)
            else:
                self._normalize = CSV_FORMATS[self.format].normalizer(path, self._csv.header, self.rules)
        except Exception:
            self._csv.close()
            raise
        self.header = self._csv.header
        self.delimiter = self._csv.delimiter
        self._encoding = request.encoding
        self._normalize = self._counting(self._normalize)

    def _counting(self, normalize: Callable[[int, list[str]], Outcome]) -> Callable[[int, list[str]], Outcome]:
        converted = self.converted

        def counted(line: int, values: list[str]) -> Outcome:
            outcome = normalize(line, values)
            details = getattr(outcome, "details", None)
            if details is not None and details.original_currency:
                converted[details.original_currency, details.rate_source] += 1
            return outcome

        return counted

    def columnar(self, plain: bool) -> columnar.ColumnarReader | None:
        """A column-wise reader of this file (tracker.ingest.columnar) when `plain` (no row spans lines: the
        scan says) and its format has one; None: the rows are read one by one (`records`)."""
        # (Stripe's export is read row by row: checked column-wise it took longer, 1.8 s against 1.6 s for
        # 200,000 rows, its many columns each checked and converted)
        if not plain or self.format != "generic" or self.mapping is not None or \
                self._encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
            return None
        build = columnar.generic_builder(generic.columns(self.header), self.rules)
        if build is None:
            return None
        return columnar.ColumnarReader(self._csv.path, self.header, self.delimiter, build, self._normalize)

    def close(self) -> None:
        if self.format == "jsonl":
            self._jsonl._handle.close()
        else:
            self._csv.close()

    def records(self) -> Iterator[tuple[int, list[str], Outcome]]:
        if self.format == "jsonl":
            for line, values, outcome in self._jsonl.records():
                details = getattr(outcome, "details", None)
                if details is not None and details.original_currency:
                    self.converted[details.original_currency, details.rate_source] += 1
                yield line, values, outcome
            return
        normalize, where = self._normalize, str(self._csv.path)
        for line, values in self._csv.rows():
            if isinstance(values, CsvProblem):
                yield line, list(values.values), RowError(where, line, values.message)
            else:
                yield line, values, normalize(line, values)


def run_import(
    sessions: sessionmaker[Session],
    request: ImportRequest,
    rules: RowRules,
    *,
    clock: Callable,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import one file. Good rows load (one transaction per chunk); bad rows go to the rejects file.

    With `strict`, nothing loads when any row is bad. Raises InputFileError or UsageError, before
    anything is written, when the file as a whole cannot be read in the requested format.
    """
    path = Path(request.path)
    if request.first_load not in FIRST_LOAD:
        raise UsageError(f"first load {request.first_load!r}: use one of {', '.join(FIRST_LOAD)}")
    if rules.rates is None:  # once per import: the imported rates now, the bundled table when a row needs one
        with sessions() as session:
            rules = replace(rules, rates=RateTable(exchange_rates(session)))
    reader = Reader(request, rules)
    rejects_path = request.rejects or default_rejects_path(path)
    if not os.access(rejects_path.parent if rejects_path.parent != Path("") else Path("."), os.W_OK):
        raise UsageError(f"cannot write the rejects file in {rejects_path.parent}; pass --rejects PATH")
    if rejects_path.exists() and path.exists() and rejects_path.samefile(path):
        raise UsageError(f"--rejects {rejects_path} is the input file itself; name another file for the rejected rows")
    summary = ImportSummary(path=str(path), format=reader.format, source=reader.source)
    try:  # the whole file is read once before any row is written: its digest, its encoding, its quotes
        scanned = scan(path, encoding=request.encoding, quotes=reader.format != "jsonl")
        sha = scanned.sha256
        decided = settle_conventions(reader, request, rules)  # and its date order and decimal mark
    except BaseException:
        reader.close()
        raise
    summary.notes = list(decided.notes)
    if (decided.dayfirst, decided.decimal_comma) != (rules.dayfirst, rules.decimal_comma):
        reader.close()
        rules = replace(rules, dayfirst=decided.dayfirst, decimal_comma=decided.decimal_comma)
        reader = Reader(request, rules)

    if reader.mapping is not None and reader.mapping.pledged:
        return _import_pledges(sessions, reader, request, rules, sha, rejects_path, summary, clock)

    if request.strict:
        checked = _strict_check(Reader(request, rules), rejects_path, summary)
        if not checked:
            reader.close()
            with sessions.begin() as session:
                batch = _new_batch(path, sha, reader, clock)
                batch.status, batch.finished_at = "strict_rejected", clock()
                store_counts(batch, summary)
                session.add(batch)
                session.flush()
                summary.import_id = batch.id
            return summary
        summary = ImportSummary(path=str(path), format=reader.format, source=reader.source)

    with sessions.begin() as session:
        batch = _new_batch(path, sha, reader, clock)
        session.add(batch)
        session.flush()
        summary.import_id = batch_id = batch.id
        windows = [(c.window.starts_at, c.window.end, c.slug) for c in session.scalars(select(Campaign))]
        # how new this file's content is: the first import of a file with the same bytes (a file imported
        # again is as old as its first import, so it never undoes what a later file corrected)
        rank = session.scalar(select(func.min(ImportBatch.id)).where(ImportBatch.sha256 == sha))

    rejects = RejectsFile(rejects_path, reader.header)
    chunk: dict[str, NormalizedDonation] = {}
    refunds: list[RefundRow] = []
    # The writer thread gives up the interpreter for each statement it hands to the database and
    # then waits for the reader to give it back, by default up to 5 ms each time. With 0.2 ms,
    # staging a million gifts took 2.0 s instead of 5.5 s (timed per step in the running import,
    # generic layout, SQLite). Restored when the import ends.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(HANDOFF_SWITCH_SECONDS)
    first_load = request.first_load == "yes" or (
        request.first_load == "auto" and path.stat().st_size >= FIRST_LOAD_MIN_BYTES)
    writer = ChunkWriter(sessions, batch_id, reader.source, summary, first_load=first_load, rank=rank)
    since_commit = 0  # gifts handed over since the last commit
    gifts, earliest, inside = 0, None, not windows  # for the one-line warning about a file's dates (below)

    def limit() -> int:
        return min(HANDOFF_ROWS, request.chunk_rows - since_commit)

    def hand_off() -> None:
        nonlocal chunk, since_commit
        since_commit += len(chunk)
        commit = since_commit >= request.chunk_rows
        writer.put(chunk, commit=commit)
        chunk = {}
        since_commit = 0 if commit else since_commit
        if progress:
            progress(summary.rows_read)

    def add_gift(outcome: NormalizedDonation) -> None:
        nonlocal gifts, earliest, inside
        gifts += 1
        when = outcome.donated_at
        if earliest is None or when < earliest:
            earliest = when
        if not inside:
            inside = any(start <= when < end for start, end, _ in windows)
        earlier = chunk.get(outcome.external_id)
        if earlier is not None:
            if earlier.content() == outcome.content():
                summary.unchanged += 1
                return
            # same id, other content, same batch: the later row wins. (Across batches the earlier
            # row is already written, and the later one is merged forward like any later file.)
            summary.superseded += 1
        chunk[outcome.external_id] = outcome
        if len(chunk) >= limit():
            hand_off()

    def add_other(line: int, values: list[str], outcome) -> None:
        if isinstance(outcome, RefundRow):
            refunds.append(outcome)
        else:
            _not_stored(summary, rejects, line, values, outcome)

    def add_batch(batch: columnar.Batch) -> None:
        """A block's rows, as the row-by-row loop below takes them (in file order), whole runs of gifts at once."""
        nonlocal gifts, earliest, inside
        base, found, places, others = summary.rows_read, batch.gifts, batch.places, batch.others
        place_of = (lambda i: i) if places is None else places.__getitem__
        o = 0

        def others_before(place: int) -> None:
            nonlocal o
            while o < len(others) and others[o][0] < place:
                p, line, values, outcome = others[o]
                summary.rows_read = base + p + 1
                add_other(line, values, outcome)
                o += 1

        i = 0
        while i < len(found):
            part = found[i:i + limit() - len(chunk)]
            ids = [g.external_id for g in part]
            if len(set(ids)) == len(ids) and chunk.keys().isdisjoint(ids):  # no id seen twice: all go in
                others_before(place_of(i + len(part) - 1))
                summary.rows_read = base + place_of(i + len(part) - 1) + 1
                gifts += len(part)
                first = min(g.donated_at for g in part)
                earliest = first if earliest is None or first < earliest else earliest
                if not inside:
                    inside = any(start <= g.donated_at < end for g in part for start, end, _ in windows)
                chunk.update(zip(ids, part))
                i += len(part)
                if len(chunk) >= limit():
                    hand_off()
                continue
            for g in part:
                others_before(place_of(i))
                summary.rows_read = base + place_of(i) + 1
                add_gift(g)
                i += 1
        others_before(batch.rows)
        summary.rows_read = base + batch.rows

    try:
        by_columns = reader.columnar(scanned.plain)
        if by_columns is not None:
            for batch in by_columns.batches():
                add_batch(batch)
        else:
            for line, values, outcome in reader.records():
                summary.rows_read += 1
                if isinstance(outcome, NormalizedDonation):
                    add_gift(outcome)
                else:
                    add_other(line, values, outcome)
        if chunk:
            writer.put(chunk, commit=True)
        writer.close()
        summary.notes += _date_warnings(gifts, earliest, inside, windows, clock())
        summary.notes += _conversion_note(reader.converted, rules.currency)
        with sessions.begin() as session:
            lock_writes(session)
            apply_refunds(session, reader.source, refunds, batch_id, summary)
            summary.duplicates_found = find_pairs(session, import_id=batch_id, now=clock())
            _fulfilled_note(summary, pledges.link_open(session, now=clock()))  # the money of pledges, arrived
            batch = session.get(ImportBatch, batch_id)
            store_counts(batch, summary)
            batch.status, batch.finished_at = "completed", clock()
            bump_revision(session, clock())
        if progress:
            progress(summary.rows_read)
    except BaseException as exc:
        writer.abandon()
        with sessions.begin() as session:
            batch = session.get(ImportBatch, batch_id)
            store_counts(batch, summary)
            batch.status, batch.finished_at = "failed", clock()
            batch.message = (str(exc) or type(exc).__name__)[:1000]
            bump_revision(session, clock())  # the chunks written before the failure stay
        raise
    finally:
        sys.setswitchinterval(switch_interval)
        reader.close()
        wrote = rejects.close()
    _settle_rejects_file(wrote, rejects_path, request, summary, sessions, batch_id)
    return summary


def _fulfilled_note(summary: ImportSummary, n: int) -> None:
    if n:
        summary.notes.append(f"{n:,} pledge{'s' if n != 1 else ''} fulfilled by the gifts stored (no longer "
                             "committed, counted once in raised): tracker pledge list")


def _import_pledges(sessions, reader: Reader, request: ImportRequest, rules: RowRules, sha: str, rejects_path: Path,
                    summary: ImportSummary, clock) -> ImportSummary:
    """A file whose mapping says pledged = true: each good row is a pledge (tracker.ingest.pledges), stored by
    (source, id) in one transaction, so importing it again changes nothing; bad rows go to the rejects file as a
    gift row's would. With `strict`, nothing is stored when any row is bad. Then the linking pass runs."""
    path = Path(request.path)
    rejects = RejectsFile(rejects_path, reader.header)
    tz = mapping_mod.rules_for(reader.mapping, reader.rules).timezone
    read = pledges.row_reader(str(path), reader.header, reader.mapping, tz)
    found: dict[str, pledges.NewPledge] = {}
    try:
        for line, values, outcome in reader.records():
            summary.rows_read += 1
            if isinstance(outcome, NormalizedDonation):
                outcome = read(line, values, outcome)
            elif isinstance(outcome, RefundRow):
                outcome = RowError(str(path), line, "a refund row in a file of pledges; a pledge is cancelled with "
                                                    "tracker pledge cancel")
            if isinstance(outcome, pledges.NewPledge):
                if outcome.external_id in found:
                    summary.superseded += 1  # the same id twice in the file: the later row wins, as for gifts
                found[outcome.external_id] = outcome
            else:
                _not_stored(summary, rejects, line, values, outcome)
    finally:
        reader.close()
        wrote = rejects.close()
    summary.strict_failed = request.strict and summary.rejected > 0
    with sessions.begin() as session:
        lock_writes(session)
        batch = _new_batch(path, sha, reader, clock)
        session.add(batch)
        session.flush()
        summary.import_id = batch.id
        if not summary.strict_failed:
            summary.inserted, summary.updated, summary.unchanged = pledges.store(
                session, reader.source, list(found.values()), actor=f"import {batch.id}", now=clock(),
                import_id=batch.id)
            summary.notes.append(f"the rows are pledges (the mapping says pledged = true): committed, not in raised "
                                 f"until their money arrives")
            _fulfilled_note(summary, pledges.link_open(session, now=clock()))
        store_counts(batch, summary)
        batch.status, batch.finished_at = ("strict_rejected" if summary.strict_failed else "completed"), clock()
        bump_revision(session, clock())
    _settle_rejects_file(wrote, rejects_path, request, summary, sessions, summary.import_id)
    return summary


def _conversion_note(converted: Counter, currency: str) -> list[str]:
    """One line saying how many gifts were given in other currencies and converted, and with whose rates."""
    if not converted:
        return []
    by_currency: Counter = Counter()
    for (given, _), n in converted.items():
        by_currency[given] += n
    parts = ", ".join(f"{n:,} from {given}" for given, n in sorted(by_currency.items()))
    sources = ", ".join(sorted({source for _, source in converted}))
    return [f"converted to {currency}: {parts} (rates: {sources}; each gift's original amount and rate are in the "
            "donations export)"]


def _not_stored(summary: ImportSummary, rejects: RejectsFile, line: int, values: list[str], outcome) -> None:
    """Count a row that is not stored: skipped (by its kind), or rejected (kept, up to 1,000, and written to the
    rejects file with its reason)."""
    if isinstance(outcome, Skipped):
        summary.skipped += 1
        summary.skip_kinds[outcome.label] += 1
        return
    summary.rejected += 1
    if len(summary.errors) < 1000:
        summary.errors.append(outcome)
    rejects.write(line, outcome.message, values)


def _date_warnings(gifts: int, earliest, inside: bool, windows: list, now) -> list[str]:
    """One line when a file's gifts are all dated in the future or all outside every campaign: they still load,
    but the likeliest cause is a date-order or time-zone mistake."""
    if not gifts:
        return []
    cause = "the likeliest cause is a date-order or time-zone mistake (--dayfirst/--monthfirst, --timezone)"
    if earliest > now:
        which = "the file's one gift is" if gifts == 1 else f"all {gifts:,} gifts are"
        return [f"warning: {which} dated in the future (from {earliest:%Y-%m-%d %H:%M} UTC); {cause}"]
    if not inside:
        names = ", ".join(slug for _, _, slug in windows[:3]) + (", ..." if len(windows) > 3 else "")
        which = "the file's one gift is" if gifts == 1 else f"none of its {gifts:,} gifts is"
        return [f"warning: {which} {'not ' if gifts == 1 else ''}dated within a campaign ({names}); {cause}"]
    return []


def settle_conventions(reader: Reader, request: ImportRequest, rules: RowRules) -> conventions.Decision:
    """The file's date order and decimal mark: as the importer said (the request, the rules, the mapping), else
    from all the file's values (tracker.ingest.conventions). Raises InputFileError when the file cannot tell,
    UsageError when the request contradicts the mapping."""
    m = reader.mapping
    asked = {}
    for key, said in (("dayfirst", request.dayfirst), ("decimal_comma", request.decimal_comma)):
        given = getattr(m, key) if m is not None else None
        if said is not None and given is not None and said != given:
            flag = {("dayfirst", True): "--dayfirst", ("dayfirst", False): "--monthfirst",
                    ("decimal_comma", True): "--decimal-comma", ("decimal_comma", False): "--decimal-point"}[key, said]
            raise UsageError(f"the mapping {m.name!r} says {key} = {str(given).lower()}, and {flag} says otherwise; "
                             "leave out one of them")
        asked[key] = said if said is not None else given if given is not None else (True if getattr(rules, key) else None)
    defaults = (request.defaults or {}).get(reader.source, {})
    path = Path(request.path)
    cols = conventions.columns_for(reader.format, reader.header, m)
    zone = (m.timezone if m is not None and m.timezone else None) or (rules.timezone.key if rules.timezone else None)
    if not cols or all(v is not None for v in asked.values()) and not cols.zoned:
        return conventions.Decision(bool(asked["dayfirst"]), bool(asked["decimal_comma"]))
    header_line = m.header_line if m is not None else 1
    delimiter = reader.delimiter
    ev = conventions.survey(path, reader.format, reader.header, cols, header_line=header_line, delimiter=delimiter,
                            encoding=request.encoding)
    if asked["dayfirst"] is not None:
        ev.dates, ev.either_dates = {}, []
    if asked["decimal_comma"] is not None:
        ev.amounts, ev.either_amounts = {}, []
    conventions.find_lines(path, reader.format, reader.header, cols, ev.examples(), header_line=header_line,
                           encoding=request.encoding)
    for key, reading in (("dayfirst", ev.dates), ("decimal_comma", ev.amounts)):
        if asked[key] is None and key in defaults and not reading:  # the file cannot tell: the configuration says
            asked[key] = defaults[key]
    return conventions.decide(path, ev, dayfirst=asked["dayfirst"], decimal_comma=asked["decimal_comma"], zone=zone,
                              currency=rules.currency)


def import_state(batch: ImportBatch) -> str:
    """An import's status as people should read it: "interrupted" for one still marked running whose
    process is known to have ended (killed, or its machine restarted); run it again to complete it."""
    if batch.undone_at is not None:
        return "undone"
    if batch.status == "running" and process_gone(batch.owner):
        return "interrupted"
    return batch.status


def _settle_rejects_file(wrote, rejects_path, request, summary, sessions, batch_id) -> None:
    if wrote:
        summary.rejects_path = str(rejects_path)
        with sessions.begin() as session:
            session.get(ImportBatch, batch_id).rejects_path = str(rejects_path)
    elif request.rejects is None and rejects_path.exists():
        rejects_path.unlink()  # a stale rejects file from an earlier run of this input would mislead


def _strict_check(reader: Reader, rejects_path: Path, summary: ImportSummary) -> bool:
    """First pass of a strict import: read every row, write the rejects; True when no row is bad."""
    rejects = RejectsFile(rejects_path, reader.header)
    try:
        for line, values, outcome in reader.records():
            summary.rows_read += 1
            if isinstance(outcome, RowError):
                summary.rejected += 1
                if len(summary.errors) < 1000:
                    summary.errors.append(outcome)
                rejects.write(line, outcome.message, values)
            elif isinstance(outcome, Skipped):
                summary.skipped += 1
                summary.skip_kinds[outcome.label] += 1
    finally:
        if rejects.close():
            summary.rejects_path = str(rejects_path)
    summary.strict_failed = summary.rejected > 0
    return not summary.strict_failed


def _new_batch(path: Path, sha: str, reader: Reader, clock) -> ImportBatch:
    return ImportBatch(
        filename=str(path), sha256=sha, format=reader.format, source=reader.source, started_at=clock(),
        status="running", rows_read=0, inserted=0, updated=0, unchanged=0, skipped=0, superseded=0, rejected=0,
        older=0, owner=process_name(),
    )
