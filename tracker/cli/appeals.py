"""`tracker appeals load|report`: the popup's copy variants, and how each raises money.

(`tracker ingest appeals`, the exposure counts, is with the other imports in tracker.cli.ingest.)
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker import db, queries
from tracker.cli.context import Context, pass_ctx, read_as_of
from tracker.dates import isoformat_local, utc_now
from tracker.errors import UsageError, ValueProblem
from tracker.money import SYMBOLS, format_money, format_money_per_unit, parse_cents


@click.group("appeals")
def appeals_group() -> None:
    """Load the popup's copy variants and see how each raises money.

    Example: tracker appeals report --campaign dec-2026
    """


@appeals_group.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@pass_ctx
def appeals_load(ctx: Context, file: Path, slug: str | None) -> None:
    """Load popup copy variants from a TOML file: one [[variant]] table each.

    Fields: key, name, headline, body, button, control (true for exactly one), active (default
    true), share (planned traffic share, optional), and alternative texts as [variant.NAME] tables
    (final_48_hours, last_day, no_gifts_yet, stretch_goal, goal_reached). Copy may use {goal}
    {original_goal} {raised} {gap} {percent} {deadline} {days_left} {hours_left} {donors}
    {new_donors}. Copy that would read wrong at some hour of the campaign ("1 days", "$0 short") is
    refused, naming the line and the moment. Changing a variant's text creates a new version;
    results are kept per version. Running it again with the same file changes nothing.

    Example: tracker appeals load data/appeals.toml --campaign dec-2026
    """
    from tracker.appeals import parse_variants
    from tracker.manage import load_appeals

    specs = parse_variants(file)
    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        result = load_appeals(session, c, specs, now=utc_now())
    for label, keys in (("new", result.created), ("new copy version", result.new_version),
                        ("settings changed", result.settings_changed), ("unchanged", result.unchanged),
                        ("kept (not in the file)", result.not_in_file)):
        if keys:
            click.echo(f"{label}: {', '.join(keys)}")
    click.echo(f"copy checked at each of the campaign's {result.hours_checked:,} hours, below, at and past its goal")


@appeals_group.command("report")
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@click.option("--cap", default="p99", show_default=True, metavar="none|p99|AMOUNT",
              help="Cap each gift before comparing revenue: not at all, at the 99th percentile of popup gifts, or at an amount.")
@click.option("--min-donations", default=100, show_default=True, type=click.IntRange(min=1),
              help="Donations every variant needs before a winner can be named.")
@click.option("--as-of", "as_of", help="See the variants as they stood at this moment (ISO 8601).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (money as decimal strings, lifts as fractions).")
@pass_ctx
def appeals_report(ctx: Context, slug: str | None, cap: str, min_donations: int, as_of: str | None, as_json: bool) -> None:
    """Show how each popup variant raises money against the control, and whether there is a winner yet.

    Per variant: impressions, readers, clicks, donations, donors, revenue (uncapped and capped),
    conversion and revenue per reader (per 1,000 impressions when readers are unknown), each with
    its own lift over the control, 95% interval and chance to beat the control, and the chance to
    be best. Intervals and chances are withheld ("too few gifts") while the variant or the control
    has fewer than 30 gifts. --json adds the always-valid, Holm-corrected interval the verdict uses
    and the risk of choosing each variant. The rule for naming a winner is printed with the verdict.

    Example: tracker appeals report --campaign dec-2026 --cap p99
    """
    from tracker.appeal_report import report_json
    from tracker.service import appeal_report

    if cap not in ("none", "p99"):
        try:
            cap = str(parse_cents(cap))
        except ValueProblem as exc:
            raise UsageError(f"--cap: {exc}; or use none or p99") from None
        if int(cap) <= 0:
            raise UsageError("--cap must be more than zero, or none, or p99")
    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        moment = read_as_of(as_of, c.timezone)
        if not queries.list_variants(session, c):
            raise UsageError(f"{c.slug} has no popup variants yet; load them with: tracker appeals load FILE.toml")
        report = appeal_report(session, c, as_of=moment, cap=cap, min_donations=min_donations)
    stamp = isoformat_local(moment, c.tz)
    if as_json:
        click.echo(json.dumps(report_json(report, c.slug, stamp), indent=2))
        return
    click.echo(report_text(report, c.slug, stamp))


def _pct(x) -> str:
    return "-" if x is None else f"{x:+.1%}"


def _interval(c, control: bool) -> str:
    """A comparison's 95% interval, "too few gifts" when withheld, "-" when undefined (or the control)."""
    from tracker.appeal_report import TOO_FEW_GIFTS

    if control:
        return "-"
    if c.too_few_gifts:
        return TOO_FEW_GIFTS
    return "-" if c.lift.ci_low is None else f"{c.lift.ci_low:+.0%}..{c.lift.ci_high:+.0%}"


