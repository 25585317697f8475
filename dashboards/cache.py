"""Page results kept until the data changes: the dashboard's answer to "no request recomputes over all
rows when an aggregate cached until the next import will do".

The key is the page, its inputs, the moment shown and tracker's data revision (bumped by every
import, campaign and variant change, in the same transaction). Following the clock, the moment is
taken to the minute, so everyone looking within a minute shares one computation and the figures
are at most a minute old (the page refreshes every minute anyway). A pinned or chosen moment is
exact. Entries also expire after `ttl` seconds and the least recently used go first (cachetools).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeVar

from cachetools import TTLCache
from sqlalchemy.orm import Session, sessionmaker

from tracker import queries

T = TypeVar("T")


def to_the_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class PageCache:
    def __init__(self, sessions: sessionmaker[Session], *, maxsize: int = 256, ttl: float = 900):
        self._sessions = sessions
        self._entries: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl)
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def revision(self) -> int:
        with self._sessions.begin() as session:
            return queries.data_revision(session)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        full = (key, self.revision())
        with self._lock:
            if full in self._entries:
                self.hits += 1
                return self._entries[full]
        value = compute()
        with self._lock:
            self.misses += 1
            self._entries[full] = value
        return value


class CompressedAssets:
    """Flask-Compress's cache backend: the dashboard's scripts and styles compressed once per process.

    Only keys of versioned component files are kept (they never change for a running server);
    callback responses and pages are compressed afresh each time.
    """

    def __init__(self):
        self._entries: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(request) -> str:
        path = request.path
        return f"asset:{request.full_path}" if path.startswith("/_dash-component-suites/") else "dynamic"

    def get(self, key: str) -> bytes | None:
        return self._entries.get(key) if "asset:" in key else None

    def set(self, key: str, value: bytes) -> None:
        if "asset:" in key:
            with self._lock:
                self._entries[key] = value
