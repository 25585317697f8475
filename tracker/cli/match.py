"""`tracker match add|list|edit|remove|receive`: matching funds on a campaign's gifts (tracker.matching)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import click

from tracker import db, queries
from tracker.cli.context import Context, os_user, pass_ctx, read_as_of
from tracker.dates import isoformat_local, local_midnight, parse_date, parse_timestamp, utc_now
from tracker.errors import UsageError, ValueProblem
from tracker.money import cents_to_decimal_str, format_money, parse_cents


@click.group("match")
def match_group() -> None:
    """Matching funds: pools that match a campaign's gifts (NewsMatch, a board member's match), what their
    gifts earned, what remains, what was received.

    Example: tracker match list --campaign dec-2026
    """


def _cents(option: str, text: str | None, *, none_ok: bool = False) -> int | None:
    if text is None:
        return None
    if none_ok and text.strip().lower() == "none":
        return None
    try:
        return parse_cents(text)
    except ValueProblem as exc:
        raise UsageError(f"{option}: {exc}") from None


def _moment(option: str, text: str, tz) -> datetime:
    """A moment as given: a date alone is 00:00 of that day in the campaign's zone; a naive time is read there."""
    try:
        return parse_timestamp(text, tz)
    except ValueProblem as exc:
        raise UsageError(f"{option}: {exc}") from None


def _window(c, day_from, day_to, window_start, window_end, *, defaults: bool):
    """(starts_at, ends_at) from --from/--to (local days, both included) or --window-start/--window-end (moments,
    end exclusive); with `defaults`, the campaign's window for what is not given. None for what is not given."""
    tz = c.tz
    start = end = None
    try:
        if day_from is not None:
            start = local_midnight(parse_date(day_from), tz)
        if day_to is not None:
            end = local_midnight(parse_date(day_to) + timedelta(days=1), tz)
    except ValueProblem as exc:
        raise UsageError(f"--from/--to: {exc}") from None
    if window_start is not None:
        if day_from is not None:
            raise UsageError("give --from or --window-start, not both")
        start = _moment("--window-start", window_start, tz)
    if window_end is not None:
        if day_to is not None:
            raise UsageError("give --to or --window-end, not both")
        end = _moment("--window-end", window_end, tz)
    if defaults:
        start = c.starts_at if start is None else start
        end = c.ends_at if end is None else end
    return start, end


def _ratio(text: str | None) -> str | None:
    from tracker.matching import parse_ratio

    if text is None:
        return None
    try:
        return parse_ratio(text)
    except ValueProblem as exc:
        raise UsageError(f"--ratio: {exc}") from None


@match_group.command("add")
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@click.option("--name", required=True, help="The pool's name, e.g. NewsMatch.")
@click.option("--ratio", default="1", show_default=True, help="Match per dollar given: 1 (1:1), 2 (2:1), 0.5.")
@click.option("--cap", required=True, help="The most the pool matches in all, e.g. 15000.")
@click.option("--per-donor-cap", help="The most one donor's gifts earn from the pool, e.g. 1000.")
@click.option("--from", "day_from", help="First local day, YYYY-MM-DD (default: the campaign's first day).")
@click.option("--to", "day_to", help="Last local day, YYYY-MM-DD, included (default: the campaign's last day).")
@click.option("--window-start", help="Instead of --from: the moment it opens (ISO 8601; naive = campaign's zone).")
@click.option("--window-end", help="Instead of --to: the moment it closes, exclusive (e.g. 2026-12-16T00:00).")
@click.option("--new-donors-only", is_flag=True, help="Match only donors whose first gift ever is in the pool's window.")
@click.option("--recurring-multiplier", type=int, default=1, show_default=True,
              help="A new monthly donor's first gift counts this many times (NewsMatch: 12).")
