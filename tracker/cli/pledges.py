"""`tracker pledge list|cancel|link`: money promised and not received yet, and the gifts it became."""

from __future__ import annotations

import json

import click

from tracker import db, queries
from tracker.cli.context import Context, organization_zone, os_user, pass_ctx, read_as_of
from tracker.dates import UTC
from tracker.finance import audit
from tracker.ingest import pledges as pledge_writes
from tracker.money import cents_to_decimal_str, format_money
from tracker.pledges import STATES, list_pledges
from tracker.wording import count


@click.group("pledge")
def pledge_group() -> None:
    """Pledges: money promised and not received yet (tracker gift add --pledged, or a mapping with pledged = true).

    Example: tracker pledge list --state open
    """


def pledge_json(p, personal: bool) -> dict:
    """One pledge as `tracker pledge list --json` prints it (name and e-mail only with --include-personal)."""
    out = {"id": p.id, "source": p.source, "pledge_id": p.external_id, "campaign": p.campaign, "kind": p.kind,
           "amount": cents_to_decimal_str(p.amount_cents), "currency": p.currency,
           "pledged_at": p.pledged_at.isoformat(), "expected": p.expected_at.isoformat() if p.expected_at else None,
           "state": p.state, "reference": p.reference,
           "fulfilled_by_gift": p.fulfilled_donation_id,
           "fulfilled_at": p.fulfilled_at.isoformat() if p.fulfilled_at else None, "linked_by": p.fulfilled_by,
           "cancelled_at": p.cancelled_at.isoformat() if p.cancelled_at else None}
    if personal:
        out.update(name=p.name, email=p.email)
    return out


@pledge_group.command("list")
@click.option("--campaign", "slug", help="Only this campaign's pledges (default: all).")
@click.option("--state", type=click.Choice(STATES), default="all", show_default=True,
              help="open (overdue included), overdue, fulfilled, cancelled or all.")
@click.option("--include-personal", "personal", is_flag=True, help="Also the donors' names and e-mails (audited).")
@click.option("--as-of", "as_of", help="Each pledge's state at this moment (ISO 8601; default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (money as decimal strings).")
@pass_ctx
def pledge_list(ctx: Context, slug, state, personal, as_of, as_json) -> None:
    """List pledges, soonest expected first: amount, kind, when expected, state (open, overdue once the
    expected day has passed, fulfilled with the gift it became, cancelled).

    Example: tracker pledge list --campaign dec-2026 --state overdue
    """
    with db.transaction(ctx.sessions()) as session:
        campaign = queries.get_campaign(session, slug) if slug else None
        tz = campaign.tz if campaign else organization_zone(session) or UTC
        now = read_as_of(as_of, tz)
        rows = list_pledges(session, as_of=now, campaign=campaign, state=state, today=now.astimezone(tz).date())
        if personal:
            audit(session, actor=os_user(), action="pledge list", rows=len(rows), now=now,
                  detail=f"pledges with names and e-mails, state {state}" + (f", campaign {slug}" if slug else ""))
    if as_json:
        click.echo(json.dumps({"pledges": [pledge_json(p, personal) for p in rows]}, indent=2))
        return
    if not rows:
        click.echo("no pledges" + ("" if state == "all" else f" in state {state}"))
        return
    for p in rows:
        expected = p.expected_at.isoformat() if p.expected_at else "no date"
        tail = (f" -> gift {p.fulfilled_donation_id} ({p.fulfilled_by})" if p.state == "fulfilled" else
                f" ({p.cancel_reason})" if p.state == "cancelled" else "")
        who = f"  {p.name or ''} <{p.email or ''}>" if personal else ""
        click.echo(f"{p.id:>6} {p.source}:{p.external_id} {format_money(p.amount_cents, p.currency):>12} "
                   f"{p.kind:<18} expected {expected:<10} {p.state}{tail}{who}")
    open_ = [p for p in rows if p.state in ("open", "overdue")]
    if open_:
        by_currency: dict[str, int] = {}
        for p in open_:
            by_currency[p.currency] = by_currency.get(p.currency, 0) + p.amount_cents
        click.echo(f"{count(len(open_), 'pledge')} committed, not yet received: "
                   + ", ".join(format_money(c, cur) for cur, c in by_currency.items()))


@pledge_group.command("cancel")
@click.argument("pledge_id", type=int)
@click.option("--reason", required=True, help="Why (kept with the pledge).")
@click.option("--as-of", "as_of", help="When (ISO 8601; default: now).")
@pass_ctx
def pledge_cancel(ctx: Context, pledge_id: int, reason: str, as_of) -> None:
    """Cancel an open pledge (withdrawn, or entered by mistake): it is kept, and committed no longer counts it.

    Example: tracker pledge cancel 12 --reason "the sponsor withdrew the match"
    """
    actor = os_user()
    with db.transaction(ctx.sessions()) as session:
        now = read_as_of(as_of, organization_zone(session) or UTC)
        p = pledge_writes.cancel(session, pledge_id, reason=reason, now=now)
        audit(session, actor=actor, action="pledge cancel", rows=1, now=now,
              detail=f"pledge {pledge_id} ({p.source}:{p.external_id}): {reason}")
    click.echo(f"cancelled pledge {pledge_id}")


@pledge_group.command("link")
@click.argument("pledge_id", type=int)
@click.argument("gift_id", type=int)
@click.option("--as-of", "as_of", help="When (ISO 8601; default: now).")
@pass_ctx
def pledge_link(ctx: Context, pledge_id: int, gift_id: int, as_of) -> None:
    """Say by hand which gift a pledge's money arrived as (when the rule in README: Pledges cannot tell):
    the pledge leaves committed, and the gift counts once, in raised.

    Example: tracker pledge link 12 1042
    """
    actor = os_user()
    with db.transaction(ctx.sessions()) as session:
        now = read_as_of(as_of, organization_zone(session) or UTC)
        p = pledge_writes.link(session, pledge_id, gift_id, now=now)
        audit(session, actor=actor, action="pledge link", rows=1, now=now,
              detail=f"pledge {pledge_id} ({p.source}:{p.external_id}) fulfilled by gift {gift_id}")
    click.echo(f"pledge {pledge_id} is fulfilled by gift {gift_id}")
