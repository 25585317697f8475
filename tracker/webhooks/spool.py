"""The inbox's spool on SQLite: deliveries kept on disk when the database is busy writing (an import's chunk).

SQLite has one writer at a time, and an import holds the write lock for a chunk (seconds). A
delivery must still be answered at once and never lost, so when the inbox cannot be written within
a fraction of a second, the delivery is written to a file of its own beside the database (written,
flushed to disk, then renamed into place, so a half-written file is never read) and answered 200;
the worker moves spooled deliveries into the inbox first thing in each pass, once per event (the
inbox's unique key), and deletes each file after its row is committed. PostgreSQL never spools:
its inbox inserts do not wait for an import.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from tracker.dates import UTC


def folder(engine: Engine) -> Path | None:
    """Where deliveries are spooled for this database: beside an SQLite file; None for other databases."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).with_name(Path(url.database).name + ".webhook-spool")


def put(where: Path, provider: str, body: str, now: datetime) -> Path:
    """Keep one delivery on disk, durably, before it is answered."""
    where.mkdir(parents=True, exist_ok=True)
    name = f"{now.astimezone(UTC):%Y%m%dT%H%M%S%f}-{provider}-{uuid.uuid4().hex}"
    tmp = where / f".{name}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"provider": provider, "received_at": now.astimezone(UTC).isoformat(), "body": body}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    final = where / f"{name}.json"
    os.replace(tmp, final)
    dir_fd = os.open(where, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final


def waiting(where: Path | None) -> list[Path]:
    """The spooled deliveries, oldest first."""
    if where is None or not where.is_dir():
        return []
    return sorted(where.glob("*.json"))


def read(path: Path) -> tuple[str, str, datetime]:
    """(provider, body, received at) of a spooled delivery."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["provider"], data["body"], datetime.fromisoformat(data["received_at"])
