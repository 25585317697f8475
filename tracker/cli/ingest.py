"""`tracker ingest donations|appeals` and `tracker imports list`: bringing data in, and what came of it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker import db, queries
from tracker.cli.context import EXIT_REJECTED, Context, organization_zone, os_user, pass_ctx, read_as_of, show_row_errors
from tracker.dates import UTC, utc_now, zone
from tracker.ingest.run import import_state
from tracker.errors import UsageError, ValueProblem
from tracker.money import parse_cents
from tracker.wording import count


@click.group("ingest")
def ingest_group() -> None:
    """Import data files.

    Example: tracker ingest donations data/samples/donations.csv
    """


@ingest_group.command("donations")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["generic", "stripe", "paypal", "mapping", "jsonl"]),
              help="The file's layout (default: recognized from the header, and printed).")
@click.option("--mapping", metavar="FILE|NAME", help="TOML mapping for any other CSV layout (or a shipped one: "
              "actblue, civicrm, opencollective, npsp).")
@click.option("--source", help="Where the gifts come from (default: the format's name); ids are unique per source.")
@click.option("--timezone", "tz_name", help="Zone for times without an offset (default: the campaigns' zone).")
@click.option("--dayfirst/--monthfirst", "dayfirst", default=None,
              help="Dates like 05/12/2026 are day first (5 December) / month first (May 12). Default: the file's "
                   "dates decide (a day above 12 shows the order); a file where every date reads both ways is refused.")
@click.option("--decimal-comma/--decimal-point", "decimal_comma", default=None,
              help="Amounts are written 1.234,56 / 1,234.56. Default: the file's amounts decide; a file where every "
                   "amount reads both ways (1.000) is refused.")
@click.option("--currency", default="USD", show_default=True, help="The organization's currency.")
@click.option("--max-gift", default="10,000,000", show_default=True, help="Reject any single gift above this amount.")
@click.option("--strict", is_flag=True, help="Load nothing when any row is bad.")
@click.option("--rejects", "rejects", type=click.Path(path_type=Path),
              help="Where to write rejected rows (default: beside the input, NAME.rejects.csv).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--chunk-rows", default=200_000, show_default=True, type=click.IntRange(100, 1_000_000),
              help="Gifts per committed chunk (read and written 50,000 at a time).")
@click.option("--first-load", type=click.Choice(["auto", "yes", "no"]), default="auto", show_default=True,
              help="Into a database with no gift yet: load in one transaction and build the secondary indexes once "
                   "at the end (auto: for a file of 16 MB or more).")
@click.option("--encoding", default="utf-8", show_default=True,
              help="The file's text encoding, e.g. cp1252 for a file saved by an older Excel (checked before a row is "
                   "written).")
@click.option("--as-of", "as_of", help="Record the import as run at this moment (ISO 8601; default: now): its clock "
                                      "starts there and runs on.")
@pass_ctx
def ingest_donations(ctx: Context, file: Path, fmt, mapping, source, tz_name, dayfirst, decimal_comma, currency, max_gift,
                     strict, rejects, quiet, chunk_rows, first_load, encoding, as_of) -> None:
    """Import gifts from a file: the tracker's CSV, Stripe or PayPal exports, JSON Lines, or any CSV with a mapping.

    A gift is identified by (source, id): importing the same or an overlapping file again
    changes nothing, and a later file in which a gift was refunded or disputed updates it (a
    gift's status only moves forward). The import commits in chunks, so it can be stopped at any
    moment and run again. A first load (a large file into a database with no gift yet) commits
    once at the end instead: killed, it leaves the database as it was. Bad rows are printed as
    FILE:LINE: reason and written, with their original values, to the rejects file; the good
    rows load (unless --strict).

    Exit status: 0 every row accounted for, 3 some rows rejected, 2 usage error, 1 failure.

    Example: tracker ingest donations data/samples/stripe_unified_payments.csv
    """
    from tracker.ingest import ImportRequest, RowRules, run_import

    try:
        max_cents = parse_cents(max_gift)
    except ValueProblem as exc:
        raise UsageError(f"--max-gift: {exc}") from None
    factory = ctx.sessions()
    with db.transaction(factory) as session:
        tz = zone(tz_name) if tz_name else organization_zone(session)
    clock = utc_now
    if as_of:
        start, began = read_as_of(as_of, tz or UTC), utc_now()
        clock = lambda: start + (utc_now() - began)  # noqa: E731
    rules = RowRules(source="", timezone=tz, currency=currency.upper(), max_gift_cents=max_cents)
    request = ImportRequest(path=file, format=fmt, mapping=mapping, source=source, strict=strict, rejects=rejects,
                            chunk_rows=chunk_rows, first_load=first_load, encoding=encoding, dayfirst=dayfirst,
                            decimal_comma=decimal_comma, defaults=ctx.config.imports)
    show = not quiet and sys.stderr.isatty()
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(unit=" rows", unit_scale=True, file=sys.stderr, desc=str(file.name), leave=False)

    def progress(rows: int) -> None:
        if bar is not None:
            bar.update(rows - bar.n)

    try:
        summary = run_import(factory, request, rules, clock=clock, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if not fmt and not mapping:
        click.echo(f"{file}: recognized as {summary.format} (source {summary.source!r})")
    show_row_errors(summary.errors, summary.rejected)
    if summary.strict_failed:
        click.echo(
            f"{file}: --strict: {summary.rejected} of {summary.rows_read} rows are bad, so nothing was loaded; "
            f"rejected rows are in {summary.rejects_path}"
        )
        raise SystemExit(EXIT_REJECTED)
    click.echo(_import_line(file, summary))
    for note in summary.notes:
        click.echo(f"  {note}")
    if summary.first_load:
        click.echo("  first load: one transaction, the indexes built once at the end")
    if summary.skipped:
        kinds = ", ".join(f"{n} {kind}" for kind, n in summary.skip_kinds.most_common(5))
        click.echo(f"  skipped on purpose: {kinds}")
    if summary.superseded:
        click.echo(f"  {summary.superseded} rows repeated an earlier row's id with other content; the later row was kept")
    if summary.recognized:
        click.echo(f"  {summary.recognized:,} rows are gifts stored from another source (the same processor id): "
                   "linked, not added")
    if summary.duplicates_found:
        click.echo(f"  {summary.duplicates_found:,} gifts look like gifts of another source (same donor and amount, "
                   "minutes apart): both count until decided; see: tracker duplicates list")
    if summary.older:
        click.echo(f"  {summary.older:,} rows are older than what is stored (a file imported after theirs changed those "
                   "gifts): their amounts and details were kept as stored")
    if summary.refunds_waiting:
        click.echo(f"  {summary.refunds_waiting} refunds wait for their payment to be imported")
    if summary.rejects_path:
        click.echo(f"  rejected rows with their reasons: {summary.rejects_path}")
    if summary.rejected:
        raise SystemExit(EXIT_REJECTED)


def _import_line(file, s) -> str:
    return (
        f"{file}: {count(s.rows_read, 'row')} read: {s.inserted:,} new, {s.updated:,} updated, {s.unchanged:,} unchanged, "
        f"{s.skipped:,} skipped, {s.rejected:,} rejected (import #{s.import_id})"
    )


@click.group("imports")
def imports_group() -> None:
    """See what was imported.

    Example: tracker imports list
    """


@imports_group.command("list")
@click.option("--limit", default=20, show_default=True, help="How many imports to show, newest first.")
@pass_ctx
def imports_list(ctx: Context, limit: int) -> None:
    """List imports, newest first: file, format, status (undone once taken back) and what happened to the rows.

    An import whose process ended before it finished (killed, or its machine restarted) shows as
    "interrupted" (on another machine, as "running"); run it again to complete it.

    Example: tracker imports list --limit 5
    """
    with db.transaction(ctx.sessions()) as session:
        rows = queries.list_imports(session, limit)
        if not rows:
            click.echo("no imports yet; import gifts with: tracker ingest donations FILE")
            return
        click.echo(f"{'#':>4}  {'STARTED (UTC)':<19}  {'FORMAT':<8} {'SOURCE':<14} {'STATUS':<15} "
                   f"{'READ':>8} {'NEW':>8} {'UPDATED':>8} {'SAME':>8} {'SKIPPED':>8} {'REJECTED':>8}  FILE  SHA-256")
        for b in rows:
            click.echo(
                f"{b.id:>4}  {b.started_at:%Y-%m-%d %H:%M:%S}  {b.format:<8} {b.source[:14]:<14} {import_state(b):<15} "
                f"{b.rows_read:>8,} {b.inserted:>8,} {b.updated:>8,} {b.unchanged:>8,} {b.skipped:>8,} "
                f"{b.rejected:>8,}  {b.filename}  {b.sha256[:12]}"
            )


@imports_group.command("undo")
@click.argument("import_id", type=int)
@click.option("--as-of", "as_of", help="When (ISO 8601; default: now).")
@pass_ctx
def imports_undo(ctx: Context, import_id: int, as_of) -> None:
    """Take back what an import did: the gifts it created are removed (or voided, when something else
    touched them), the changes it made are rolled back to what each gift's history says they were,
    unless a later import, event or person changed that gift again (then it says which, and changes
    nothing). Undoing twice does nothing more.

    Example: tracker imports undo 12
    """
    from tracker.finance import audit
    from tracker.ingest.undo import undo

    actor = os_user()
    with db.transaction(ctx.sessions()) as session:
        now = read_as_of(as_of, organization_zone(session) or UTC)
        done = undo(session, import_id, actor=actor, now=now)
        if done.already is None:
            audit(session, actor=actor, action="import undo", rows=done.removed + done.voided + done.restored, now=now,
                  detail=f"import {import_id}: {count(done.removed, 'gift')} removed, {done.voided:,} voided, "
                         f"{done.restored:,} restored, {count(done.refunds, 'refund')} removed")
    if done.already is not None:
        click.echo(f"import {import_id} was undone already, on {done.already:%Y-%m-%d %H:%M} UTC; nothing to do")
        return
    click.echo(f"undid import {import_id}: {count(done.removed, 'gift')} removed, {done.voided:,} voided, "
               f"{count(done.restored, 'gift')} restored to before it, {count(done.refunds, 'refund')} removed")


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
        tz = zone(tz_name) if tz_name else organization_zone(session)
    summary = import_exposures(factory, file, tz=tz, clock=utc_now, rejects=rejects)
    show_row_errors(summary.errors, summary.rejected)
    what = "days" if summary.kind == "daily" else "events"
    click.echo(f"{file}: {summary.rows_read:,} rows read ({what}): {summary.inserted:,} new, {summary.replaced:,} "
               f"replaced, {summary.unchanged:,} unchanged, {summary.rejected:,} rejected")
    if summary.rejects_path:
        click.echo(f"  rejected rows with their reasons: {summary.rejects_path}")
        raise SystemExit(EXIT_REJECTED)
