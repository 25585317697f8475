"""What every command shares: the configuration and database, the clock and --as-of, and the
organization's zone. Commands get a `Context` with @pass_ctx; nothing here prints.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from zoneinfo import ZoneInfo

import click

from tracker import db
from tracker.dates import parse_as_of, utc_now, zone
from tracker.errors import UsageError, ValueProblem
from tracker.organization import organization_currency, organization_zone  # noqa: F401  (the commands' names)

EXIT_REJECTED = 3  # some input rows were rejected (the good ones loaded)
MAX_ERRORS_SHOWN = 10  # bad rows printed before "... and N more"


class Context:
    """The configuration file and the database URL, resolved once per command."""

    def __init__(self, db_url: str | None, config_path: str | None = None):
        from tracker import config as config_file

        self.config = config_file.load(config_file.find(config_path))
        self.url = db.resolve_url(db_url or os.environ.get(db.ENV_URL) or self.config.database)
        self._engine = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = db.make_engine(self.url)
        return self._engine

    def sessions(self, *, need_schema: bool = True):
        """A session factory for the database, after checking its schema is current."""
        if need_schema:
            db.require_schema(self.engine)
        return db.session_factory(self.engine)


pass_ctx = click.make_pass_decorator(Context)


def read_as_of(text: str | None, tz: ZoneInfo | str) -> datetime:
    """--as-of read in the campaign's zone (naive or date-only), else the clock: now."""
    if not text:
        return utc_now()
    try:
        return parse_as_of(text, zone(tz) if isinstance(tz, str) else tz)
    except ValueProblem as exc:
        raise UsageError(f"--as-of: {exc}") from None


def show_row_errors(errors: list, rejected: int) -> None:
    """The first bad rows as FILE:LINE: reason on stderr, then how many more."""
    for err in errors[:MAX_ERRORS_SHOWN]:
        click.echo(str(err), err=True)
    if rejected > MAX_ERRORS_SHOWN:
        click.echo(f"... and {rejected - MAX_ERRORS_SHOWN} more rejected rows", err=True)


def os_user() -> str:
    """The operating-system user running this process, by its real uid (not LOGNAME or USER, which anyone can
    set): "alice (uid 1000)"; where there is no uid (Windows), the login name."""
    try:
        import pwd
    except ImportError:  # Windows
        return getpass.getuser()
    uid = os.getuid()
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:  # a uid without a passwd entry (containers)
        return f"uid {uid}"
