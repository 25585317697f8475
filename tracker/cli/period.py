"""`tracker period close|list`: months finance has closed, whose figures nothing changes afterwards."""

from __future__ import annotations

import json

import click

from tracker import closing, db
from tracker.cli.context import Context, organization_zone, os_user, pass_ctx, read_as_of
from tracker.dates import zone
from tracker.errors import UsageError
from tracker.finance import audit
from tracker.money import format_money


@click.group("period")
def period_group() -> None:
    """Close a month for the books: afterwards nothing changes its figures; later changes are adjustments.

    Example: tracker period close 2026-12
    """


def _zone(session, tz_name):
    tz = zone(tz_name) if tz_name else organization_zone(session)
    if tz is None:
        raise UsageError("the campaigns are in several time zones; say the organization's with --timezone ZONE "
                         "or TRACKER_TIMEZONE")
    return tz


@period_group.command("close")
@click.argument("period", metavar="YYYY-MM")
@click.option("--reopen", is_flag=True, help="Reopen a closed month instead (recorded in the audit log).")
@click.option("--timezone", "tz_name", help="The organization's zone, when the campaigns do not share one.")
@click.option("--as-of", "as_of", help="When (ISO 8601; default: now).")
@pass_ctx
def period_close(ctx: Context, period: str, reopen: bool, tz_name, as_of) -> None:
    """Close month YYYY-MM (the organization's time zone): its gifts, rollups and first gifts are kept as
    they stand, and its figures (raised, exports) read from that copy. A refund, dispute, void or
    late gift of the month that arrives afterwards is an adjustment in the first open month, shown
    there with the gift's own date. --reopen undoes the close; both are in the audit log.

    Example: tracker period close 2026-12 --as-of 2027-01-15T10:00
    """
    actor = os_user()
    with db.transaction(ctx.sessions()) as session:
        tz = _zone(session, tz_name)
        now = read_as_of(as_of, tz)
        if reopen:
            row = closing.reopen(session, period, actor=actor, now=now)
            audit(session, actor=actor, action="period reopen", rows=0, now=now,
                  detail=f"{period}, closed on {row.closed_at:%Y-%m-%d %H:%M} UTC by {row.closed_by}")
            click.echo(f"reopened {period}: its figures are the live ones again")
            return
        row = closing.close(session, period, tz=tz, actor=actor, now=now)
        figures = json.loads(row.figures)
        audit(session, actor=actor, action="period close", rows=sum(f["gifts"] for f in figures.values()), now=now,
              detail=f"{period} ({tz.key}): " + (", ".join(f"{format_money(f['raised_cents'], cur)} raised"
                                                            for cur, f in sorted(figures.items())) or "no gifts"))
    raised = ", ".join(format_money(f["raised_cents"], cur) for cur, f in sorted(figures.items())) or "nothing"
    click.echo(f"closed {period} ({tz.key}) at {raised}; later changes to its gifts are adjustments in the first "
               "open month")


@period_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def period_list(ctx: Context, as_json: bool) -> None:
    """List closed months (and reopened ones) with the adjustments booked since each close.

    Example: tracker period list
    """
    from sqlalchemy import select

    from tracker.models import ClosedPeriod

    with db.transaction(ctx.sessions()) as session:
        rows = session.scalars(select(ClosedPeriod).order_by(ClosedPeriod.starts_at, ClosedPeriod.id)).all()
        adj = closing.adjustments(session)
        out = []
        for p in rows:
            mine = [a for a in adj if a.period == p.period and p.reopened_at is None]
            by_cur = {}
            for a in mine:
                by_cur[a.currency] = by_cur.get(a.currency, 0) + a.cents
            out.append({"period": p.period, "timezone": p.timezone, "closed_at": p.closed_at.isoformat(),
                        "closed_by": p.closed_by, "figures": json.loads(p.figures),
                        "reopened_at": p.reopened_at.isoformat() if p.reopened_at else None,
                        "adjustments": len(mine), "adjustment_cents": by_cur})
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    if not out:
        click.echo("no closed months")
        return
    for r in out:
        state = f"reopened {r['reopened_at'][:16]}" if r["reopened_at"] else "closed"
        amounts = ", ".join(format_money(c, cur) for cur, c in r["adjustment_cents"].items()) or "none"
        click.echo(f"{r['period']}  {state:<26} closed {r['closed_at'][:16]} by {r['closed_by']}; "
                   f"adjustments since: {r['adjustments']:,} ({amounts})")
