"""Running an import: choose the format, stream the file in chunks, commit each chunk, write rejects.

This is a service function: it owns its transactions (one per chunk), because an import must
survive being killed at any moment. The database is then as it was before the import or after
a whole committed chunk, and running the same import again completes it exactly: rows already
loaded are recognized by (source, id) and count as unchanged. A first load (a large file into a
database with no gift yet) is one transaction instead, with the secondary indexes built at its
end (ChunkWriter): a kill leaves the database as it was before it.
"""

from __future__ import annotations

import csv
import hashlib
import os
import queue
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy.orm import Session, sessionmaker

from tracker.errors import InputFileError, RowError, UsageError
from tracker.ingest import generic, jsonl, mapping as mapping_mod, paypal, stripe
from tracker.ingest.csvfile import CsvFile
from tracker.ingest.fields import RowRules
from tracker.ingest.loader import ImportSummary, apply_refunds, defer_indexes, prepare, restore_indexes, write_chunk
from tracker.ingest.records import NormalizedDonation, Outcome, RefundRow, Skipped
from tracker.db import bump_revision
from tracker.models import ImportBatch

FORMATS = ("generic", "stripe", "paypal", "mapping", "jsonl")
CSV_FORMATS = {"generic": generic, "stripe": stripe, "paypal": paypal}
CHUNK_ROWS = 200_000  # rows per committed chunk
HANDOFF_ROWS = 50_000  # rows per batch the reader hands to the writer (what is held in memory at once)
ANALYZE_EVERY = 100_000  # on PostgreSQL, refresh the statistics of donors and donations after this many new gifts
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


def detect_format(path: Path) -> str:
    """Recognize a file's format from its header (or JSON Lines from its first character)."""
    if jsonl.looks_like(path):
        return "jsonl"
    source = CsvFile(path)
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
        self.format = request.format or ("mapping" if request.mapping else detect_format(path))
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
        if self.format == "jsonl":
            self._jsonl = jsonl.JsonlSource(path, self.rules)
            self.header = self._jsonl.header
            return
        self._csv = CsvFile(path, header_line=self.mapping.header_line if self.mapping else 1)
        try:
            if self.mapping:
                self._normalize = mapping_mod.normalizer(path, self._csv.header, self.rules, self.mapping)
            else:
                self._normalize = CSV_FORMATS[self.format].normalizer(path, self._csv.header, self.rules)
        except Exception:
            self._csv.close()
            raise
        self.header = self._csv.header

    def close(self) -> None:
        if self.format == "jsonl":
            self._jsonl._handle.close()
        else:
            self._csv.close()

    def records(self) -> Iterator[tuple[int, list[str], Outcome]]:
        if self.format == "jsonl":
            yield from self._jsonl.records()
            return
        normalize = self._normalize
        for line, values in self._csv.rows():
            yield line, values, normalize(line, values)


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
    return path.with_name(f"{path.stem}.rejects.csv")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    reader = Reader(request, rules)
    rejects_path = request.rejects or default_rejects_path(path)
    if not os.access(rejects_path.parent if rejects_path.parent != Path("") else Path("."), os.W_OK):
        raise UsageError(f"cannot write the rejects file in {rejects_path.parent}; pass --rejects PATH")
    summary = ImportSummary(path=str(path), format=reader.format, source=reader.source)
    sha = file_sha256(path)

    if request.strict:
        checked = _strict_check(Reader(request, rules), rejects_path, summary)
        if not checked:
            reader.close()
            with sessions.begin() as session:
                batch = _new_batch(path, sha, reader, clock)
                batch.status, batch.finished_at = "strict_rejected", clock()
                _store_counts(batch, summary)
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
    writer = ChunkWriter(sessions, batch_id, reader.source, summary, first_load=first_load)
    since_commit = 0  # gifts handed over since the last commit
    try:
        for line, values, outcome in reader.records():
            summary.rows_read += 1
            if isinstance(outcome, NormalizedDonation):
                earlier = chunk.get(outcome.external_id)
                if earlier is not None:
                    if earlier.content() == outcome.content():
                        summary.unchanged += 1
                        continue
                    # same id, other content, same batch: the later row wins. (Across batches the earlier
                    # row is already written, and the later one is merged forward like any later file.)
                    summary.superseded += 1
                chunk[outcome.external_id] = outcome
                if len(chunk) >= min(HANDOFF_ROWS, request.chunk_rows - since_commit):
                    since_commit += len(chunk)
                    commit = since_commit >= request.chunk_rows
                    writer.put(chunk, commit=commit)
                    chunk = {}
                    since_commit = 0 if commit else since_commit
                    if progress:
                        progress(summary.rows_read)
            elif isinstance(outcome, RefundRow):
                refunds.append(outcome)
            elif isinstance(outcome, Skipped):
                summary.skipped += 1
                summary.skip_kinds[outcome.label] += 1
            else:
                summary.rejected += 1
                if len(summary.errors) < 1000:
                    summary.errors.append(outcome)
                rejects.write(line, outcome.message, values)
        if chunk:
            writer.put(chunk, commit=True)
        writer.close()
        with sessions.begin() as session:
            apply_refunds(session, reader.source, refunds, batch_id, summary)
            batch = session.get(ImportBatch, batch_id)
            _store_counts(batch, summary)
            batch.status, batch.finished_at = "completed", clock()
            bump_revision(session, clock())
        if progress:
            progress(summary.rows_read)
    except BaseException as exc:
        writer.abandon()
        with sessions.begin() as session:
            batch = session.get(ImportBatch, batch_id)
            _store_counts(batch, summary)
            batch.status, batch.finished_at = "failed", clock()
            batch.message = (str(exc) or type(exc).__name__)[:1000]
            bump_revision(session, clock())  # the chunks written before the failure stay
        raise
    finally:
        sys.setswitchinterval(switch_interval)
        wrote = rejects.close()
    _settle_rejects_file(wrote, rejects_path, request, summary, sessions, batch_id)
    return summary


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
    )


