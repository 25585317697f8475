"""Database fixtures for SQLite and PostgreSQL, and helpers shared by the tests.

PostgreSQL: a fresh database is created for the test session and dropped after it (the server
defaults to 127.0.0.1:5432, user postgres; TRACKER_TEST_PG_URL overrides). Where PostgreSQL or
Chromium is missing, their tests skip with the reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import email
import email.policy
import os
import socket
import shutil
import threading
import uuid
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from tracker import db
from tracker.cli import main as cli_main
from tracker.dates import utc_now
from tracker.manage import create_campaign

IN_CI = os.environ.get("CI", "").lower() in ("true", "1", "yes")
PG_ADMIN_URL = os.environ.get("TRACKER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CHROMIUM = os.environ.get("TRACKER_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
TABLES = ("pledges", "match_changes", "match_pools", "display_links", "exchange_rates", "closed_gifts", "closed_buckets", "closed_donors", "closed_periods", "campaign_changes", "gift_details", "gift_history", "gift_aliases", "duplicate_pairs", "webhook_events", "webhook_refusals", "web_sessions", "login_throttle", "server_secrets", "users", "report_runs", "audit_log", "appeal_events", "appeal_daily", "appeal_copy_versions", "gift_buckets", "refunds", "donations", "donors", "imports", "appeal_variants", "campaigns")


def require(condition: bool, reason: str) -> None:
    """Skip with `reason` when a real part is missing; in CI a missing part fails the run."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


