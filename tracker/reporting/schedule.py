"""`tracker schedule`: the configured report jobs and alerts, on cron schedules in each campaign's zone.

APScheduler (3.x) fires each job at its cron times (tracker.cron reads the expressions). Every
firing, and `tracker schedule --once`, comes down to `Scheduler.tick(now)`, which for each job
finds the latest slot due within the grace period and delivers it unless some scheduler has
already claimed it (tracker.reporting.runs): each slot is delivered once however many schedulers
run against the database. Failed deliveries are retried with doubling delays by the same tick;
alerts are each sent once (their key is the slot).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from tracker import cron, db, queries, service
from tracker.config import Alerts, Config, ReportJob, Webhooks
from tracker.dates import UTC, ensure_utc, utc_now
from tracker.errors import ConfigError, TrackerError
from tracker.models import Campaign, ReportRun
from tracker.reporting import alerts as alert_rules, delivery, mail, runs

SWEEP_SECONDS = 30  # how often the long-running scheduler looks for retries that are due

@dataclass(frozen=True)
class Plan:
    """A report job (or the alerts check) bound to its campaign and trigger."""

    name: str
    campaign_id: int
    slug: str
    tz: ZoneInfo
    cron: str
    trigger: object
    job: ReportJob | None = None
    alerts: Alerts | None = None


@dataclass(frozen=True)
class Outcome:
    job: str
    slug: str
    slot: str
    status: str  # sent | skipped | failed | gave_up | taken (another scheduler has it)
    detail: str
    attempt: int = 1


class Scheduler:
    """Runs the configuration's jobs against one database; `now` always comes from the caller."""

    def __init__(self, sessions: sessionmaker[Session], config: Config, *,
                 log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True),
                 verbose: bool = True):
        self.sessions, self.config, self.log, self.verbose = sessions, config, log, verbose
        self.retry = config.retry
        self.grace = timedelta(minutes=config.retry.grace_minutes)
        if not config.reports and not config.alerts:
            where = config.path or "no configuration file was found"
            raise ConfigError(f"{where}: no [[reports]] jobs and no [alerts] to schedule (see data/tracker.example.toml)")
        self.smtp = mail.SmtpConfig.from_env(file=config.mail)
        self.plans: list[Plan] = []
        with db.transaction(sessions) as session:
            for job in config.reports:
                c = self._campaign(session, job.campaign, f"[[reports]] {job.name!r}")
                self.plans.append(Plan(job.name, c.id, c.slug, c.tz, job.cron, cron.make_trigger(job.cron, c.tz), job=job))
            if config.alerts:
                c = self._campaign(session, config.alerts.campaign, "[alerts]")
                self.plans.append(Plan("alert", c.id, c.slug, c.tz, config.alerts.cron,
                                       cron.make_trigger(config.alerts.cron, c.tz), alerts=config.alerts))

    def _campaign(self, session: Session, slug: str | None, place: str) -> Campaign:
        try:
            return queries.get_campaign(session, slug)
        except TrackerError as exc:
            raise ConfigError(f"{self.config.path}: {place}: {config_advice(exc)}") from None

    # -- one pass ---------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[Outcome]:
        """Deliver every slot due at `now` that no one has claimed, check alerts, and run due retries."""
        now = ensure_utc(now)
        out = []
        for plan in self.plans:
            if plan.alerts:
                out += self.check_alerts(plan, now)
            elif (slot := cron.due_slot(plan.trigger, now, self.grace)) is not None:
                out.append(self.run_report(plan, slot, now))
        return out + self.retry_due(now)

    def fire(self, plan: Plan) -> None:
        """What APScheduler calls at a cron time: the same as a tick, for one plan, with the real clock."""
        now = utc_now()
        try:
            if plan.alerts:
                self.check_alerts(plan, now)
            elif (slot := cron.due_slot(plan.trigger, now, self.grace)) is not None:
                self.run_report(plan, slot, now)
        except Exception as exc:  # noqa: BLE001 - e.g. the database is down: say so, keep the scheduler running
            self._trouble(f"{plan.name} {plan.slug}", exc)

    def sweep(self) -> None:
        """What APScheduler calls every SWEEP_SECONDS: the retries that are due."""
        try:
            self.retry_due(utc_now())
        except Exception as exc:  # noqa: BLE001
            self._trouble("retries", exc)

    def _trouble(self, what: str, exc: Exception) -> None:
        if os.environ.get("TRACKER_DEBUG"):
            traceback.print_exc()
        reason = str(exc).splitlines()[0] if str(exc) else ""
        self.log(f"{what}: could not run ({exc.__class__.__name__}: {reason}); will try again at the next time")

    # -- reports ----------------------------------------------------------------------------

    def run_report(self, plan: Plan, slot: datetime, now: datetime, run: ReportRun | None = None) -> Outcome:
        """Deliver one slot of a report job (claiming it first, unless `run` is a retry already retaken)."""
        key = cron.slot_key(slot)
        if run is None:
            run_id = runs.claim(self.sessions, job=plan.name, campaign_id=plan.campaign_id, slot=key, kind="report",
                                now=now, due_at=slot, lease_seconds=self.retry.lease_seconds,
                                recipients=", ".join(plan.job.to))
            if run_id is None:
                return self._note(Outcome(plan.name, plan.slug, key, "taken", "already claimed by a scheduler"), plan)
            attempt = 1
        else:
            run_id, attempt = run.id, run.attempts + 1

        def send() -> runs.Delivered:
            built = self._build(plan, now, job=plan.name, attach_daily=plan.job.attach_daily)
            if plan.job.skip_unchanged and built.unchanged:
                since = built.previous.finished_at.astimezone(plan.tz)
                return runs.Delivered("skipped", f"unchanged since {since:%Y-%m-%d %H:%M %Z}; nothing sent")
            mail.send(self.smtp, mail.build_message(self.smtp.sender, list(plan.job.to), built.subject, built.text,
                                                    built.html, built.attachments, built.images))
            st = built.data.status
            return runs.Delivered("sent", built.subject, st.raised_cents, st.new_donors, built.fingerprint)

        status, detail = runs.deliver(self.sessions, run_id, send, now=now, retry=self.retry)
        if status == "sent":
            detail = f"to {', '.join(plan.job.to)}"
        return self._outcome(plan, key, status, detail, attempt)

    def _build(self, plan: Plan, now: datetime, **options) -> delivery.Report:
        milestones = plan.alerts.milestones if plan.alerts else (
            self.config.alerts.milestones if self.config.alerts else delivery.MILESTONES)
        with db.transaction(self.sessions) as session:
            return delivery.build_report(session, session.get(Campaign, plan.campaign_id), as_of=now,
                                         milestones=milestones, **options)

    # -- alerts -----------------------------------------------------------------------------

    def _status(self, plan: Plan, now: datetime):
        with db.transaction(self.sessions) as session:
            c = session.get(Campaign, plan.campaign_id)
            self._sources = (queries.last_received(session, before=now), queries.failing_webhooks(session))
            return service.campaign_status(session, c, as_of=now), queries.alert_keys(session, c)

    def _alerts(self, plan: Plan, st, now: datetime) -> list[alert_rules.Alert]:
        """Every alert of `plan` whose condition holds at `now` (after `_status`)."""
        cfg = plan.alerts
        last, failing = self._sources
        hooks = Webhooks.from_env(self.config.webhooks)
        return (alert_rules.current(st, cfg.milestones, cfg.behind_margin_percent)
                + alert_rules.source_alerts(st, now=now, last_received=last, sources=hooks.sources or hooks.configured,
                                            silent_minutes=cfg.silent_minutes, active_hours=cfg.active_hours,
                                            failing=failing, failing_threshold=cfg.failing_events))

    def check_alerts(self, plan: Plan, now: datetime) -> list[Outcome]:
        """Send each alert whose condition holds and that no one has recorded yet."""
        cfg = plan.alerts
        st, recorded = self._status(plan, now)
        send, passed = alert_rules.to_send(self._alerts(plan, st, now), recorded)
        out = []
        for alert, by in passed:
            runs.claim(self.sessions, job="alert", campaign_id=plan.campaign_id, slot=alert.key, kind="alert", now=now,
                       status="skipped", detail=f"passed over by {by.key}: {by.headline}")
        for alert in send:
            run_id = runs.claim(self.sessions, job="alert", campaign_id=plan.campaign_id, slot=alert.key, kind="alert",
                                now=now, lease_seconds=self.retry.lease_seconds, recipients=", ".join(cfg.to))
            if run_id is None:
                out.append(self._note(Outcome("alert", plan.slug, alert.key, "taken", "already claimed"), plan))
                continue
            out.append(self._send_alert(plan, st, alert, run_id, now, 1))
        return out

    def _send_alert(self, plan: Plan, st, alert: alert_rules.Alert, run_id: int, now: datetime, attempt: int) -> Outcome:
        def send() -> runs.Delivered:
            built = self._build(plan, now, job="alert", attach_daily=False)
            subject, text, html = built.for_alert(alert)
            mail.send(self.smtp, mail.build_message(self.smtp.sender, list(plan.alerts.to), subject, text, html, [],
                                                    built.images))
            return runs.Delivered("sent", alert.headline, st.raised_cents, st.new_donors)

        status, detail = runs.deliver(self.sessions, run_id, send, now=now, retry=self.retry)
        return self._outcome(plan, alert.key, status, detail, attempt)

    # -- failures and retries ---------------------------------------------------------------

    def _outcome(self, plan: Plan, key: str, status: str, detail: str, attempt: int) -> Outcome:
        if status == "failed":
            detail += f"; next attempt in {self.retry.delay(attempt)} s"
        return self._note(Outcome(plan.name, plan.slug, key, status, detail, attempt), plan)

    def retry_due(self, now: datetime) -> list[Outcome]:
        """Retry the failed deliveries whose time has come, and take over those whose scheduler died."""
        with db.transaction(self.sessions) as session:
            due = queries.due_retries(session, now)
            session.expunge_all()
        out = []
        for run in due:
            plan = next((p for p in self.plans if p.name == run.job and p.campaign_id == run.campaign_id), None)
            if plan is None:
                continue  # another configuration's job (or a report by hand): not ours to retry
            if not runs.retake(self.sessions, run.id, now=now, lease_seconds=self.retry.lease_seconds):
                continue  # another scheduler took it
            if run.kind == "report":
                out.append(self.run_report(plan, ensure_utc(run.due_at), now, run=run))
                continue
            st, _ = self._status(plan, now)
            alert = next((a for a in self._alerts(plan, st, now) if a.key == run.slot), None)
            if alert is None:
                runs.finish(self.sessions, run.id, status="skipped", now=now, detail="no longer holds; not sent")
                out.append(self._note(Outcome("alert", plan.slug, run.slot, "skipped", "no longer holds"), plan))
            else:
                out.append(self._send_alert(plan, st, alert, run.id, now, run.attempts + 1))
        return out

    def _note(self, outcome: Outcome, plan: Plan) -> Outcome:
        if outcome.status == "taken" and not self.verbose:
            return outcome
        slot = outcome.slot
        if (at := cron.slot_time(slot)) is not None:
            slot = at.astimezone(plan.tz).strftime("%Y-%m-%d %H:%M:%S %Z")
        attempt = f" (attempt {outcome.attempt})" if outcome.attempt > 1 else ""
        self.log(f"{outcome.job} {outcome.slug} {slot}: {outcome.status}{attempt}: {outcome.detail}")
        return outcome

    # -- the long-running scheduler ---------------------------------------------------------

    def upcoming(self, now: datetime, count: int = 3) -> list[tuple[Plan, list[datetime]]]:
        """Each plan with its next `count` fire times after `now`."""
        out = []
        for plan in self.plans:
            times, t = [], plan.trigger.get_next_fire_time(None, now)
            while t is not None and len(times) < count:
                times.append(t)
                t = plan.trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
            out.append((plan, times))
        return out

    def serve(self) -> None:
        """Run until stopped (Ctrl-C or SIGTERM): catch up on what is due, then follow the cron times."""
        from apscheduler.schedulers.blocking import BlockingScheduler
        from apscheduler.triggers.interval import IntervalTrigger

        scheduler = BlockingScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": int(self.grace.total_seconds()) or 1})
        for plan in self.plans:
            scheduler.add_job(self.fire, plan.trigger, args=[plan], id=f"{plan.name}:{plan.slug}")
        scheduler.add_job(self.sweep, IntervalTrigger(seconds=SWEEP_SECONDS), id="retries")
        signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
        self.tick(utc_now())
        for plan, times in self.upcoming(utc_now(), 1):
            when = times[0].astimezone(plan.tz).strftime("%Y-%m-%d %H:%M:%S %Z") if times else "never"
            self.log(f"{plan.name} {plan.slug}: {plan.cron!r}, next at {when}")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass


def config_advice(exc: TrackerError) -> str:
    """An error about which campaign, in the configuration file's words."""
    if exc.field == "campaign" and exc.kind == "missing":
        return f'{exc.message}; name one with campaign = "SLUG"'
    if exc.field == "campaign" and exc.kind == "unknown":
        return f"{exc.message} (campaigns: {', '.join(exc.choices) or 'none yet'})"
    if exc.field == "campaign" and exc.kind == "none":
        return f"{exc.message}; create one with: tracker campaign create --help"
    return str(exc)
