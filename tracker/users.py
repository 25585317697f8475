"""Dashboard users: argon2id password hashes (argon2-cffi), roles, and rate-limited logins.

Roles: viewer sees aggregates only; finance may also download donor-level files (audited); admin
may also manage users. Failed logins are counted in the database, so the limit holds across the
server's threads and processes: after MAX_FAILURES_PER_USER failures for one user name, or
MAX_FAILURES_PER_ADDRESS from one address, within WINDOW, logins wait until the window has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from tracker import queries
from tracker.errors import NotFound, UsageError
from tracker.models import ROLES, LoginAttempt, User

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD = 10

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("an unknown user takes as long as a known one")


@dataclass(frozen=True)
class Login:
    user: User | None  # None: refused
    retry_after: int = 0  # seconds, when refused for too many failures


def check_name(name: str) -> str:
    """A user name stripped, or UsageError saying what a user name may be."""
    name = (name or "").strip()
    if not name or len(name) > 80 or any(c.isspace() for c in name):
        raise UsageError("a user name is 1 to 80 characters without spaces, e.g. maria or maria@example.org")
    return name


def add(session: Session, name: str, role: str, password: str, *, now: datetime) -> User:
    """Add a login with its password hashed (argon2id). Raises UsageError for a bad name, role or password,
    or a name that exists already."""
    name = check_name(name)
    if role not in ROLES:
        raise UsageError(f"the role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must be at least {MIN_PASSWORD} characters long")
    if queries.get_user(session, name) is not None:
        raise UsageError(f"user {name!r} exists already", field="user", kind="exists", choices=(name,))
    user = User(username=name, password_hash=_hasher.hash(password), role=role, created_at=now)
    session.add(user)
    session.flush()
    return user


def remove(session: Session, name: str) -> None:
    """Remove a login (NotFound if there is none by that name); its sessions end at their next request."""
    user = queries.get_user(session, name)
    if user is None:
        raise NotFound(f"no user {name!r}", field="user", kind="unknown")
    session.delete(user)


def authenticate(session: Session, name: str, password: str, *, remote: str, now: datetime) -> Login:
    """Check a login and record the attempt; refused while too many recent failures."""
    name = (name or "").strip()[:80]
    since = now - WINDOW
    by_user, by_address, oldest = queries.failed_logins(session, name, remote, since)
    if by_user >= MAX_FAILURES_PER_USER or by_address >= MAX_FAILURES_PER_ADDRESS:
        return Login(None, retry_after=max(1, int((oldest + WINDOW - now).total_seconds())))
    user = queries.get_user(session, name)
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if ok and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    session.execute(insert(LoginAttempt).values(at=now, username=name, remote=remote[:64], ok=ok))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - 8 * WINDOW))  # keep the table small
    return Login(user if ok else None)
