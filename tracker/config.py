"""The configuration file: mail settings, scheduled report jobs, alerts and retries, in TOML.

Found at `tracker --config FILE`, else $TRACKER_CONFIG, else ./tracker.toml when it exists; with
none, the defaults below hold and there are no scheduled jobs. Every mistake is reported with the
file, the table and the key, and what would be right. data/tracker.example.toml shows every key.

    database = "postgresql://tracker@db/tracker"   # optional; --db and $TRACKER_DATABASE_URL win

    [mail]                       # the same as TRACKER_SMTP_* / TRACKER_MAIL_FROM; the environment wins
    host = "smtp.example.org"
    security = "starttls"        # none | starttls | ssl
    from = "tracker@example.org"

    [[reports]]
    name = "morning"
    cron = "0 8 * * *"           # in the campaign's time zone
    to = ["director@example.org"]

    [alerts]
    to = ["development@example.org"]
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tracker.cron import check_cron
from tracker.errors import ConfigError

ENV_CONFIG = "TRACKER_CONFIG"
DEFAULT_FILE = "tracker.toml"
MAIL_KEYS = ("host", "port", "security", "user", "password", "from")


@dataclass(frozen=True)
class ReportJob:
    """A progress report e-mailed on a cron schedule."""

    name: str
    cron: str
    to: tuple[str, ...]
    campaign: str | None = None  # None: the only campaign there is
    skip_unchanged: bool = False  # send nothing when no figure changed since this job's last report
    attach_daily: bool = True  # attach the daily CSV (tracker export daily)


@dataclass(frozen=True)
class Alerts:
    """One e-mail when the campaign crosses a milestone or falls behind the typical curve, each sent once."""

    to: tuple[str, ...]
    campaign: str | None = None
    cron: str = "*/10 * * * *"  # how often the conditions are checked
    milestones: tuple[int, ...] = (25, 50, 75, 100)  # percent of the goal, and of the new-donor goal
    behind_margin_percent: int | None = 10  # alert when raised is this far below the typical curve; None: never
    silent_minutes: int = 30  # alert when a webhook source sent nothing this long in the active hours (0: never)
    active_hours: tuple[int, int] = (7, 23)  # local hours [from, to) in which silence is worth an alert
    failing_events: int = 5  # alert when this many webhook events have failed (or been given up); 0: never


@dataclass(frozen=True)
class Retry:
    attempts: int = 5  # including the first
    first_delay_seconds: int = 60  # then doubling
    max_delay_seconds: int = 3600
    grace_minutes: int = 60  # a slot missed by less than this (scheduler down, a restart) still runs
    lease_seconds: int = 600  # a run still "running" after this is taken over (its scheduler died)

    def delay(self, attempts_made: int) -> int:
        """Seconds to wait before the next attempt, after `attempts_made` failed ones."""
        return min(self.max_delay_seconds, self.first_delay_seconds * 2 ** max(0, attempts_made - 1))


@dataclass(frozen=True)
class Webhooks:
    """Where deliveries from Stripe and PayPal are checked against (the environment wins over the file)."""

    stripe_secrets: tuple[str, ...] = ()  # the endpoint's signing secrets (whsec_...); several while one is rotated
    paypal_webhook_id: str | None = None
    paypal_cert: Path | None = None  # PayPal's signing certificate (PEM), as downloaded once: never fetched
    sources: tuple[str, ...] = ()  # the providers whose silence is alerted on (default: those configured)

    @classmethod
    def from_env(cls, file: Webhooks | None = None, env=os.environ) -> Webhooks:
        file = file or cls()
        secrets = tuple(x.strip() for x in env.get("TRACKER_STRIPE_WEBHOOK_SECRET", "").split(",") if x.strip())
        cert = env.get("TRACKER_PAYPAL_CERT")
        return cls(stripe_secrets=secrets or file.stripe_secrets,
                   paypal_webhook_id=env.get("TRACKER_PAYPAL_WEBHOOK_ID") or file.paypal_webhook_id,
                   paypal_cert=Path(cert) if cert else file.paypal_cert, sources=file.sources)

    @property
    def configured(self) -> tuple[str, ...]:
        """The providers whose deliveries can be checked."""
        return tuple(p for p, ok in (("stripe", bool(self.stripe_secrets)),
                                     ("paypal", bool(self.paypal_webhook_id and self.paypal_cert))) if ok)


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    database: str | None = None
    mail: dict[str, str] = field(default_factory=dict)
    reports: tuple[ReportJob, ...] = ()
    alerts: Alerts | None = None
    retry: Retry = Retry()
    webhooks: Webhooks = Webhooks()
    # source -> its files' conventions said once ({"dayfirst": False}), for files that cannot tell them
    imports: dict[str, dict[str, bool]] = field(default_factory=dict)

    def job(self, name: str) -> ReportJob | None:
        return next((j for j in self.reports if j.name == name), None)


def find(cli_path: str | Path | None = None, env=os.environ, cwd: Path | None = None) -> Path | None:
    """Which file to read: --config, else $TRACKER_CONFIG, else ./tracker.toml if present."""
    if cli_path:
        return Path(cli_path)
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    candidate = (cwd or Path.cwd()) / DEFAULT_FILE
    return candidate if candidate.is_file() else None


def load(path: Path | None) -> Config:
    """Read and check the configuration file at `path` (None: the defaults). Raises ConfigError."""
    if path is None:
        return Config()
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file (from --config or ${ENV_CONFIG})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse(raw, path)


def parse(raw: dict, path: Path | None = None) -> Config:
    """Check a configuration's parsed TOML; every mistake is a ConfigError naming the file, table and key."""
    where = str(path or "configuration")

    def problem(place: str, what: str) -> ConfigError:
        return ConfigError(f"{where}: {place}: {what} (see data/tracker.example.toml)")

    def known(table: dict, place: str, keys) -> None:
        for key in table:
            if key not in keys:
                raise problem(place, f"unknown key {key!r}; the keys are {', '.join(keys)}")

    def typed(table: dict, place: str, key: str, kind, default=None, required=False):
        if key not in table:
            if required:
                raise problem(place, f"{key!r} is missing")
            return default
        value = table[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise problem(place, f"{key} must be a whole number, not {value!r}")
        if kind is not int and not isinstance(value, kind):
            raise problem(place, f"{key} must be {kind.__name__ if kind is not list else 'a list'}, not {value!r}")
        return value

    def addresses(table: dict, place: str) -> tuple[str, ...]:
        to = table.get("to")
        if isinstance(to, str):
            to = [to]
        if not to or not isinstance(to, list) or not all(isinstance(a, str) and "@" in a for a in to):
            raise problem(place, "'to' must list at least one e-mail address, e.g. to = [\"director@example.org\"]")
        return tuple(to)

    def cron(table: dict, place: str, default: str | None = None) -> str:
        expr = typed(table, place, "cron", str, default, required=default is None)
        try:
            check_cron(expr)
        except ValueError as exc:
            raise problem(place, f"cron {expr!r}: {exc}") from None
        return expr

    known(raw, "top level", ("database", "mail", "reports", "alerts", "retry", "webhooks", "imports"))
    mail = typed(raw, "top level", "mail", dict, {})
    known(mail, "[mail]", MAIL_KEYS)
    mail = {k: str(v) for k, v in mail.items()}

    jobs: list[ReportJob] = []
    for i, table in enumerate(typed(raw, "top level", "reports", list, [])):
        place = f"[[reports]] number {i + 1}"
        if not isinstance(table, dict):
            raise problem(place, "must be a table")
        known(table, place, ("name", "cron", "to", "campaign", "skip_unchanged", "attach_daily"))
        name = typed(table, place, "name", str, required=True)
        place = f"[[reports]] {name!r}"
        if name in {j.name for j in jobs} or name in ("report", "alert"):
            raise problem(place, "the name is taken (by another job, or by 'report' or 'alert'); choose another")
        jobs.append(ReportJob(name=name, cron=cron(table, place), to=addresses(table, place),
                              campaign=typed(table, place, "campaign", str),
                              skip_unchanged=typed(table, place, "skip_unchanged", bool, False),
                              attach_daily=typed(table, place, "attach_daily", bool, True)))

    alerts = None
    if "alerts" in raw:
        table = typed(raw, "top level", "alerts", dict)
        known(table, "[alerts]", ("to", "campaign", "cron", "milestones", "behind_margin_percent", "silent_minutes",
                                  "active_hours", "failing_events"))
        milestones = typed(table, "[alerts]", "milestones", list, [25, 50, 75, 100])
        if not all(isinstance(m, int) and not isinstance(m, bool) and 0 < m <= 1000 for m in milestones):
            raise problem("[alerts]", f"milestones must be percentages of the goal such as [25, 50, 75, 100], not {milestones!r}")
        margin = typed(table, "[alerts]", "behind_margin_percent", int, 10)
        if not 0 <= margin < 100:
            raise problem("[alerts]", "behind_margin_percent must be from 0 to 99 (0 turns the alert off)")
        silent = typed(table, "[alerts]", "silent_minutes", int, Alerts.silent_minutes)
        hours = typed(table, "[alerts]", "active_hours", list, list(Alerts.active_hours))
        if not (len(hours) == 2 and all(isinstance(h, int) and 0 <= h <= 24 for h in hours) and hours[0] < hours[1]):
            raise problem("[alerts]", f"active_hours must be [from, to) local hours such as [7, 23], not {hours!r}")
        failing = typed(table, "[alerts]", "failing_events", int, Alerts.failing_events)
        if silent < 0 or failing < 0:
            raise problem("[alerts]", "silent_minutes and failing_events are 0 (never) or more")
        alerts = Alerts(to=addresses(table, "[alerts]"), campaign=typed(table, "[alerts]", "campaign", str),
                        cron=cron(table, "[alerts]", Alerts.cron), milestones=tuple(sorted(set(milestones))),
                        behind_margin_percent=margin or None, silent_minutes=silent, active_hours=tuple(hours),
                        failing_events=failing)

    table = typed(raw, "top level", "retry", dict, {})
    keys = ("attempts", "first_delay_seconds", "max_delay_seconds", "grace_minutes", "lease_seconds")
    known(table, "[retry]", keys)
    values = {k: typed(table, "[retry]", k, int, getattr(Retry, k)) for k in keys}
    if values["attempts"] < 1 or min(values.values()) < 0:
        raise problem("[retry]", "attempts must be at least 1 and no value may be negative")
    table = typed(raw, "top level", "webhooks", dict, {})
    known(table, "[webhooks]", ("stripe_secret", "paypal_webhook_id", "paypal_cert", "sources"))
    secret = table.get("stripe_secret", [])
    secrets = [secret] if isinstance(secret, str) else secret
    if not isinstance(secrets, list) or not all(isinstance(x, str) and x for x in secrets):
        raise problem("[webhooks]", "stripe_secret is the endpoint's signing secret, or a list of them while rotating")
    sources = typed(table, "[webhooks]", "sources", list, [])
    if not all(x in ("stripe", "paypal") for x in sources):
        raise problem("[webhooks]", f"sources are stripe and paypal, not {sources!r}")
    cert = typed(table, "[webhooks]", "paypal_cert", str)
    webhooks = Webhooks(stripe_secrets=tuple(secrets), paypal_webhook_id=typed(table, "[webhooks]", "paypal_webhook_id", str),
                        paypal_cert=Path(cert) if cert else None, sources=tuple(sources))
    imports = {}
    for source, table in typed(raw, "top level", "imports", dict, {}).items():
        place = f"[imports.{source}]"
        if not isinstance(table, dict):
            raise problem(place, "is a table of the source's conventions, e.g. [imports.paypal] dayfirst = false")
        known(table, place, ("dayfirst", "decimal_comma"))
        imports[source] = {k: typed(table, place, k, bool) for k in table}
    return Config(path=path, database=typed(raw, "top level", "database", str), mail=mail, reports=tuple(jobs),
                  alerts=alerts, retry=Retry(**values), webhooks=webhooks, imports=imports)
