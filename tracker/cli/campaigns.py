"""`tracker campaign create|edit|delete|list`."""

from __future__ import annotations

import json

import click

from tracker import db, queries
from tracker.cli.context import Context, os_user, pass_ctx, read_as_of
from tracker.dates import isoformat_local, parse_date, utc_now
from tracker.errors import UsageError, ValueProblem
from tracker.money import format_money, parse_cents


@click.group("campaign")
def campaign_group() -> None:
    """Create, edit, delete and list campaigns.

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
@click.option("--goal-counts", type=click.Choice(["raised", "with_match", "with_received_match"]), default="raised",
              show_default=True, help="What the goal's percent and gap count: raised, or also the match earned, or "
                                      "also the match received (tracker match).")
@pass_ctx
def campaign_create(ctx: Context, slug, name, goal, currency, start, end, tz_name, goal_new_donors, goal_donors,
                    fiscal_year_start, raised_basis, goal_counts) -> None:
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
            goal_counts=goal_counts,
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


def _donor_goal(option: str, text: str | None):
    """A donor goal as given: a whole number above 0, or "none" to remove it."""
    if text.strip().lower() == "none":
        return None
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise UsageError(f"{option} {text!r}: give a whole number of donors above 0, e.g. 1500, or none") from None
    if value <= 0:
        raise UsageError(f"{option} {text!r}: give a whole number of donors above 0, e.g. 1500, or none")
    return value


@campaign_group.command("edit")
@click.argument("slug")
@click.option("--goal", help="New goal in the campaign's currency, e.g. 450000 (a stretch goal).")
@click.option("--name", help="New name shown to people.")
@click.option("--goal-new-donors", help="New goal in new donors, or none to remove it.")
@click.option("--goal-donors", help="New goal in donors, or none to remove it.")
@click.option("--end", help="New last day, YYYY-MM-DD (the deadline is 23:59:59 that day).")
@click.option("--start", help="New first day, YYYY-MM-DD (needs --force).")
@click.option("--timezone", "tz_name", help="New IANA time zone (needs --force).")
@click.option("--goal-counts", type=click.Choice(["raised", "with_match", "with_received_match"]),
              help="What the goal's percent and gap count: raised, or also the match earned, or received.")
@click.option("--force", is_flag=True, help="Allow --start and --timezone, which re-count the campaign's gifts.")
@click.option("--as-of", "as_of", help="Record the edit at this moment (ISO 8601; naive = campaign's zone; default: now).")
@pass_ctx
def campaign_edit(ctx: Context, slug, goal, name, goal_new_donors, goal_donors, end, start, tz_name, goal_counts,
                  force, as_of) -> None:
    """Change a campaign: only the options given change, each recorded with who and when (shown by status and
    on the dashboard: "goal raised to $450,000 on Dec 29").

    --start and --timezone need --force; any change of the window prints how many gifts move into and out of it.

    Example: tracker campaign edit dec-2026 --goal 450000 --end 2027-01-02
    """
    from tracker.campaign import Change, change_text
    from tracker.manage import edit_campaign

    wanted: dict = {}
    for option, key, text, parse in (("--goal", "goal_cents", goal, parse_cents), ("--end", "end_date", end, parse_date),
                                     ("--start", "start_date", start, parse_date)):
        if text is not None:
            try:
                wanted[key] = parse(text)
            except ValueProblem as exc:
                raise UsageError(f"{option}: {exc}") from None
    if name is not None:
        wanted["name"] = name
    if goal_new_donors is not None:
        wanted["goal_new_donors"] = _donor_goal("--goal-new-donors", goal_new_donors)
    if goal_donors is not None:
        wanted["goal_donors"] = _donor_goal("--goal-donors", goal_donors)
    if tz_name is not None:
        wanted["timezone"] = tz_name
    if goal_counts is not None:
        wanted["goal_counts"] = goal_counts
    if not wanted:
        raise UsageError("nothing to change: give --goal, --name, --goal-new-donors, --goal-donors, --goal-counts, "
                         "--end, --start or --timezone")
    actor = os_user()
    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        now = read_as_of(as_of, c.timezone)
        done = edit_campaign(session, c, actor=actor, now=now, force=force, **wanted)
        if not done.changed:
            click.echo(f"{c.slug} already has those values: nothing changed")
            return
        from tracker.finance import audit

        audit(session, actor=actor, action="campaign edit", rows=len(done.changed), now=now,
              detail=f"{c.slug}: " + ", ".join(f"{key} {old} -> {new}" for key, old, new in done.changed))
        for key, old, new in done.changed:
            click.echo(f"{c.slug}: {change_text(Change(now, actor, key, old, new), c.tz, c.currency)}")
        if done.moved_in is not None:
            (n_in, cents_in), (n_out, cents_out) = done.moved_in, done.moved_out
            click.echo(f"the window is now {c.start_date} to {c.end_date} ({c.timezone}), deadline "
                       f"{isoformat_local(c.ends_at, c.tz)} exclusive: {n_in:,} gift{'s' * (n_in != 1)} "
                       f"({format_money(cents_in, c.currency)}) moved into it, {n_out:,} "
                       f"({format_money(cents_out, c.currency)}) out of it")


@campaign_group.command("delete")
@click.argument("slug")
@click.option("--force", is_flag=True, help="Delete even when gifts, report runs, variants or scheduled jobs refer to it.")
@pass_ctx
def campaign_delete(ctx: Context, slug: str, force: bool) -> None:
    """Delete a campaign with its report history, popup variants and edits. Refused while counted gifts in its
    window, report runs, variants or the configuration's scheduled jobs refer to it, unless --force; the gifts
    themselves are never deleted (they count for any campaign whose window holds them).

    Example: tracker campaign delete test-run --force
    """
    from tracker.manage import delete_campaign, scheduled_for

    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        only = len(queries.list_campaigns(session)) == 1
        scheduled = scheduled_for(ctx.config, c, only)
        refs = delete_campaign(session, c, now=utc_now(), force=force, scheduled=scheduled)
        from tracker.finance import audit

        audit(session, actor=os_user(), action="campaign delete", rows=0, now=utc_now(),
              detail=f"{slug}: {refs['report_runs']:,} report runs, {refs['variants']:,} popup variants, "
                     f"{refs['changes']:,} edits, {refs['match_pools']:,} match pools deleted")
    click.echo(f"deleted campaign {slug} with {refs['report_runs']:,} report runs, {refs['variants']:,} popup "
               f"variants, {refs['changes']:,} edits and {refs['match_pools']:,} match pools; its {refs['gifts']:,} "
               "counted gifts stay")
    if scheduled:
        click.echo(f"the configuration's {', '.join(scheduled)} still name it: remove them from "
                   f"{ctx.config.path or 'the configuration'}", err=True)
