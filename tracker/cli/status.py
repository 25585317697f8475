"""`tracker status` (where a campaign stands) and `tracker backtest` (how good its projections have been)."""

from __future__ import annotations

import json

import click

from tracker import campaign as campaign_math, db, queries
from tracker.cli.context import Context, pass_ctx, read_as_of
from tracker.money import format_money


@click.command("status")
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@click.option("--as-of", "as_of", help="See the campaign as it stood at this moment (ISO 8601; naive = campaign's zone).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (money as decimal strings).")
@pass_ctx
def status_cmd(ctx: Context, slug: str | None, as_of: str | None, as_json: bool) -> None:
    """Show where a campaign stands: raised, gap, time left, pace, earlier years, projection, donors.

    "Raised" is the amount minus refunds of gifts with status succeeded, partially_refunded or
    refunded, donated inside the window and at or before --as-of (also minus processing fees for
    a campaign created with --raised net_of_fees). The JSON keys are described in the README.

    Example: tracker status --campaign dec-2026 --as-of 2026-12-20T12:00 --json
    """
    from tracker.service import campaign_status

    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        st = campaign_status(session, c, as_of=read_as_of(as_of, c.timezone))
    if as_json:
        click.echo(json.dumps(campaign_math.status_json(st), indent=2))
        return
    click.echo(_status_text(st))


def _status_text(st: campaign_math.Status) -> str:
    tz, cur = st.tz, st.currency

    def money(cents: int | None) -> str:
        return "-" if cents is None else format_money(cents, cur)

    local = st.as_of.astimezone(tz)
    pace = st.pace_needed
    needed = "the campaign is closed" if pace is None else f"{money(pace[0])} per {pace[1]} to reach the goal"
    basis = "gross of fees, net of refunds" if st.raised_basis == "gross" else "net of fees and refunds"
    lines = [
        f"{st.name} ({st.slug}) as of {local:%Y-%m-%d %H:%M %Z}: {st.phase.replace('_', ' ')}",
        f"  Raised     {money(st.raised_cents)} of {money(st.goal_cents)} ({st.percent}%), {basis}",
        f"  Gap        {money(st.gap_cents)}",
        f"  Gifts      {st.donations:,} from {st.donors:,} donors ({st.new_donors:,} new, {st.returning_donors:,} returning)",
        f"  Deadline   {st.deadline.astimezone(tz):%Y-%m-%d %H:%M:%S %Z} ({campaign_math.time_left_text(st.seconds_left)}"
        f"{'' if st.seconds_left <= 0 else ' left'})",
        f"  Needed     {needed}",
        f"  Pace       {money(st.last_24_hours_cents)} in the last 24 hours, {money(st.last_7_days_cents)} in the last 7 days",
    ]
    if st.typical_position:
        lines.append(f"  Typical    {st.typical_position} the typical curve (goal's curve is at {money(st.typical_cents_by_now)} by now)")
    for g in st.goals:
        lines.append(f"  Goal       {g.count:,} of {g.goal:,} {g.name.replace('_', ' ')} ({g.percent}%)"
                     + ("" if g.needed_per_day is None else f", {g.needed_per_day:,} a day needed"))
    p = st.projection
    if p and p.expected_cents is not None:
        lines.append(f"  Projected  {money(p.expected_cents)} (80% range {money(p.low_cents)} to {money(p.high_cents)}), "
                     f"chance of reaching the goal {p.chance_of_goal:.0%}, {p.basis}")
    elif p:
        lines.append(f"  Projected  not yet: {p.basis}")
    for c in st.comparisons:
        share = "" if c.share_of_final is None else f", {c.share_of_final:.1%} of its final {money(c.final_cents)}"
        lines.append(f"  {c.slug:<10} {money(c.cents_then)} at this point{share}")
    seg = st.segments
    lines.append(
        f"  Donors     new {seg.new.donors:,} ({money(seg.new.cents)}), retained {seg.retained.donors:,} "
        f"({money(seg.retained.cents)}), reactivated {seg.reactivated.donors:,} ({money(seg.reactivated.cents)})"
    )
    if seg.lybunt_campaign:
        lines.append(f"  LYBUNT     {seg.lybunt.donors:,} donors of {seg.lybunt_campaign} not back yet "
                     f"({money(seg.lybunt.cents)} last time)")
    lines.append(f"  Recurring  {seg.recurring.donors:,} gifts ({money(seg.recurring.cents)}); one-time "
                 f"{seg.one_time.donors:,} ({money(seg.one_time.cents)})")
    if st.fiscal and st.fiscal.share is not None:
        earlier = ", ".join(f"{slug} {share:.1%}" for slug, share in st.fiscal.earlier if share is not None)
        lines.append(f"  Year       {st.fiscal.share:.1%} of fiscal year {st.fiscal.year_starts} to {st.fiscal.year_ends}"
                     + (f" (earlier: {earlier})" if earlier else ""))
    if st.phase == "closed":
        lines.append(f"  Late       {money(st.late_cents)} in {st.late_gifts:,} gifts imported after the deadline")
    return "\n".join(lines)


@click.command("backtest")
@click.option("--campaign", "slug", help="Replay the campaigns before this one (may be left out when there is only one).")
@click.option("--as-of", "as_of", help="Use only campaigns closed by this moment (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def backtest_cmd(ctx: Context, slug: str | None, as_of: str | None, as_json: bool) -> None:
    """Show how good the projections have been: replay each earlier campaign day by day.

    At the end of each day of each earlier campaign, project its final from only what was known
    then (its own gifts so far and the campaigns before it), and compare with its real final:
    the mean absolute percentage error by campaign day, and how often the 80% range held the final.

    Example: tracker backtest --campaign dec-2026
    """
    from tracker.service import campaign_backtest

    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        result = campaign_backtest(session, c, as_of=read_as_of(as_of, c.timezone))
    error20, held20 = result.summary_from(20)
    if as_json:
        click.echo(json.dumps({
            "campaign": c.slug, "replayed": list(result.replayed), "range_level": 0.8,
            "days": [{"day": d.day, "campaigns": d.campaigns, "mean_abs_pct_error": round(d.mean_abs_pct_error, 2),
                      "range_held": d.contained} for d in result.days],
            "from_day_20": {"mean_abs_pct_error": None if error20 is None else round(error20, 2),
                            "range_held_share": None if held20 is None else round(held20, 4)},
        }, indent=2))
        return
    if not result.replayed:
        click.echo(f"no earlier campaign in {c.currency} before {c.slug}: nothing to replay")
        return
    click.echo(f"Replayed {', '.join(result.replayed)} (projection at the end of each day vs. the real final)")
    click.echo("  day  error  range held")
    for d in result.days:
        click.echo(f"  {d.day:>3}  {d.mean_abs_pct_error:5.1f}%  {d.contained}/{d.campaigns}")
    if error20 is not None:
        click.echo(f"From day 20 on: mean error {error20:.1f}%, the 80% range held the final {held20:.0%} of the time")
