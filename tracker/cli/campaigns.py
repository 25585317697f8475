"""`tracker campaign create|list`."""

from __future__ import annotations

import json

import click

from tracker import db, queries
from tracker.cli.context import Context, pass_ctx
from tracker.dates import isoformat_local, parse_date, utc_now
from tracker.errors import UsageError, ValueProblem
from tracker.money import format_money, parse_cents


@click.group("campaign")
def campaign_group() -> None:
    """Create and list campaigns.

    Example: tracker campaign list
    """


@campaign_group.command("create")
@click.option("--slug", required=True, help="Short name used on the command line, e.g. dec-2026.")
@click.option("--name", required=True, help="Name shown to people, e.g. 'Year-end 2026'.")
@click.option("--goal", required=True, help="Goal in the campaign's currency, e.g. 400000 or 400,000.00.")
@click.option("--currency", default="USD", show_default=True, help="ISO currency code.")
@click.option("--start", required=True, help="First day, YYYY-MM-DD.")
@click.option("--end", required=True, help="Last day, YYYY-MM-DD (the deadline is 23:59:59 that day).")
@click.option("--timezone", "tz_name", required=True, help="IANA time zone of the campaign, e.g. America/Los_Angeles.")
@click.option("--goal-new-donors", type=click.IntRange(min=1), help="Also a goal in new donors (never gave before).")
@click.option("--goal-donors", type=click.IntRange(min=1), help="Also a goal in donors, new or returning.")
@click.option("--fiscal-year-start", type=click.IntRange(1, 12), default=1, show_default=True,
              help="First month of the fiscal year (for December's share of the year).")
@click.option("--raised", "raised_basis", type=click.Choice(["gross", "net_of_fees"]), default="gross", show_default=True,
              help="What 'raised' means: amount minus refunds, or also minus processing fees.")
@pass_ctx
def campaign_create(ctx: Context, slug, name, goal, currency, start, end, tz_name, goal_new_donors, goal_donors,
                    fiscal_year_start, raised_basis) -> None:
    """Create a campaign: a goal over whole days in the campaign's own time zone.

    The window is [start 00:00, the day after end 00:00) local time.

    Example: tracker campaign create --slug dec-2026 --name "Year-end 2026" --goal 400000
    --currency USD --start 2026-12-01 --end 2026-12-31 --timezone America/Los_Angeles
    """
    from tracker.manage import create_campaign

    try:
        goal_cents = parse_cents(goal)
        start_d, end_d = parse_date(start), parse_date(end)
    except ValueProblem as exc:
        raise UsageError(str(exc)) from None
    with db.transaction(ctx.sessions()) as session:
        c = create_campaign(
            session, slug=slug, name=name, goal_cents=goal_cents, currency=currency.upper(),
            timezone=tz_name, start=start_d, end=end_d, now=utc_now(), goal_new_donors=goal_new_donors,
            goal_donors=goal_donors, fiscal_year_start_month=fiscal_year_start, raised_basis=raised_basis,
        )
        click.echo(
            f"created campaign {c.slug}: {c.name}, goal {format_money(c.goal_cents, c.currency)}, "
            f"{c.start_date} to {c.end_date} ({c.timezone}), deadline {isoformat_local(c.ends_at, c.tz)} exclusive"
        )


@campaign_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def campaign_list(ctx: Context, as_json: bool) -> None:
    """List campaigns, newest first.

    Example: tracker campaign list --json
    """
    from tracker.money import cents_to_decimal_str

    with db.transaction(ctx.sessions()) as session:
        rows = queries.list_campaigns(session)
        if as_json:
            click.echo(json.dumps([
                {"slug": c.slug, "name": c.name, "goal": cents_to_decimal_str(c.goal_cents), "currency": c.currency,
                 "start": c.start_date.isoformat(), "end": c.end_date.isoformat(), "timezone": c.timezone}
                for c in rows
            ], indent=2))
            return
        if not rows:
            click.echo("no campaigns yet; create one with: tracker campaign create --help")
            return
        click.echo(f"{'SLUG':<16} {'NAME':<24} {'GOAL':>14} {'START':<10}  {'END':<10}  TIME ZONE")
        for c in rows:
            click.echo(
                f"{c.slug:<16} {c.name[:24]:<24} {format_money(c.goal_cents, c.currency):>14} "
                f"{c.start_date}  {c.end_date}  {c.timezone}"
            )