@click.option("--exclude-methods", help="Payment methods not matched, comma-separated, e.g. cash,in_kind.")
@click.option("--as-of", "as_of", help="Record it at this moment (ISO 8601; default: now).")
@pass_ctx
def match_add(ctx: Context, slug, name, ratio, cap, per_donor_cap, day_from, day_to, window_start, window_end,
              new_donors_only, recurring_multiplier, exclude_methods, as_of) -> None:
    """Add a match pool to a campaign: which gifts it matches, at what ratio, up to what caps.

    Gifts use up the cap in donation order (then by id); a refund gives its match back to the later gifts.
    The pool's window may start before the campaign's (NewsMatch from November 1): those gifts use up the
    cap too. See the README's Matching funds.

    Example: tracker match add --campaign dec-2026 --name NewsMatch --ratio 1 --per-donor-cap 1000
    --cap 15000 --from 2026-11-01 --to 2026-12-31 --recurring-multiplier 12 --exclude-methods cash,in_kind
    """
    from tracker.finance import audit
    from tracker.match_pools import add_pool, parse_methods

    ratio_text = _ratio(ratio)
    cap_cents = _cents("--cap", cap)
    per_donor = _cents("--per-donor-cap", per_donor_cap)
    methods = parse_methods(exclude_methods)
    actor = os_user()
    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        now = read_as_of(as_of, c.timezone)
        start, end = _window(c, day_from, day_to, window_start, window_end, defaults=True)
        pool = add_pool(session, c, name=name, ratio=ratio_text, cap_cents=cap_cents, per_donor_cap_cents=per_donor,
                        starts_at=start, ends_at=end, new_donors_only=new_donors_only,
                        recurring_multiplier=recurring_multiplier, exclude_methods=methods, actor=actor, now=now)
        audit(session, actor=actor, action="match add", rows=1, now=now,
              detail=f"{c.slug}: {pool.name} ratio {pool.ratio}, cap {cents_to_decimal_str(pool.cap_cents)}")
        click.echo(f"{c.slug}: match pool {pool.name} added: {_describe(pool, c)}")


def _describe(pool, c) -> str:
    from tracker.matching import ratio_text

    cur, tz = c.currency, c.tz
    parts = [f"{ratio_text(pool.ratio)} up to {format_money(pool.cap_cents, cur)}"]
    if pool.per_donor_cap_cents is not None:
        parts.append(f"{format_money(pool.per_donor_cap_cents, cur)} per donor")
    parts.append(f"{isoformat_local(pool.starts_at, tz)} to {isoformat_local(pool.ends_at, tz)} exclusive")
    if pool.new_donors_only:
        parts.append("new donors only")
    if pool.recurring_multiplier > 1:
        parts.append(f"a new monthly donor's first gift counts {pool.recurring_multiplier} times")
    if pool.exclude_methods:
        parts.append(f"not {pool.exclude_methods.replace(',', ', ')}")
    return ", ".join(parts)


@match_group.command("list")
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@click.option("--as-of", "as_of", help="The figures as they stood at this moment (ISO 8601; default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (money as decimal strings).")
@pass_ctx
def match_list(ctx: Context, slug, as_of, as_json) -> None:
    """List a campaign's match pools: their rules, what their gifts earned, what remains, what was received,
    and each pool's edits.

    Example: tracker match list --campaign dec-2026 --as-of 2026-12-20T12:00
    """
    from tracker import campaign as cm
    from tracker.service import match_summary

    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        moment = read_as_of(as_of, c.timezone)
        rows = queries.list_match_pools(session, c)
        history = queries.match_changes(session, [r.id for r in rows])
        summary = match_summary(session, c, as_of=moment)
        st = cm.status(c, cm.Totals(0, 0, 0, 0), as_of=moment, figures=cm.Figures(match=summary))
        described = {r.id: _describe(r, c) for r in rows}
    if as_json:
        out = []
        for p in summary.pools:
            out.append({**cm.match_json(p, st), "changes": [
                {"at": isoformat_local(at, c.tz), "by": actor, "field": f, "old": old, "new": new}
                for at, f, old, new, actor in history[p.pool.id]]})
        click.echo(json.dumps({"campaign": c.slug, "as_of": isoformat_local(moment, c.tz), "pools": out}, indent=2))
        return
    if not rows:
        click.echo(f"{c.slug} has no match pools; add one with: tracker match add --help")
        return
    for p in summary.pools:
        click.echo(cm.match_line(p, st))
        click.echo(f"  {described[p.pool.id]}")
        for at, f, old, new, actor in history[p.pool.id]:
            click.echo(f"  {at.astimezone(c.tz):%Y-%m-%d %H:%M} {actor}: {_change_words(f, old, new, c)}")


