"""The popup-appeal commands: `tracker appeals load|report` and `tracker ingest appeals`.

Registered on the main command group by tracker.cli; same conventions: one session per command,
errors as one line with an exit code, the clock read here.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker import db, queries
from tracker.cli import EXIT_REJECTED, MAX_ERRORS_SHOWN, Context, _as_of, _organization_zone, cli, ingest_group, pass_ctx
from tracker.dates import isoformat_local, utc_now, zone


@cli.group("appeals")
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
    true), share (planned traffic share, optional). Copy may use {goal} {raised} {gap} {percent}
    {deadline} {days_left} {hours_left} {donors} {new_donors}. Changing a variant's text creates a
    new version; results are kept per version. Running it again with the same file changes nothing.

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


@ingest_group.command("appeals")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--timezone", "tz_name", help="Zone for event times without an offset (default: the campaigns' zone).")
@click.option("--rejects", type=click.Path(path_type=Path), help="Where to write rejected rows (default: NAME.rejects.csv).")
@pass_ctx
def ingest_appeals(ctx: Context, file: Path, tz_name: str | None, rejects: Path | None) -> None:
    """Import popup exposure data: daily counts per variant (CSV) or raw events (JSON Lines).

    CSV columns: date (the local day, YYYY-MM-DD), variant, impressions, and optionally clicks,
    dismissals, readers. A day imported again replaces that day's counts. JSON Lines: one
    {"timestamp", "variant", "event": impression|click|dismiss, "reader"} per line; the same event
    is stored once however often it is imported. Bad rows are printed and written to the rejects
    file; the good ones load. Exit status: 0 all loaded, 3 some rows rejected.

    Example: tracker ingest appeals data/samples/popup_daily.csv
    """
    from tracker.ingest.appeals import import_exposures

    factory = ctx.sessions()
    with db.transaction(factory) as session:
        tz = zone(tz_name) if tz_name else _organization_zone(session)
    summary = import_exposures(factory, file, tz=tz, clock=utc_now, rejects=rejects)
    for err in summary.errors[:MAX_ERRORS_SHOWN]:
        click.echo(str(err), err=True)
    if summary.rejected > MAX_ERRORS_SHOWN:
        click.echo(f"... and {summary.rejected - MAX_ERRORS_SHOWN} more rejected rows", err=True)
    what = "days" if summary.kind == "daily" else "events"
    click.echo(f"{file}: {summary.rows_read:,} rows read ({what}): {summary.inserted:,} new, {summary.replaced:,} "
               f"replaced, {summary.unchanged:,} unchanged, {summary.rejected:,} rejected")
    if summary.rejects_path:
        click.echo(f"  rejected rows with their reasons: {summary.rejects_path}")
        raise SystemExit(EXIT_REJECTED)


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
    conversion and revenue per reader (per impression when readers are unknown) with the lift over
    the control, its 95% interval, the always-valid interval used for the verdict, the chance to
    beat the control and to be best, and the risk of choosing it. The rule for naming a winner is
    printed with the verdict.

    Example: tracker appeals report --campaign dec-2026 --cap p99
    """
    from tracker.appeals import report_json
    from tracker.errors import UsageError, ValueProblem
    from tracker.money import parse_cents
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
        moment = _as_of(as_of, c.timezone)
        if not queries.list_variants(session, c):
            raise UsageError(f"{c.slug} has no popup variants yet; load them with: tracker appeals load FILE.toml")
        report = appeal_report(session, c, as_of=moment, cap=cap, min_donations=min_donations)
    out = report_json(report, c.slug, isoformat_local(moment, c.tz))
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(_report_text(out))


def _money(decimal_str: str) -> str:
    from tracker.money import format_money, parse_cents

    return format_money(parse_cents(decimal_str), whole=True)


def _pct(x) -> str:
    return "-" if x is None else f"{x:+.1%}"


def _report_text(out: dict) -> str:
    v = out["verdict"]
    unit = out["unit"]
    lines = [f"Popup variants of {out['campaign']} as of {out['as_of']} (per {unit}; revenue {out['cap_rule']}"
             + (f", cap {out['cap']})" if out["cap"] else ")")]
    lines.append(f"  {'variant':<14}{'impr.':>9}{unit + 's':>13}{'clicks':>8}{'gifts':>7}{'revenue':>12}"
                 f"{'conv.':>8}{'lift':>8}{'95% interval':>18}{'P(beat)':>9}{'$/' + unit:>14}{'lift':>8}{'P(best)':>9}")
    for r in out["variants"]:
        conv, rpu = r["conversion"], r["revenue_per_unit"]
        interval = "" if conv["ci_low"] is None else f"{conv['ci_low']:+.0%}..{conv['ci_high']:+.0%}"
        beat = "" if rpu["chance_to_beat_control"] is None else f"{rpu['chance_to_beat_control']:.0%}"
        lines.append(
            f"  {r['key'] + (' *' if r['control'] else ''):<14}{r['impressions']:>9,}{(r['readers'] or 0):>13,}"
            f"{r['clicks']:>8,}{r['donations']:>7,}{_money(r['revenue']):>12}"
            f"{(conv['value'] or 0):>8.2%}{_pct(conv['lift']):>8}{interval:>18}{beat:>9}"
            f"{rpu['value'] or '-':>14}{_pct(rpu['lift']):>8}{rpu['chance_best']:>9.0%}"
        )
    lines.append(f"  * control. No popup: {out['no_popup']['donations']:,} gifts, {_money(out['no_popup']['revenue'])}")
    leader = f" ({v['leader']})" if v["leader"] else ""
    lines.append(f"Verdict: {v['label']}{leader}. Sample-ratio check p = {out['srm_p'] if out['srm_p'] is not None else '-'}")
    lines.append(f"Rule: {v['rule']}")
    lines.extend(f"Warning: {w}" for w in out["warnings"])
    return "\n".join(lines)
