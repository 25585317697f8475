"""`tracker status` (where a campaign stands) and `tracker backtest` (how good its projections have been)."""

from __future__ import annotations

import json

import click

from tracker import campaign as campaign_math, db, queries
from tracker.cli.context import Context, pass_ctx, read_as_of
from tracker.dates import zone
from tracker.money import format_money
from tracker.wording import count, verb
from tracker.projection.combine import RANGE_LEVEL
from tracker.projection.methods import DESCRIPTIONS


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
    from tracker import demo
    from tracker.service import campaign_status

    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        st = campaign_status(session, c, as_of=read_as_of(as_of, c.timezone))
        notice = None if as_of or not c.demo else demo.notice(session, "status")
    if notice:  # on stderr, so that --json stays valid
        click.echo(notice, err=True)
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
        f"  Committed  {campaign_math.committed_line(st.committed, cur)}, not yet received (not in raised)"
        if st.committed.pledges else "  Committed  none (no pledge awaits its money)",
        f"  Gap        {money(st.gap_cents)}",
        f"  Gifts      {st.donations:,} from {st.donors:,} donors ({st.new_donors:,} new, {st.returning_donors:,} returning)",
        f"  Deadline   {st.deadline.astimezone(tz):%Y-%m-%d %H:%M:%S %Z} ({campaign_math.time_left_text(st.seconds_left)}"
        f"{'' if st.seconds_left <= 0 else ' left'})",
        f"  Needed     {needed}",
        f"  Pace       {money(st.last_24_hours_cents)} in the last 24 hours, {money(st.last_7_days_cents)} in the last 7 days",
    ]
    if st.match.pools:
        counting = campaign_math.GOAL_COUNTS_TEXT[st.goal_counts]
        lines.insert(2, f"  Match      {money(st.match.earned_cents)} earned ({money(st.match.received_cents)} received, "
                        f"{money(st.match.pending_cents)} pending), {money(st.match.remaining_cents)} remaining; "
                        f"raised with match {money(st.raised_with_match_cents)}")
        for i, p in enumerate(st.match.pools):
            lines.insert(3 + i, f"             {campaign_math.match_line(p, st)}")
        if counting:
            lines[1] = (f"  Raised     {money(st.raised_cents)}, {basis}; {counting}: {money(st.progress)} of "
                        f"{money(st.goal_cents)} ({st.percent}%)")
    if st.changes:  # beside the goal: "goal raised to $450,000 on Dec 29"
        lines.insert(2, "  Changed    " + "; ".join(campaign_math.change_text(c, tz, cur) for c in st.changes))
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
    if st.duplicate_pairs:
        n = st.duplicate_pairs
        lines.append(f"  Duplicates {count(n, 'likely pair')} {verb(n, 'awaits', 'await')} a decision "
                     f"({money(st.duplicate_cents)} counted twice if {verb(n, 'it is', 'each is')} one gift): "
                     "tracker duplicates list")
    if st.books is not None:
        lines.append(f"  Books      {campaign_math.books_line(st.books, zone(st.timezone), st.currency)}")
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

    At the end of each day of each earlier campaign, every method projects its final from only
    what was known then (its own gifts so far and the campaigns before it), and so does their
    combination, with weights chosen without the campaign being replayed. Printed: the mean
    absolute percentage error by campaign day for the combination and each method, the weights
    the current campaign uses on each day, how often the 80% range held the final, and how the
    chance of reaching the goal compared with what happened, by decile.

    Example: tracker backtest --campaign dec-2026
    """
    from tracker.service import campaign_backtest

    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        result = campaign_backtest(session, c, as_of=read_as_of(as_of, c.timezone))
    if as_json:
        click.echo(json.dumps(backtest_json(c.slug, result), indent=2))
        return
    if not result.replayed:
        click.echo(f"no earlier campaign in {c.currency} before {c.slug}: nothing to replay")
        return
    click.echo(_backtest_text(result))


def _round(x: float | None, places: int = 2) -> float | None:
    return None if x is None else round(x, places)


def backtest_json(slug: str, result) -> dict:
    """The backtest as `tracker backtest --json` prints it (errors in percent, shares and chances 0-1)."""
    methods = _methods(result)

    def summary(day: int) -> dict:
        error, held = result.summary_from(day)
        return {"mean_abs_pct_error": _round(error), "range_held_share": _round(held, 4),
                "methods": {m: _round(result.method_summary_from(m, day)) for m in methods}}

    return {
        "campaign": slug, "replayed": list(result.replayed), "range_level": RANGE_LEVEL, "methods": methods,
        "days": [{"day": d.day, "campaigns": d.campaigns, "mean_abs_pct_error": round(d.mean_abs_pct_error, 2),
                  "range_held": d.contained, "coverage": _round(d.coverage, 4),
                  "methods": {m: {"mean_abs_pct_error": round(x.mean_abs_pct_error, 2), "campaigns": x.campaigns}
                              for m, x in d.methods.items()},
                  "weights": {m: round(w, 4) for m, w in d.weights.items()}} for d in result.days],
        "from_day_1": summary(1), "from_day_10": summary(10), "from_day_20": summary(20),
        "coverage": {"range_held_share": _round(result.coverage, 4),
                     "projections": sum(d.campaigns for d in result.days)},
        "calibration": [{"from": b.low, "to": b.high, "count": b.count, "said": round(b.said, 4),
                         "reached": round(b.reached, 4)} for b in result.calibration],
        "calibration_max_gap_points": _round(result.calibration_gap, 1),
    }


def _methods(result) -> list[str]:
    seen: list[str] = []
    for d in result.days:
        seen += [m for m in d.methods if m not in seen]
    return seen


def _backtest_text(result) -> str:
    methods = _methods(result)
    n = len(result.replayed)
    lines = [f"Replayed {', '.join(result.replayed)}: each projected at the end of each day from only what was known then,",
             "the combination with weights chosen without the campaign replayed. Mean absolute % error of the final:",
             "  day  combined  range held  " + "  ".join(f"{m:>9}" for m in methods) + "  weights used today on this day"]
    for d in result.days:
        cells = "  ".join(f"{d.methods[m].mean_abs_pct_error:8.1f}%" if m in d.methods else f"{'-':>9}" for m in methods)
        weights = ", ".join(f"{m} {w:.0%}" for m, w in d.weights.items() if round(w * 100) >= 1)
        lines.append(f"  {d.day:>3}  {d.mean_abs_pct_error:7.1f}%  {d.contained:>4}/{d.campaigns:<5}  {cells}  {weights}")
    if n > 1:
        lines.append(f"  (the methods' columns leave out {result.replayed[0]}: with no campaign before it, it gets the goal "
                     "read with the default curve)")
    for day in (1, 20):
        error, held = result.summary_from(day)
        if error is not None:
            lines.append(f"From day {day} on: mean error {error:.1f}%, the 80% range held the final {held:.0%} of the time")
    lines.append("The methods (README: The projection):")
    lines += [f"  {m:<10} {DESCRIPTIONS[m]}" for m in methods if m in DESCRIPTIONS]
    if result.calibration:
        lines.append("Chance of reaching the goal, as said and as happened (replayed days by decile of the chance said):")
        lines += [f"  {b.low:.0%}-{b.high:.0%}: said {b.said:.0%} on average, reached {b.reached:.0%} "
                  f"({b.count} day{'s' if b.count != 1 else ''})" for b in result.calibration]
    return "\n".join(lines)
