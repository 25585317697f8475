"""`tracker schedule` (the configured report jobs and alerts) and `tracker reports list` (their history).

Registered on the main command group by tracker.cli; the clock is read here, or given by --as-of.
"""

from __future__ import annotations

import json

import click

from tracker import db, queries
from tracker.cli import Context, cli, pass_ctx
from tracker.dates import parse_as_of, utc_now, zone
from tracker.errors import UsageError, ValueProblem


@cli.command("schedule")
@click.option("--once", is_flag=True,
              help="Deliver what is due now (or at --as-of), retry what is due, and exit; e.g. from cron every 5 minutes.")
@click.option("--show", is_flag=True, help="List the jobs and their next three times, and exit.")
@click.option("--as-of", "as_of", help="With --once or --show: act as if it were this moment (ISO 8601; naive = "
                                       "the first job's campaign zone).")
@click.option("--verbose", "-v", is_flag=True,
              help="With --once: also say when there is nothing to do, or a slot was already delivered.")
@pass_ctx
def schedule_cmd(ctx: Context, once: bool, show: bool, as_of: str | None, verbose: bool) -> None:
    """Run the configuration's report jobs and alerts on their cron schedules, until stopped.

    Each job's cron expression is read in its campaign's time zone. Each slot is delivered once,
    even with several schedulers on one database; failures are retried with doubling delays.
    With --once it prints only what it delivered or failed to, so cron mails nothing otherwise.
    The configuration comes from --config, $TRACKER_CONFIG or ./tracker.toml (see
    data/tracker.example.toml). Exit status: 0, or 1 when a delivery failed (with --once).

    Example: tracker --config tracker.toml schedule
    """
    from tracker.schedule import Scheduler

    if as_of and not (once or show):
        raise UsageError("--as-of needs --once or --show: a running scheduler follows the real clock")
    scheduler = Scheduler(ctx.sessions(), ctx.config, verbose=verbose or not once)
    now = utc_now()
    if as_of:
        try:
            now = parse_as_of(as_of, scheduler.plans[0].tz)
        except ValueProblem as exc:
            raise UsageError(f"--as-of: {exc}") from None
    if show:
        for plan, times in scheduler.upcoming(now):
            to = plan.job.to if plan.job else plan.alerts.to
            click.echo(f"{plan.name}  {plan.slug}  {plan.cron!r} ({plan.tz.key})  to {', '.join(to)}")
            for t in times:
                click.echo(f"    {t.astimezone(plan.tz):%a %Y-%m-%d %H:%M:%S %Z}")
        return
    if once:
        outcomes = scheduler.tick(now)  # quiet when nothing happened, so cron mails nothing
        if verbose and not outcomes:
            click.echo("nothing due", err=True)
        if any(o.status in ("failed", "gave_up") for o in outcomes):
            click.get_current_context().exit(1)
        return
    scheduler.serve()


@cli.group("reports")
def reports_group() -> None:
    """The history of reports and alerts delivered.

    Example: tracker reports list
    """


@reports_group.command("list")
@click.option("--campaign", "slug", help="Only this campaign.")
@click.option("--limit", default=30, show_default=True, help="How many runs, the most recent first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def reports_list(ctx: Context, slug: str | None, limit: int, as_json: bool) -> None:
    """List report and alert runs, the most recent first: when, job, slot, status, attempts, to whom, detail.

    Example: tracker reports list --campaign dec-2026 --limit 10
    """
    with db.transaction(ctx.sessions()) as session:
        campaign = queries.get_campaign(session, slug) if slug else None
        zones = {c.slug: c.timezone for c in queries.list_campaigns(session)}
        rows = queries.list_runs(session, limit, campaign)
        if as_json:
            click.echo(json.dumps([run_json(run, s) for run, s in rows], indent=2))
            return
        if not rows:
            click.echo("no reports or alerts yet (tracker report --email, or tracker schedule)")
            return
        for run, s in rows:
            tz = zone(zones[s])
            when = run.started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
            attempts = f" after {run.attempts} attempts" if run.attempts > 1 else ""
            retry = f"; next attempt {run.next_attempt_at.astimezone(tz):%H:%M:%S}" if run.next_attempt_at else ""
            to = f" to {run.recipients}" if run.recipients else ""
            click.echo(f"{when}  {s}  {run.job} [{run.slot}]  {run.status}{attempts}{to}: {run.detail}{retry}")


def run_json(run, slug: str) -> dict:
    iso = lambda t: None if t is None else t.isoformat()  # noqa: E731
    return {"campaign": slug, "job": run.job, "slot": run.slot, "kind": run.kind, "status": run.status,
            "attempts": run.attempts, "due_at": iso(run.due_at), "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at), "next_attempt_at": iso(run.next_attempt_at), "owner": run.owner,
            "recipients": run.recipients, "detail": run.detail}
