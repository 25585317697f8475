"""`tracker gift add|void|show`: gifts entered by hand, taken back, and a gift's whole story."""

from __future__ import annotations

import json

import click

from tracker import db, queries
from tracker.cli.context import Context, organization_currency, organization_zone, os_user, pass_ctx, read_as_of
from tracker.dates import UTC, zone
from tracker.errors import NotFound, UsageError
from tracker.finance import audit
from tracker.ingest import history, manual
from tracker.models import PLEDGE_KINDS
from tracker.money import cents_to_decimal_str, format_money
from tracker.wording import count


@click.group("gift")
def gift_group() -> None:
    """Gifts by hand: a check in the mail, a donor-advised fund grant, stock; void one; show one's history.

    Example: tracker gift add --amount 250 --donated-at 2026-12-30 --donor-email ana@example.org --method check
    """


@gift_group.command("add")
@click.option("--amount", required=True, help="The amount, e.g. 250 or 1,250.00 (the organization's currency).")
@click.option("--donated-at", "donated_at", required=True,
              help="When it was given: a date (2026-12-30) or a date and time; read in the organization's zone "
                   "when it has no offset.")
@click.option("--donor-email", "email", required=True, help="The donor's e-mail (who the gift is of).")
@click.option("--name", help="The donor's name.")
@click.option("--method", type=click.Choice(manual.METHODS), default="check", show_default=True,
              help="How it was paid.")
@click.option("--reference", help="A check number or the grant's reference, e.g. CHECK-1042.")
@click.option("--channel", help="Where it came from, e.g. mail or event.")
@click.option("--note", help="Anything finance should know.")
@click.option("--timezone", "tz_name", help="Zone of --donated-at without an offset (default: the organization's).")
@click.option("--pledged", is_flag=True,
              help="Promised, not received yet: stored as a pledge (never in raised) until the money arrives.")
@click.option("--expected", help="With --pledged: the day the money is expected, YYYY-MM-DD (e.g. 2027-01-25).")
@click.option("--kind", type=click.Choice(PLEDGE_KINDS),
              help="With --pledged: where the money will come from.")
@click.option("--campaign", "slug", help="With --pledged: the campaign it is for (default: the one whose days hold "
                                         "--donated-at).")
@click.option("--as-of", "as_of", help="When it is entered (ISO 8601; default: now).")
@pass_ctx
def gift_add(ctx: Context, amount, donated_at, email, name, method, reference, channel, note, tz_name, pledged,
             expected, kind, slug, as_of) -> None:
    """Enter a gift by hand: stored as a gift like any other (source manual, an id the tracker assigns),
    with who entered it and when. Bad values get the same messages as a CSV row; a gift dated outside
    every campaign is stored with a warning. With --pledged it is a pledge instead (promised, not
    received yet: P-000001, ...), shown as "committed, not yet received" beside raised and never in
    it, until a gift fulfils it (README: Pledges); --kind says where the money will come from and
    --expected when.

    Example: tracker gift add --amount 250 --donated-at 2026-12-30 --donor-email ana@example.org --reference CHECK-1042
    Example: tracker gift add --pledged --amount 500 --donated-at 2026-12-20 --expected 2027-01-25 --kind paypal_giving_fund --donor-email ana@example.org
    """
    if not pledged and (expected or kind or slug):
        raise UsageError("--expected, --kind and --campaign are for a pledge; add --pledged (or leave them out)")
    if pledged and not kind:
        raise UsageError("a pledge needs --kind: " + ", ".join(PLEDGE_KINDS))
    actor = os_user()
    if pledged:
        with db.transaction(ctx.sessions()) as session:
            tz = zone(tz_name) if tz_name else organization_zone(session)
            now = read_as_of(as_of, tz or UTC)
            campaign_id = queries.get_campaign(session, slug).id if slug else None
            added = manual.pledge(session, amount=amount, donated_at=donated_at, email=email, name=name, kind=kind,
                                  expected=expected, reference=reference, note=note, campaign_id=campaign_id,
                                  currency=organization_currency(session), timezone=tz, actor=actor, now=now)
            audit(session, actor=actor, action="pledge add", rows=1, now=now,
                  detail=f"pledge {added.gift_id} ({added.external_id}), "
                         f"{format_money(added.amount_cents, added.currency)}, {kind}"
                         + (f", {reference}" if reference else ""))
        when = f", expected {added.expected_at}" if added.expected_at else ""
        click.echo(f"added pledge {added.gift_id} ({manual.SOURCE}:{added.external_id}): "
                   f"{format_money(added.amount_cents, added.currency)} pledged on {added.donated_at:%Y-%m-%d %H:%M} "
                   f"UTC{when}; not in raised until the money arrives")
        if added.fulfilled:
            click.echo(f"linked {count(added.fulfilled, 'pledge')} to the gift that fulfils it (tracker pledge list)")
        return
    with db.transaction(ctx.sessions()) as session:
        tz = zone(tz_name) if tz_name else organization_zone(session)
        now = read_as_of(as_of, tz or UTC)
        currency = organization_currency(session)
        added = manual.add(session, amount=amount, donated_at=donated_at, email=email, name=name, method=method,
                           reference=reference, channel=channel, note=note, currency=currency, timezone=tz,
                           actor=actor, now=now)
        audit(session, actor=actor, action="gift add", rows=1, now=now,
              detail=f"gift {added.gift_id} ({added.external_id}), {format_money(added.amount_cents, added.currency)}, "
                     f"{method}" + (f", {reference}" if reference else ""))
    for line in added.warnings:
        click.echo(line, err=True)
    click.echo(f"added gift {added.gift_id} ({manual.SOURCE}:{added.external_id}): "
               f"{format_money(added.amount_cents, added.currency)} on {added.donated_at:%Y-%m-%d %H:%M} UTC")
    if added.fulfilled:
        click.echo(f"the gift fulfils {count(added.fulfilled, 'pledge')}: no longer committed, counted once in raised")