def _change_words(f: str, old, new, c) -> str:
    money_fields = ("cap_cents", "per_donor_cap_cents", "received_cents")
    if f in money_fields:
        def money(v):
            return "none" if v is None else format_money(int(v), c.currency)
        label = {"cap_cents": "cap", "per_donor_cap_cents": "per-donor cap", "received_cents": "received"}[f]
        return f"{label} {money(old)} -> {money(new)}"
    if f in ("starts_at", "ends_at"):
        def moment(v):
            return isoformat_local(datetime.fromisoformat(v), c.tz)
        return f"{'opens' if f == 'starts_at' else 'closes'} {moment(old)} -> {moment(new)}"
    return f"{f.replace('_', ' ')} {old or 'none'} -> {new or 'none'}"


@match_group.command("edit")
@click.argument("name")
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@click.option("--rename", help="A new name for the pool.")
@click.option("--ratio", help="New match per dollar given, e.g. 2.")
@click.option("--cap", help="New cap of the pool, e.g. 20000 (raised on December 1: --on 2026-12-01).")
@click.option("--per-donor-cap", help="New per-donor cap, or none.")
@click.option("--from", "day_from", help="New first local day, YYYY-MM-DD.")
@click.option("--to", "day_to", help="New last local day, YYYY-MM-DD, included.")
@click.option("--window-start", help="New opening moment (ISO 8601; naive = campaign's zone).")
@click.option("--window-end", help="New closing moment, exclusive.")
@click.option("--new-donors-only/--all-donors", default=None, help="Match only new donors, or every donor.")
@click.option("--recurring-multiplier", type=int, help="New multiplier of a new monthly donor's first gift.")
@click.option("--exclude-methods", help="Payment methods not matched, comma-separated, or none.")
@click.option("--on", "on", help="When the change takes effect: a date (00:00 that day in the campaign's zone) or "
                                 "a moment (ISO 8601); default: now.")
