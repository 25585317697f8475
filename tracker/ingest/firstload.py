"""First loads: a large file into a database with no gift yet, in one transaction, with the
secondary indexes (and PostgreSQL's foreign keys of `donations`) set aside while the gifts go in
and built once at the end. A kill leaves the database as it was before the load.

Decided by measurement (bench/ingest.py): on PostgreSQL a million gifts' inserts took a third
of the time with the indexes and keys set aside; on SQLite the gain shows at ten million gifts,
when the indexes no longer fit the page cache.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy.orm import Session

from tracker.ingest.loader import raw_connection


class Deferred(NamedTuple):
    """Indexes and constraints a first load set aside: the statements that put them back, in order."""

    restore: list[str]


def defer_indexes(session: Session) -> Deferred | None:
    """When `donations` holds no gift, set aside, in the session's transaction, the indexes of
    `donations` and `donors` that are not unique (and on PostgreSQL the foreign keys of
    `donations`); `restore_indexes` puts them back before the transaction commits. None when
    there are gifts already (or PostgreSQL may not alter the tables).

    The unique keys stay: they are what recognizes a gift or a donor seen before. DDL is part of
    the transaction on both databases, so a kill or a failure rolls the indexes back with the
    gifts. SQLite takes its write lock now, before looking; PostgreSQL locks both tables. Until
    the load commits, readers of donations, donors and imports (dropping a foreign key locks the
    table it refers to) wait on PostgreSQL. The definitions are read from the database, so what
    comes back is exactly what was there.
    """
    pg, raw = raw_connection(session)
    cur = raw.cursor()
    try:
        if not pg:
            if not raw.in_transaction:
                cur.execute("BEGIN IMMEDIATE")
            cur.execute("SELECT 1 FROM donations LIMIT 1")
            if cur.fetchone() is not None:
                return None
            cur.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('donations', 'donors') "
                "AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name"
            )
            indexes = cur.fetchall()
            for name, _ in indexes:
                cur.execute(f'DROP INDEX "{name}"')
            return Deferred([sql for _, sql in indexes])
        import psycopg

        cur.execute("SAVEPOINT first_load")
        try:
            cur.execute("LOCK TABLE donations, donors IN ACCESS EXCLUSIVE MODE")
            cur.execute("SELECT 1 FROM donations LIMIT 1")
            if cur.fetchone() is not None:
                cur.execute("ROLLBACK TO SAVEPOINT first_load")  # gives the locks back
                return None
            cur.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid IN ('donations'::regclass, 'donors'::regclass) AND NOT i.indisunique "
                "ORDER BY 1"
            )
            indexes = cur.fetchall()
            cur.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'donations'::regclass AND contype = 'f' ORDER BY conname"
            )
            keys = cur.fetchall()
            for name, _ in keys:
                cur.execute(f'ALTER TABLE donations DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cur.execute(f"DROP INDEX {name}")
        except psycopg.errors.InsufficientPrivilege:  # not the tables' owner: load them as they are
            cur.execute("ROLLBACK TO SAVEPOINT first_load")
            return None
        cur.execute("RELEASE SAVEPOINT first_load")
        return Deferred([sql for _, sql in indexes]
                        + [f'ALTER TABLE donations ADD CONSTRAINT "{name}" {sql}' for name, sql in keys])
    finally:
        cur.close()


RESTORE_CACHE_KIB = 16_384  # SQLite's page cache while it builds the indexes again


def restore_indexes(session: Session, deferred: Deferred) -> None:
    """Put back what `defer_indexes` set aside (building each index once over all the rows).

    SQLite sorts for each index in memory sized by the page cache, on top of the cache itself, so
    the indexes are built with a small cache (ten million gifts: a 403 MB peak instead of 516 MB)
    and the connection's cache is set back afterwards.
    """
    pg, raw = raw_connection(session)
    cur = raw.cursor()
    try:
        if not pg:
            cur.execute("PRAGMA cache_size")
            cache = cur.fetchone()[0]
            cur.execute(f"PRAGMA cache_size=-{RESTORE_CACHE_KIB}")
        try:
            for sql in deferred.restore:
                cur.execute(sql)
        finally:
            if not pg:
                cur.execute(f"PRAGMA cache_size={int(cache)}")
    finally:
        cur.close()
