"""Dashboard users: argon2id password hashes (argon2-cffi), roles, sessions that end, and throttled logins.

Roles: viewer sees aggregates only; finance may also download donor-level files (audited); admin
may also manage users.

Sessions live in the database (models.WebSession): the cookie carries a random token of 256 bits,
the table only its SHA-256. A session ends at logout, when its user's password changes, when its
user is removed (its rows go with the user, so a name removed and added again starts with none),
after `idle` without a request and `absolute` after its login, whichever comes first.

Failed logins are throttled per (user name as typed, client address), never per name or per
address alone, so an attacker can neither lock a colleague out from everywhere nor lock out the
whole office behind one proxy address. The first FREE_FAILURES failures in a row cost nothing;
after that each attempt waits FIRST_DELAY, doubling with every further failure up to MAX_DELAY; a
correct password clears the count, and a count left alone for FORGET_AFTER starts again. Each
attempt takes its turn in a transaction of its own *before* its password is checked (a
compare-and-set on the count), so parallel attempts cannot get more password checks than the
rule allows, across threads, processes and both databases.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from tracker import queries
from tracker.errors import NotFound, UsageError
from tracker.models import ROLES, LoginThrottle, ServerSecret, User, WebSession

MIN_PASSWORD = 10
FREE_FAILURES = 3  # failures in a row before the delays start
FIRST_DELAY = timedelta(seconds=2)  # the wait after FREE_FAILURES failures, doubling with each further one
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(hours=24)  # a count with no new failure for this long starts again
IDLE = timedelta(hours=8)  # default session lifetimes (TRACKER_SESSION_IDLE_MINUTES, TRACKER_SESSION_MAX_HOURS)
ABSOLUTE = timedelta(hours=24)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session
SIGNING_KEY = "session-signing-key"

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("an unknown user takes as long as a known one")


@dataclass(frozen=True)
class Login:
    user: User | None  # None: refused
    retry_after: int = 0  # seconds, when refused because of earlier failures (no password was checked)


def check_name(name: str) -> str:
    """A user name stripped, or UsageError saying what a user name may be."""
    name = (name or "").strip()
    if not name or len(name) > 80 or any(c.isspace() for c in name):
        raise UsageError("a user name is 1 to 80 characters without spaces, e.g. maria or maria@example.org")
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must be at least {MIN_PASSWORD} characters long")


def add(session: Session, name: str, role: str, password: str, *, now: datetime) -> User:
    """Add a login with its password hashed (argon2id). Raises UsageError for a bad name, role or password,
    or a name that exists already."""
    name = check_name(name)
    if role not in ROLES:
        raise UsageError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    _check_password(password)
    if queries.get_user(session, name) is not None:
        raise UsageError(f"user {name!r} exists already", field="user", kind="exists", choices=(name,))
    user = User(username=name, password_hash=_hasher.hash(password), role=role, created_at=now)
    session.add(user)
    session.flush()
    return user


def remove(session: Session, name: str) -> None:
    """Remove a login (NotFound if there is none by that name) and every session it had."""
    user = queries.get_user(session, name)
    if user is None:
        raise NotFound(f"no user {name!r}", field="user", kind="unknown")
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.delete(user)


def set_password(session: Session, name: str, password: str, *, now: datetime) -> int:
    """Give a login a new password and end every session it has; returns how many were open.
    NotFound for an unknown name, UsageError for a short password."""
    user = queries.get_user(session, name)
    if user is None:
        raise NotFound(f"no user {name!r}", field="user", kind="unknown")
    _check_password(password)
    user.password_hash = _hasher.hash(password)
    ended = session.execute(update(WebSession).where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
                            .values(ended_at=now))
    return ended.rowcount


# -- throttled logins -------------------------------------------------------------------------

def delay_after(failures: int) -> timedelta:
    """How long the next attempt waits after `failures` failures in a row: nothing for the first
    FREE_FAILURES, then FIRST_DELAY doubling with each further failure, at most MAX_DELAY."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_DELAY, FIRST_DELAY * 2 ** min(failures - FREE_FAILURES, 30))


def _insert(session: Session):
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(LoginThrottle)


