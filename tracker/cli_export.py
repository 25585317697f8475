"""The finance commands: `tracker export KIND` and `tracker audit list`.

Registered on the main command group by tracker.cli; one session per command, the clock read here.
"""

from __future__ import annotations

import getpass
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from tracker import db, queries
from tracker.cli import Context, _as_of, cli, pass_ctx
from tracker.dates import utc_now
from tracker.errors import TrackerError, UsageError
from tracker.finance import KINDS, PERSONAL_KINDS


@contextmanager
def _output(out: Path | None, fmt: str = "csv", title: str = "export"):
    if fmt == "xlsx":
        from tracker.export import XlsxSheet

        if out is None:
            raise UsageError("--format xlsx needs --out FILE.xlsx")
        sheet = XlsxSheet(title)
        yield sheet
        try:
            sheet.save(out)
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror}") from None
        return
    if out is None:
        yield sys.stdout
        return
    try:
        fh = out.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror}") from None
    with fh:
        yield fh


@cli.command("export")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@click.option("--from", "from_", metavar="DATE", help="First local day to include (YYYY-MM-DD; default: the window's first).")
@click.option("--to", "to", metavar="DATE", help="Last local day to include (YYYY-MM-DD; default: the window's last).")
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True,
              help="CSV, or an Excel workbook (needs --out).")
@click.option("--excel", is_flag=True, help="CSV: start the file with a byte-order mark so Excel reads it as UTF-8.")
@click.option("--include-personal", is_flag=True,
              help="donations, donors, lybunt: add donor name and e-mail (recorded in the audit log).")
@click.option("--as-of", "as_of", help="Only gifts donated by this moment (ISO 8601; default: now).")
@pass_ctx
def export_cmd(ctx: Context, kind: str, slug, from_, to, out, fmt, excel, include_personal, as_of) -> None:
    """Write a finance export as CSV: donations, daily, channels, appeals, donors, lybunt or reconciliation.

    Dates are inclusive local days in the campaign's time zone. Amounts have two decimals and no
    thousands separators; times are ISO 8601 with the campaign's offset. Text that a spreadsheet
    would run as a formula is made inert. The reconciliation ends with a line saying whether the
    totals by source and by day tie to `tracker status` to the cent (exit 1 when they do not).

    Example: tracker export donations --campaign dec-2026 --from 2026-12-01 --to 2026-12-31 --out gifts.csv
    """
    from tracker import finance

    if include_personal and kind not in PERSONAL_KINDS:
        raise UsageError(f"--include-personal applies to the {', '.join(PERSONAL_KINDS)} exports only")
    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        moment = _as_of(as_of, c.timezone)
        try:
            w = finance.window(c, from_, to, moment)
        except UsageError as exc:
            raise UsageError(f"--from/--to: {str(exc).removeprefix('from/to: ')}") from None
        with _output(out, fmt, f"{c.slug} {kind}") as fh:
            _rows, ties = finance.write(session, c, kind, fh, w, moment, personal=include_personal, excel=excel,
                                        actor=getpass.getuser(), destination=str(out or "standard output"),
                                        now=utc_now())
    if out is not None:
        click.echo(f"wrote {out}", err=True)
    if kind == "reconciliation" and not ties:
        raise SystemExit(1)


@cli.group("audit")
def audit_group() -> None:
    """See who exported personal data, when, and how much.

    Example: tracker audit list
    """


@audit_group.command("list")
@click.option("--limit", default=50, show_default=True, help="How many entries, newest first.")
@pass_ctx
def audit_list(ctx: Context, limit: int) -> None:
    """List audit entries, newest first: when, who, what, rows.

    Example: tracker audit list --limit 20
    """
    with db.transaction(ctx.sessions()) as session:
        entries = queries.list_audit(session, limit)
        if not entries:
            click.echo("no personal data has been exported")
            return
        for e in entries:
            click.echo(f"{e.at:%Y-%m-%d %H:%M:%S}Z  {e.actor}  {e.action}: {e.detail} ({e.rows:,} rows)")


@cli.command("report")
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
    import json as json_lib
    import uuid

    from tracker import delivery, mail, reports, runs

    config = mail.SmtpConfig.from_env(file=ctx.config.mail) if emails else None  # stop before any work
    sessions = ctx.sessions()
    with db.transaction(sessions) as session:
        c = queries.get_campaign(session, slug)
        moment = _as_of(as_of, c.timezone)
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
        "json": lambda d: json_lib.dumps(reports.render_json(d), indent=2) + "\n",
    }[fmt](built.data)
    if not delivering:
        click.echo(rendered, nl=False)
        return
    run_id = runs.claim(sessions, job=job, campaign_id=campaign_id, slot=slot, kind="report", now=moment,
                        recipients=", ".join(emails))
    try:
        if emails:
            mail.send(config, mail.build_message(config.sender, list(emails), built.subject, built.text, built.html,
                                                 built.attachments, built.images))
        if out is not None:
            with _output(out) as fh:
                fh.write(rendered)
    except TrackerError as exc:
        runs.fail(sessions, run_id, now=moment, error=str(exc), retry=None)
        raise
    st = built.data.status
    runs.finish(sessions, run_id, status="sent" if emails else "written", now=moment, detail=built.subject,
                raised_cents=st.raised_cents, new_donors=st.new_donors, fingerprint=built.fingerprint)
    if emails:
        click.echo(f"sent to {', '.join(emails)}", err=True)
    if out is not None:
        click.echo(f"wrote {out}", err=True)
