"""The import's writer: batches of gifts written on a thread of their own, committed in chunks.

What an import has counted is added to its summary only when the chunk that wrote it commits,
so an import's record always says what the database holds.
"""

from __future__ import annotations

import queue
import threading
import time

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tracker.errors import DatabaseError
from tracker.ingest.firstload import defer_indexes, restore_indexes
from tracker.ingest.loader import ImportSummary, db_value, lock_writes, prepare, write_chunk
from tracker.models import ImportBatch

ANALYZE_EVERY = 100_000  # on PostgreSQL, refresh the statistics of donors and donations after this many new gifts
WAIT_FOR_WRITER_MS = 600_000  # on SQLite, how long a chunk waits for another writer (an import) to commit
# On SQLite, a pause after each commit: a writer waiting for the lock (the webhook worker, another
# import) polls at least every 100 ms and gets its turn, instead of the next chunk taking it at once.
YIELD_AFTER_COMMIT = 0.15


class DatabaseBusy(DatabaseError):
    """Another writer held the database for longer than an import waits."""


def busy(exc: BaseException) -> BaseException:
    """SQLite's "database is locked" after the wait, as words; any other error as it is."""
    if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
        return DatabaseBusy(f"another import (or program) kept writing to the database for more than "
                            f"{WAIT_FOR_WRITER_MS // 60_000} minutes; what this import committed so far is kept: run "
                            "it again when the other has finished, and it completes")
    return exc


WRITER_COUNTS = ("inserted", "updated", "unchanged", "older", "recognized", "file_cents", "stored_cents")  # write_chunk's


def store_counts(batch: ImportBatch, summary: ImportSummary, written: ImportSummary | None = None) -> None:
    """Put the counts so far on the import's row; `written`: the writer's counts not yet added to `summary`."""
    extra = {name: getattr(written, name) if written else 0 for name in WRITER_COUNTS}
    batch.rows_read, batch.skipped, batch.rejected = summary.rows_read, summary.skipped, summary.rejected
    batch.inserted = summary.inserted + extra["inserted"]
    batch.updated = summary.updated + extra["updated"]
    batch.unchanged = summary.unchanged + extra["unchanged"]
    batch.superseded = summary.superseded
    batch.older = summary.older + extra["older"]
    batch.recognized = summary.recognized + extra["recognized"]
    batch.file_cents = summary.file_cents + extra["file_cents"]
    batch.stored_cents = summary.stored_cents + extra["stored_cents"]


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
    never fail (they were 40% of the insert's time). They are turned on again before the
    connection goes back to the pool.

    With `first_load`, the writer's first transaction looks whether any gift is stored; if none
    is, it sets the tables' secondary indexes aside (tracker.ingest.firstload) and becomes the
    only one: the batches marked `commit` do not commit, and the indexes are built again just
    before the one commit at the end. A kill then leaves the database as it was before the import.
    """

    def __init__(self, sessions, batch_id: int, source: str, summary: ImportSummary, first_load: bool = False,
                 rank: int | None = None):
        self._args = (sessions, batch_id, source, summary)
        self._rank = rank  # how new the file's content is (loader.is_newer)
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
        # Each batch is first written as new (loader.write_chunk's `direct`); after a batch that held stored
        # gifts, the next goes to the merge at once, until one is all new again (a file imported again then
        # costs no attempt per batch).
        self._direct = True
        with sessions() as session:
            started = session.get(ImportBatch, batch_id).started_at
        self._constants = (source, batch_id, db_value(started, self._pg), batch_id if rank is None else rank)
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
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={WAIT_FOR_WRITER_MS}")
                    conn.commit()
                try:
                    self._write_all(conn)
                finally:
                    if unchecked:
                        conn.rollback()
                        conn.exec_driver_sql("PRAGMA foreign_keys=ON")  # before the connection goes back to the pool
                        conn.exec_driver_sql("PRAGMA busy_timeout=30000")  # the engine's (db.make_engine)
                        conn.commit()
        except BaseException as exc:  # handed to the reader thread
            self._error = self._error or busy(exc)
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
                        lock_writes(session)
                        pending = ImportSummary(path=summary.path, format=summary.format, source=source)
                        if self._try_first_load:
                            self._try_first_load = False
                            self._deferred = defer_indexes(session)
                            self.first_load = self._deferred is not None
                    before = pending.inserted
                    if not write_chunk(session, source, chunk, batch_id, pending, prepared, rank=self._rank,
                                       direct=self._direct):
                        self._direct = pending.inserted - before == len(chunk)
                    if commit and self._deferred is None:
                        self._commit(session, pending)
                        session = None
                except BaseException as exc:
                    self._error = busy(exc)
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
        store_counts(session.get(ImportBatch, batch_id), summary, total)
        if self._deferred is not None:
            restore_indexes(session, self._deferred)
            self._deferred = None
        session.commit()
        session.close()
        self.committed = total
        if not self._pg:
            time.sleep(YIELD_AFTER_COMMIT)
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
        self._queue.put((gifts, prepare(gifts, self._pg, *self._constants), commit))

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
