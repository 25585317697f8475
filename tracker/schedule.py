"""`tracker schedule`: the configured report jobs and alerts, on cron schedules in each campaign's zone.

APScheduler (3.x) fires each job at its cron times. Every firing, and `tracker schedule --once`,
comes down to `Scheduler.tick(now)`, which for each job finds the latest slot due within the grace
period and delivers it unless some scheduler has already claimed it (tracker.runs): each slot is
delivered once however many schedulers run against the database. Failed deliveries are retried
with doubling delays by the same tick; alerts are each sent once (their key is the slot).

Cron expressions have five fields, minute hour day-of-month month day-of-week, read in the
campaign's time zone; a sixth, seconds, may come first. Day-of-week numbers are crontab's
(0 or 7 = Sunday); when both day-of-month and day-of-week are restricted, both must match.
"""

from __future__ import annotations

import html as html_lib
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from tracker import alerts as alert_rules, db, delivery, mail, queries, runs
from tracker.config import Alerts, Config, ReportJob
from tracker.dates import UTC, ensure_utc, utc_now
from tracker.errors import ConfigError, TrackerError
from tracker.models import Campaign, ReportRun

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
SWEEP_SECONDS = 30


def _weekday(token: str) -> int:
    token = token.strip().lower()
    if token[:3] in WEEKDAYS and token.isalpha():
        return WEEKDAYS.index(token[:3])
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    raise ValueError(f"day of week {token!r} is not 0-7 or a day name such as mon")


