"""Page results kept until the data changes: the dashboard's answer to "no request recomputes over all
rows when an aggregate cached until the next import will do".

The key is the page, its inputs, the moment shown and tracker's data revision (bumped by every
import, campaign and variant change, in the same transaction). Following the clock, the moment is
taken to the minute, so everyone looking within a minute shares one computation and the figures
are at most a minute old (the page refreshes every minute anyway). A pinned or chosen moment is
exact. Entries also expire after `ttl` seconds and the least recently used go first (cachetools).

One computation per key at a time: a request that finds the same page being computed gets it as last
computed, or waits for it when there is none, instead of computing it again (twenty viewers refreshing
at once after a change cost one computation, and only the one that started it waits for it).

While an import runs (an `imports` row marked running, started in the last 6 hours by a process that has
not ended), its chunks change
the gifts every few seconds without being complete: each page is then served as last computed (the same
page, whatever minute the clock has moved to) and worked out again at most every `import_every` seconds,
in the background, while every request is served the previous figures; `lookup` says since when. When
the import ends the revision moves and the next request computes the complete figures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import TypeVar

from cachetools import TTLCache
from sqlalchemy.orm import Session, sessionmaker

from tracker import queries
from tracker.dates import utc_now
from tracker.db import process_gone

T = TypeVar("T")
IMPORT_EVERY = 30.0  # seconds between computations of a page while an import runs
# an import marked running for longer was interrupted where nothing here can tell (on another machine)
STILL_RUNNING = timedelta(hours=6)


def to_the_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class PageCache:
    def __init__(self, sessions: sessionmaker[Session], *, maxsize: int = 256, ttl: float = 900,
                 import_every: float = IMPORT_EVERY, clock: Callable[[], datetime] = utc_now):
        self._sessions = sessions
        self._entries: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl)
        self._latest: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl)  # family -> (monotonic, when, value)
        self._running: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self._import_every, self._clock = import_every, clock
        self.hits = self.misses = 0

    def revision(self) -> int:
        with self._sessions.begin() as session:
            return queries.data_revision(session)

    def state(self) -> tuple[int, bool]:
        """(the data revision, whether an import is running: marked running, started in the last STILL_RUNNING,
        by a process that has not ended)."""
        since = self._clock() - STILL_RUNNING
        with self._sessions.begin() as session:
            running = [owner for _, started, owner in queries.running_imports(session)
                       if owner and started >= since and not process_gone(owner)]
            return queries.data_revision(session), bool(running)

    def get(self, key: Hashable, compute: Callable[[], T], *, family: Hashable | None = None) -> T:
        return self.lookup(key, compute, family=family)[0]

    def lookup(self, key: Hashable, compute: Callable[[], T], *,
               family: Hashable | None = None) -> tuple[T, datetime | None]:
        """(the page for `key`, None) from the cache or computed; while an import runs, (the page as last
        computed for `family` (default: `key`: the same page at any moment), when it was computed), computed
        again in the background once it is `import_every` seconds old. Callers following the clock give a
        `family` without the moment. A page being computed for another request is served as last computed
        (when it was) rather than waited for."""
        revision, importing = self.state()
        full, family = (key, revision), key if family is None else family
        while True:
            with self._lock:
                latest = self._latest.get(family)
                if importing and latest is not None:
                    if time.monotonic() - latest[0] >= self._import_every and family not in self._running:
                        self._running[family] = threading.Event()
                        threading.Thread(target=self._compute, args=(full, family, compute, family),
                                         name="page-cache", daemon=True).start()
                    self.hits += 1
                    return latest[2], latest[1]
                if not importing and full in self._entries:
                    self.hits += 1
                    return self._entries[full], None
                slot = family if importing else full
                waiting = self._running.get(slot)
                if waiting is not None and latest is not None:
                    self.hits += 1
                    return latest[2], (latest[1] if importing else None)
                if waiting is None:
                    self._running[slot] = threading.Event()
                    break
            waiting.wait(60)
        when, value = self._compute(full, family, compute, slot)
        return value, (when if importing else None)

    def _compute(self, full: Hashable, family: Hashable, compute: Callable[[], T], slot: Hashable) -> tuple:
        """Compute a page, keep it under `full` and as `family`'s latest, and let whoever waits for `slot` go on."""
        try:
            when = self._clock()
            value = compute()
            with self._lock:
                self.misses += 1
                self._entries[full] = value
                self._latest[family] = (time.monotonic(), when, value)
            return when, value
        finally:
            with self._lock:
                done = self._running.pop(slot, None)
            if done is not None:
                done.set()


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