def _beat(c, control: bool) -> str:
    """A comparison's chance to beat the control ("-" for the control itself)."""
    from tracker.appeal_report import TOO_FEW_GIFTS

    if control or (c.chance_to_beat_control is None and not c.too_few_gifts):
        return "-"
    return TOO_FEW_GIFTS if c.too_few_gifts else f"{c.chance_to_beat_control:.0%}"


def _best(c) -> str:
    from tracker.appeal_report import TOO_FEW_GIFTS

    return TOO_FEW_GIFTS if c.chance_best is None else f"{c.chance_best:.0%}"


def report_text(report, slug: str, as_of: str) -> str:
    """The appeals report as two tables, the variants' numbers and their lifts over the control (each metric
    with its own interval and chance to beat the control), money in the campaign's currency
    (tracker.appeal_report.AppealReport)."""
    from tracker.appeal_report import MIN_GIFTS_PER_ARM

    v, unit, cur = report.verdict, report.unit, report.currency

    def money(cents: int) -> str:
        return format_money(cents, cur, whole=True)

    lines = [f"Popup variants of {slug} as of {as_of} (per {unit}; revenue {report.cap_rule}"
             + (f", cap {format_money(report.cap_cents, cur)})" if report.cap_cents is not None else ")")]
    per_unit = f"{SYMBOLS.get(cur, cur)}/{unit}"
    lines.append(f"  {'variant':<14}{'impr.':>9}{unit + 's':>13}{'clicks':>8}{'gifts':>7}{'revenue':>12}"
                 f"{'conv.':>8}{per_unit:>14}")
    for r in report.variants:
        m = r.metrics
        value = format_money_per_unit(m.capped_revenue_cents, m.units(unit), cur) or "-"
        lines.append(
            f"  {r.key + (' *' if r.control else ''):<14}{m.exposure.impressions:>9,}{(m.exposure.readers or 0):>13,}"
            f"{m.exposure.clicks:>8,}{m.donations:>7,}{money(m.revenue_cents):>12}"
            f"{(r.conversion.value or 0):>8.2%}{value:>14}"
        )
    gifts, _donors, cents = report.no_popup
    lines.append(f"  * control. No popup: {gifts:,} gifts, {money(cents)}")
    conv_head, rev_head = report.conversion_lift_label, report.revenue_lift_label
    lines.append(f"Lift over the control, 95% intervals (withheld below {MIN_GIFTS_PER_ARM} gifts in the variant "
                 "or the control):")
    lines.append(f"  {'':<14}{conv_head:^46}  {rev_head:^61}")
    lines.append(f"  {'variant':<14}{'lift':>9}{'95% interval':>18}{'P(beat control)':>19}  "
                 f"{'lift':>9}{'95% interval':>18}{'P(beat control)':>19}{'P(best)':>15}")
    for r in report.variants:
        conv, rpu = r.conversion, r.revenue_per_unit
        lines.append(
            f"  {r.key + (' *' if r.control else ''):<14}"
            f"{_pct(conv.lift.value):>9}{_interval(conv, r.control):>18}{_beat(conv, r.control):>19}  "
            f"{_pct(rpu.lift.value):>9}{_interval(rpu, r.control):>18}{_beat(rpu, r.control):>19}"
            f"{_best(rpu):>15}"
        )
    leader = f" ({v.leader})" if v.leader else ""
    srm = "-" if report.srm_p is None else round(report.srm_p, 6)
    lines.append(f"Verdict: {v.label}{leader}. Sample-ratio check p = {srm}")
    lines.append(f"Rule: {v.rule}")
    lines.extend(f"Warning: {w}" for w in report.warnings)
    return "\n".join(line.rstrip() for line in lines)
