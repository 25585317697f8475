"""Display links: a long random URL for an unattended screen (the wall), viewer rights to the wall only, no password.

`tracker display add NAME` makes one and prints its URL once; only the token's SHA-256 is stored
(models.DisplayLink), so a copy of the database cannot open a screen. `tracker display remove NAME`
revokes it: the dashboard looks the token up again on every request, so an open screen stops at
once. A link is no login: it ends neither with the idle or absolute session lifetimes nor with a
restart (the token lives in the database), only when it is removed. Adding a removed name again
makes a new token; the old one stays dead.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tracker.errors import NotFound, UsageError
from tracker.models import DisplayLink
from tracker.users import check_name

PATH = "/display/"  # the link is PATH + token on the dashboard's address
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def get(session: Session, name: str) -> DisplayLink | None:
    return session.scalar(select(DisplayLink).where(DisplayLink.name == name))


def list_links(session: Session) -> list[DisplayLink]:
    """Every link, live and removed, by name."""
    return list(session.scalars(select(DisplayLink).order_by(DisplayLink.name)))


def add(session: Session, name: str, *, created_by: str, now: datetime) -> str:
    """A new display link named `name`; returns its token (shown once, only its hash is kept). UsageError for a
    bad name or one that is live already; a removed name is made anew."""
    name = check_name(name)
    found = get(session, name)
    if found is not None and found.revoked_at is None:
        raise UsageError(f"display {name!r} exists already (tracker display remove {name} first to make a new link)",
                         field="display", kind="exists", choices=(name,))
    if found is not None:
        session.execute(delete(DisplayLink).where(DisplayLink.id == found.id))
        session.flush()
    token = secrets.token_urlsafe(32)
    session.add(DisplayLink(name=name, token_hash=digest(token), created_at=now, created_by=created_by[:80]))
    session.flush()
    return token


def remove(session: Session, name: str, *, now: datetime) -> None:
    """Revoke the live link `name` (NotFound if there is none): it stops working at the next request."""
    found = get(session, name)
    if found is None or found.revoked_at is not None:
        raise NotFound(f"no display link {name!r} (tracker display list shows them)", field="display", kind="unknown")
    found.revoked_at = now


def check(session: Session, token: str | None, *, now: datetime) -> DisplayLink | None:
    """The live link with this token, marked used (at most once per TOUCH_EVERY); None for an unknown or removed one."""
    if not token:
        return None
    found = session.scalar(select(DisplayLink).where(DisplayLink.token_hash == digest(token)))
    if found is None or found.revoked_at is not None:
        return None
    if found.last_used_at is None or now - found.last_used_at >= TOUCH_EVERY:
        found.last_used_at = now
    return found