@pass_ctx
def match_edit(ctx: Context, name, slug, rename, ratio, cap, per_donor_cap, day_from, day_to, window_start,
               window_end, new_donors_only, recurring_multiplier, exclude_methods, on) -> None:
    """Change a match pool: only the options given change, each kept in the pool's history with who and when.

    A new ratio, cap, per-donor cap or multiplier applies to gifts donated from --on on (earlier gifts keep
    what they earned); the window, methods and new-donors rule apply to every gift.

    Example: tracker match edit NewsMatch --campaign dec-2026 --cap 20000 --on 2026-12-01
    """
    from tracker.finance import audit
    from tracker.match_pools import edit_pool, parse_methods

    wanted: dict = {}
    if rename is not None:
        wanted["name"] = rename
    if ratio is not None:
        wanted["ratio"] = _ratio(ratio)
    if cap is not None:
        wanted["cap_cents"] = _cents("--cap", cap)
    if per_donor_cap is not None:
        wanted["per_donor_cap_cents"] = _cents("--per-donor-cap", per_donor_cap, none_ok=True)
    if new_donors_only is not None:
        wanted["new_donors_only"] = new_donors_only
    if recurring_multiplier is not None:
        wanted["recurring_multiplier"] = recurring_multiplier
    if exclude_methods is not None:
        wanted["exclude_methods"] = parse_methods(exclude_methods)
    windowed = any(x is not None for x in (day_from, day_to, window_start, window_end))
    if not wanted and not windowed:
        raise UsageError("nothing to change: give --rename, --ratio, --cap, --per-donor-cap, --from, --to, "
                         "--window-start, --window-end, --new-donors-only/--all-donors, --recurring-multiplier "
                         "or --exclude-methods")
    actor = os_user()
    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        pool = queries.get_match_pool(session, c, name)
        now = _moment("--on", on, c.tz) if on else utc_now()
        if windowed:
            start, end = _window(c, day_from, day_to, window_start, window_end, defaults=False)
            if start is not None:
                wanted["starts_at"] = start
            if end is not None:
                wanted["ends_at"] = end
        done = edit_pool(session, c, pool, actor=actor, now=now, **wanted)
        if not done.changed:
            click.echo(f"{pool.name} already has those values: nothing changed")
            return
        audit(session, actor=actor, action="match edit", rows=len(done.changed), now=utc_now(),
              detail=f"{c.slug} {pool.name}: " + ", ".join(f"{k} {o} -> {n}" for k, o, n in done.changed))
        for key, old, new in done.changed:
            click.echo(f"{c.slug} {pool.name}: {_change_words(key, old, new, c)} from "
                       f"{isoformat_local(now, c.tz)}")


@match_group.command("remove")
@click.argument("name")
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@pass_ctx
def match_remove(ctx: Context, name, slug) -> None:
    """Remove a match pool and its history (recorded in the audit log). The gifts are not touched.

    Example: tracker match remove "Board match" --campaign dec-2026
    """
    from tracker.finance import audit
    from tracker.match_pools import remove_pool

    actor, now = os_user(), utc_now()
    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        pool = queries.get_match_pool(session, c, name)
        label = pool.name
        edits = remove_pool(session, pool, now=now)
        audit(session, actor=actor, action="match remove", rows=1, now=now,
              detail=f"{c.slug}: {label} removed with {edits} edits")
    click.echo(f"{c.slug}: match pool {label} removed, with {edits} edit{'s' * (edits != 1)} of its history")


@match_group.command("receive")
@click.argument("name")
@click.option("--campaign", "slug", help="Campaign slug (may be left out when there is only one).")
@click.option("--amount", required=True, help="Match money received from the pool in all so far, e.g. 15000.")
@click.option("--on", "on", required=True, help="The day it arrived, YYYY-MM-DD (or a moment, ISO 8601).")
@pass_ctx
def match_receive(ctx: Context, name, slug, amount, on) -> None:
    """Record the match money received from a pool: the total so far (a second check: the new total), from the
    day it arrived. Status shows match earned as received and pending; a campaign whose goal counts only the
    received match (tracker campaign edit --goal-counts with_received_match) counts it from then.

    Example: tracker match receive NewsMatch --campaign dec-2026 --amount 15000 --on 2027-01-20
    """
    from tracker.finance import audit
    from tracker.match_pools import receive

    cents = _cents("--amount", amount)
    actor, now = os_user(), utc_now()
    with db.transaction(ctx.sessions()) as session:
        c = queries.get_campaign(session, slug)
        pool = queries.get_match_pool(session, c, name)
        at = _moment("--on", on, c.tz)
        done = receive(session, pool, cents=cents, at=at, actor=actor, now=now)
        if done is None:
            click.echo(f"{pool.name}: {format_money(cents, c.currency)} received already recorded: nothing changed")
            return
        audit(session, actor=actor, action="match receive", rows=1, now=now,
              detail=f"{c.slug} {pool.name}: received {cents_to_decimal_str(done[0])} -> {cents_to_decimal_str(cents)}")
    click.echo(f"{c.slug} {pool.name}: match received {format_money(cents, c.currency)} in all from "
               f"{isoformat_local(at, c.tz)} (was {format_money(done[0], c.currency)})")