WRITER_COUNTS = ("inserted", "updated", "unchanged")  # what write_chunk counts


def _store_counts(batch: ImportBatch, summary: ImportSummary, written: ImportSummary | None = None) -> None:
    """The counts so far on the import's row; `written`: the writer's counts not yet added to `summary`."""
    extra = {name: getattr(written, name) if written else 0 for name in WRITER_COUNTS}
    batch.rows_read, batch.skipped, batch.rejected = summary.rows_read, summary.skipped, summary.rejected
    batch.inserted = summary.inserted + extra["inserted"]
    batch.updated = summary.updated + extra["updated"]
    batch.unchanged = summary.unchanged + extra["unchanged"]
    batch.superseded = summary.superseded


class ChunkWriter:
    """Writes batches of gifts, in order, on a thread of its own while the reader reads the next one.

    The database does its part in C (SQLite) or in its own process (PostgreSQL), so on two cores
    reading and writing overlap. One batch waits at most; a failure is raised in the reader.
    Batches are written into one transaction until one comes marked `commit`: a kill or a failure
    then leaves the database at the last committed chunk.

    The writer counts what it wrote in a summary of its own, added to the import's when its
    transaction commits (and only by the reader's thread, once the writer has stopped): two
    threads never add to the same number, and rolled-back work is never counted.

    On SQLite the writer's connection does not check foreign keys: every gift it writes refers to a
    donor the same statement has just looked up and to this import's own row, so the checks could
    never fail. Measured on a million gifts, the checks were 40% of the insert's time (9.4 s of it).
    They are turned on again before the connection goes back to the pool.

    With `first_load`, the writer's first transaction looks whether any gift is stored; if none
    is, it sets the tables' secondary indexes aside (loader.defer_indexes) and becomes the only
    one: the batches marked `commit` do not commit, and the indexes are built again just before
    the one commit at the end. A kill then leaves the database as it was before the import.
    """

    def __init__(self, sessions, batch_id: int, source: str, summary: ImportSummary, first_load: bool = False):
        self._args = (sessions, batch_id, source, summary)
        self._try_first_load = first_load
        self._deferred = None  # what the first load set aside, while its transaction is open
        self.first_load = False  # the import ran as a first load
        self._pg = sessions.kw["bind"].dialect.name == "postgresql"
        self.committed = ImportSummary(path=summary.path, format=summary.format, source=source)
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._stopping = False
        self._drained = False  # the writer has taken the last item (None) off the queue
        self._analyzed_at = 0  # gifts inserted when the tables' statistics were last refreshed (PostgreSQL)
        self._conn = None
        self._thread = threading.Thread(target=self._run, name="import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sessions = self._args[0]
        try:
            with sessions.kw["bind"].connect() as conn:
                self._conn = conn
                unchecked = conn.dialect.name == "sqlite"
                if unchecked:
                    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # only outside a transaction
                    conn.commit()
                try:
                    self._write_all(conn)
                finally:
                    if unchecked:
                        conn.rollback()
                        conn.exec_driver_sql("PRAGMA foreign_keys=ON")  # before the connection goes back to the pool
                        conn.commit()
        except BaseException as exc:  # handed to the reader thread
            self._error = self._error or exc
            while not self._drained:  # let a waiting reader go on to see the error
                self._drained = self._queue.get() is None

    def _write_all(self, conn) -> None:
        _, batch_id, source, summary = self._args
        session, pending = None, None
        try:
            while (item := self._queue.get()) is not None:
                if self._error is not None or self._stopping:
                    continue
                chunk, prepared, commit = item
                try:
                    if session is None:
                        session = Session(bind=conn)
                        session.begin()
                        pending = ImportSummary(path=summary.path, format=summary.format, source=source)
                        if self._try_first_load:
                            self._try_first_load = False
                            self._deferred = defer_indexes(session)
                            self.first_load = self._deferred is not None
                    write_chunk(session, source, chunk, batch_id, pending, prepared)
                    if commit and self._deferred is None:
                        self._commit(session, pending)
                        session = None
                except BaseException as exc:
                    self._error = exc
                    self._deferred = None  # rolled back with the rest
                    if session is not None:
                        session.rollback()
                        session.close()
                        session = None
            self._drained = True
            if session is not None and self._error is None:
                self._commit(session, pending)  # stopping: the batches written so far are whole
                session = None
        finally:
            if session is not None:
                session.rollback()
                session.close()

    def _commit(self, session: Session, pending: ImportSummary) -> None:
        _, batch_id, _, summary = self._args
        total = ImportSummary(path="", format="", source="")
        for name in WRITER_COUNTS:
            setattr(total, name, getattr(self.committed, name) + getattr(pending, name))
        _store_counts(session.get(ImportBatch, batch_id), summary, total)
        if self._deferred is not None:
            restore_indexes(session, self._deferred)
            self._deferred = None
        session.commit()
        session.close()
        self.committed = total
        if self._pg and total.inserted - self._analyzed_at >= ANALYZE_EVERY:
            # Autovacuum refreshes the tables' statistics only now and then, so while an import
            # doubles a table PostgreSQL plans from sizes far too small. The staged rows' lookups
            # are pinned to the indexes (loader.write_chunk); this keeps the plans of the rest
            # (the first-gift update joins staged donors to donors) made from current sizes.
            conn = self._conn
            conn.exec_driver_sql("ANALYZE donors, donations")
            conn.commit()
            self._analyzed_at = total.inserted

    def put(self, chunk: dict, commit: bool = False) -> None:
        """Hand over a batch of gifts (by id); with `commit`, commit once it is written."""
        if self._error is not None:
            raise self._error
        gifts = list(chunk.values())
        # made ready here, on the reader's thread, while the writer waits on the database
        self._queue.put((gifts, prepare(gifts, self._pg), commit))

    def _finish(self) -> None:
        self._queue.put(None)
        self._thread.join()
        summary = self._args[3]
        for name in WRITER_COUNTS:
            setattr(summary, name, getattr(summary, name) + getattr(self.committed, name))
        summary.first_load = self.first_load
        self.committed = ImportSummary(path="", format="", source="")

    def close(self) -> None:
        """Wait until everything handed over is committed; raise the writer's error if it had one."""
        self._finish()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        """Stop after the batch in progress, committing what was written (used when the import fails)."""
        self._stopping = True
        if self._thread.is_alive():
            self._finish()
