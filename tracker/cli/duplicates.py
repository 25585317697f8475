"""`tracker duplicates list|merge|keep`: gifts of two sources that look like one, for a person to decide."""

from __future__ import annotations

import json

import click

from tracker import db, queries
from tracker.cli.context import Context, os_user, pass_ctx
from tracker.dates import utc_now
from tracker.money import cents_to_decimal_str, format_money


@click.group("duplicates")
def duplicates_group() -> None:
    """Gifts of two sources that look like one (same donor and amount, minutes apart), never merged silently.

    Example: tracker duplicates list
    """


def _gift(g) -> dict:
    return {"id": g.id, "source": g.source, "donation_id": g.external_id, "donated_at": g.donated_at.isoformat(),
            "amount": cents_to_decimal_str(g.amount_cents), "currency": g.currency, "status": g.status}


@duplicates_group.command("list")
@click.option("--all", "everything", is_flag=True, help="Also the pairs decided already (merged or kept).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def duplicates_list(ctx: Context, everything: bool, as_json: bool) -> None:
    """List the likely duplicate pairs awaiting a decision, with both gifts (their tracker ids first).

    Until a pair is decided both gifts count; the total counted twice if they are one gift is
    printed at the end (and shown by tracker status and the reconciliation export).

    Example: tracker duplicates list --json
    """
    with db.transaction(ctx.sessions()) as session:
        pairs = queries.duplicate_pairs(session, None if everything else "undecided")
        by_currency = queries.undecided_by_currency(session)
        rows = [{"status": p.status, "found_at": p.found_at.isoformat(), "a": _gift(a), "b": _gift(b),
                 "decided_by": p.decided_by} for p, a, b in pairs]
    if as_json:
        click.echo(json.dumps({"pairs": rows, "undecided": sum(n for n, _ in by_currency.values()),
                               "undecided_amounts": {cur: cents_to_decimal_str(c) for cur, (_, c) in by_currency.items()}},
                              indent=2))
        return
    if not rows:
        click.echo("no likely duplicates" + ("" if everything else " awaiting a decision"))
        return
    for r in rows:
        a, b = r["a"], r["b"]
        click.echo(f"{r['status']:<10} {a['id']:>8} {a['source']}:{a['donation_id']} {a['donated_at'][:16]} "
                   f"{a['amount']} {a['currency']}  ~  {b['id']:>8} {b['source']}:{b['donation_id']} "
                   f"{b['donated_at'][:16]} {b['amount']} {b['currency']}")
    if by_currency:
        amounts = ", ".join(format_money(c, cur) for cur, (_, c) in by_currency.items())
        click.echo(f"{sum(n for n, _ in by_currency.values()):,} pairs await a decision ({amounts} counted twice if "
                   "each pair is one gift): tracker duplicates merge A B, or tracker duplicates keep A B")


@duplicates_group.command("merge")
@click.argument("keep_id", type=int)
@click.argument("duplicate_id", type=int)
@pass_ctx
def duplicates_merge(ctx: Context, keep_id: int, duplicate_id: int) -> None:
    """Merge a pair: the second gift is a duplicate of the first and counts no longer (recorded with who did it).

    Importing its file again changes nothing: it stays a duplicate.

    Example: tracker duplicates merge 1042 2210
    """
    from tracker.db import bump_revision
    from tracker.ingest.duplicates import merge
    from tracker.ingest.loader import lock_writes

    now = utc_now()
    with db.transaction(ctx.sessions()) as session:
        lock_writes(session)
        merge(session, keep_id, duplicate_id, actor=os_user(), now=now)
        bump_revision(session, now)
    click.echo(f"gift {duplicate_id} is now a duplicate of gift {keep_id}: it counts once")


@duplicates_group.command("keep")
@click.argument("a", type=int)
@click.argument("b", type=int)
@pass_ctx
def duplicates_keep(ctx: Context, a: int, b: int) -> None:
    """Keep both gifts of a pair: they are two real gifts, and the pair is not listed again.

    Example: tracker duplicates keep 1042 2210
    """
    from tracker.ingest.duplicates import keep

    with db.transaction(ctx.sessions()) as session:
        keep(session, a, b, actor=os_user(), now=utc_now())
    click.echo(f"gifts {a} and {b} are two gifts: both count")