@gift_group.command("void")
@click.argument("gift_id", type=int)
@click.option("--reason", required=True, help="Why it is taken back (kept in its history).")
@click.option("--as-of", "as_of", help="When (ISO 8601; default: now).")
@pass_ctx
def gift_void(ctx: Context, gift_id: int, reason: str, as_of) -> None:
    """Take a gift back: it is kept and shown as voided, and counts nothing from then on.

    Example: tracker gift void 1042 --reason "the check bounced"
    """
    actor = os_user()
    with db.transaction(ctx.sessions()) as session:
        now = read_as_of(as_of, organization_zone(session) or UTC)
        gift = manual.void(session, gift_id, reason=reason, actor=actor, now=now)
        audit(session, actor=actor, action="gift void", rows=1, now=now,
              detail=f"gift {gift_id} ({gift.source}:{gift.external_id}): {reason}")
    click.echo(f"voided gift {gift_id}")


def story(record) -> dict:
    """What `gift show` prints, as JSON-ready data."""
    gift, detail, changes, batch, event = record
    if detail is not None and detail.entered_by:
        created = {"by": "hand", "who": detail.entered_by, "at": detail.entered_at.isoformat()}
    elif batch is not None:
        created = {"by": "import", "import": batch.id, "file": batch.filename, "at": batch.started_at.isoformat()}
    elif event is not None:
        created = {"by": "webhook", "event": event.event_id, "provider": event.provider,
                   "at": event.received_at.isoformat()}
    else:
        created = {"by": "unknown", "at": gift.recorded_at.isoformat() if gift.recorded_at else None}
    steps = []
    for h in changes:
        cause = (f"import {h.import_id}" if h.import_id is not None else
                 f"webhook event {h.webhook_event_id}" if h.webhook_event_id is not None else h.actor or "unknown")
        steps.append({"at": h.at.isoformat(), "kind": h.kind, "by": cause, "note": h.note,
                      "before": history.parse(h.before), "after": history.parse(h.after)})
    details = {}
    if detail is not None:
        details = {k: getattr(detail, k) for k in ("method", "reference", "note", "entered_by", "payout_id", "fund",
                                                   "gl_code", "void_reason", "voided_by", "original_currency",
                                                   "rate", "rate_source") if getattr(detail, k)}
        if detail.refunded_at:
            details["refunded_at"] = detail.refunded_at.isoformat()
        if detail.original_cents is not None:  # given in another currency: the amount as given, the rate's day
            details["original_amount"] = cents_to_decimal_str(detail.original_cents)
            details["rate_date"] = detail.rate_date.isoformat() if detail.rate_date else None
    return {"id": gift.id, "source": gift.source, "donation_id": gift.external_id,
            "amount": cents_to_decimal_str(gift.amount_cents), "refunded": cents_to_decimal_str(gift.refunded_cents),
            "currency": gift.currency, "donated_at": gift.donated_at.isoformat(), "status": gift.status,
            "voided_at": gift.voided_at.isoformat() if gift.voided_at else None, "duplicate_of": gift.duplicate_of,
            "created": created, "details": details, "history": steps}


@gift_group.command("show")
@click.argument("gift_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def gift_show(ctx: Context, gift_id: int, as_json: bool) -> None:
    """Show a gift and its history: how it was created (an import, a webhook event, by hand) and every
    change since (refunded, disputed, voided, merged as a duplicate, undone), with what caused it.

    Example: tracker gift show 1042
    """
    with db.transaction(ctx.sessions()) as session:
        record = queries.gift_record(session, gift_id)
        if record is None:
            raise NotFound(f"no gift {gift_id} (the tracker's id, as the exports and tracker duplicates list print it)")
        data = story(record)
        from tracker.pledges import fulfilled_by

        promised = fulfilled_by(session, gift_id)
        data["fulfils_pledge"] = None if promised is None else {
            "id": promised.id, "pledge_id": f"{promised.source}:{promised.external_id}", "kind": promised.kind,
            "amount": cents_to_decimal_str(promised.amount_cents), "linked_by": promised.fulfilled_by}
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"gift {data['id']} {data['source']}:{data['donation_id']}: {data['amount']} {data['currency']} on "
               f"{data['donated_at'][:16]} UTC, {data['status']}"
               + (f" (refunded {data['refunded']})" if data["refunded"] != "0.00" else ""))
    c = data["created"]
    how = {"hand": f"entered by {c.get('who')}", "import": f"imported by import {c.get('import')} ({c.get('file')})",
           "webhook": f"received as {c.get('provider')} event {c.get('event')}"}.get(c["by"], "recorded")
    click.echo(f"{(c['at'] or '')[:16]:<16}  created: {how}")
    for step in data["history"]:
        changed = ", ".join(f"{k} {step['before'].get(k)} -> {step['after'].get(k)}" for k in step["after"])
        note = f" ({step['note']})" if step["note"] else ""
        click.echo(f"{step['at'][:16]:<16}  {step['kind']} by {step['by']}{note}: {changed}")
    for key, value in data["details"].items():
        click.echo(f"  {key}: {value}")
    if data["fulfils_pledge"]:
        p = data["fulfils_pledge"]
        click.echo(f"  fulfils pledge {p['id']} ({p['pledge_id']}, {p['kind']}, {p['amount']}, linked by {p['linked_by']})")