class PostgresServer:
    """Creates and drops throwaway databases on the test PostgreSQL server."""

    def __init__(self, admin_url: str):
        self.admin = create_engine(db.normalize_url(admin_url), isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def reachable(self) -> str | None:
        try:
            with self.admin.connect():
                return None
        except OperationalError as exc:
            return str(exc.orig).strip().splitlines()[0]

    def create(self) -> str:
        name = f"tracker_test_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(db.normalize_url(PG_ADMIN_URL)).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres():
    server = PostgresServer(PG_ADMIN_URL)
    problem = server.reachable()
    require(
        problem is None,
        f"PostgreSQL is not reachable at {db.safe_url(PG_ADMIN_URL)} ({problem}); start it with "
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    )
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def pg_url(postgres):
    """One migrated PostgreSQL database for the whole test session (tables emptied after each test)."""
    url = postgres.create()
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    return url


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A migrated, empty database on each backend: a new SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("pg_url")
    yield url
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def empty_db_url(request, tmp_path):
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    return request.getfixturevalue("postgres").create()


@pytest.fixture
def engine(db_url):
    eng = db.make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return db.session_factory(engine)


@pytest.fixture
def make_campaign(sessions):
    """Create a campaign (defaults: dec-2026, $400,000, December, America/Los_Angeles) and return it."""

    def make(slug="dec-2026", *, goal_cents=400_000_00, tz="America/Los_Angeles",
             start=date(2026, 12, 1), end=date(2026, 12, 31), name=None, **extra):
        with sessions.begin() as session:
            return create_campaign(
                session, slug=slug, name=name or f"Campaign {slug}", goal_cents=goal_cents, currency="USD",
                timezone=tz, start=start, end=end, now=utc_now(), **extra,
            )

    return make


@pytest.fixture
def tracker(capsys, db_url):
    """Run the tracker CLI in-process against the test database: tracker("status", "--json") -> Result."""

    class Result:
        def __init__(self, code, out, err):
            self.code, self.out, self.err = code, out, err

        def __repr__(self):
            return f"Result(code={self.code}, out={self.out!r}, err={self.err!r})"

    def run(*args: str, db: str | None = db_url) -> Result:
        capsys.readouterr()
        argv = (["--db", db] if db else []) + [str(a) for a in args]
        code = cli_main(argv)
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@contextmanager
def demo_database(folder, now: datetime):
    """A new SQLite file holding the demo as it stands at `now`; yields its session factory."""
    from tracker import demo

    engine = db.make_engine(f"sqlite:///{folder / 'demo.sqlite3'}")
    db.upgrade(engine)
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        summary = demo.build(session, now=now)
    sessions.summary = summary
    try:
        yield sessions
    finally:
        engine.dispose()


@contextmanager
def serving(flask_app, threads: int = 4, port: int = 0):
    """Serve a WSGI app with waitress on a loopback port (a free one, or `port`: a restart on the same address)
    in a thread; yields the base URL (no trailing slash). Stopping closes the open connections too, as a
    stopped process does.

    Closing the server while its loop polls may raise in that thread (a closed socket); that is
    the shutdown itself, so it is ignored once closing has begun.
    """
    from waitress.server import create_server

    # as `tracker serve` does: the app, not waitress, decides which X-Forwarded-* headers to believe
    server = create_server(flask_app, host="127.0.0.1", port=port, threads=threads, clear_untrusted_proxy_headers=False)
    closing = threading.Event()

    def run():
        try:
            server.run()
        except (OSError, ValueError):
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        closing.set()
        server.close()
        thread.join(timeout=5)
        for channel in list(server._map.values()):
            channel.socket.close()


def write_csv(path, text_: str):
    """Write inline CSV test input (leading indentation removed) and return the path."""
    import textwrap

    path.write_text(textwrap.dedent(text_).lstrip("\n"), encoding="utf-8")
    return path


def campaign_totals(session, campaign, as_of: datetime):
    """Raised (by the campaign's basis), gifts and donors counted, and new donors, as of `as_of`: the
    totals by a plain grouping of the window's gifts, to check tracker.service's (which takes the donor
    counts from the segments) against.

    A gift is counted when its status is succeeded, partially_refunded or refunded; `donations`
    and `donors` only count gifts whose net is positive. A donor is new when their first counted
    gift ever (any campaign, any time: donors.first_gift_at) falls inside the window.
    """
    from sqlalchemy import case, func, select

    from tracker.campaign import Totals
    from tracker.models import Donation, Donor
    from tracker.queries import NET, _counted_between, window_raised

    end = campaign.window_at(as_of).end
    if end <= campaign.starts_at:
        return Totals(0, 0, 0, 0)
    raised, gifts = window_raised(session, campaign, as_of)
    donors = (
        select(Donation.donor_id)
        .where(_counted_between(campaign.currency, campaign.starts_at, end), NET > 0)
        .distinct()
        .subquery()
    )
    row = session.execute(
        select(func.count(), func.count(case((Donor.first_gift_at >= campaign.starts_at, Donor.id))))
        .select_from(donors)
        .join(Donor, Donor.id == donors.c.donor_id)
    ).one()
    return Totals(raised_cents=raised, donations=gifts, donors=int(row[0]), new_donors=int(row[1]))


def utc(*args) -> datetime:
    from tracker.dates import UTC

    return datetime(*args, tzinfo=UTC)
class Mailbox:
    """The handler of a real SMTP server on loopback: keeps what it accepts; turns away the next
    `refuse_next` messages with a temporary failure (451), as a busy mail server does."""

    def __init__(self):
        self.envelopes = []
        self.refuse_next = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            self.refuse_next -= 1
            return "451 4.3.0 Mail server busy, try again later"
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [email.message_from_bytes(e.original_content or e.content, policy=email.policy.default)
                for e in self.envelopes]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(monkeypatch):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check_login(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"reports", b"s3cret")
        return AuthResult(success=ok, handled=False)

    handler, port = Mailbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=check_login,
                            auth_require_tls=False)
    controller.start()
    for name, value in {"TRACKER_SMTP_HOST": "127.0.0.1", "TRACKER_SMTP_PORT": str(port), "TRACKER_SMTP_SECURITY": "none",
                        "TRACKER_SMTP_USER": "reports", "TRACKER_SMTP_PASSWORD": "s3cret",
                        "TRACKER_MAIL_FROM": "tracker@harborlight.example"}.items():
        monkeypatch.setenv(name, value)
    yield handler
    controller.stop()


