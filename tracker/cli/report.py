"""`tracker report` (the progress report, written or e-mailed) and `tracker reports list` (the history).

A report that is sent or written goes through the same deliver-once protocol as the scheduler's
(tracker.reporting.runs): claimed under a slot of its own, attempted, and recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker import db, queries
from tracker.cli.context import Context, pass_ctx, read_as_of
from tracker.dates import zone


@click.command("report")
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "html", "json"]), default="text",
              show_default=True, help="How to write the report.")
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file (default: standard output).")
@click.option("--email", "emails", multiple=True, metavar="ADDR",
              help="E-mail the report (text and HTML, the daily CSV attached) to ADDR; repeat for more.")
@click.option("--skip-unchanged", is_flag=True,
              help="Send or write nothing when no figure changed since this job's last report.")
@click.option("--job", default="report", show_default=True,
              help="Name the report is recorded under: milestones and --skip-unchanged count from its last one.")
@click.option("--as-of", "as_of", help="The report as it stood at this moment (ISO 8601; default: now).")
@pass_ctx
def report_cmd(ctx: Context, slug, fmt, out, emails, skip_unchanged, job, as_of) -> None:
    """Write or e-mail the progress report: raised, gap, time left, pace, projection, donors, milestones.

    E-mail goes through the SMTP server set by TRACKER_SMTP_HOST, TRACKER_SMTP_PORT,
    TRACKER_SMTP_SECURITY (none|starttls|ssl), TRACKER_SMTP_USER, TRACKER_SMTP_PASSWORD and
    TRACKER_MAIL_FROM (or [mail] in the configuration file). A report sent or written is recorded
    (tracker reports list). Exit status for cron: 0 written, sent or skipped as unchanged, 1 with a
    one-line reason otherwise.

    Example: tracker report --campaign dec-2026 --email director@example.org --skip-unchanged
    """
    import uuid

    from tracker.cli.export import output
    from tracker.reporting import delivery, mail, reports, runs

    config = mail.SmtpConfig.from_env(file=ctx.config.mail) if emails else None  # stop before any work
    sessions = ctx.sessions()
    with db.transaction(sessions) as session:
        c = queries.get_campaign(session, slug)
        moment = read_as_of(as_of, c.timezone)
        milestones = ctx.config.alerts.milestones if ctx.config.alerts else delivery.MILESTONES
        built = delivery.build_report(session, c, as_of=moment, job=job, attach_daily=bool(emails),
                                      milestones=milestones, for_email=bool(emails))
        campaign_id, tz = c.id, c.tz
    delivering = bool(emails) or out is not None
    slot = f"manual {moment:%Y-%m-%dT%H:%M:%SZ} {uuid.uuid4().hex[:8]}"
    if skip_unchanged and built.unchanged:
        since = built.previous.finished_at.astimezone(tz)
        if delivering:
            runs.claim(sessions, job=job, campaign_id=campaign_id, slot=slot, kind="report", now=moment,
                       status="skipped", recipients=", ".join(emails), detail=f"unchanged since {since:%Y-%m-%d %H:%M %Z}")
        click.echo(f"nothing changed since the {job!r} report of {since:%Y-%m-%d %H:%M %Z}; nothing sent or written",
                   err=True)
        return
    rendered = {
        "text": lambda d: built.text, "markdown": reports.render_markdown, "html": reports.render_html,
        "json": lambda d: json.dumps(reports.render_json(d), indent=2) + "\n",
    }[fmt](built.data)
    if not delivering:
        click.echo(rendered, nl=False)
        return
    run_id = runs.claim(sessions, job=job, campaign_id=campaign_id, slot=slot, kind="report", now=moment,
                        recipients=", ".join(emails))

    def send() -> runs.Delivered:
        if emails:
            mail.send(config, mail.build_message(config.sender, list(emails), built.subject, built.text, built.html,
                                                 built.attachments, built.images))
        if out is not None:
            with output(out) as fh:
                fh.write(rendered)
        st = built.data.status
        return runs.Delivered("sent" if emails else "written", built.subject, st.raised_cents, st.new_donors,
                              built.fingerprint)

    runs.deliver(sessions, run_id, send, now=moment, retry=None, reraise=True)
    if emails:
        click.echo(f"sent to {', '.join(emails)}", err=True)
    if out is not None:
        click.echo(f"wrote {out}", err=True)


@click.group("reports")
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
    """One report or alert run as `tracker reports list --json` prints it."""
    iso = lambda t: None if t is None else t.isoformat()  # noqa: E731
    return {"campaign": slug, "job": run.job, "slot": run.slot, "kind": run.kind, "status": run.status,
            "attempts": run.attempts, "due_at": iso(run.due_at), "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at), "next_attempt_at": iso(run.next_attempt_at), "owner": run.owner,
            "recipients": run.recipients, "detail": run.detail}
