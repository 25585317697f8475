"""`tracker webhooks list|process|replay` (the inbox of Stripe's and PayPal's deliveries) and
`tracker reconcile stripe FILE` (what the webhooks delivered against a later Stripe export)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tracker import db, queries
from tracker.cli.context import Context, organization_currency, pass_ctx
from tracker.dates import utc_now
from tracker.errors import NotFound, UsageError
from tracker.money import format_money

STATUSES = ("received", "applying", "applied", "ignored", "waiting", "failed", "gave_up")


@click.group("webhooks")
def webhooks_group() -> None:
    """See and apply the deliveries Stripe and PayPal sent to /hooks/stripe and /hooks/paypal.

    Example: tracker webhooks list --status failed
    """


@webhooks_group.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="Only events in this state.")
@click.option("--limit", default=30, show_default=True, help="How many events, the latest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def webhooks_list(ctx: Context, status: str | None, limit: int, as_json: bool) -> None:
    """List the inbox's events, the latest first: when received, provider, type, status, attempts, why.

    Also counts the events by state and the deliveries refused (bad signatures, too old, ...).

    Example: tracker webhooks list --status failed --limit 10
    """
    with db.transaction(ctx.sessions()) as session:
        events = queries.list_webhook_events(session, limit, status)
        counts, refused = queries.webhook_counts(session), queries.webhook_refusals(session)
        rows = [{"event": e.event_id, "provider": e.provider, "type": e.type, "about": e.object_id,
                 "status": e.status, "attempts": e.attempts, "received_at": e.received_at.isoformat(),
                 "next_attempt_at": e.next_attempt_at.isoformat() if e.next_attempt_at else None, "error": e.error}
                for e in events]
    if as_json:
        click.echo(json.dumps({"events": rows, "counts": [{"provider": p, "status": s, "events": n}
                                                          for (p, s), n in sorted(counts.items())],
                               "refused": [{"provider": p, "reason": r, "deliveries": n, "last": t.isoformat()}
                                           for p, r, n, t in refused]}, indent=2))
        return
    if not rows and not counts and not refused:
        click.echo("no webhook deliveries yet (point Stripe or PayPal at /hooks/stripe or /hooks/paypal: see README)")
        return
    for r in rows:
        why = f": {r['error']}" if r["error"] else ""
        retry = f" (next attempt {r['next_attempt_at'][:19]})" if r["next_attempt_at"] and r["status"] != "applied" else ""
        click.echo(f"{r['received_at'][:19]}  {r['provider']:<6} {r['event']:<32} {r['type']:<32} {r['status']:<8} "
                   f"{r['attempts']}{retry}{why}")
    if counts:
        click.echo("events: " + ", ".join(f"{p} {s} {n:,}" for (p, s), n in sorted(counts.items())))
    for p, r, n, t in refused:
        click.echo(f"refused: {p} {r}: {n:,} (last {t:%Y-%m-%d %H:%M:%S}Z)")


@webhooks_group.command("process")
@pass_ctx
def webhooks_process(ctx: Context) -> None:
    """Apply every event that is due (received, due for a retry, or left by a worker that died), and exit.

    `tracker serve` applies what it receives by itself; this is for cron, or a second machine.
    Exit status: 0, or 1 when an event failed (it is retried later).

    Example: tracker webhooks process
    """
    from tracker.webhooks.worker import Worker

    sessions = ctx.sessions()
    with db.transaction(sessions) as session:
        currency = organization_currency(session)
    done = Worker(sessions, currency=currency, clock=utc_now).run_once()
    click.echo(f"{done.applied:,} applied, {done.ignored:,} ignored, {done.waiting:,} waiting for their gift, "
               f"{done.failed:,} failed")
    for error in done.errors[:10]:
        click.echo(f"  failed: {error}", err=True)
    if done.failed:
        raise SystemExit(1)


@webhooks_group.command("replay")
@click.argument("event_id")
@pass_ctx
def webhooks_replay(ctx: Context, event_id: str) -> None:
    """Apply an event again (by Stripe's or PayPal's event id), e.g. after fixing what made it fail.

    Applying an event twice changes nothing more: the rules count each gift once.

    Example: tracker webhooks replay evt_1Nq2x3LkdIwHu7ix0mJ2YxYb
    """
    from tracker.webhooks import inbox

    with db.transaction(ctx.sessions()) as session:
        if inbox.replay(session, event_id, now=utc_now()) is None:
            raise NotFound(f"no webhook event {event_id!r} (see: tracker webhooks list)")
    click.echo(f"{event_id} is due again; the serving process applies it within seconds, or: tracker webhooks process")


@click.group("reconcile")
def reconcile_group() -> None:
    """Compare what webhooks delivered with the processor's own export.

    Example: tracker reconcile stripe unified_payments.csv
    """


@reconcile_group.command("stripe")
@click.argument("file", type=click.Path(path_type=Path))
@pass_ctx
def reconcile_stripe(ctx: Context, file: Path) -> None:
    """List the gifts a Stripe export and Stripe's webhooks disagree on: missing on either side, or another amount.

    The export is read (not imported). A charge of the export that no webhook delivered is listed,
    and a charge a webhook delivered within the export's days that the export lacks; amounts are
    compared as they count (amount less refunds and a lost dispute). Exit status: 0 when they
    agree, 1 when they do not.

    Example: tracker reconcile stripe unified_payments.csv
    """
    from tracker.ingest import ImportRequest, RowRules
    from tracker.ingest.loader import counted_state
    from tracker.ingest.records import NormalizedDonation
    from tracker.ingest.run import Reader
    from tracker.models import COUNTED_STATUSES

    sessions = ctx.sessions()
    with db.transaction(sessions) as session:
        currency = organization_currency(session)
        delivered = queries.webhook_gifts(session, "stripe", "stripe")
    reader = Reader(ImportRequest(path=file, format="stripe"), RowRules(source="stripe", timezone=None, currency=currency))
    exported: dict[str, tuple[int, object]] = {}
    try:
        for _line, _values, outcome in reader.records():
            if isinstance(outcome, NormalizedDonation):
                state = counted_state(outcome)
                cents = outcome.amount_cents - state.refunded_cents if state.status in COUNTED_STATUSES else 0
                exported[outcome.external_id] = (cents, outcome.donated_at)
    finally:
        reader.close()
    if not exported:
        raise UsageError(f"{file}: holds no charges to compare")
    first, last = min(t for _, t in exported.values()), max(t for _, t in exported.values())
    missing_hooks = sorted(k for k, (cents, _) in exported.items() if k not in delivered and cents)
    missing_file = sorted(k for k, (_, counted, at) in delivered.items() if k not in exported and first <= at <= last)
    differ = sorted(k for k in exported if k in delivered and exported[k][0] != delivered[k][1])
    money = lambda cents: format_money(cents, currency)  # noqa: E731
    for k in missing_hooks:
        click.echo(f"not delivered by webhook: {k} {money(exported[k][0])}")
    for k in missing_file:
        click.echo(f"not in the export:        {k} {money(delivered[k][1])}")
    for k in differ:
        click.echo(f"amounts differ:           {k} export {money(exported[k][0])}, webhooks {money(delivered[k][1])}")
    agree = not (missing_hooks or missing_file or differ)
    click.echo(f"{len(exported):,} charges in the export, {len(delivered):,} delivered by webhook: "
               + ("they agree." if agree else f"{len(missing_hooks) + len(missing_file) + len(differ)} differences."))
    if not agree:
        raise SystemExit(1)
