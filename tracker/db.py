"""Database access: where the database is, engines and sessions, and the schema's state.

The URL comes from `--db`, else TRACKER_DATABASE_URL, else an SQLite file in the user's data
directory (see default_sqlite_path). Schema changes go through Alembic (migrations/).
"""

from __future__ import annotations

import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from datetime import datetime
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tracker.errors import ConfigError, DatabaseError, SchemaError

ENV_URL = "TRACKER_DATABASE_URL"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def default_sqlite_path() -> Path:
    """$XDG_DATA_HOME/tracker/tracker.sqlite3 (default ~/.local/share/...); %LOCALAPPDATA%\\tracker on Windows."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "tracker" / "tracker.sqlite3"


def resolve_url(cli_url: str | None = None) -> str:
    """The database URL: `--db`, else $TRACKER_DATABASE_URL, else the default SQLite file."""
    url = cli_url or os.environ.get(ENV_URL)
    if url:
        return normalize_url(url)
    return f"sqlite:///{default_sqlite_path()}"


def normalize_url(url: str) -> str:
    """Accept the usual spellings: postgres:// and postgresql:// use psycopg 3; a bare path means SQLite."""
    url = url.strip()
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def make_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite set up for safe concurrent use (WAL, foreign keys, busy timeout)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{url!r} is not a database URL; use e.g. sqlite:///tracker.sqlite3 or postgresql://user@host/db") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA cache_size=-131072")  # up to 128 MB: large imports keep their indexes in memory
            # temp_store stays the default (files): statement journals are temporary files too, and an
            # INSERT that touches every index page of a large table journals each of them. In memory
            # that grew with the database (900 MB at 10M gifts); as files the OS caches them instead.
            cur.execute("PRAGMA temp.cache_size=-16384")  # the import's staging table: a small cache of its own (16 MB)
            cur.close()

        return engine
    if parsed.get_backend_name() == "postgresql":
        # JIT compiling cost ~80 ms per status query and never paid back on these short aggregates;
        # a little more sort memory keeps the per-donor groupings of a campaign window off disk, and
        # parallel workers only rebuilt the same hash tables three times (measured with bench/status.py).
        options = "-c jit=off -c work_mem=32MB -c max_parallel_workers_per_gather=0"
        return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10, "options": options})
    try:
        return create_engine(parsed)
    except Exception as exc:  # unknown dialect or missing driver
        raise ConfigError(f"cannot use database URL {safe_url(url)}: {exc}") from None


def check_connection(engine: Engine) -> None:
    """Open and close one connection, turning failure into a one-line DatabaseError."""
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)).strip() else type(exc).__name__
        raise DatabaseError(f"cannot connect to the database at {safe_url(str(engine.url))}: {reason}") from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for this engine; objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. Entry points use this."""
    with factory.begin() as session:
        yield session


# -- schema (Alembic) -----------------------------------------------------------------------

def alembic_config(engine: Engine | None = None):
    from alembic.config import Config

    cfg = Config(str(PROJECT_ROOT / "alembic.ini")) if (PROJECT_ROOT / "alembic.ini").exists() else Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError:
        check_connection(engine)
        raise


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the newest)."""
    from alembic import command

    check_connection(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


# The newest migration's revision. Checked against Alembic's own head by a test, so it cannot drift;
# kept here so that every command can check the schema without importing Alembic (~0.15 s a command).
SCHEMA_REVISION = "0017"


def _stored_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError:
        check_connection(engine)
        raise


def require_schema(engine: Engine) -> None:
    """Raise SchemaError (one line, naming the fix) unless the schema is at the newest revision."""
    check_connection(engine)
    current = _stored_revision(engine)
    head = SCHEMA_REVISION
    where = safe_url(str(engine.url))
    if current is None:
        raise SchemaError(f"the database at {where} has no tracker tables yet; run: tracker db upgrade")
    if current != head:
        raise SchemaError(
            f"the database at {where} is at schema revision {current}, this tracker needs {head}; run: tracker db upgrade"
        )


def process_name() -> str:
    """This process, as records of who is doing something name it: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_gone(name: str | None) -> bool:
    """Whether the process `name` (host:pid) is known to have ended: it ran on this host and is not running.

    False when it is running, or ran on another host (nothing here can tell)."""
    host, _, pid = (name or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process: it is running
        return False
    return False


def bump_revision(session: Session, now: datetime) -> None:
    """Record, in the caller's transaction, that what the figures are made of has changed (see DataRevision)."""
    from sqlalchemy import update

    from tracker.models import DataRevision

    done = session.execute(update(DataRevision).where(DataRevision.id == 1)
                           .values(n=DataRevision.n + 1, changed_at=now))
    if done.rowcount == 0:
        session.add(DataRevision(id=1, n=1, changed_at=now))
