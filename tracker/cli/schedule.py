"""`tracker schedule`: the configured report jobs and alerts, on their cron schedules.

The clock is read here, or given by --as-of.
"""

from __future__ import annotations

import click

from tracker.cli.context import Context, pass_ctx
from tracker.dates import parse_as_of, utc_now
from tracker.errors import UsageError, ValueProblem


@click.command("schedule")
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
    from tracker.reporting.schedule import Scheduler

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