def _take_turn(session: Session, name: str, remote: str, now: datetime) -> int:
    """Count this attempt as a failure in advance, if its turn has come: 0 to go ahead, else the seconds to wait.

    A compare-and-set on the count: of two attempts that read the same count only one can write the
    next, and the other reads again. On PostgreSQL the second UPDATE waits for the first's commit and
    then finds the count changed; on SQLite the first UPDATE holds the database's write lock."""
    session.execute(_insert(session).values(username=name, remote=remote, failures=0)
                    .on_conflict_do_nothing(index_elements=["username", "remote"]))
    for _ in range(50):
        failures, last, next_at = queries.login_failures(session, name, remote)
        if next_at is not None and now < next_at:
            return max(1, math.ceil((next_at - now).total_seconds()))
        start = 0 if last is None or now - last >= FORGET_AFTER else failures
        claimed = session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.username == name, LoginThrottle.remote == remote, LoginThrottle.failures == failures)
            .values(failures=start + 1, last_failure_at=now, next_allowed_at=now + delay_after(start + 1)))
        if claimed.rowcount == 1:
            return 0
    return max(1, int(FIRST_DELAY.total_seconds()))  # never reached but under a storm: wait, do not check


def authenticate(sessions: sessionmaker[Session], name: str, password: str, *, remote: str, now: datetime) -> Login:
    """Check a login, throttled per (name, address); refused without checking the password while it must wait.

    Runs in transactions of its own (like report runs' claims): the attempt's turn is committed
    before the slow password check, so that every parallel attempt sees it. An unknown name is
    throttled and takes as long as a known one."""
    name, remote = (name or "").strip()[:80], (remote or "unknown")[:64]
    with sessions.begin() as session:
        wait = _take_turn(session, name, remote, now)
        user = queries.get_user(session, name) if not wait else None
        stored = user.password_hash if user is not None else _DUMMY
        session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_AFTER))
    if wait:
        return Login(None, retry_after=wait)
    try:
        ok = _hasher.verify(stored, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        return Login(None)
    with sessions.begin() as session:
        session.execute(update(LoginThrottle).where(LoginThrottle.username == name, LoginThrottle.remote == remote)
                        .values(failures=0, next_allowed_at=None))
        fresh = queries.get_user(session, name)
        if fresh is None or fresh.password_hash != stored:  # removed or changed while we checked
            return Login(None)
        if _hasher.check_needs_rehash(fresh.password_hash):
            fresh.password_hash = _hasher.hash(password)
    return Login(fresh)


# -- sessions ---------------------------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, *, now: datetime) -> str:
    """A new session for `user`; returns its token (for the cookie; only its hash is stored). Old
    sessions that ended or expired more than a day ago are deleted on the way."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), user_id=user.id, created_at=now, last_seen_at=now))
    session.execute(delete(WebSession).where(
        (WebSession.ended_at < now - timedelta(days=1)) | (WebSession.last_seen_at < now - timedelta(days=30))))
    return token


def session_user(session: Session, token: str | None, *, now: datetime, idle: timedelta = IDLE,
                 absolute: timedelta = ABSOLUTE) -> User | None:
    """The user of a live session (None: no such token, ended, idle longer than `idle`, or older than
    `absolute`). Marks it seen, at most once per TOUCH_EVERY."""
    if not token:
        return None
    found = queries.session_login(session, _digest(token))
    if found is None:
        return None
    row, user = found
    if row.ended_at is not None or now - row.last_seen_at >= idle or now - row.created_at >= absolute:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return user


def end_session(session: Session, token: str | None, *, now: datetime) -> None:
    """End the session with this token (logout); nothing happens for an unknown or ended one."""
    if token:
        session.execute(update(WebSession).where(WebSession.token_hash == _digest(token), WebSession.ended_at.is_(None))
                        .values(ended_at=now))


def signing_key(session: Session, *, now: datetime) -> str:
    """The key that signs the session cookie when TRACKER_SECRET_KEY is not set: generated the first
    time it is asked for and kept in the database, so restarts and other processes share it."""
    key = queries.server_secret(session, SIGNING_KEY)
    if key is None:
        session.execute(_insert_secret(session).values(name=SIGNING_KEY, value=secrets.token_hex(32), created_at=now)
                        .on_conflict_do_nothing(index_elements=["name"]))
        key = queries.server_secret(session, SIGNING_KEY)  # another process may have written it first
    return key


def _insert_secret(session: Session):
    return (pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert)(ServerSecret)
