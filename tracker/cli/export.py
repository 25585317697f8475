"""The finance commands: `tracker export KIND` and `tracker audit list`."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from tracker import db, queries
from tracker.cli.context import Context, organization_currency, organization_zone, os_user, pass_ctx, read_as_of
from tracker.dates import utc_now, zone
from tracker.errors import TrackerError, UsageError
from tracker.finance import KINDS, PERSONAL_KINDS, RANGE_KINDS


@contextmanager
def output(out: Path | None, fmt: str = "csv", title: str = "export"):
    """Where an export or report goes: --out FILE (CSV text, or an XlsxSheet saved at the end), else stdout."""
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


@click.command("export")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one, or with --from and --to).")
@click.option("--from", "from_", metavar="DATE", help="First local day to include (YYYY-MM-DD; default: the window's first).")
@click.option("--to", "to", metavar="DATE", help="Last local day to include (YYYY-MM-DD; default: the window's last).")
@click.option("--timezone", "tz_name", metavar="ZONE",
              help="Without --campaign: the zone of the days (default: $TRACKER_TIMEZONE, else the campaigns' zone).")
@click.option("--out", type=click.Path(path_type=Path), help="Write to this file (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True,
              help="CSV, or an Excel workbook (needs --out).")
@click.option("--excel", is_flag=True, help="CSV: start the file with a byte-order mark so Excel reads it as UTF-8.")
@click.option("--include-personal", is_flag=True,
              help="donations, donors, lybunt: add donor name and e-mail (recorded in the audit log first).")
@click.option("--as-of", "as_of", help="Only gifts donated by this moment (ISO 8601; default: now).")
@pass_ctx
def export_cmd(ctx: Context, kind: str, slug, from_, to, tz_name, out, fmt, excel, include_personal, as_of) -> None:
    """Write a finance export as CSV: donations, daily, channels, appeals, donors, lybunt or reconciliation.

    Dates are inclusive local days in the campaign's time zone. Without --campaign, --from and --to
    together take any local days in the organization's zone, whatever the campaigns (donations,
    daily, channels and reconciliation; appeals, donors and lybunt need a campaign). Amounts have two
    decimals and no thousands separators; times are ISO 8601 with the zone's offset. Text that a
    spreadsheet would run as a formula is made inert. The reconciliation ends with a line saying
    whether the totals by source and by day tie to `tracker status` to the cent (exit 1 when not).
    With --include-personal the audit entry is committed before the first row is written.

    Example: tracker export donations --campaign dec-2026 --from 2026-12-01 --to 2026-12-31 --out gifts.csv

    Example: tracker export donations --from 2026-11-01 --to 2026-11-30 --out november.csv
    """
    from tracker import finance

    if include_personal and kind not in PERSONAL_KINDS:
        raise UsageError(f"--include-personal applies to the {', '.join(PERSONAL_KINDS)} exports only")
    if tz_name and (slug or not (from_ and to)):
        raise UsageError("--timezone is for the days of --from and --to without --campaign (a campaign has its zone)")
    sessions = ctx.sessions()
    try:
        with db.transaction(sessions) as session:
            if not slug and from_ and to and kind in RANGE_KINDS:
                tz = zone(tz_name) if tz_name else organization_zone(session)
                c = finance.period(session, from_, to, tz=tz, currency=organization_currency(session))
            else:
                try:
                    c = queries.get_campaign(session, slug)
                except TrackerError as exc:
                    if slug or kind in RANGE_KINDS:
                        raise
                    raise UsageError(f"{exc}; the {kind} export needs a campaign (--campaign SLUG): only "
                                     f"{', '.join(RANGE_KINDS)} take any local days without one") from None
            moment = read_as_of(as_of, c.timezone)
            w = finance.window(c, from_, to, moment)
            with output(out, fmt, f"{c.slug} {kind}") as fh:
                _rows, ties = finance.write(session, c, kind, fh, w, moment, personal=include_personal, excel=excel,
                                            actor=os_user(), destination=f"{out or 'standard output'} "
                                            "(command line: the actor is the operating-system user of the process)",
                                            now=utc_now(), record=finance.record_apart(sessions))
                if out is None:
                    sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:  # the reader stopped early (| head): what was asked is recorded; the rest goes nowhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(141) from None  # as a shell reports a process ended by SIGPIPE
    if out is not None:
        click.echo(f"wrote {out}", err=True)
    if kind == "reconciliation" and not ties:
        raise SystemExit(1)


@click.group("audit")
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