def weekdays_for_apscheduler(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as day names: APScheduler 3 counts 0 as Monday."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        if step_text and not (step_text.isdigit() and int(step_text) > 0):
            raise ValueError(f"step {step_text!r} in the day of week must be a whole number above 0")
        step = int(step_text or 1)
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            low, high = (_weekday(t) for t in span.split("-", 1))
        else:
            low = _weekday(span)
            high = 6 if step_text else low
        if low > high:
            raise ValueError(f"the day-of-week range {span!r} runs backwards")
        days.update(d % 7 for d in range(low, high + 1, step))
    return ",".join(WEEKDAYS[d] for d in sorted(days))


def make_trigger(expr: str, tz: ZoneInfo):
    """An APScheduler cron trigger for a crontab expression read in `tz` (ValueError says what is wrong)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ValueError("a cron expression has 5 fields: minute hour day-of-month month day-of-week "
                         "(or 6, with seconds first)")
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, dow = fields
    return CronTrigger(second=second, minute=minute, hour=hour, day=day, month=month,
                       day_of_week=weekdays_for_apscheduler(dow), timezone=tz)


def check_cron(expr: str) -> None:
    make_trigger(expr, UTC)


def fire_times(trigger, after: datetime, until: datetime) -> list[datetime]:
    """The trigger's fire times in (after, until], in UTC."""
    out, t = [], trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while t is not None and t <= until:
        out.append(t.astimezone(UTC))
        t = trigger.get_next_fire_time(t, t + timedelta(microseconds=1))
    return out


def due_slot(trigger, now: datetime, grace: timedelta) -> datetime | None:
    """The latest fire time within the grace period up to now: the slot to deliver (older misses coalesce)."""
    times = fire_times(trigger, now - grace, now)
    return times[-1] if times else None


def slot_key(slot: datetime) -> str:
    return ensure_utc(slot).strftime("%Y-%m-%dT%H:%M:%SZ")


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
                self.plans.append(Plan(job.name, c.id, c.slug, c.tz, job.cron, make_trigger(job.cron, c.tz), job=job))
            if config.alerts:
                c = self._campaign(session, config.alerts.campaign, "[alerts]")
                self.plans.append(Plan("alert", c.id, c.slug, c.tz, config.alerts.cron,
                                       make_trigger(config.alerts.cron, c.tz), alerts=config.alerts))

    def _campaign(self, session: Session, slug: str | None, place: str) -> Campaign:
        try:
            return queries.get_campaign(session, slug)
        except TrackerError as exc:
            fix = str(exc).replace("choose one with --campaign SLUG", 'name one with campaign = "SLUG"')
            raise ConfigError(f"{self.config.path}: {place}: {fix}") from None

    # -- one pass ---------------------------------------------------------------------------

    def tick(self, now: datetime) -> list[Outcome]:
        """Deliver every slot due at `now` that no one has claimed, check alerts, and run due retries."""
        now = ensure_utc(now)
        out = []
        for plan in self.plans:
            if plan.alerts:
                out += self.check_alerts(plan, now)
            elif (slot := due_slot(plan.trigger, now, self.grace)) is not None:
                out.append(self.run_report(plan, slot, now))
        return out + self.retry_due(now)

    def fire(self, plan: Plan) -> None:
        """What APScheduler calls at a cron time: the same as a tick, for one plan, with the real clock."""
        now = utc_now()
        try:
            if plan.alerts:
                self.check_alerts(plan, now)
            elif (slot := due_slot(plan.trigger, now, self.grace)) is not None:
                self.run_report(plan, slot, now)
        except Exception as exc:  # noqa: BLE001 - e.g. the database is down: say so, keep the scheduler running
            self._trouble(f"{plan.name} {plan.slug}", exc)

    def sweep(self) -> None:
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
        key = slot_key(slot)
        if run is None:
            run_id = runs.claim(self.sessions, job=plan.name, campaign_id=plan.campaign_id, slot=key, kind="report",
                                now=now, due_at=slot, lease_seconds=self.retry.lease_seconds,
                                recipients=", ".join(plan.job.to))
            if run_id is None:
                return self._note(Outcome(plan.name, plan.slug, key, "taken", "already claimed by a scheduler"), plan)
            attempt = 1
        else:
            run_id, attempt = run.id, run.attempts + 1
        try:
            with db.transaction(self.sessions) as session:
                c = session.get(Campaign, plan.campaign_id)
                milestones = self.config.alerts.milestones if self.config.alerts else delivery.MILESTONES
                built = delivery.build_report(session, c, as_of=now, job=plan.name,
                                              attach_daily=plan.job.attach_daily, milestones=milestones)
            if plan.job.skip_unchanged and built.unchanged:
                since = built.previous.finished_at.astimezone(plan.tz)
                detail = f"unchanged since {since:%Y-%m-%d %H:%M %Z}; nothing sent"
                runs.finish(self.sessions, run_id, status="skipped", now=now, detail=detail)
                return self._note(Outcome(plan.name, plan.slug, key, "skipped", detail, attempt), plan)
            mail.send(self.smtp, mail.build_message(self.smtp.sender, list(plan.job.to), built.subject, built.text,
                                                    built.html, built.attachments, built.images))
        except Exception as exc:  # noqa: BLE001 - recorded and retried; the scheduler keeps running
            return self._failed(plan, run_id, key, now, exc, attempt)
        st = built.data.status
        runs.finish(self.sessions, run_id, status="sent", now=now, detail=built.subject, raised_cents=st.raised_cents,
                    new_donors=st.new_donors, fingerprint=built.fingerprint)
        return self._note(Outcome(plan.name, plan.slug, key, "sent", f"to {', '.join(plan.job.to)}", attempt), plan)

    # -- alerts -----------------------------------------------------------------------------

    def _status(self, plan: Plan, now: datetime):
        from tracker.service import campaign_status

        with db.transaction(self.sessions) as session:
            c = session.get(Campaign, plan.campaign_id)
            return campaign_status(session, c, as_of=now), queries.alert_keys(session, c)

    def check_alerts(self, plan: Plan, now: datetime) -> list[Outcome]:
        """Send each alert whose condition holds and that no one has recorded yet."""
        cfg = plan.alerts
        st, recorded = self._status(plan, now)
        send, passed = alert_rules.to_send(alert_rules.current(st, cfg.milestones, cfg.behind_margin_percent),
                                           recorded)
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
        try:
            with db.transaction(self.sessions) as session:
                built = delivery.build_report(session, session.get(Campaign, plan.campaign_id), as_of=now,
                                              job="alert", attach_daily=False, milestones=plan.alerts.milestones)
            text = f"{alert.headline}\n\n{built.text}"
            html = built.html.replace(
                "<h2", f'<p style="font-size:18px;margin:0 0 12px"><b>{html_lib.escape(alert.headline)}</b></p><h2', 1)
            mail.send(self.smtp, mail.build_message(self.smtp.sender, list(plan.alerts.to), alert.headline, text, html, [],
                                                    built.images))
        except Exception as exc:  # noqa: BLE001
            return self._failed(plan, run_id, alert.key, now, exc, attempt)
        runs.finish(self.sessions, run_id, status="sent", now=now, detail=alert.headline,
                    raised_cents=st.raised_cents, new_donors=st.new_donors)
        return self._note(Outcome("alert", plan.slug, alert.key, "sent", alert.headline, attempt), plan)

    # -- failures and retries ---------------------------------------------------------------

    def _failed(self, plan: Plan, run_id: int, key: str, now: datetime, exc: Exception, attempt: int) -> Outcome:
        if isinstance(exc, TrackerError):
            reason = str(exc)
        else:
            reason = f"{exc.__class__.__name__}: {exc}"
            if os.environ.get("TRACKER_DEBUG"):
                traceback.print_exc()
        status = runs.fail(self.sessions, run_id, now=now, error=reason, retry=self.retry)
        if status == "failed":
            reason += f"; next attempt in {self.retry.delay(attempt)} s"
        return self._note(Outcome(plan.name, plan.slug, key, status, reason, attempt), plan)

    def retry_due(self, now: datetime) -> list[Outcome]:
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
            alert = next((a for a in alert_rules.current(st, plan.alerts.milestones, plan.alerts.behind_margin_percent)
                          if a.key == run.slot), None)
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
        if slot[:1].isdigit():
            slot = datetime.strptime(slot, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).astimezone(plan.tz) \
                .strftime("%Y-%m-%d %H:%M:%S %Z")
        attempt = f" (attempt {outcome.attempt})" if outcome.attempt > 1 else ""
        self.log(f"{outcome.job} {outcome.slug} {slot}: {outcome.status}{attempt}: {outcome.detail}")
        return outcome

    # -- the long-running scheduler ---------------------------------------------------------

    def upcoming(self, now: datetime, count: int = 3) -> list[tuple[Plan, list[datetime]]]:
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
